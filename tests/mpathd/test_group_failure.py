"""in.mpathd group-wide failure (mpd_probe.c; R117, R120) and the
quiet period's lost-probe history (R131), with a ManualClock and the fake prober."""
import ipaddress

from rtsock_emul.mpathd import PgState, PiState, query
from rtsock_emul.wire.constants import AF_INET, IFF_FAILED, IFF_INACTIVE

from .fakes import make

ROUTER = ipaddress.ip_address("192.0.2.1")
HOST = ipaddress.ip_address("192.0.2.50")
FDT = {"failure_detection_time": 1000}          # probe interval 142 ms


def probed_group(members=("net0", "net1"), standby=(), *, host_targets=False, quiet=0,
                 config=None):
    ctx, k, prober, md, clock = make({**FDT, "quiet_period": quiet, **(config or {})})
    k.add_if("ipmp0", group="ipmp0", ipmp=True)
    for i, name in enumerate(members):
        k.add_if(name, group="ipmp0", standby=name in standby)
        k.add_test(name, AF_INET, f"192.0.2.{10 + i}")
        target = HOST if host_targets else ROUTER
        prober.answer(name, AF_INET, {target})
        prober.multicast[(name, AF_INET)] = [HOST]
    if not host_targets:
        k.add_route("0.0.0.0", 0, str(ROUTER))
    md.start()
    return ctx, k, prober, md, clock


def advance_until(clock, cond, limit):
    t0 = clock.now()
    while not cond():
        clock.advance(0.01)
        assert clock.now() - t0 < limit, "condition never held"
    return clock.now() - t0


def cut(prober, *names):
    for name in names:
        prober.answer(name, AF_INET, set())


def test_R131_losses_during_quiet_period_are_judged_when_it_ends():
    """R131 regression: loss that starts after multicast target discovery but
    before any unicast probe is acknowledged is ignored for the quiet period only;
    the losses are kept (pii_probes[]) and judged at the first tick after it, so
    the interface fails right at the end of the quiet period, not 5 probes later."""
    ctx, k, prober, md, clock = probed_group(host_targets=True, quiet=3000)
    inst = md.phyints["net0"].insts[AF_INET]
    advance_until(clock, lambda: inst.targets, 1.0)   # discovered by multicast
    assert inst.nok == 0 and md.phyints["net0"].state == PiState.PI_RUNNING
    cut(prober, "net0")                                # before the first unicast ack
    quiet_end = inst.quiet_until
    clock.advance(quiet_end - clock.now() - 0.01)
    assert not k.flags_of("net0") & IFF_FAILED         # still quiet
    assert inst.nlost >= 5                             # but the losses were recorded
    advance_until(clock, lambda: k.flags_of("net0") & IFF_FAILED, 1.0)
    assert clock.now() - quiet_end <= 2 * md.config.probe_interval + 0.01
    assert not k.flags_of("net1") & IFF_FAILED


def test_R117_group_failure_router_targets_fails_every_member():
    """Group failure (mpd_probe.c): all members lose their probes; time-last-success of the
    others precedes our time-first-failure -> FAILED on every member at once, no
    failover; with router targets members stay PI_FAILED and keep their targets."""
    ctx, k, prober, md, clock = probed_group()
    clock.advance(2)
    cut(prober, "net0", "net1")
    advance_until(clock, lambda: k.flags_of("net0") & IFF_FAILED
                  or k.flags_of("net1") & IFF_FAILED, 2.0)
    assert k.flags_of("net0") & IFF_FAILED and k.flags_of("net1") & IFF_FAILED
    assert md.group_state["ipmp0"] == PgState.PG_FAILED
    for name in ("net0", "net1"):
        pi = md.phyints[name]
        assert pi.state == PiState.PI_FAILED
        assert [t.addr for t in pi.insts[AF_INET].targets] == [ROUTER]
    prober.answer("net1", AF_INET, {ROUTER})          # one member comes back (R113)
    advance_until(clock, lambda: not k.flags_of("net1") & IFF_FAILED, 3.0)
    assert md.group_state["ipmp0"] == PgState.PG_DEGRADED
    assert k.flags_of("net0") & IFF_FAILED


