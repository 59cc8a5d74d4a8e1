"""M10 "replies can be lost": `hold` subscribers, `overflow:` expectations, `repeat` sends."""
import pytest

from rtsock_emul.scenario.errors import ScenarioError, StepFailure
from rtsock_emul.scenario.loader import load_text
from rtsock_emul.scenario.matcher import Expectation, IfNames, compare
from rtsock_emul.scenario.runner import Runner
from rtsock_emul.scenario.schema import parse_scenario
from rtsock_emul.scenario.streams import Record
from rtsock_emul.wire.build import RtMsg

from .inproc import InProcessLab

LOST = """\
name: replies lost
topology: ipmp-pair
subscribers:
  busy: {host: h2, rcvbuf: 4096, hold: true}
  all: {host: h2}
steps:
  - send: {by: busy, msg: {type: RTM_GET, dst: 192.0.2.77, seq: 100}, repeat: 30}
  - expect:
      busy: {overflow: OVERFLOW, match: ordered, messages: [RTM_GET seq=100], absent: [RTM_GET seq=129]}
      all: {match: ordered, messages: [RTM_GET seq=100, RTM_GET seq=129]}
  - send: {by: all, msg: {type: RTM_GET, dst: 192.0.2.77, seq: 200}}
  - expect:
      busy: {overflow: false, messages: [RTM_GET seq=200]}
"""


def _parse(text, tmp_path):
    path = tmp_path / "s.scenario.yaml"
    path.write_text(text)
    return parse_scenario(load_text(text, str(path)), str(path))


def _run(text, tmp_path):
    return Runner(_parse(text, tmp_path), "sim", lab_start=InProcessLab, reports_dir=tmp_path / "rep").run()


def test_M10_held_subscriber_with_small_rcvbuf_loses_replies_and_reports_ENOBUFS_once(tmp_path):
    res = _run(LOST.replace("OVERFLOW", "true"), tmp_path)
    assert res.failure is None, res.failure
    busy = res.streams.snapshot("busy")
    assert [r.overflow for r in busy].count(True) == 1 and busy[0].overflow
    assert len([r for r in res.streams.snapshot("all") if r.msg]) == 31
    assert len([s for s in res.sends if s.sub == "busy"]) == 30


def test_M10_overflow_false_fails_when_messages_were_dropped(tmp_path):
    res = _run(LOST.replace("OVERFLOW", "false"), tmp_path)
    assert isinstance(res.failure, StepFailure)
    assert "a read reported ENOBUFS (messages were dropped), expected none" in str(res.failure)


def test_overflow_true_fails_when_nothing_was_dropped(tmp_path):
    res = _run(LOST.replace("OVERFLOW", "true").replace("rcvbuf: 4096, hold: true", "rcvbuf: 65536"), tmp_path)
    assert "no read reported ENOBUFS since the previous expect" in str(res.failure)


def test_compare_overflow_flag():
    got = [Record(0.0, "s", error="ENOBUFS"), Record(0.1, "s", b"", RtMsg(type="RTM_GET", dst="192.0.2.1"))]
    names = IfNames()
    assert compare(Expectation("s", "exact", [], overflow=True), got[:1], names) is None
    assert compare(Expectation("s", "exact", [], overflow=False), got[:1], names) is not None
    assert compare(Expectation("s", "exact", [], overflow=True), [], names) is not None
    assert compare(Expectation("s", "exact", [], overflow=None), got[:1], names) is None


def test_repeat_counts_seq_up_and_is_validated(tmp_path):
    sc = _parse(LOST.replace("OVERFLOW", "true"), tmp_path)
    assert sc.steps[0].args["repeat"] == 30 and sc.subscribers["busy"].hold
    assert sc.steps[1].args["expectations"][0].overflow is True
    for bad, what in (("repeat: 30", "repeat: 0"), ("hold: true", "hold: 1"), ("overflow: OVERFLOW", "overflow: 2")):
        with pytest.raises(ScenarioError) as info:
            _parse(LOST.replace(bad, what).replace("OVERFLOW", "true"), tmp_path)
        assert what.split(":")[0] in info.value.what
