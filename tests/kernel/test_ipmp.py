"""IPMP in the kernel (R66-R98; ipmp.c): join/leave/rename, migration, the active
set, binding, the IPMP interface's link state, flag rules (R66-R98, R133-R135)."""
import errno

import pytest

from rtsock_emul.kernel import KernelError
from rtsock_emul.wire import constants as C

from .helpers import MAC0, MAC1, MAC2, V4, V6, up

DATA = ["192.0.2.10", "192.0.2.11", "192.0.2.12", "192.0.2.13"]


def err(fn, *a, **kw):
    with pytest.raises(KernelError) as e:
        fn(*a, **kw)
    return e.value.errno


@pytest.fixture
def k(kernel, hooks):
    kernel.plumb("ipmp0", V4, ipmp=True)
    for name, mac in (("net0", MAC0), ("net1", MAC1), ("net2", MAC2)):
        kernel.plumb(name, V4, mac=mac)
    hooks.take()
    return kernel


def join_with_test_addr(k, clock, hooks, ifname, test_addr):
    """A member with an UP test address (so it can be active)."""
    k.set_groupname(ifname, V4, "ipmp0")
    k.set_addr(ifname, V4, test_addr, 24)
    k.set_flags(ifname, V4, set=C.IFF_NOFAILOVER)
    k.set_flags(ifname, V4, set=C.IFF_UP)
    clock.advance(2)


def test_R91_R92_new_ipmp_interface(k):
    """R91/R92: IPMP|FAILED set, RUNNING clear; group name = interface name."""
    f = k.flags("ipmp0", V4)
    assert f & C.IFF_IPMP and f & C.IFF_FAILED and not f & C.IFF_RUNNING
    assert [g.name for g in k.groups()] == ["ipmp0"] and k.group_of("ipmp0") == "ipmp0"
    assert k.ill("ipmp0", V4).type == C.IFT_OTHER


def test_R66_join_refused_with_up_address(k, clock, hooks):
    """R66: an UP (or DUPLICATE) address on the interface -> EADDRINUSE."""
    up(k, clock, hooks, "net0", addr="192.0.2.1")
    assert err(k.set_groupname, "net0", V4, "ipmp0") == errno.EADDRINUSE


def test_R67_join_errors(k, clock, hooks):
    """R67: EALREADY, ENOENT, EAFNOSUPPORT, ENOTSUP (NOARP), EINVAL (logical unit)."""
    assert err(k.set_groupname, "net0", V4, "nosuch") == errno.ENOENT
    k.set_groupname("net0", V4, "ipmp0")
    k.set_groupname("net0", V4, "ipmp0")                      # same group: no effect
    k.plumb("ipmp1", V4, ipmp=True)
    assert err(k.set_groupname, "net0", V4, "ipmp1") == errno.EALREADY
    k.plumb("net1", V6, mac=MAC1)
    assert err(k.set_groupname, "net1", V4, "ipmp0") == errno.EAFNOSUPPORT
    k.set_flags("net2", V4, set=C.IFF_NOARP)
    assert err(k.set_groupname, "net2", V4, "ipmp0") == errno.ENOTSUP
    k.addif("net2", V4)
    assert err(k.set_groupname, "net2:1", V4, "ipmp0") == errno.EINVAL


def test_group_names_are_at_most_LIFGRNAMSIZ_minus_one(k, monkeypatch):
    """LIFGRNAMSIZ is 32 and the kernel NUL-terminates byte 31: a 32-character
    group name is EINVAL. The check reads the one constant (a smaller value bites)."""
    assert err(k.set_groupname, "net0", V4, "g" * C.LIFGRNAMSIZ) == errno.EINVAL
    monkeypatch.setattr(C, "LIFGRNAMSIZ", 8)
    assert err(k.set_groupname, "net0", V4, "ipmp0xyz") == errno.EINVAL


def test_R68_kernel_join_sends_nothing(k, hooks):
    """R68: the kernel join itself sends no routing messages."""
    k.set_groupname("net0", V4, "ipmp0")
    assert hooks.take() == [] and k.members("ipmp0") == ["net0"]


