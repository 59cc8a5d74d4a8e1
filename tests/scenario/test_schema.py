"""Loader and schema: broken scenario files give the specific error at the right line."""
import re
from pathlib import Path

import pytest

from rtsock_emul.scenario.errors import ScenarioError
from rtsock_emul.scenario.loader import load_file, load_text
from rtsock_emul.scenario.schema import parse_scenario

BROKEN = sorted((Path(__file__).parent / "broken").glob("*.yaml"))
GOOD = """\
name: every step kind parses
covers: [M16, R39]
topology: ipmp-pair
mpathd: {failure_detection_time: 1000}
setup:
  - h1: ipadm create-ipmp -i net0,net1 ipmp0
subscribers:
  normal: {host: h1}
  aware:  {host: h1, rt_aware: RTAW_UNDER_IPMP, protocol: AF_INET, useloopback: false, rcvbuf: 8192}
  deaf:   {host: h1, shutdown: SHUT_RD, user: nobody}
steps:
  - link: h1:net0 down
  - expect:
      aware:  [RTM_IFINFO net0 -RUNNING, RTM_IFINFO net0 +FAILED]
      normal: []
    within: 500ms
  - ping: {from: h2, to: 192.0.2.10, count: 5, interval: 0.01, max_loss: 2}
  - loss: {h1:net0: 100%}
  - delay: {h1:net1: 50ms}
  - send: {by: normal, msg: {type: RTM_ADD, dst: 198.51.100.0/24, gateway: 192.0.2.1, ifp: net0, seq: 42}, errno: EEXIST}
  - send_raw: {by: aware, hex: "00 01", errno: EINVAL}
  - wait_for: {h1: "ipmpstat -i", contains: "net0 ... failed", timeout: 3s}
  - run: {h1: "ipadm create-addr -T static -a 192.0.2.10/24 ipmp0/v4"}
    error: EADDRINUSE
    output: [in use]
  - expect:
      aware: {match: ordered, messages: [RTM_IFINFO net0], absent: [RTM_NEWADDR net0]}
    match: unordered
    quiet: 0.1
"""


@pytest.mark.parametrize("path", BROKEN, ids=[p.stem for p in BROKEN])
def test_broken_file_names_line_and_problem(path):
    """Each file's first line says `# expect LINE: TEXT`; the error must say file:LINE and TEXT."""
    want = re.match(r"# expect (\d+): (.*)", path.read_text().splitlines()[0])
    with pytest.raises(ScenarioError) as info:
        parse_scenario(load_file(path), str(path))
    err = info.value
    assert (err.line, want.group(2) in err.what) == (int(want.group(1)), True), str(err)
    assert str(err).startswith(f"{path}:{want.group(1)}: ")
    assert "Traceback" not in str(err)


def test_at_least_ten_broken_files():
    assert len(BROKEN) >= 10


def test_every_step_kind_parses_with_lines(tmp_path):
    path = tmp_path / "good.scenario.yaml"
    path.write_text(GOOD)
    sc = parse_scenario(load_file(path), str(path))
    kinds = [s.kind for s in sc.steps]
    assert kinds == ["link", "expect", "ping", "loss", "delay", "send", "send_raw", "wait_for", "run", "expect"]
    assert [s.line for s in sc.steps][:3] == [12, 13, 17]
    assert sc.steps[1].end_line == 16
    assert sc.steps[1].args["within"] == 0.5
    assert sc.steps[-1].args["expectations"][0].mode == "ordered"
    assert sc.subscribers["aware"].aware and not sc.subscribers["normal"].aware
    assert sc.config == {"mpathd": {"failure_detection_time": 1000}}
    assert sc.needs_mininet   # ping, delay


def test_duplicate_key_is_named():
    with pytest.raises(ScenarioError, match="duplicate key 'name'") as info:
        load_text("name: a\nname: b\n", "x.yaml")
    assert info.value.line == 2


def test_hint_suggests_the_close_key(tmp_path):
    with pytest.raises(ScenarioError) as info:
        parse_scenario(load_text(GOOD.replace("subscribers:", "subscriber:"), "g.yaml"), "g.yaml")
    assert "did you mean 'subscribers'" in info.value.hint
