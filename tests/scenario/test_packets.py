"""The packets step: counts and gaps judged over a link's pcap; a wrong count fails
the scenario with the step's file:line and the packets of the window (R99)."""
from types import SimpleNamespace

import pytest

from rtsock_emul.scenario.packets import LATE_ALLOWANCE, First, Spacing, _verdict, parse_first, parse_spacing

needs_mininet = pytest.mark.root("pcaps come from a Mininet lab")

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
    assert _verdict(exact, _pkts(0, 150, 340)) is None               # a timer 40 ms late (R99)
    assert "gap 2 (between packets 2 and 3) is 290.0ms, outside 150ms±20% (120..180ms, +100ms if late)" == \
        _verdict(exact, _pkts(0, 150, 440))
    assert _verdict(exact, _pkts(0, 110, 260)).startswith("gap 1 (between packets 1 and 2) is 110.0ms")
    at_least = {"count": 1, "at_least": True, "spacing": None}
    assert _verdict(at_least, _pkts(0, 5, 7)) is None
    assert _verdict(at_least, []) == "0 packet(s), expected at least 1"
    assert _verdict({"count": 0, "at_least": False, "spacing": None}, []) is None


@needs_mininet
def test_a_wrong_count_fails_with_the_line_and_the_packets_and_the_right_count_passes(pytester):
    """One session, in this process (no pytest or scapy start-up), runs both: 4 probes
    expected fails, 3 passes."""
    pytester.makefile(".scenario.yaml", probes=SCENARIO.format(count=4), right=SCENARIO.format(count=3))
    result = pytester.runpytest_inprocess("-p", "rtsock_emul.scenario.pytest_plugin", "-p", "no:cacheprovider",
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


def test_first_text():
    """`first: LOW..HIGH after dad-start ADDR` (or one value); the anchor is required."""
    assert parse_first("1..150ms after dad-start 192.0.2.10") == First(0.001, 0.15, "192.0.2.10")
    assert parse_first("1ms..0.15s after dad-start 192.0.2.10") == First(0.001, 0.15, "192.0.2.10")
    assert parse_first("0ms after dad-start 2001:DB8::10") == First(0.0, 0.0, "2001:db8::10")
    assert str(parse_first("1..150ms after dad-start 192.0.2.10")) == "1..150ms after dad-start 192.0.2.10"
    for bad in ("1..150ms", "1..150 after dad-start 192.0.2.10", "150..1ms after dad-start 192.0.2.10",
                "1..150ms after dad-start h1", "1..150ms after start 192.0.2.10"):
        with pytest.raises(ValueError):
            parse_first(bad)


def _start(seq, wall, planned=0.05):
    return SimpleNamespace(seq=seq, dad={"wall": wall, "ifname": "net0", "addr": "192.0.2.10",
                                         "first": planned, "probes": 3, "interval": 0.15, "af": 2})


def test_R100_first_packet_is_timed_from_the_last_dad_start_before_it():
    """R100: the first probe 1..interval ms after DAD starts. Too early is a finding; late
    by at most LATE_ALLOWANCE (a timer fires when the scheduler lets it) is not."""
    first = parse_first("1..150ms after dad-start 192.0.2.10")
    args = {"count": 1, "at_least": False, "spacing": None, "first": first}
    starts = [_start(3, 10.0), _start(9, 20.0)]       # DAD restarted at 20.0: the anchor
    assert _verdict(args, [(20.080, None)], lambda: starts) is None
    assert _verdict(args, [(20.150 + LATE_ALLOWANCE - 0.001, None)], lambda: starts) is None
    early = _verdict(args, [(20.0005, None)], lambda: starts)
    assert early.startswith("the first packet came 0.5ms after DAD of 192.0.2.10 started on net0 "
                            "(journal entry 9), early: expected 1..150ms after dad-start 192.0.2.10")
    late = _verdict(args, [(20.150 + LATE_ALLOWANCE + 0.002, None)], lambda: starts)
    assert "late, beyond the 100ms allowance" in late and "the model planned 50.0ms" in late
    assert "no DAD start of 192.0.2.10 before the first packet" in _verdict(args, [(5.0, None)], lambda: starts)


def test_the_runner_reads_dad_starts_from_the_journal_page():
    """R100: "dad" entries come through `kernel journal` pages into truth.HostJournal, which
    gives the packets step the starts of one address, oldest first."""
    from rtsock_emul.scenario.truth import HostJournal
    journal = HostJournal("h1")
    journal.add_page({"first": 0, "next": 0, "end": 0, "lost": 0, "entries": [], "state": {}})
    dad = {"kind": "dad", "wall": 100.5, "ifname": "net0", "af": 2, "addr": "192.0.2.10",
           "probes": 3, "interval": 0.15, "first": 0.07}
    journal.add_page({"first": 0, "next": 3, "end": 3, "lost": 0, "state": {}, "entries": [
        dict(dad, seq=0, t=1.0), dict(dad, seq=1, t=2.0, addr="192.0.2.11", wall=101.0),
        dict(dad, seq=2, t=3.0, wall=102.0)]})
    starts = journal.dad_starts("192.0.2.10")
    assert [(e.seq, e.dad["wall"], e.dad["first"]) for e in starts] == [(0, 100.5, 0.07), (2, 102.0, 0.07)]
    assert journal.messages() == [] and journal.states() == [journal.base]