def test_R46_R47_sdl_of_underlying_and_ipmp(k, clock, hooks):
    """R46: an underlying ill's sdl_index is the IPMP ifindex; R47: IPMP sdl alen 6 zero bytes, IFT_OTHER when empty."""
    k.set_groupname("net0", V4, "ipmp0")
    k.set_flags("net0", V4, set=C.IFF_STANDBY)
    (m, af, rtsq), = hooks.take_msgs()
    sdl = m.sockaddrs[C.RTA_IFP]
    assert sdl.sdl_index == k.ifindex("ipmp0") and m.ifm_index == k.ifindex("net0")
    assert sdl.name == "net0" and sdl.lladdr == MAC0 and rtsq == C.RTSQ_UNDER_IPMP
    k.set_addr("ipmp0", V4, DATA[0], 24)
    m = hooks.take_msgs()[0][0]
    ipmp_sdl = m.sockaddrs[C.RTA_IFP]
    assert ipmp_sdl.lladdr == bytes(6) and ipmp_sdl.sdl_type == C.IFT_ETHER
    k.set_groupname("net0", V4, "")
    assert k.ill("ipmp0", V4).type == C.IFT_OTHER and k.ill("ipmp0", V4).phys_addr_len == 0


def test_R69_R70_join_flow_migrates_data_address(k, clock, hooks):
    """R69/R70: ifconfig's down/join/up: the data address moves to ipmp0 slot 0,
    a 0.0.0.0 stub comes up on net0 (aware only), ipmp0 goes RUNNING, and the
    data address's NEWADDR reaches all sockets after DAD."""
    up(k, clock, hooks, "net0", addr=DATA[0])
    hooks.take()
    k.set_flags("net0", V4, clear=C.IFF_UP)
    assert hooks.take() == [("IFINFO", "net0", 4, "all"), ("DELETE", DATA[0], 4, "all"),
                            ("DELADDR", f"net0 {DATA[0]}", 4, "all")]
    k.set_groupname("net0", V4, "ipmp0")
    name = k.set_flags("net0", V4, set=C.IFF_UP)
    assert name == "ipmp0"
    assert hooks.take() == [("IFINFO", "net0", 4, "aware"), ("NEWADDR", "net0 0.0.0.0", 4, "aware"),
                            ("ADD", "0.0.0.0", 4, "aware")]
    assert k.flags("ipmp0", V4) & C.IFF_RUNNING           # link-up IFINFO waits for ipif 0's notify
    clock.advance(2)
    assert hooks.take() == [("IFINFO", "ipmp0", 4, "all"), ("NEWADDR", f"ipmp0 {DATA[0]}", 4, "all"),
                            ("ADD", DATA[0], 4, "all")]
    assert hooks.probes[-1][0] == "net0" and k.binding("ipmp0", V4) == "net0"
    assert str(k.lif("net0", V4).addr) == "0.0.0.0"


def test_R70_migration_into_free_unit(k, clock, hooks):
    """R70: with ipmp0's slot 0 in use, a migrating address takes the lowest free unit."""
    up(k, clock, hooks, "ipmp0", addr=DATA[0])
    join_with_test_addr(k, clock, hooks, "net0", "192.0.2.100")
    lif = k.addif("net0", V4, DATA[1], 24)
    hooks.take()
    assert k.set_flags(lif, V4, set=C.IFF_UP) == "ipmp0:1"
    assert "net0:1" not in [l.name for l in k.lifs(V4)]
    clock.advance(2)
    assert hooks.take() == [("NEWADDR", f"ipmp0 {DATA[1]}", 4, "all"), ("ADD", DATA[1], 4, "all")]


def test_R69_test_address_stays_aware_only(k, clock, hooks):
    """R69: a NOFAILOVER test address stays on the underlying interface; its messages reach aware sockets only."""
    k.set_groupname("net0", V4, "ipmp0")
    k.set_addr("net0", V4, "192.0.2.100", 24)
    k.set_flags("net0", V4, set=C.IFF_NOFAILOVER)
    hooks.take()
    assert k.set_flags("net0", V4, set=C.IFF_UP) == "net0"
    clock.advance(2)
    assert hooks.take()[-3:] == [("IFINFO", "net0", 4, "aware"), ("NEWADDR", "net0 192.0.2.100", 4, "aware"),
                                 ("ADD", "192.0.2.100", 4, "aware")]
    assert k.flags("net0", V4) & C.IFF_DEPRECATED


