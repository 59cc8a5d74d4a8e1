"""Duplicate Address Detection (ip_ndp.c; R99-R109) with a ManualClock."""
import pytest

from rtsock_emul.kernel import Kernel, ManualClock, Tunables
from rtsock_emul.wire import constants as C

from .helpers import MAC0, MAC1, STRANGER, V4, V6, Recorder, up


class Timed(Recorder):
    def __init__(self, clock):
        super().__init__()
        self.clock, self.times, self.starts = clock, [], []

    def dad_start(self, phyint, af, addr, probes, interval, first):
        self.starts.append((self.clock.now(), phyint, af, str(addr), probes, interval, first))

    def dad_probe(self, phyint, af, addr, probe_no):
        super().dad_probe(phyint, af, addr, probe_no)
        self.times.append(self.clock.now())

    def rts(self, msg, af, rtsq, origin=None):
        super().rts(msg, af, rtsq, origin)
        self.times.append(("msg", self.clock.now()))


def illumos(link_notes=True, af=V4, addr="192.0.2.1", **tun):
    clock = ManualClock()
    hooks = Timed(clock)
    k = Kernel(clock, hooks, Tunables(**tun))
    k.plumb("net0", af, mac=MAC0, link_notes=link_notes)
    k.set_addr("net0", af, addr, 24 if af == V4 else 64)
    hooks.take()
    hooks.times.clear()
    k.set_flags("net0", af, set=C.IFF_UP)
    return k, clock, hooks


def probe_times(hooks):
    return [t for t in hooks.times if not isinstance(t, tuple)]


def notify_time(hooks):
    return [t for t in hooks.times if isinstance(t, tuple)][0][1]


def test_R99_fast_mode_probes(clock):
    """R99: with link notifications, 3 probes about 150 ms (±20%) apart."""
    k, clock, hooks = illumos()
    clock.advance(10)
    times = probe_times(hooks)
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert len(times) == 3 and all(0.12 - 1e-9 <= g <= 0.18 + 1e-9 for g in gaps)
    assert 0.001 <= times[0] <= 0.15                       # R100: first probe after 1..interval
    assert 0.36 < notify_time(hooks) < 0.75


def test_R99_slow_mode_probes():
    """R99: without link notifications (or for 169.254/16), probes 1500 ms apart."""
    k, clock, hooks = illumos(link_notes=False)
    clock.advance(20)
    times = probe_times(hooks)
    assert len(times) == 3 and all(1.2 <= b - a <= 1.8 for a, b in zip(times, times[1:]))
    k2, clock2, hooks2 = illumos(addr="169.254.3.3")
    clock2.advance(20)
    t2 = probe_times(hooks2)
    assert all(1.2 <= b - a <= 1.8 for a, b in zip(t2, t2[1:]))


def test_R100_dad_start_is_reported_with_the_planned_first_delay():
    """R100: the kernel reports each DAD start (the packets step's anchor) with the delay it
    drew for the first probe, 1..interval; the first probe goes out exactly then."""
    for seed_addr in ("192.0.2.1", "192.0.2.2", "192.0.2.3"):
        k, clock, hooks = illumos(addr=seed_addr)
        clock.advance(10)
        [(t0, phyint, af, addr, probes, interval, first)] = hooks.starts
        assert (phyint, af, addr, probes, interval) == ("net0", V4, seed_addr, 3, 0.15)
        assert 0.001 <= first <= 0.15 and probe_times(hooks)[0] == pytest.approx(t0 + first)
    k, clock, hooks = illumos(af=V6, addr="2001:db8::1")     # R101: NS at once
    assert [s[-1] for s in hooks.starts] == [0.0]


def test_R100_zero_delay_probes_at_once():
    """R100: a zero selected delay sends the first probe at once."""
    k, clock, hooks = illumos(arp_probe_delay=0)
    assert probe_times(hooks) == [0.0]


def test_R101_v6_ns_spacing_and_ready():
    """R101: 3 NS from ::, the first at once, 150 ms apart; ready one interval after the last."""
    k, clock, hooks = illumos(af=V6, addr="2001:db8::1")
    clock.advance(5)
    assert probe_times(hooks) == pytest.approx([0.0, 0.15, 0.30])
    assert notify_time(hooks) == pytest.approx(0.45)
    assert [p[3] for p in hooks.probes] == [1, 2, 3]


