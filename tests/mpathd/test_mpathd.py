"""in.mpathd rules R110-R122, R131 with a ManualClock, a fake kernel and a fake prober."""
import ipaddress

import pytest

from rtsock_emul.mpathd import MpathdConfig, MpathdError, PgState, PiState
from rtsock_emul.wire.constants import (
    AF_INET,
    AF_INET6,
    IFF_FAILED,
    IFF_INACTIVE,
    IFF_NOFAILOVER,
    IFF_NOXMIT,
    IFF_OFFLINE,
    IFF_UP,
)

from .fakes import make

ROUTER = ipaddress.ip_address("192.0.2.1")


def group_of(kernel, *members, standby=()):
    kernel.add_if("ipmp0", group="ipmp0", ipmp=True)
    for m in members:
        kernel.add_if(m, group="ipmp0", standby=m in standby)


def probed_pair(config=None, quiet=0):
    """net0/net1 in ipmp0 with v4 test addresses and a router target."""
    ctx, k, prober, md, clock = make({"failure_detection_time": 7000, "quiet_period": quiet,
                                      **(config or {})})
    group_of(k, "net0", "net1")
    k.add_test("net0", AF_INET, "192.0.2.10")
    k.add_test("net1", AF_INET, "192.0.2.11")
    k.add_route("0.0.0.0", 0, "192.0.2.1")
    for n in ("net0", "net1"):
        prober.answer(n, AF_INET, {ROUTER})
    md.start()
    return ctx, k, prober, md, clock


def test_R110_fdt_default_min_and_invalid():
    """R110: default FDT 10000 ms; minimum 100; invalid (<=0, unparsable) -> 10000."""
    assert MpathdConfig.from_mapping({}).failure_detection_time == 10000
    assert MpathdConfig.from_mapping({"failure_detection_time": 50}).failure_detection_time == 100
    assert MpathdConfig.from_mapping({"failure_detection_time": 0}).failure_detection_time == 10000
    assert MpathdConfig.from_mapping({"failure_detection_time": "x"}).failure_detection_time == 10000
    assert MpathdConfig.from_mapping({"failback": "maybe"}).failback is True
    assert MpathdConfig.from_mapping({"failback": "NO"}).failback is False
    assert MpathdConfig.from_mapping({}).quiet_period == 40000


def test_R111_probe_interval_and_randomised_send_times():
    """R111: interval = FDT/7; each probe at a random 50-100% point of its period."""
    assert MpathdConfig.from_mapping({}).probe_interval == pytest.approx(1.428)
    ctx, k, prober, md, clock = probed_pair()
    interval = md.config.probe_interval
    assert interval == pytest.approx(1.0)
    times = []
    for _ in range(200):
        before = len(prober.sent)
        clock.advance(0.01)
        if len(prober.sent) > before and prober.sent[-1][1] == "net0":
            times.append(clock.now())
    offsets = [t - int(t) if t - int(t) > 1e-9 else 1.0 for t in times]
    assert len(times) == 2 and all(0.49 <= o <= 1.0 + 1e-9 for o in offsets)
    for _ in range(2000):
        clock.advance(0.01)
    sends = [s for s in prober.sent if s[1] == "net0"]
    assert 20 <= len(sends) <= 23      # one per 1 s period


def test_R112_five_lost_probes_fail_at_about_fdt():
    """R112: failure after 5 consecutive lost probes, at about FDT."""
    ctx, k, prober, md, clock = probed_pair()
    clock.advance(20)
    assert not k.flags_of("net0") & IFF_FAILED
    prober.answer("net0", AF_INET, set())          # 100% loss from t=20
    t0 = clock.now()
    while not k.flags_of("net0") & IFF_FAILED:
        clock.advance(0.05)
        assert clock.now() - t0 < 10
    assert 4.5 <= clock.now() - t0 <= 7.5          # FDT = 7 s
    assert md.phyints["net0"].state == PiState.PI_FAILED
    assert not k.flags_of("net1") & IFF_FAILED