def test_R71_R72_leave(k, clock, hooks):
    """R71: migrated addresses stay; R72: leave sends IFINFO(+UP) => NEWADDR => ADD to normal sockets only."""
    up(k, clock, hooks, "ipmp0", addr=DATA[0])
    join_with_test_addr(k, clock, hooks, "net0", "192.0.2.100")
    lif = k.addif("net0", V4, DATA[1], 24)
    k.set_flags(lif, V4, set=C.IFF_UP)
    clock.advance(2)
    hooks.take()
    k.set_groupname("net0", V4, "")
    msgs = hooks.take()
    # the last active member left: ipmp0's link-down IFINFO follows via its own queue
    assert msgs == [("IFINFO", "net0", 4, "normal"), ("NEWADDR", "net0 192.0.2.100", 4, "normal"),
                    ("ADD", "192.0.2.100", 4, "normal"), ("IFINFO", "ipmp0", 4, "all")]
    assert [l.name for l in k.lifs(V4) if str(l.addr) == DATA[1]] == ["ipmp0:1"]
    assert k.binding("ipmp0:1", V4) == ""


def test_R73_leave_when_not_in_group(k, hooks):
    """R73: leaving when not in a group succeeds and sends nothing."""
    k.set_groupname("net0", V4, "")
    assert hooks.take() == []


def test_R74_rename(k):
    """R74: renaming to an existing name -> EEXIST; to "" -> EINVAL."""
    k.plumb("ipmp1", V4, ipmp=True)
    assert err(k.set_groupname, "ipmp0", V4, "ipmp1") == errno.EEXIST
    assert err(k.set_groupname, "ipmp0", V4, "") == errno.EINVAL
    k.set_groupname("ipmp0", V4, "web")
    assert k.group_of("ipmp0") == "web"
    k.set_groupname("net0", V4, "web")
    assert k.members("web") == ["net0"]


def test_R85_active_rule(k, clock, hooks):
    """R85: active iff >= 1 UP address and no FAILED/INACTIVE/OFFLINE; RUNNING ignored."""
    k.set_groupname("net0", V4, "ipmp0")
    assert not k.is_active("net0", V4)                    # no UP address
    join_with_test_addr(k, clock, hooks, "net1", "192.0.2.101")
    assert k.is_active("net1", V4)
    k.link_change("net1", False)
    assert k.is_active("net1", V4)
    k.set_flags("net1", V4, set=C.IFF_OFFLINE)
    assert not k.is_active("net1", V4)


def test_R86_first_active_binds_all(k, clock, hooks):
    """R86: the first active member gets every UP data address and is the cast ill."""
    for i, lif in enumerate(["ipmp0", k.addif("ipmp0", V4)]):
        up(k, clock, hooks, lif, addr=DATA[i])
    assert k.binding("ipmp0", V4) == "" and k.binding("ipmp0:1", V4) == ""
    join_with_test_addr(k, clock, hooks, "net0", "192.0.2.100")
    assert k.binding("ipmp0", V4) == k.binding("ipmp0:1", V4) == "net0"
    assert k.cast_ill("ipmp0", V4) == "net0"
    assert sorted(a[1].compressed for a in k.realized_addresses()["net0"]) == sorted(DATA[:2] + ["192.0.2.100"])


def test_R87_rebalance_on_activation(k, clock, hooks):
    """R87: a new active member takes addresses until its count + 1 >= the busiest's."""
    join_with_test_addr(k, clock, hooks, "net0", "192.0.2.100")
    lifs = ["ipmp0"] + [k.addif("ipmp0", V4) for _ in range(3)]
    for i, lif in enumerate(lifs):
        up(k, clock, hooks, lif, addr=DATA[i])
    assert all(k.binding(l, V4) == "net0" for l in lifs)
    hooks.take()
    announces = len(hooks.announces)
    join_with_test_addr(k, clock, hooks, "net1", "192.0.2.101")
    counts = sorted(len(k.ill(n, V4).bound) for n in ("net0", "net1"))
    assert counts == [2, 2] and len(hooks.announces) - announces >= 2


def test_R88_deactivation_rebinds_silently(k, clock, hooks):
    """R88: FAILED on a member rebinds its data addresses to the least-loaded member; no
    messages about the data addresses, only the member's IFINFO to aware sockets (R93)."""
    join_with_test_addr(k, clock, hooks, "net0", "192.0.2.100")
    join_with_test_addr(k, clock, hooks, "net1", "192.0.2.101")
    for i, lif in enumerate(["ipmp0", k.addif("ipmp0", V4)]):
        up(k, clock, hooks, lif, addr=DATA[i])
    assert {k.binding("ipmp0", V4), k.binding("ipmp0:1", V4)} == {"net0", "net1"}
    hooks.take()
    k.set_flags("net0", V4, set=C.IFF_FAILED)
    assert hooks.take() == [("IFINFO", "net0", 4, "aware")]
    assert k.binding("ipmp0", V4) == k.binding("ipmp0:1", V4) == "net1"
    assert k.cast_ill("ipmp0", V4) == "net1"