def test_R102_dad_waits_for_running(kernel, clock, hooks):
    """R102: DAD completes only while RUNNING; it restarts on link-up."""
    kernel.plumb("net0", V4, mac=MAC0)
    kernel.set_addr("net0", V4, "192.0.2.1", 24)
    kernel.set_flags("net0", V4, set=C.IFF_UP)
    kernel.link_change("net0", False)
    hooks.take()
    clock.advance(5)
    assert hooks.take() == [] and kernel.tentative("net0", V4)
    kernel.link_change("net0", True)
    assert hooks.take() == []                               # ipif 0 is UP: IFINFO comes with the notify
    clock.advance(5)
    assert [t for t, *_ in hooks.take()] == ["IFINFO", "NEWADDR", "ADD"]


def test_R103_exempt_addresses_notify_at_once(kernel, hooks):
    """R103: NOARP, unspecified, and an IPMP data address with no active member are ready at once."""
    kernel.plumb("net0", V4, mac=MAC0)
    kernel.set_flags("net0", V4, set=C.IFF_NOARP)
    kernel.set_addr("net0", V4, "192.0.2.1", 24)
    hooks.take()
    kernel.set_flags("net0", V4, set=C.IFF_UP)
    assert [t for t, *_ in hooks.take()] == ["IFINFO", "NEWADDR", "ADD"]
    lif = kernel.addif("net0", V4)
    kernel.set_flags("net0", V4, clear=C.IFF_NOARP)
    hooks.take()
    kernel.set_flags(lif, V4, set=C.IFF_UP)
    assert [t for t, *_ in hooks.take()] == ["NEWADDR", "ADD"]
    kernel.plumb("ipmp0", V4, ipmp=True)
    kernel.set_addr("ipmp0", V4, "192.0.2.50", 24)
    hooks.take()
    kernel.set_flags("ipmp0", V4, set=C.IFF_UP)
    assert [t for t, *_ in hooks.take()] == ["IFINFO", "NEWADDR", "ADD"]
    assert hooks.probes == []


def test_R104_conflict_during_probing(kernel, clock, hooks):
    """R104/E12: a conflict while tentative: DUPLICATE, UP cleared, IFINFO/DELETE/DELADDR with no NEWADDR before."""
    kernel.plumb("net0", V4, mac=MAC0)
    kernel.set_addr("net0", V4, "192.0.2.1", 24)
    hooks.take()
    kernel.set_flags("net0", V4, set=C.IFF_UP)
    clock.advance(0.1)
    assert kernel.dad_conflict("net0", V4, "192.0.2.1", STRANGER) == "duplicate"
    assert hooks.take() == [("IFINFO", "net0", 4, "all"), ("DELETE", "192.0.2.1", 4, "all"),
                            ("DELADDR", "net0 192.0.2.1", 4, "all")]
    f = kernel.flags("net0", V4)
    assert f & C.IFF_DUPLICATE and not f & C.IFF_UP
    clock.advance(1)
    assert hooks.take() == [] and kernel.realized_addresses() == {"net0": []}


def test_R105_reflections_ignored(kernel, clock, hooks):
    """R105: a conflict from our own MAC or any group member's MAC is ignored."""
    kernel.plumb("ipmp0", V4, ipmp=True)
    kernel.plumb("net0", V4, mac=MAC0)
    kernel.plumb("net1", V4, mac=MAC1)
    kernel.set_groupname("net0", V4, "ipmp0")
    kernel.set_groupname("net1", V4, "ipmp0")
    kernel.set_addr("net0", V4, "192.0.2.100", 24)
    kernel.set_flags("net0", V4, set=C.IFF_NOFAILOVER | C.IFF_UP)
    assert kernel.dad_conflict("net0", V4, "192.0.2.100", MAC0) == "ignored"
    assert kernel.dad_conflict("net0", V4, "192.0.2.100", MAC1) == "ignored"
    assert kernel.dad_conflict("net0", V4, "192.0.2.100", STRANGER) == "duplicate"


def test_R106_recovery_timer(kernel, clock, hooks):
    """R106: a DUPLICATE address is retried after _dup_recovery (fast profile 5 s) with full DAD."""
    kernel.plumb("net0", V4, mac=MAC0)
    kernel.set_addr("net0", V4, "192.0.2.1", 24)
    kernel.set_flags("net0", V4, set=C.IFF_UP)
    kernel.dad_conflict("net0", V4, "192.0.2.1", STRANGER)
    hooks.take()
    clock.advance(4.9)
    assert hooks.take() == []
    clock.advance(0.2)
    assert not kernel.flags("net0", V4) & C.IFF_DUPLICATE and kernel.tentative("net0", V4)
    clock.advance(1)
    assert [t for t, *_ in hooks.take()] == ["IFINFO", "NEWADDR", "ADD"]


