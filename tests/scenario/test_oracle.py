"""The rule oracle catches what a scenario's expectations do not mention."""
from pathlib import Path

import pytest

from rtsock_emul.rtsock import hub as hub_mod
from rtsock_emul.scenario.errors import OracleViolation
from rtsock_emul.scenario.loader import load_text
from rtsock_emul.scenario.runner import Runner
from rtsock_emul.scenario.schema import parse_scenario
from rtsock_emul.wire import constants as C

from .inproc import InProcessLab

# The expectations name only the aware subscriber; `normal` is silent in them.
FAILURE = """\
name: member failure, expectations about the aware socket only
topology: ipmp-pair
setup:
  - h1: ipadm create-ipmp -i net0,net1 ipmp0
  - h1: ipadm create-addr -T static -a 192.0.2.10/24 ipmp0/v4
subscribers:
  normal: {host: h1}
  aware:  {host: h1, rt_aware: RTAW_UNDER_IPMP}
steps:
  - link: h1:net0 down
  - expect:
      aware: {match: ordered, messages: [RTM_IFINFO net0 +FAILED]}
    within: 3s
"""


def _run(tmp_path):
    path = tmp_path / "f.scenario.yaml"
    path.write_text(FAILURE)
    sc = parse_scenario(load_text(FAILURE, str(path)), str(path))
    return Runner(sc, "sim", lab_start=InProcessLab, reports_dir=tmp_path / "rep").run()


def test_clean_agent_passes(tmp_path):
    res = _run(tmp_path)
    assert res.failure is None, res.failure


def test_M16_leak_of_one_underlying_message_is_caught(tmp_path, monkeypatch):
    """M16: "By default, underlying interfaces in an IPMP group are not visible to routing
    sockets, and no events about them are delivered." Plant a fault in the delivery
    predicate that leaks the first aware-only message to normal sockets."""
    real, leaked = hub_mod.wanted, []

    def leaky(proto, rt_aware, af, rtsq):
        if not rt_aware & C.RTAW_UNDER_IPMP and rtsq == C.RTSQ_UNDER_IPMP and not leaked:
            leaked.append(af)
            return True
        return real(proto, rt_aware, af, rtsq)
    monkeypatch.setattr(hub_mod, "wanted", leaky)
    res = _run(tmp_path)
    assert leaked
    assert isinstance(res.failure, OracleViolation)
    rules = {v.rule for v in res.violations}
    assert "M16" in rules, res.violations
    v = next(v for v in res.violations if v.rule == "M16")
    assert v.sub == "normal" and "net0" in v.what and "not visible to routing sockets" in v.text
    assert "M16" in Path(res.artifacts["report"]).read_text()