def test_R117_group_failure_clears_inactive_on_standby():
    """mpd_probe.c: group failure sets FAILED and clears INACTIVE on every member,
    the INACTIVE standby included (R96: the two are exclusive)."""
    ctx, k, prober, md, clock = probed_group(("net0", "net1", "net2"), standby=("net2",))
    clock.advance(2)
    assert k.flags_of("net2") & IFF_INACTIVE
    cut(prober, "net0", "net1", "net2")
    advance_until(clock, lambda: k.flags_of("net0") & IFF_FAILED, 2.0)
    for name in ("net0", "net1", "net2"):
        assert k.flags_of(name) & IFF_FAILED and not k.flags_of(name) & IFF_INACTIVE
    assert md.group_state["ipmp0"] == PgState.PG_FAILED


def test_R117_one_member_still_acking_is_a_phyint_failure():
    """failure_state: a member whose last success is after our first failure means
    only this interface failed; the standby takes over (R117)."""
    ctx, k, prober, md, clock = probed_group(("net0", "net1", "net2"), standby=("net2",))
    clock.advance(2)
    cut(prober, "net0")
    advance_until(clock, lambda: k.flags_of("net0") & IFF_FAILED, 2.0)
    assert not k.flags_of("net1") & IFF_FAILED
    assert not k.flags_of("net2") & (IFF_FAILED | IFF_INACTIVE)
    assert md.group_state["ipmp0"] == PgState.PG_DEGRADED


def test_R120_group_failure_host_targets_flushed_notargets_then_repair():
    """mpd_probe.c: with host targets a group failure flushes the targets; members go
    PI_NOTARGETS with FAILED set (ipmpstat: STATE failed, PROBE unknown) and
    rediscover by multicast; 10 good probes then repair them (R113)."""
    ctx, k, prober, md, clock = probed_group(host_targets=True)
    clock.advance(2)
    cut(prober, "net0", "net1")
    advance_until(clock, lambda: k.flags_of("net0") & IFF_FAILED, 2.0)
    assert md.group_state["ipmp0"] == PgState.PG_FAILED
    for name in ("net0", "net1"):
        pi = md.phyints[name]
        assert k.flags_of(name) & IFF_FAILED
        assert pi.state == PiState.PI_NOTARGETS and not pi.insts[AF_INET].targets
        assert (query.if_state(md, pi), query.probe_state(md, pi)) == ("failed", "unknown")
    clock.advance(2)
    assert md.phyints["net0"].state == PiState.PI_NOTARGETS     # nobody answers yet
    prober.answer("net0", AF_INET, {HOST})
    advance_until(clock, lambda: md.phyints["net0"].insts[AF_INET].targets, 1.0)
    assert md.phyints["net0"].state == PiState.PI_FAILED        # FAILED until repaired
    took = advance_until(clock, lambda: not k.flags_of("net0") & IFF_FAILED, 3.0)
    assert took >= 9 * md.config.probe_interval * 0.5
    assert md.phyints["net0"].state == PiState.PI_RUNNING
    assert md.group_state["ipmp0"] == PgState.PG_DEGRADED
    assert k.flags_of("net1") & IFF_FAILED


def test_R117_link_down_on_last_member_is_a_group_failure():
    """failure_state for link failures: the last member losing its link, with no
    other RUNNING member, is a group failure (every member FAILED, group failed);
    the first is a phyint failure that activates the standby."""
    ctx, k, prober, md, clock = make()
    k.add_if("ipmp0", group="ipmp0", ipmp=True)
    for name in ("net0", "net1"):
        k.add_if(name, group="ipmp0", standby=name == "net1")
    md.start()
    k.link("net0", False)
    assert k.flags_of("net0") & IFF_FAILED and not k.flags_of("net1") & IFF_INACTIVE
    k.link("net1", False)
    assert k.flags_of("net1") & IFF_FAILED
    assert md.group_state["ipmp0"] == PgState.PG_FAILED
    k.link("net1", True)
    assert not k.flags_of("net1") & IFF_FAILED
    assert md.group_state["ipmp0"] == PgState.PG_DEGRADED
