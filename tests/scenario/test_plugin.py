"""The pytest plugin end to end, in a subprocess pytest (pytester), on the sim platform."""
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
WRONG = """\
name: a wrong expectation fails with a readable diff
covers: [R30]
topology: ipmp-pair
subscribers:
  sender: {host: h2}
  other:  {host: h2}
steps:
  - send: {by: sender, msg: {type: RTM_ADD, dst: 198.51.100.0/24, gateway: 192.0.2.254, seq: 42}}
  - expect:
      sender: [RTM_ADD 198.51.100.0/24 seq=42 +DONE]
      other:  [RTM_DELETE 198.51.100.0/24 seq=42]
"""
RIGHT = WRONG.replace("RTM_DELETE 198.51.100.0/24 seq=42", "RTM_ADD 198.51.100.0/24 seq=42")
GET = """\
name: an unprivileged RTM_GET is answered to every listener
covers: [R9, R81]
topology: ipmp-pair
subscribers:
  asker: {host: h2}
  other: {host: h2}
steps:
  - send: {by: asker, msg: {type: RTM_GET, dst: 192.0.2.1, seq: 7}}
  - expect:
      asker: [RTM_GET 192.0.2.1 seq=7 errno=0]
      other: [RTM_GET 192.0.2.1 seq=7]
"""
PING = RIGHT.replace("name: a wrong", "name: a ping").replace(
    "steps:\n", "steps:\n  - ping: {from: h1, to: 192.0.2.1, count: 1}\n")


def _run(pytester, *args):
    """In this process (the plugin's session needs none of its own; test_not_root_... runs one)."""
    return pytester.runpytest_inprocess("-p", "rtsock_emul.scenario.pytest_plugin", "-p", "no:cacheprovider",
                                        "--rtsock-mode=sim", "--rtsock-reports", str(pytester.path / "rep"),
                                        *args)


def test_two_runs_of_one_scenario_write_into_their_own_reports_folders(pytester):
    """Two sessions from one checkout used to share reports/<name>/ (one's failure.txt beside
    the other's logs); each now has reports/<run>/<name>/ and reports/latest is the newest."""
    pytester.makefile(".scenario.yaml", wrong=WRONG)
    _run(pytester).assert_outcomes(failed=1)
    (pytester.path / "wrong.scenario.yaml").write_text(RIGHT)
    _run(pytester).assert_outcomes(passed=1)
    rep = pytester.path / "rep"
    runs = sorted(p for p in rep.iterdir() if p.name != "latest")
    assert len(runs) == 2, list(rep.iterdir())
    first, second = sorted(runs, key=lambda p: (p / "wrong" / "streams.jsonl").stat().st_mtime)
    assert (first / "wrong" / "failure.txt").exists()
    assert not (second / "wrong" / "failure.txt").exists()
    assert {p.name for p in (second / "wrong").iterdir()} >= {"streams.jsonl", "timeline.html", "h2.log"}
    assert (rep / "latest").resolve() == second.resolve()


def test_wrong_expectation_report_shows_the_difference(pytester):
    """R30 expectation written wrong: the report names file:line, shows expected vs observed
    decoded in route-monitor style, marks the first difference, and has the agents' log tail."""
    pytester.makefile(".scenario.yaml", wrong=WRONG)
    result = _run(pytester)
    result.assert_outcomes(failed=1)
    out = result.stdout.str()
    assert "step 2 (expect) at wrong.scenario.yaml:9" in out
    assert "wrong.scenario.yaml:11:       other:  [RTM_DELETE 198.51.100.0/24 seq=42]" in out
    assert "subscriber other (match: exact, line 11): RTM_DELETE 198.51.100.0/24 seq=42: type is RTM_ADD" in out
    assert ">>> RTM_DELETE 198.51.100.0/24 seq=42" in out
    assert ">>> RTM_ADD: Add Route: len 124" in out       # route monitor style, marked
    assert "agent log" in out
    assert "Traceback" not in out
    rep = pytester.path / "rep" / "latest" / "wrong"
    assert {p.name for p in rep.iterdir()} >= {"streams.jsonl", "timeline.html", "failure.txt"}
    assert '"subscriber": "other"' in (rep / "streams.jsonl").read_text()