def test_R112_failure_needs_every_probing_family():
    """R112: lost v4 probes alone do not fail an interface whose v6 probes succeed."""
    ctx, k, prober, md, clock = make({"failure_detection_time": 7000, "quiet_period": 0})
    k.add_if("ipmp0", group="ipmp0", ipmp=True, afs=(AF_INET, AF_INET6))
    k.add_if("net0", group="ipmp0", afs=(AF_INET, AF_INET6))
    k.add_if("net1", group="ipmp0", afs=(AF_INET, AF_INET6))
    k.add_test("net0", AF_INET, "192.0.2.10")
    k.add_route("0.0.0.0", 0, "192.0.2.1")
    k.add_test("net0", AF_INET6, "fe80::10", plen=10, unit=2)
    k.add_route("::", 0, "fe80::1", af=AF_INET6)
    prober.answer("net0", AF_INET6, {ipaddress.ip_address("fe80::1")})
    md.start()
    clock.advance(30)
    assert not k.flags_of("net0") & IFF_FAILED
    prober.answer("net0", AF_INET6, set())
    clock.advance(10)
    assert k.flags_of("net0") & IFF_FAILED


def test_R113_ten_good_probes_repair():
    """R113: repair after 10 consecutive successful probes (~1.43 FDT)."""
    ctx, k, prober, md, clock = probed_pair()
    prober.answer("net0", AF_INET, set())
    clock.advance(10)
    assert k.flags_of("net0") & IFF_FAILED
    prober.answer("net0", AF_INET, {ROUTER})
    t0 = clock.now()
    while k.flags_of("net0") & IFF_FAILED:
        clock.advance(0.05)
        assert clock.now() - t0 < 15
    assert 8.5 <= clock.now() - t0 <= 11.0
    assert md.phyints["net0"].state == PiState.PI_RUNNING


def test_R114_link_down_fails_and_link_up_repairs_without_probes():
    """R114: link-based detection is event driven: down fails at once, up repairs."""
    ctx, k, prober, md, clock = make()
    group_of(k, "net0", "net1")
    md.start()
    k.link("net0", False)
    assert k.flags_of("net0") & IFF_FAILED          # no clock advance needed
    k.link("net0", True)
    assert not k.flags_of("net0") & IFF_FAILED
    assert clock.pending() == 0                     # nothing polls


def test_R114_link_flapping_defers_repair():
    """R114: more than 2 link-ups in 60 s -> repair deferred until it stabilizes."""
    ctx, k, prober, md, clock = make()
    group_of(k, "net0", "net1")
    md.start()
    for _ in range(2):
        k.link("net0", False)
        clock.advance(1)
        k.link("net0", True)
        clock.advance(1)
        assert not k.flags_of("net0") & IFF_FAILED
    k.link("net0", False)
    clock.advance(1)
    k.link("net0", True)                             # third up within a minute
    assert k.flags_of("net0") & IFF_FAILED
    clock.advance(50)
    assert k.flags_of("net0") & IFF_FAILED
    clock.advance(10)                                # first up leaves the window
    assert not k.flags_of("net0") & IFF_FAILED


def test_R115_test_address_selection():
    """R115: NOFAILOVER|UP, not NOXMIT, not 0.0.0.0; IPv6 only link-local."""
    ctx, k, prober, md, clock = make()
    k.add_if("ipmp0", group="ipmp0", ipmp=True, afs=(AF_INET, AF_INET6))
    k.add_if("net0", group="ipmp0", afs=(AF_INET, AF_INET6))
    k.add_test("net0", AF_INET, "192.0.2.9", flags=IFF_UP | IFF_NOFAILOVER | IFF_NOXMIT)
    k.add_test("net0", AF_INET, "192.0.2.8", unit=2, flags=IFF_NOFAILOVER)   # down
    k.add_test("net0", AF_INET6, "2001:db8::5", plen=64, unit=3)
    md.start()
    insts = md.phyints["net0"].insts
    assert insts[AF_INET].test_addr is None and insts[AF_INET6].test_addr is None
    k.add_test("net0", AF_INET, "192.0.2.10", unit=4)
    k.add_test("net0", AF_INET6, "fe80::10", plen=10, unit=5)
    md.sync()
    assert insts[AF_INET].test_addr == ipaddress.ip_address("192.0.2.10")
    assert insts[AF_INET6].test_addr == ipaddress.ip_address("fe80::10")


