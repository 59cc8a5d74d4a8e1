"""in.mpathd's per-target crtt and adaptive failure detection time (
[mpd_probe.c] incoming_echo_reply, pi_set_crtt, compute_crtt), on the kernel
model with a ManualClock and the fake prober."""
import ipaddress
import logging
import re

import pytest

from rtsock_emul.mpathd import PiState, query
from rtsock_emul.mpathd.config import MIN_SETTLING_TIME
from rtsock_emul.mpathd.rtt import compute_crtt, set_crtt
from rtsock_emul.mpathd.state import Target
from rtsock_emul.wire.constants import AF_INET, IFF_FAILED

from .host import ipmp_group, make

ROUTERS = [ipaddress.ip_address(f"192.0.2.{i}") for i in (1, 2, 3, 4)]
MS = 1_000_000


def routed_group(*, routers=1, fdt=7000):
    """net0/net1 in ipmp0, v4 test addresses, `routers` router targets; FDT 7 s
    gives a 1000 ms probe interval."""
    ctx, k, prober, md, clock = make({"failure_detection_time": fdt, "quiet_period": 0})
    ipmp_group(k, "net0", "net1")
    for i, name in enumerate(("net0", "net1")):
        k.add_test(name, AF_INET, f"192.0.2.{10 + i}")
        prober.answer(name, AF_INET, set(ROUTERS[:routers]))
    for i, gw in enumerate(ROUTERS[:routers]):
        k.add_route("0.0.0.0" if i == 0 else f"10.{i}.0.0", 0 if i == 0 else 16, str(gw))
    delays(prober, {})
    return ctx, k, prober, md, clock


def delays(prober, table):
    """Per-(interface, target) reply delay in seconds; default 10 ms."""
    prober.delay_for = lambda ifname, af, target: table.get((ifname, target), 0.01)


def run(clock, seconds, step=0.01):
    for _ in range(int(seconds / step)):
        clock.advance(step)


def fdt_row(md):
    return query.group_rows(md)[0]["FDT"]


def test_crtt_compute_crtt_is_jacobson_karels():
    """mpd_probe.c: crtt = sa/8 + sv; the first sample m gives sa = 8m, sv = 2m (crtt 3m);
    later samples move sa by the error and sv by |error| - sv/4."""
    sa, sv, crtt = compute_crtt(-1, 0, 100 * MS)
    assert (sa, sv, crtt) == (800 * MS, 200 * MS, 300 * MS)
    sa, sv, crtt = compute_crtt(sa, sv, 100 * MS)          # no error: sv decays by 1/4
    assert (sa, sv, crtt) == (800 * MS, 150 * MS, 250 * MS)
    sa, sv, crtt = compute_crtt(sa, sv, 20 * MS)           # error -80 ms
    assert sa == 720 * MS and sv == 150 * MS - 150 * MS // 4 + 80 * MS


def test_crtt_suspect_unicast_rtt_is_deferred_once():
    """pi_set_crtt: a unicast rtt that alone would push crtt over the probe
    interval is deferred; the second one in a row counts both (MAXDEFERREDRTT 1)."""
    tg = Target(ROUTERS[0], True)
    set_crtt(tg, 10 * MS, True, 1000)
    assert tg.crtt == 30
    set_crtt(tg, 2000 * MS, True, 1000)
    assert tg.crtt == 30 and len(tg.deferred) == 1
    set_crtt(tg, 2000 * MS, True, 1000)
    assert tg.crtt > 1000 and not tg.deferred
    high = tg.crtt
    set_crtt(tg, 9000 * MS, False, 1000)       # an RTT probe never raises crtt
    assert tg.crtt == high
    set_crtt(tg, 1 * MS, False, 1000)          # but may lower it
    assert tg.crtt < high


def test_crtt_probe_lost_once_target_crtt_passed():
    """mpd_probe.c: a probe is lost once its target's crtt has passed with no reply (not
    one probe interval); the loss time is sent + crtt."""
    ctx, k, prober, md, clock = routed_group()
    delays(prober, {("net0", ROUTERS[0]): 0.2})
    k.start()
    run(clock, 30)
    tg = md.phyints["net0"].insts[AF_INET].targets[0]
    assert 200 <= tg.crtt < 400                 # settled near the 200 ms rtt
    prober.answer("net0", AF_INET, set())
    run(clock, 4)
    lost = [r for r in md.records if r.ifname == "net0" and r.state == "lost"]
    assert lost and lost[0].lost - lost[0].sent == pytest.approx(tg.crtt / 1000)