def test_R106_no_recovery_when_zero_or_link_down(clock, hooks):
    """R106: never with _dup_recovery 0; not while the link is down."""
    k = Kernel(clock, hooks, Tunables.fast(dup_recovery=0))
    k.plumb("net0", V4, mac=MAC0)
    k.set_addr("net0", V4, "192.0.2.1", 24)
    k.set_flags("net0", V4, set=C.IFF_UP)
    k.dad_conflict("net0", V4, "192.0.2.1", STRANGER)
    clock.advance(1000)
    assert k.flags("net0", V4) & C.IFF_DUPLICATE and clock.pending() == 0


def test_R107_link_up_recovers(kernel, clock, hooks):
    """R107: link-up tries recovery of a DUPLICATE address at once."""
    kernel.plumb("net0", V4, mac=MAC0)
    kernel.set_addr("net0", V4, "192.0.2.1", 24)
    kernel.set_flags("net0", V4, set=C.IFF_UP)
    kernel.dad_conflict("net0", V4, "192.0.2.1", STRANGER)
    kernel.link_change("net0", False)
    clock.advance(10)                                       # timer fires while down: nothing
    assert kernel.flags("net0", V4) & C.IFF_DUPLICATE
    hooks.take()
    kernel.link_change("net0", True)
    assert kernel.flags("net0", V4) & C.IFF_UP and not kernel.flags("net0", V4) & C.IFF_DUPLICATE
    clock.advance(1)
    assert [t for t, *_ in hooks.take()] == ["IFINFO", "NEWADDR", "ADD"]


def test_R108_defense_then_duplicate(kernel, clock, hooks):
    """R108: after DAD, 3 defenses within _defend_interval, then torn down as DUPLICATE."""
    up(kernel.plumb("net0", V4, mac=MAC0) or kernel, clock, hooks, "net0", addr="192.0.2.1")
    hooks.take()
    assert [kernel.dad_conflict("net0", V4, "192.0.2.1", STRANGER) for _ in range(3)] == ["defended"] * 3
    assert hooks.take() == []
    assert kernel.dad_conflict("net0", V4, "192.0.2.1", STRANGER) == "duplicate"
    assert [t for t, *_ in hooks.take()] == ["IFINFO", "DELETE", "DELADDR"]


def test_R108_defenses_expire(kernel, clock, hooks):
    """R108: defenses older than _defend_interval (30 s) no longer count."""
    up(kernel.plumb("net0", V4, mac=MAC0) or kernel, clock, hooks, "net0", addr="192.0.2.1")
    for _ in range(3):
        kernel.dad_conflict("net0", V4, "192.0.2.1", STRANGER)
    clock.advance(31)
    assert kernel.dad_conflict("net0", V4, "192.0.2.1", STRANGER) == "defended"


def test_R109_set_addr_clears_duplicate(kernel, clock, hooks):
    """R109: setting a new address clears IFF_DUPLICATE and stops recovery."""
    kernel.plumb("net0", V4, mac=MAC0)
    kernel.set_addr("net0", V4, "192.0.2.1", 24)
    kernel.set_flags("net0", V4, set=C.IFF_UP)
    kernel.dad_conflict("net0", V4, "192.0.2.1", STRANGER)
    kernel.set_addr("net0", V4, "192.0.2.2", 24)
    assert not kernel.flags("net0", V4) & C.IFF_DUPLICATE and clock.pending() == 0


def test_ipmp_data_address_probes_through_bound_member(kernel, clock, hooks):
    """IPMP (ip_ndp.c nce_dad): DAD for a data address uses the bound member; a conflict seen there downs it."""
    kernel.plumb("ipmp0", V4, ipmp=True)
    kernel.plumb("net0", V4, mac=MAC0)
    kernel.set_groupname("net0", V4, "ipmp0")
    kernel.set_addr("net0", V4, "192.0.2.100", 24)
    kernel.set_flags("net0", V4, set=C.IFF_NOFAILOVER | C.IFF_UP)
    clock.advance(1)
    kernel.set_addr("ipmp0", V4, "192.0.2.10", 24)
    hooks.take()
    hooks.probes.clear()
    kernel.set_flags("ipmp0", V4, set=C.IFF_UP)
    clock.advance(0.06)
    assert hooks.probes and all(p[0] == "net0" for p in hooks.probes)
    assert kernel.dad_conflict("net0", V4, "192.0.2.10", STRANGER) == "duplicate"
    assert hooks.take() == [("IFINFO", "ipmp0", 4, "all"), ("DELETE", "192.0.2.10", 4, "all"),
                            ("DELADDR", "ipmp0 192.0.2.10", 4, "all")]


def test_manual_clock_orders_nested_timers():
    """ManualClock fires due timers in time order, including ones scheduled by timers."""
    clock, seen = ManualClock(), []
    clock.call_later(0.3, lambda: seen.append("c"))
    clock.call_later(0.1, lambda: (seen.append("a"), clock.call_later(0.1, lambda: seen.append("b"))))
    dropped = clock.call_later(0.2, lambda: seen.append("x"))
    clock.cancel(dropped)
    clock.advance(0.25)
    assert seen == ["a", "b"] and clock.now() == 0.25
    clock.advance(1)
    assert seen == ["a", "b", "c"]