def test_R116_router_targets_then_multicast_hosts():
    """R116: routers on the test subnet are targets; else up to 5 multicast responders;
    a router replaces host targets."""
    ctx, k, prober, md, clock = make({"quiet_period": 0})
    group_of(k, "net0")
    k.add_test("net0", AF_INET, "192.0.2.10")
    hosts = [ipaddress.ip_address(f"192.0.2.{i}") for i in range(20, 27)]
    prober.multicast[("net0", AF_INET)] = hosts
    prober.answer("net0", AF_INET, set(hosts) | {ROUTER})
    md.start()
    clock.advance(3)
    inst = md.phyints["net0"].insts[AF_INET]
    assert [t.addr for t in inst.targets] == hosts[:5] and inst.mode == "multicast"
    k.add_route("198.51.100.0", 24, "192.0.2.1")
    k.add_route("203.0.113.0", 24, "10.9.9.9")          # not on the test subnet
    md.sync()
    assert [t.addr for t in inst.targets] == [ROUTER] and inst.mode == "routes"


def test_R117_failure_activates_a_standby():
    """R117: failure sets FAILED, clears INACTIVE, activates an INACTIVE standby."""
    ctx, k, prober, md, clock = make()
    group_of(k, "net0", "net1", standby=("net1",))
    md.start()
    assert k.flags_of("net1") & IFF_INACTIVE
    k.link("net0", False)
    assert k.flags_of("net0") & IFF_FAILED and not k.flags_of("net0") & IFF_INACTIVE
    assert not k.flags_of("net1") & IFF_INACTIVE


def test_R118_failback_no_keeps_repaired_member_inactive():
    """R118: FAILBACK=no: a repaired non-standby member is set INACTIVE."""
    ctx, k, prober, md, clock = make({"failback": "no"})
    group_of(k, "net0", "net1")
    md.start()
    k.link("net0", False)
    k.link("net0", True)
    assert not k.flags_of("net0") & IFF_FAILED and k.flags_of("net0") & IFF_INACTIVE


def test_R118_failback_no_but_group_failed_activates():
    """R118: unless the group had failed."""
    ctx, k, prober, md, clock = make({"failback": "no"})
    group_of(k, "net0")
    md.start()
    k.link("net0", False)
    assert md.group_state["ipmp0"] == PgState.PG_FAILED
    k.link("net0", True)
    assert not k.flags_of("net0") & (IFF_FAILED | IFF_INACTIVE)


def test_R119_standby_goes_back_to_inactive_on_repair():
    """R119: a functioning standby is INACTIVE while active >= non-standby members."""
    ctx, k, prober, md, clock = make()
    group_of(k, "net0", "net1", standby=("net1",))
    md.start()
    k.link("net0", False)
    assert not k.flags_of("net1") & IFF_INACTIVE
    k.link("net0", True)
    assert not k.flags_of("net0") & IFF_INACTIVE
    assert k.flags_of("net1") & IFF_INACTIVE


def test_R120_group_state_ok_degraded_failed():
    """R120: ok if all usable, degraded if some, failed if none (usable needs an UP address)."""
    ctx, k, prober, md, clock = make()
    group_of(k, "net0", "net1")
    md.start()
    assert md.group_state["ipmp0"] == PgState.PG_OK
    k.link("net0", False)
    assert md.group_state["ipmp0"] == PgState.PG_DEGRADED
    k.link("net1", False)
    assert md.group_state["ipmp0"] == PgState.PG_FAILED
    k.link("net1", True)
    for lif in k.lif_list:
        if lif.name == "net1":
            lif.ipif_flags &= ~IFF_UP
    md.sync()
    assert md.group_state["ipmp0"] == PgState.PG_FAILED


