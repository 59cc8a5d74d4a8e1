"""The packets step: counts and gaps judged over a link's pcap; a wrong count fails
the scenario with the step's file:line and the packets of the window (R99)."""
import os

import pytest

from rtsock_emul.scenario.packets import Spacing, _verdict, parse_spacing

needs_mininet = pytest.mark.skipif(os.geteuid() != 0, reason="pcaps come from a Mininet lab: needs root")

SCENARIO = """\
name: dad probes counted
covers: [R99]
topology: ipmp-pair
subscribers:
  s: {{host: h1, protocol: AF_INET}}
steps:
  - h1: ipadm create-addr -T static -a 192.0.2.10/24 net0/v4
  - packets: {{link: h1:net0, count: {count}, within: 2s,
              match: "arp and arp[6:2] = 1 and arp[14:4] = 0 and arp[24:4] = 0xc000020a"}}
"""


def test_spacing_text():
    assert parse_spacing("150ms±20%") == Spacing(0.15, 0.2)
    assert parse_spacing("1.5s+-10%") == Spacing(1.5, 0.1)
    sp = parse_spacing("150ms +/- 20 %")
    assert (round(sp.low, 3), round(sp.high, 3)) == (0.12, 0.18)
    for bad in ("150ms", "±20%", "150 ms±x%", "fast"):
        with pytest.raises(ValueError):
            parse_spacing(bad)


def _pkts(*ms):
    return [(t / 1000, None) for t in ms]


def test_verdict_counts_and_gaps():
    exact = {"count": 3, "at_least": False, "spacing": Spacing(0.15, 0.2)}
    assert _verdict(exact, _pkts(0, 150, 300)) is None
    assert _verdict(exact, _pkts(0, 150)) == "2 packet(s), expected exactly 3"
    assert _verdict(exact, _pkts(0, 150, 300, 450)) == "4 packet(s), expected exactly 3"
    assert "gap 2 (between packets 2 and 3) is 190.0ms, outside 150ms±20% (120..180ms)" == \
        _verdict(exact, _pkts(0, 150, 340))
    at_least = {"count": 1, "at_least": True, "spacing": None}
    assert _verdict(at_least, _pkts(0, 5, 7)) is None
    assert _verdict(at_least, []) == "0 packet(s), expected at least 1"
    assert _verdict({"count": 0, "at_least": False, "spacing": None}, []) is None


@needs_mininet
def test_a_wrong_count_fails_with_the_line_and_the_packets_and_the_right_count_passes(pytester):
    """One session (one pytest and scapy start-up) runs both: 4 probes expected fails, 3 passes."""
    pytester.makefile(".scenario.yaml", probes=SCENARIO.format(count=4), right=SCENARIO.format(count=3))
    result = pytester.runpytest_subprocess("-p", "rtsock_emul.scenario.pytest_plugin", "-p", "no:cacheprovider",
                                           "--rtsock-mode=mininet", "--rtsock-reports", str(pytester.path / "rep"),
                                           "-rA")
    result.assert_outcomes(failed=1, passed=1)
    result.stdout.fnmatch_lines([
        "*step 2 (packets) at *probes.scenario.yaml:8: packets on h1:net0 matching *: "
        "3 packet(s), expected exactly 4",
        "*[[]1] *ARP who has 192.0.2.10 says 0.0.0.0",
        "*[[]3] *ARP who has 192.0.2.10 says 0.0.0.0"])
    result.stdout.fnmatch_lines(["PASSED right.scenario.yaml::right*"])
    result.stdout.fnmatch_lines(["FAILED probes.scenario.yaml::probes*"])


def test_packets_make_a_scenario_mininet_only(tmp_path):
    from rtsock_emul.scenario.loader import load_file
    from rtsock_emul.scenario.schema import parse_scenario
    path = tmp_path / "p.scenario.yaml"
    path.write_text(SCENARIO.format(count=3))
    sc = parse_scenario(load_file(path), str(path))
    assert sc.needs_mininet and sc.steps[1].args["count"] == 3 and sc.steps[1].line == 8
