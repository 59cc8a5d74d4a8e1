"""More IPMP cases: IPv6, message indexes, visibility (R39, R40, R52, R69, R72, R127)."""
import ipaddress

from rtsock_emul.wire import constants as C

from .helpers import MAC0, MAC1, V4, V6, up


def test_R69_v6_linklocal_stays_data_migrates(kernel, clock, hooks):
    """R69/R70 (IPv6): the link-local stays on net0 (aware only); a global data address moves to ipmp0."""
    kernel.plumb("ipmp0", V6, ipmp=True)
    kernel.plumb("net0", V6, mac=MAC0)
    kernel.set_groupname("net0", V6, "ipmp0")
    hooks.take()
    assert kernel.set_flags("net0", V6, set=C.IFF_UP) == "net0"
    clock.advance(1)
    # net0 is active as soon as its link-local is UP: ipmp0's IFINFO first, net0's after DAD
    assert hooks.take() == [("IFINFO", "ipmp0", 6, "all"), ("IFINFO", "net0", 6, "aware"),
                            ("NEWADDR", "net0 fe80::ff:fe00:a00", 6, "aware"),
                            ("ADD", "fe80::ff:fe00:a00", 6, "aware")]
    lif = kernel.addif("net0", V6, "2001:db8::10", 64)
    hooks.take()
    assert kernel.set_flags(lif, V6, set=C.IFF_UP) == "ipmp0"
    clock.advance(1)
    assert hooks.take() == [("IFINFO", "ipmp0", 6, "all"), ("NEWADDR", "ipmp0 2001:db8::10", 6, "all"),
                            ("ADD", "2001:db8::10", 6, "all")]
    assert sorted(kernel.realized_addresses()["net0"]) == [
        (V6, ipaddress.IPv6Address("2001:db8::10"), 64, "data"),
        (V6, ipaddress.IPv6Address("fe80::ff:fe00:a00"), 10, "normal")]


def test_R52_index_of_data_and_test_addresses(kernel, clock, hooks):
    """R52: ifam_index is ipmp0's for a data address, the member's for a test address."""
    kernel.plumb("ipmp0", V4, ipmp=True, ifindex=10)
    kernel.plumb("net0", V4, mac=MAC0, ifindex=2)
    kernel.set_groupname("net0", V4, "ipmp0")
    kernel.set_addr("net0", V4, "192.0.2.100", 24)
    kernel.set_flags("net0", V4, set=C.IFF_NOFAILOVER | C.IFF_UP)
    clock.advance(1)
    newaddr = [m for m, *_ in hooks.take_msgs() if getattr(m, "ifam_type", 0) == C.RTM_NEWADDR]
    assert [m.ifam_index for m in newaddr] == [2]
    assert newaddr[0].sockaddrs[C.RTA_IFP].sdl_index == 10           # R46
    up(kernel, clock, hooks, "ipmp0", addr="192.0.2.10")
    newaddr = [m for m, *_ in hooks.take_msgs() if getattr(m, "ifam_type", 0) == C.RTM_NEWADDR]
    assert [m.ifam_index for m in newaddr] == [10]


def test_R72_leave_ifinfo_forces_up(kernel, clock, hooks):
    """R72: the leave IFINFO has IFF_UP forced on even when ipif 0 is down."""
    kernel.plumb("ipmp0", V4, ipmp=True)
    kernel.plumb("net0", V4, mac=MAC0)
    kernel.set_groupname("net0", V4, "ipmp0")
    lif = kernel.addif("net0", V4, "192.0.2.100", 24)
    kernel.set_flags(lif, V4, set=C.IFF_NOFAILOVER | C.IFF_UP)
    clock.advance(1)
    hooks.take()
    kernel.set_groupname("net0", V4, "")
    msgs = hooks.take_msgs()
    assert msgs[0][0].ifm_type == C.RTM_IFINFO and msgs[0][0].ifm_flags & C.IFF_UP
    assert msgs[0][2] == C.RTSQ_NORMAL
    assert not kernel.flags("net0", V4) & C.IFF_UP


def test_R127_lifs_hide_underlying(kernel):
    """R127: underlying interfaces are listed only with LIFC_UNDER_IPMP."""
    kernel.plumb("ipmp0", V4, ipmp=True)
    kernel.plumb("net0", V4, mac=MAC0)
    kernel.plumb("net1", V4, mac=MAC1)
    kernel.set_groupname("net0", V4, "ipmp0")
    assert [l.name for l in kernel.lifs(V4, under_ipmp=False)] == ["ipmp0", "net1"]
    assert [l.name for l in kernel.lifs(V4)] == ["ipmp0", "net0", "net1"]


def test_unplumb_member_leaves_group(kernel, clock, hooks):
    """Unplumbing a member's last family removes it from the group; ipmp0 goes back to IFT_OTHER."""
    kernel.plumb("ipmp0", V4, ipmp=True)
    kernel.plumb("net0", V4, mac=MAC0)
    kernel.set_groupname("net0", V4, "ipmp0")
    kernel.unplumb("net0", V4)
    assert kernel.members("ipmp0") == [] and kernel.ill("ipmp0", V4).type == C.IFT_OTHER