def test_right_expectation_passes_and_markers_select(pytester):
    pytester.makefile(".scenario.yaml", right=RIGHT)
    _run(pytester, "--strict-markers", "-m", "R30").assert_outcomes(passed=1)
    _run(pytester, "-m", "R39").assert_outcomes(deselected=1)
    _run(pytester, "-k", "right").assert_outcomes(passed=1)


def test_broken_file_is_a_collection_error_without_traceback(pytester):
    pytester.makefile(".scenario.yaml", broken=RIGHT.replace("host: h2}", "host: h7}", 1))
    result = _run(pytester)
    result.assert_outcomes(errors=1)
    out = result.stdout.str()
    assert "broken.scenario.yaml:5: unknown host 'h7' for subscriber 'sender'" in out
    assert "Traceback" not in out


def test_mininet_only_scenario_is_skipped_in_sim_mode(pytester):
    pytester.makefile(".scenario.yaml", ping=PING)
    result = _run(pytester, "-rs")
    result.assert_outcomes(skipped=1)
    assert "needs Mininet (its ping steps send real packets)" in result.stdout.str()


NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]


def _nobody_can_import_pytest() -> bool:
    """False when the checkout (and its .venv) is not readable by nobody, e.g. under /root."""
    probe = subprocess.run([*NOBODY, sys.executable, "-c", "import pytest, rtsock_emul"], cwd="/",
                           capture_output=True, env=dict(os.environ, PYTHONPATH=str(REPO)))
    return probe.returncode == 0


@pytest.mark.root("dropping to nobody")
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="dropping to nobody needs setpriv (util-linux)")
def test_not_root_runs_sim_scenarios_and_skips_mininet_ones():
    """As nobody: sim-capable scenarios pass, ping/delay ones are skipped with the reason."""
    if not _nobody_can_import_pytest():
        pytest.skip(f"user nobody cannot read this checkout's .venv ({REPO} is not world-readable, "
                    "e.g. under /root): clone it elsewhere to run this test")
    with tempfile.TemporaryDirectory(prefix="scenario-nobody-") as tmp:   # pytest's tmp is root-only
        _as_nobody(Path(tmp))


def _as_nobody(tmp_path):
    for name, text in (("get", GET), ("ping", PING)):
        (tmp_path / f"{name}.scenario.yaml").write_text(text)
    tmp_path.chmod(0o777)
    # `-c os.devnull` skips pytest.ini's addopts: no hypothesis plugin said again; --confcutdir
    # keeps pytest from listing every entry of /tmp on its way down to tmp_path (~0.4 s of CPU)
    cmd = [*NOBODY, sys.executable, "-m", "pytest",
           "-p", "rtsock_emul.scenario.pytest_plugin", "-p", "no:cacheprovider", "-p", "no:hypothesispytest",
           "-rs", "-q", "--rtsock-reports", str(tmp_path / "rep"), "--rootdir", str(tmp_path),
           "--confcutdir", str(tmp_path), "-c", os.devnull, str(tmp_path)]
    env = dict(os.environ, PYTHONPATH=str(REPO), HOME=str(tmp_path))
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tmp_path, timeout=120)
    assert "1 passed, 1 skipped" in proc.stdout, proc.stdout + proc.stderr
    assert "not root" in proc.stdout


def test_skip_reason_names_every_mininet_only_step_kind():
    """The sim-mode skip names the steps that need real links, `packets` included
    (the kinds come from schema.MININET_ONLY, not a second list)."""
    from types import SimpleNamespace

    from rtsock_emul.scenario.pytest_plugin import choose_mode
    from rtsock_emul.scenario.schema import MININET_ONLY
    for kind in sorted(MININET_ONLY):
        sc = SimpleNamespace(needs_mininet=True, setup=[], steps=[SimpleNamespace(kind=kind)])
        mode, reason = choose_mode("sim", sc, True)
        assert mode is None and f"its {kind} steps" in reason, reason