def test_R104_R105_claims_answers_whether_dad_conflict_could_act(kernel, clock, hooks):
    """The platform's cheap pre-check: True exactly for an address up on the interface
    or its group's IPMP interface (what dad_conflict judges), False for anything else,
    and no kernel operation runs (no hook, no message)."""
    kernel.plumb("ipmp0", V4, ipmp=True)
    kernel.plumb("net0", V4, mac=MAC0)
    kernel.plumb("net1", V4, mac=MAC1)
    kernel.set_groupname("net0", V4, "ipmp0")
    kernel.set_addr("net0", V4, "192.0.2.100", 24)
    kernel.set_flags("net0", V4, set=C.IFF_NOFAILOVER | C.IFF_UP)
    kernel.set_addr("ipmp0", V4, "192.0.2.50", 24)
    kernel.set_flags("ipmp0", V4, set=C.IFF_UP)
    kernel.set_addr("net1", V4, "198.51.100.1", 24)      # not up
    hooks.take()
    assert kernel.claims("net0", V4, "192.0.2.100")           # its own test address
    assert kernel.claims("net0", V4, "192.0.2.50")            # the group's data address
    assert not kernel.claims("net0", V4, "192.0.2.99")        # another host's
    assert not kernel.claims("net1", V4, "198.51.100.1")      # not up: dad_conflict ignores it
    assert not kernel.claims("net9", V4, "192.0.2.100")       # no such interface
    assert not kernel.claims("net0", V4, "not an address")
    assert hooks.take() == []
    for addr in ("192.0.2.99", "198.51.100.1"):
        assert kernel.dad_conflict("net0", V4, addr, STRANGER) is None


class ClaimWatch(Recorder):
    """Records Kernel.claimed(net0) at each claims_changed, as the platform's filter would."""

    def __init__(self):
        super().__init__()
        self.kernel, self.seen = None, []

    def claims_changed(self):
        self.seen.append(sorted(str(a) for _af, a in self.kernel.claimed("net0")))

    def dad_probe(self, phyint, af, addr, probe_no):
        super().dad_probe(phyint, af, addr, probe_no)   # the first probe may go before the hook
        self.seen.append(("probe", str(addr)))


def test_R104_R105_claims_changed_follows_what_a_claim_must_name():
    """claimed() is the set claims() is true for; claims_changed is called at the end of
    each operation that moves it: a join that brings the group's data addresses, an
    address up (with DAD still running), a data address down, and a duplicate taken
    down (R104)."""
    clock = ManualClock()
    hooks = ClaimWatch()
    kernel = hooks.kernel = Kernel(clock, hooks, Tunables.fast())
    kernel.plumb("ipmp0", V4, ipmp=True)
    kernel.plumb("net0", V4, mac=MAC0)
    kernel.set_addr("ipmp0", V4, "192.0.2.50", 24)
    kernel.set_flags("ipmp0", V4, set=C.IFF_UP)
    assert hooks.seen and all(s == [] for s in hooks.seen)   # ipmp0's address; net0 holds nothing
    kernel.set_groupname("net0", V4, "ipmp0")
    assert hooks.seen[-1] == ["192.0.2.50"]
    kernel.set_addr("net0", V4, "192.0.2.100", 24)
    hooks.seen.clear()
    kernel.set_flags("net0", V4, set=C.IFF_NOFAILOVER | C.IFF_UP)
    assert [s for s in hooks.seen if not isinstance(s, tuple)] == [["192.0.2.100", "192.0.2.50"]]
    assert {str(a) for _af, a in kernel.claimed("net0")} == {
        a for a in ("192.0.2.100", "192.0.2.50", "192.0.2.99") if kernel.claims("net0", V4, a)}
    hooks.seen.clear()
    clock.advance(5)                             # DAD of the test address ends: claims unchanged
    assert [s for s in hooks.seen if not isinstance(s, tuple)] == []
    kernel.set_flags("ipmp0", V4, clear=C.IFF_UP)
    assert hooks.seen[-1] == ["192.0.2.100"]
    for _ in range(kernel.tunables.max_defend + 1):    # defended max_defend times, then duplicate (R108)
        kernel.dad_conflict("net0", V4, "192.0.2.100", STRANGER)
    assert kernel.phyint("net0").ills[V4].ipifs[0].ipif_flags & C.IFF_DUPLICATE
    assert hooks.seen[-1] == [] and kernel.claimed("net0") == set()
    assert kernel.claimed("net9") == set()
