"""--junitxml holds each failing scenario's readable report (the terminal's text: YAML
lines, expected vs observed, the rule quote), a one-line message, and the paths of its
artifacts as properties, so CI can show a failure without the terminal log."""
import xml.etree.ElementTree as ET
from pathlib import Path

from rtsock_emul.rtsock import hub as hub_mod
from rtsock_emul.scenario import runner as runner_mod
from rtsock_emul.wire import constants as C

from .inproc import InProcessLab
from .test_oracle import FAILURE
from .test_plugin import WRONG


class _InProcessRunner(runner_mod.Runner):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, lab_start=InProcessLab, **kwargs)


def _leak_one_underlying_message(monkeypatch):
    """M16 broken for real: the delivery predicate lets the first aware-only message
    through to normal sockets (as in test_oracle)."""
    real, leaked = hub_mod.wanted, []

    def leaky(proto, rt_aware, af, rtsq):
        if not rt_aware & C.RTAW_UNDER_IPMP and rtsq == C.RTSQ_UNDER_IPMP and not leaked:
            leaked.append(af)
            return True
        return real(proto, rt_aware, af, rtsq)
    monkeypatch.setattr(hub_mod, "wanted", leaky)


def test_junit_carries_the_failure_report_and_artifact_paths(pytester, monkeypatch):
    monkeypatch.setattr(runner_mod, "Runner", _InProcessRunner)
    _leak_one_underlying_message(monkeypatch)
    pytester.makefile(".scenario.yaml", wrong=WRONG, leak=FAILURE)
    junit, reports = pytester.path / "junit.xml", pytester.path / "rep"
    result = pytester.runpytest_inprocess("-p", "rtsock_emul.scenario.pytest_plugin", "-p", "no:cacheprovider",
                                          "--rtsock-mode=sim", "--rtsock-reports", str(reports),
                                          f"--junitxml={junit}")
    result.assert_outcomes(failed=2)
    terminal = result.stdout.str()
    cases = {c.get("name"): c for c in ET.parse(junit).getroot().iter("testcase")}
    assert set(cases) == {"wrong", "leak"}

    wrong = cases["wrong"].find("failure")
    text = wrong.text
    assert set((reports / "latest" / "wrong" / "failure.txt").read_text().splitlines()) <= set(text.splitlines())
    for line in text.splitlines():          # what the terminal shows, line for line
        assert line in terminal
    assert "wrong.scenario.yaml:11:       other:  [RTM_DELETE 198.51.100.0/24 seq=42]" in text   # YAML line
    assert "  expected:" in text and ">>> RTM_DELETE 198.51.100.0/24 seq=42" in text
    assert ">>> RTM_ADD: Add Route: len 124" in text                                          # observed
    assert wrong.get("message") == ("step 2 (expect) at wrong.scenario.yaml:9: "
                                    + text.split("wrong.scenario.yaml:9: ", 1)[1].splitlines()[0])

    leak = cases["leak"].find("failure")
    assert "rule M16 broken on subscriber normal" in leak.text
    assert 'M16: "By default, underlying interfaces in an IPMP group are not visible' in leak.text
    assert leak.get("message").startswith("rule oracle: M16 ")
    assert "\n" not in leak.get("message")

    run = (reports / "latest").resolve()
    for name in ("wrong", "leak"):
        props = {p.get("name"): p.get("value") for p in cases[name].iter("property")}
        assert {"timeline", "streams", "report"} <= set(props), props
        for kind in ("timeline", "streams", "report"):
            assert Path(props[kind]) == run / name / Path(props[kind]).name
            assert Path(props[kind]).is_file()


def test_report_keeps_its_message_across_xdist_serialization(pytester, monkeypatch, request):
    """pytest-xdist sends each report from its worker as JSON: the one-line message and
    the whole text arrive as they left (junit is written by the controller)."""
    monkeypatch.setattr(runner_mod, "Runner", _InProcessRunner)
    pytester.makefile(".scenario.yaml", wrong=WRONG)
    rec = pytester.inline_run("-p", "rtsock_emul.scenario.pytest_plugin", "-p", "no:cacheprovider",
                              "--rtsock-mode=sim", "--rtsock-reports", str(pytester.path / "rep"))
    (rep,) = rec.getfailures()
    hook = request.config.hook
    data = hook.pytest_report_to_serializable(config=request.config, report=rep)
    back = hook.pytest_report_from_serializable(config=request.config, data=data)
    assert back.longrepr.reprcrash.message == rep.longrepr.reprcrash.message
    assert back.longrepr.reprcrash.message.startswith("step 2 (expect) at wrong.scenario.yaml:9: ")
    assert str(back.longrepr) == str(rep.longrepr) and ">>> RTM_DELETE" in str(back.longrepr)