def test_R89_R90_whole_group_failure_and_recovery(k, clock, hooks):
    """R89: no active member -> data addresses stay UP but unbound; R90: ipmp0 FAILED,
    not RUNNING, IFINFO to all; recovery re-runs DAD then IFINFO/NEWADDR/ADD to all."""
    join_with_test_addr(k, clock, hooks, "net0", "192.0.2.100")
    up(k, clock, hooks, "ipmp0", addr=DATA[0])
    hooks.take()
    k.set_flags("net0", V4, set=C.IFF_FAILED)
    assert hooks.take() == [("IFINFO", "net0", 4, "aware"), ("IFINFO", "ipmp0", 4, "all")]
    f = k.flags("ipmp0", V4)
    assert f & C.IFF_UP and f & C.IFF_FAILED and not f & C.IFF_RUNNING
    assert k.binding("ipmp0", V4) == ""
    k.set_flags("net0", V4, clear=C.IFF_FAILED)
    assert hooks.take() == [("IFINFO", "net0", 4, "aware")]
    clock.advance(2)
    assert hooks.take() == [("IFINFO", "ipmp0", 4, "all"), ("NEWADDR", f"ipmp0 {DATA[0]}", 4, "all"),
                            ("ADD", DATA[0], 4, "all")]
    assert k.flags("ipmp0", V4) & C.IFF_RUNNING and k.binding("ipmp0", V4) == "net0"


def test_group_recovery_renotify_off(clock, hooks):
    """group_recovery_renotify=False: recovery sends only ipmp0's IFINFO."""
    from rtsock_emul.kernel import Kernel, Tunables
    k = Kernel(clock, hooks, Tunables.fast(group_recovery_renotify=False))
    k.plumb("ipmp0", V4, ipmp=True)
    k.plumb("net0", V4, mac=MAC0)
    join_with_test_addr(k, clock, hooks, "net0", "192.0.2.100")
    up(k, clock, hooks, "ipmp0", addr=DATA[0])
    k.set_flags("net0", V4, set=C.IFF_FAILED)
    hooks.take()
    k.set_flags("net0", V4, clear=C.IFF_FAILED)
    clock.advance(2)
    assert hooks.take() == [("IFINFO", "net0", 4, "aware"), ("IFINFO", "ipmp0", 4, "all")]


def test_R93_member_flag_change_v4_and_v6_aware_only(kernel, hooks):
    """R93: FAILED/INACTIVE/OFFLINE on a member: IFINFO on its v4 and v6 ills, aware only."""
    for af in (V4, V6):
        kernel.plumb("ipmp0", af, ipmp=True)
        kernel.plumb("net0", af, mac=MAC0)
    kernel.set_groupname("net0", V4, "ipmp0")
    hooks.take()
    kernel.set_flags("net0", V6, set=C.IFF_OFFLINE)
    assert hooks.take() == [("IFINFO", "net0", 4, "aware"), ("IFINFO", "net0", 6, "aware")]


def test_R94_nofailover_forces_deprecated(k):
    """R94: NOFAILOVER sets DEPRECATED; clearing DEPRECATED on a test address -> EINVAL."""
    k.set_flags("net0", V4, set=C.IFF_NOFAILOVER)
    assert k.flags("net0", V4) & C.IFF_DEPRECATED
    assert err(k.set_flags, "net0", V4, clear=C.IFF_DEPRECATED) == errno.EINVAL


def test_R95_standby_sets_inactive(k):
    """R95: STANDBY sets INACTIVE (unless FAILED); clearing STANDBY clears INACTIVE."""
    k.set_flags("net0", V4, set=C.IFF_STANDBY)
    assert k.flags("net0", V4) & C.IFF_INACTIVE
    k.set_flags("net0", V4, clear=C.IFF_STANDBY)
    assert not k.flags("net0", V4) & (C.IFF_INACTIVE | C.IFF_STANDBY)
    k.set_flags("net1", V4, set=C.IFF_FAILED | C.IFF_STANDBY)
    assert not k.flags("net1", V4) & C.IFF_INACTIVE
    k.set_flags("net2", V4, set=C.IFF_INACTIVE)
    assert err(k.set_flags, "net2", V4, set=C.IFF_STANDBY) == errno.EINVAL


