"""The bad-files corpus (badfiles/): each broken scenario (s-*) or topology (t-*) file
declares on its first line `# error: LINE: TEXT`; loading it must fail with that text at
that line, every file with its own message, and nothing may be started."""
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from rtsock_emul.lab import topology
from rtsock_emul.lab.errors import TopologyError
from rtsock_emul.scenario.errors import ScenarioError
from rtsock_emul.scenario.loader import MAX_FILE_BYTES, load_file
from rtsock_emul.scenario.schema import parse_scenario

BAD = Path(__file__).parent / "badfiles"
FILES = sorted(BAD.glob("*.yaml"))
_DECL = re.compile(rb"^# error: (\d+): (.+)$")


def declared(path):
    m = _DECL.match(path.read_bytes().split(b"\n", 1)[0])
    assert m, f"{path.name}: first line must be `# error: LINE: TEXT`"
    return int(m.group(1)), m.group(2).decode()


def load_error(path):
    """(line, message) of the error loading path raises."""
    if path.name.startswith("s-"):
        with pytest.raises(ScenarioError) as exc:
            parse_scenario(load_file(path), str(path))
        return exc.value.line, str(exc.value)
    with pytest.raises(TopologyError) as exc:
        topology.load(path)
    where, _, line = exc.value.where.rpartition(":")
    assert where.endswith(path.name), exc.value
    return int(line), str(exc.value)


def test_the_corpus_has_at_least_30_files_of_both_kinds():
    kinds = {p.name[:2] for p in FILES}
    assert len(FILES) >= 30 and kinds == {"s-", "t-"}, [p.name for p in FILES]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_a_bad_file_fails_with_its_own_error_at_its_line(path):
    line, text = declared(path)
    got_line, message = load_error(path)
    assert text in message and got_line == line, f"declared {line}: {text!r}; got {message!r}"


def test_every_bad_file_has_a_different_message():
    messages = [load_error(p)[1].split(": ", 1)[1] for p in FILES]
    assert len(set(messages)) == len(messages)


def test_a_huge_file_is_refused_before_it_is_parsed(tmp_path):
    big = tmp_path / "big.scenario.yaml"
    big.write_text("name: big\ntopology: ipmp-pair\nsteps:\n" + "  - link: h1:net0 down\n" * (MAX_FILE_BYTES // 20))
    with pytest.raises(ScenarioError, match=r"big.scenario.yaml: .* bytes, more than the 1048576"):
        load_file(big)
    topo = tmp_path / "big.yaml"
    topo.write_text("name: big\nswitches: [s1]\nhosts:\n" + "".join(
        f"  h{i}: {{interfaces: {{net0: s1}}}}\n" for i in range(MAX_FILE_BYTES // 28)))
    with pytest.raises(TopologyError, match=r"big.yaml: .* bytes, more than the 1048576"):
        topology.load(topo)


def test_a_missing_scenario_file_names_itself(tmp_path):
    with pytest.raises(ScenarioError, match=r"gone.scenario.yaml: no such scenario file"):
        load_file(tmp_path / "gone.scenario.yaml")


REFUSE_ALL = textwrap.dedent("""\
    import os, sys
    import rtsock_emul.lab as L
    for path in sys.argv[1:]:
        try:
            L.start(path, mode="mininet" if os.geteuid() == 0 else "sim")
        except L.LabError as exc:
            print("refused:", exc)
        else:
            print("STARTED", path)
""")


@pytest.mark.timeout(120)
def test_nothing_is_started_for_any_bad_file(tmp_path):
    """The scenario files through pytest (collection errors), the topology files through
    lab.start: no run directory is made, no link or process is left."""
    from rtsock_emul.lab.leftovers import child_env, leftovers, run_ids
    env = child_env(tmp_path / "runs")
    for p in FILES:
        if p.name.startswith("s-"):
            shutil.copy(p, tmp_path / (p.stem + ".scenario.yaml"))
    res = subprocess.run([sys.executable, "-m", "pytest", "-p", "rtsock_emul.scenario.pytest_plugin",
                          "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-c", "/dev/null", "--rootdir", str(tmp_path),
                          "--confcutdir", str(tmp_path),      # else pytest lists every entry of /tmp
                          "--rtsock-reports", str(tmp_path / "rep"), str(tmp_path)],
                         env=env, cwd=Path(__file__).parents[2], capture_output=True, text=True, timeout=100)
    scenarios = [p for p in FILES if p.name.startswith("s-")]
    assert f"{len(scenarios)} errors" in res.stdout.splitlines()[-1], res.stdout[-3000:]
    for p in scenarios:
        line, text = declared(p)
        assert f"{p.stem}.scenario.yaml:{line}: " in res.stdout, (p.name, res.stdout[-3000:])
    topos = [str(p) for p in FILES if p.name.startswith("t-")]
    res2 = subprocess.run([sys.executable, "-c", REFUSE_ALL, *topos], env=env, capture_output=True,
                          text=True, timeout=100)
    assert res2.stdout.count("refused:") == len(topos) and "STARTED" not in res2.stdout, res2
    assert run_ids(tmp_path / "runs") == set() and leftovers(env, set()) == []