def test_crtt_late_reply_turns_a_lost_probe_into_an_ack():
    """incoming_echo_reply: a reply to a probe judged lost still acks it, so the
    run of consecutive losses (probe_fail_info) ends and no failure follows."""
    ctx, k, prober, md, clock = routed_group()
    k.start()
    run(clock, 10)                              # rtt 10 ms: crtt about 10-30 ms
    delays(prober, {("net0", ROUTERS[0]): 0.9})
    run(clock, 40)
    recs = [r for r in md.records if r.ifname == "net0" and r.sent >= 10]
    assert any(r.lost is not None and r.state == "acked" for r in recs)
    assert not k.flags_of("net0") & IFF_FAILED


def test_fdt_adapts_up_when_rtt_too_high(caplog):
    """mpd_probe.c: a target crtt above the group probe interval (and no faster peers)
    raises the probe interval to crtt x 2 and the group FDT to interval x 7,
    logged; ipmpstat -g FDT shows it; RTT-only probes fill the periods between
    failure-detection probes and consume no icmp_seq."""
    caplog.set_level(logging.INFO, logger="rtsock_emul.mpathd")
    ctx, k, prober, md, clock = routed_group()
    k.start()
    run(clock, 10)
    assert fdt_row(md) == "7.00s"
    delays(prober, {("net0", ROUTERS[0]): 1.5})
    run(clock, 20)
    pg = md.pg("ipmp0")
    msgs = [r.getMessage() for r in caplog.records if "Cannot meet" in r.getMessage()]
    assert msgs and msgs[0] == (
        'Cannot meet requested failure detection time of 7000 ms on (inet net0) '
        f'new failure detection time for group "ipmp0" is {pg.fdt} ms')
    assert pg.fdt == pg.probeint * 7 and pg.probeint >= 2 * 1000
    assert fdt_row(md) == f"{pg.fdt / 1000:.2f}s"
    before = len(prober.sent)
    run(clock, 30)
    sent = [s for s in list(prober.sent)[before:] if s[1] == "net0"]
    assert {"uni", "rtt"} <= {s[0] for s in sent}
    uni = [s[5] for s in sent if s[0] == "uni"]
    assert uni == list(range(uni[0], uni[0] + len(uni)))       # rtt probes reuse snxt
    assert len(uni) <= 30 * 1000 // pg.probeint + 1
    assert md.phyints["net0"].state == PiState.PI_RUNNING      # slow, not failed


def test_fdt_improves_after_settling_time_never_below_configured(caplog):
    """mpd_probe.c: once crtt < interval / 4 on every target and MIN_SETTLING_TIME (60 s)
    has passed since the increase, the FDT halves, down to the configured value."""
    caplog.set_level(logging.INFO, logger="rtsock_emul.mpathd")
    ctx, k, prober, md, clock = routed_group()
    k.start()
    run(clock, 5)
    delays(prober, {("net0", ROUTERS[0]): 1.5})
    run(clock, 20)
    raised = md.pg("ipmp0").fdt
    assert raised > 7000
    bumped_at = md.last_fdt_bumpup
    delays(prober, {})
    run(clock, bumped_at + MIN_SETTLING_TIME - 1 - clock.now())
    assert md.pg("ipmp0").fdt == raised                         # still settling
    run(clock, 60)
    pg = md.pg("ipmp0")
    assert pg.fdt == 7000 and pg.probeint == 1000 and fdt_row(md) == "7.00s"
    improved = [r.getMessage() for r in caplog.records if "Improved" in r.getMessage()]
    assert re.fullmatch(r'Improved failure detection time 7000 ms on \(inet net[01]\) '
                        r'for group "ipmp0"', improved[-1])
    values = [int(m.split()[4]) for m in improved]
    assert all(b == max(a // 2, 7000) for a, b in zip([raised] + values, values))


def test_fdt_slow_exception_router_is_set_aside():
    """check_exception_target: with MIN_PROBE_TARGETS+1 targets, one slow target
    whose peers all answer within interval / 2 is set aside, the FDT unchanged."""
    ctx, k, prober, md, clock = routed_group(routers=4)
    k.start()
    run(clock, 10)
    delays(prober, {("net0", ROUTERS[3]): 1.5})
    run(clock, 30)
    inst = md.phyints["net0"].insts[AF_INET]
    slow = [t for t in inst.targets if t.slow_since is not None]
    assert [t.addr for t in slow] == [ROUTERS[3]]
    assert md.pg("ipmp0").fdt == 7000


def test_crtt_reset_when_the_interface_fails():
    """reset_crtt_all: a failed interface's targets lose their rtt history."""
    ctx, k, prober, md, clock = routed_group()
    k.start()
    run(clock, 10)
    inst = md.phyints["net0"].insts[AF_INET]
    assert inst.targets[0].rtt_sa != -1
    k.link("net0", False)
    assert k.flags_of("net0") & IFF_FAILED
    assert inst.targets[0].crtt == 0 and inst.targets[0].rtt_sa == -1