def test_R121_offline_needs_another_usable_member():
    """R121: offline refused without another usable member unless the group failed."""
    ctx, k, prober, md, clock = make()
    group_of(k, "net0", "net1")
    md.start()
    k.link("net1", False)
    with pytest.raises(MpathdError) as err:
        md.offline("net0")
    assert "no other functioning interfaces" in str(err.value)
    k.link("net1", True)
    md.offline("net0")
    assert k.flags_of("net0") & IFF_OFFLINE and not k.flags_of("net0") & IFF_INACTIVE
    assert md.phyints["net0"].state == PiState.PI_OFFLINE
    with pytest.raises(MpathdError):
        md.offline("lo0")


def test_R121_offline_allowed_when_group_failed():
    ctx, k, prober, md, clock = make()
    group_of(k, "net0", "net1")
    md.start()
    k.link("net0", False)
    k.link("net1", False)
    md.offline("net0")
    assert k.flags_of("net0") & IFF_OFFLINE


def test_R122_undo_offline():
    """R122: undo fails unless OFFLINE; clears OFFLINE and transitions to running."""
    ctx, k, prober, md, clock = make()
    group_of(k, "net0", "net1")
    md.start()
    with pytest.raises(MpathdError):
        md.undo_offline("net0")
    md.offline("net0")
    md.undo_offline("net0")
    assert not k.flags_of("net0") & (IFF_OFFLINE | IFF_INACTIVE | IFF_FAILED)
    assert md.phyints["net0"].state == PiState.PI_RUNNING


def test_R131_quiet_period_ignores_losses():
    """R131: lost probes are ignored for 40 s after the instance appears."""
    ctx, k, prober, md, clock = make({"failure_detection_time": 7000})
    group_of(k, "net0", "net1")
    k.add_test("net0", AF_INET, "192.0.2.10")
    k.add_route("0.0.0.0", 0, "192.0.2.1")
    md.start()                                       # nobody answers
    clock.advance(39)
    assert not k.flags_of("net0") & IFF_FAILED
    clock.advance(8)
    assert k.flags_of("net0") & IFF_FAILED


def test_R131_first_ack_ends_quiet_period():
    """R131: the first acknowledged probe ends the quiet period early."""
    ctx, k, prober, md, clock = make({"failure_detection_time": 7000})
    group_of(k, "net0", "net1")
    k.add_test("net0", AF_INET, "192.0.2.10")
    k.add_route("0.0.0.0", 0, "192.0.2.1")
    prober.answer("net0", AF_INET, {ROUTER})
    md.start()
    clock.advance(3)
    prober.answer("net0", AF_INET, set())
    clock.advance(8)
    assert k.flags_of("net0") & IFF_FAILED


def test_stop_removes_subscribers_and_timers():
    ctx, k, prober, md, clock = probed_pair()
    assert len(ctx.hub.internal) == 2
    md.stop()
    assert ctx.hub.internal == [] and clock.pending() <= 2   # only loss checks in flight


def test_a_probe_socket_is_closed_when_its_test_address_or_member_goes():
    """Each test address probes from its own socket (bound to it); once the address is gone,
    or its interface left the group, the platform is told to close it (a long soak found
    one raw socket left per join/leave)."""
    ctx, k, prober, md, clock = probed_pair()
    clock.advance(5)
    src0, src1 = ipaddress.ip_address("192.0.2.10"), ipaddress.ip_address("192.0.2.11")
    assert prober.sources == {("net0", AF_INET, src0), ("net1", AF_INET, src1)}
    k.lif_list = [lif for lif in k.lif_list if lif.name != "net0:1"]     # test address deleted
    md.refresh()
    assert prober.sources == {("net1", AF_INET, src1)}
    k.phys["net1"].group = ""                                              # net1 leaves the group
    md.refresh()
    assert prober.sources == set()