def test_R96_failed_and_inactive(k):
    """R96: FAILED and INACTIVE together -> EINVAL."""
    k.set_flags("net0", V4, set=C.IFF_INACTIVE)
    assert err(k.set_flags, "net0", V4, set=C.IFF_FAILED) == errno.EINVAL


def test_R97_ipmp_invalid_flags(k, hooks):
    """R97: STANDBY/OFFLINE/NOFAILOVER/NOARP on an IPMP interface -> EINVAL; FAILED silently ignored."""
    for flag in (C.IFF_STANDBY, C.IFF_OFFLINE, C.IFF_NOFAILOVER, C.IFF_NOARP):
        assert err(k.set_flags, "ipmp0", V4, set=flag) == errno.EINVAL
    k.set_flags("ipmp0", V4, clear=C.IFF_FAILED)
    assert k.flags("ipmp0", V4) & C.IFF_FAILED and hooks.take() == []


def test_R98_underlying_dhcp_and_nofailover(k, clock, hooks):
    """R98: on a member, DHCPRUNNING without NOFAILOVER -> EINVAL; clearing NOFAILOVER while UP -> EINVAL."""
    join_with_test_addr(k, clock, hooks, "net0", "192.0.2.100")
    lif = k.addif("net0", V4)
    assert err(k.set_flags, lif, V4, set=C.IFF_DHCPRUNNING) == errno.EINVAL
    assert err(k.set_flags, "net0", V4, clear=C.IFF_NOFAILOVER) == errno.EINVAL


def test_R133_R134_router_follows_group(k, clock, hooks):
    """R134: a joining member takes ipmp0's ROUTER; R133: ROUTER on a member changes every ill, IFINFO each."""
    k.set_flags("ipmp0", V4, set=C.IFF_ROUTER)
    k.set_groupname("net0", V4, "ipmp0")
    assert k.flags("net0", V4) & C.IFF_ROUTER
    k.set_groupname("net1", V4, "ipmp0")
    hooks.take()
    k.set_flags("net1", V4, clear=C.IFF_ROUTER)
    assert hooks.take() == [("IFINFO", "ipmp0", 4, "all"), ("IFINFO", "net0", 4, "aware"),
                            ("IFINFO", "net1", 4, "aware")]
    assert not any(k.flags(n, V4) & C.IFF_ROUTER for n in ("ipmp0", "net0", "net1"))


def test_R135_mtu_minimum(kernel):
    """R135: ipmp0's MTU is the minimum of its members', recomputed on join and leave."""
    kernel.plumb("ipmp0", V4, ipmp=True)
    kernel.plumb("net0", V4, mac=MAC0, mtu=9000)
    kernel.plumb("net1", V4, mac=MAC1, mtu=1400)
    kernel.set_groupname("net0", V4, "ipmp0")
    assert kernel.ill("ipmp0", V4).mtu == 9000
    kernel.set_groupname("net1", V4, "ipmp0")
    assert kernel.ill("ipmp0", V4).mtu == 1400
    kernel.set_groupname("net1", V4, "")
    assert kernel.ill("ipmp0", V4).mtu == 9000


def test_R77_get_on_underlying_matches_group_not_test_hidden(k, clock, hooks):
    """R77: RTM_GET with an underlying ifindex matches routes of ipmp0; test-hidden routes never."""
    join_with_test_addr(k, clock, hooks, "net0", "198.51.100.100")
    up(k, clock, hooks, "ipmp0", addr=DATA[0])
    r = k.route_get(V4, "192.0.2.77", ifindex=k.ifindex("net0"))
    assert r.ill.name == "ipmp0"
    with pytest.raises(KernelError):
        k.route_get(V4, "198.51.100.7")                   # net0's test subnet is hidden
    assert k.lookup("198.51.100.7") is None


def test_unplumb_ipmp_with_members_busy(k):
    """ifconfig ipmp0 unplumb fails while the group has members."""
    k.set_groupname("net0", V4, "ipmp0")
    assert err(k.unplumb, "ipmp0", V4) == errno.EBUSY
