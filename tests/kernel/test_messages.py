"""Kernel-generated message formats and configuration sequences (R43-R54, R55-R64)."""
import errno
import ipaddress

import pytest

from rtsock_emul.kernel import KernelError
from rtsock_emul.wire import constants as C
from rtsock_emul.wire.messages import encode

from .helpers import MAC0, MAC1, V4, V6, up


@pytest.fixture
def net0(kernel, hooks):
    kernel.plumb("net0", V4, mac=MAC0)
    hooks.take()
    return kernel


def test_plumb_flags_and_ifindex(kernel):
    """IPv4 plumb: IFF_IPV4|BROADCAST|MULTICAST|RUNNING; ifindex from 1 upward or given."""
    kernel.plumb("net0", V4, mac=MAC0)
    kernel.plumb("net1", V4, mac=MAC1, ifindex=7)
    kernel.plumb("net2", V4, mac=MAC1, running=False)
    assert kernel.flags("net0", V4) == C.IFF_IPV4 | C.IFF_BROADCAST | C.IFF_MULTICAST | C.IFF_RUNNING
    assert not kernel.flags("net2", V4) & C.IFF_RUNNING
    assert [kernel.ifindex(n) for n in ("net0", "net1", "net2")] == [1, 7, 2]
    with pytest.raises(KernelError) as e:
        kernel.plumb("net0", V4)
    assert e.value.errno == errno.EEXIST


def test_E3_v6_plumb_linklocal_chgaddr(kernel, hooks):
    """E3 note: plumbing IPv6 generates the EUI-64 link-local with RTM_CHGADDR."""
    kernel.plumb("net0", V6, mac=MAC0)
    assert hooks.take() == [("CHGADDR", "net0 fe80::ff:fe00:a00", 6, "all")]
    lif = kernel.lif("net0", V6)
    assert lif.prefixlen == 10 and kernel.flags("net0", V6) & C.IFF_IPV6


def test_R43_R44_R45_ifinfo_format(net0, clock, hooks):
    """R43-R45: IFINFO only for ipif 0; addrs IFP, 336 bytes, if_data type/mtu/metric, low 32 bits."""
    up(net0, clock, hooks, "net0", addr="192.0.2.1")
    hooks.take()
    net0.set_flags("net0", V4, set=C.IFF_OFFLINE)          # phyint flag: IFINFO (E6)
    (msg, af, rtsq), = hooks.take_msgs()
    assert msg.ifm_type == C.RTM_IFINFO and list(msg.sockaddrs) == [C.RTA_IFP]
    assert len(encode(msg)) == 336
    assert msg.ifm_index == 1 and msg.ifm_data.ifi_type == C.IFT_ETHER and msg.ifm_data.ifi_mtu == 1500
    assert msg.ifm_flags == (net0.flags("net0", V4) & 0xFFFFFFFF)
    assert msg.ifm_flags & C.IFF_OFFLINE
    lif = net0.addif("net0", V4, "192.0.2.9", 24)
    hooks.take()
    up(net0, clock, hooks, lif)
    assert [t for t, *_ in hooks.take()] == ["NEWADDR", "ADD"]   # no IFINFO for net0:1


def test_R45_high_flags_not_visible(kernel, clock, hooks):
    """R45: IFF_DUPLICATE/IFF_IPMP (>= 2^32) never appear in ifm_flags."""
    kernel.plumb("ipmp0", V4, ipmp=True)
    kernel.set_addr("ipmp0", V4, "192.0.2.50", 24)
    kernel.set_flags("ipmp0", V4, set=C.IFF_UP)
    msg = next(m for m, *_ in hooks.take_msgs() if getattr(m, "ifm_type", 0) == C.RTM_IFINFO)
    assert kernel.flags("ipmp0", V4) & C.IFF_IPMP
    assert msg.ifm_flags == kernel.flags("ipmp0", V4) & 0xFFFFFFFF


def test_R48_R49_R50_R51_address_message_format(net0, clock, hooks):
    """R48-R51: 0xB4 NETMASK,IFP,IFA,BRD; 320/368 bytes; flags RTF_UP only on NEWADDR; BRD = p-p dst (0)."""
    up(net0, clock, hooks, "net0", addr="192.0.2.1")
    newaddr = next(m for m, *_ in hooks.take_msgs() if getattr(m, "ifam_type", 0) == C.RTM_NEWADDR)
    assert list(newaddr.sockaddrs) == [C.RTA_NETMASK, C.RTA_IFP, C.RTA_IFA, C.RTA_BRD]
    assert len(encode(newaddr)) == 320 and newaddr.ifam_flags == C.RTF_UP
    assert str(newaddr.sockaddrs[C.RTA_NETMASK].addr) == "255.255.255.0"
    assert str(newaddr.sockaddrs[C.RTA_BRD].addr) == "0.0.0.0"
    assert newaddr.sockaddrs[C.RTA_IFP].lladdr == MAC0
    net0.set_flags("net0", V4, clear=C.IFF_UP)
    deladdr = next(m for m, *_ in hooks.take_msgs() if getattr(m, "ifam_type", 0) == C.RTM_DELADDR)
    assert deladdr.ifam_flags == 0
    net0.plumb("net0", V6, mac=MAC0)
    chg, = hooks.take_msgs()
    assert len(encode(chg[0])) == 368


def test_R53_chgaddr_freeaddr_not_for_unspecified(net0, hooks):
    """R53: CHGADDR/FREEADDR are suppressed for 0.0.0.0; DELETE/DELADDR are not."""
    lif = net0.addif("net0", V4)
    net0.set_addr(lif, V4, "0.0.0.0", 24)
    assert hooks.take() == []
    net0.removeif(lif, V4)
    assert [t for t, *_ in hooks.take()] == ["DELETE", "DELADDR"]


def test_R54_R55_address_route_messages(net0, clock, hooks):
    """R54/R55: NEWADDR=>ADD (DST = local address, RTF_UP|RTF_DONE, 108 bytes); DELETE=>DELADDR."""
    up(net0, clock, hooks, "net0", addr="192.0.2.1")
    msgs = hooks.take_msgs()
    add = msgs[2][0]
    assert [m[0].__class__.__name__ for m in msgs] == ["IfMsghdr", "IfaMsghdr", "RtMsghdr"]
    assert add.rtm_type == C.RTM_ADD and add.rtm_flags == C.RTF_UP | C.RTF_DONE
    assert str(add.sockaddrs[C.RTA_DST].addr) == "192.0.2.1" and add.rtm_index == 1
    assert list(add.sockaddrs) == [C.RTA_DST, C.RTA_NETMASK] and len(encode(add)) == 108
    assert add.rtm_pid == add.rtm_seq == 0
    net0.set_flags("net0", V4, clear=C.IFF_UP)
    msgs = hooks.take_msgs()
    assert msgs[1][0].rtm_type == C.RTM_DELETE and msgs[1][0].rtm_flags == C.RTF_DONE


def test_R56_address_up_after_dad(net0, clock, hooks):
    """R56/E1: IFINFO => NEWADDR => ADD, only after DAD completes."""
    net0.set_addr("net0", V4, "192.0.2.1", 24)
    hooks.take()
    net0.set_flags("net0", V4, set=C.IFF_UP)
    assert hooks.take() == []
    clock.advance(2)
    assert hooks.take() == [("IFINFO", "net0", 4, "all"), ("NEWADDR", "net0 192.0.2.1", 4, "all"),
                            ("ADD", "192.0.2.1", 4, "all")]
    assert len(hooks.probes) == 3


def test_R56a_reup_prefix_switch(clock, hooks):
    """R56a (code-derived, off by default): SIOCSLIFFLAGS +UP first sends the down sequence."""
    from rtsock_emul.kernel import Kernel, Tunables
    k = Kernel(clock, hooks, Tunables.fast(r56a_reup_prefix=True))
    k.plumb("net0", V4, mac=MAC0)
    k.set_addr("net0", V4, "192.0.2.1", 24)
    hooks.take()
    k.set_flags("net0", V4, set=C.IFF_UP)
    assert hooks.take() == [("IFINFO", "net0", 4, "all"), ("DELETE", "192.0.2.1", 4, "all"),
                            ("DELADDR", "net0 192.0.2.1", 4, "all")]
    clock.advance(2)
    assert [t for t, *_ in hooks.take()] == ["IFINFO", "NEWADDR", "ADD"]


def test_R57_address_down_sequence(net0, clock, hooks):
    """R57/E2: IFINFO (UP clear) => DELETE => DELADDR."""
    up(net0, clock, hooks, "net0", addr="192.0.2.1")
    hooks.take()
    net0.set_flags("net0", V4, clear=C.IFF_UP)
    msgs = hooks.take_msgs()
    assert not msgs[0][0].ifm_flags & C.IFF_UP
    assert [(m.__class__.__name__) for m, *_ in msgs] == ["IfMsghdr", "RtMsghdr", "IfaMsghdr"]


def test_R58_address_change(net0, clock, hooks):
    """R58/E3: UP: down(old) => CHGADDR(new) => up(new) after DAD; down: CHGADDR only."""
    up(net0, clock, hooks, "net0", addr="192.0.2.1")
    hooks.take()
    net0.set_addr("net0", V4, "192.0.2.2", 24)
    assert hooks.take() == [("IFINFO", "net0", 4, "all"), ("DELETE", "192.0.2.1", 4, "all"),
                            ("DELADDR", "net0 192.0.2.1", 4, "all"), ("CHGADDR", "net0 192.0.2.2", 4, "all")]
    clock.advance(2)
    assert hooks.take() == [("IFINFO", "net0", 4, "all"), ("NEWADDR", "net0 192.0.2.2", 4, "all"),
                            ("ADD", "192.0.2.2", 4, "all")]
    net0.set_flags("net0", V4, clear=C.IFF_UP)
    hooks.take()
    net0.set_addr("net0", V4, "192.0.2.3", 24)
    assert hooks.take() == [("CHGADDR", "net0 192.0.2.3", 4, "all")]


def test_R59_removeif(net0, clock, hooks):
    """R59/E4: DELETE => DELADDR (even if down) => FREEADDR; unit 0 -> EBUSY."""
    lif = net0.addif("net0", V4, "192.0.2.7", 24)
    assert lif == "net0:1"
    assert hooks.take() == [("CHGADDR", "net0 192.0.2.7", 4, "all")]
    net0.removeif(lif, V4)
    assert hooks.take() == [("DELETE", "192.0.2.7", 4, "all"), ("DELADDR", "net0 192.0.2.7", 4, "all"),
                            ("FREEADDR", "net0 192.0.2.7", 4, "all")]
    with pytest.raises(KernelError) as e:
        net0.removeif("net0", V4)
    assert e.value.errno == 16  # EBUSY


def test_E5_unplumb(net0, clock, hooks):
    """E5: for each ipif the down messages (IFINFO for ipif 0), then FREEADDR each."""
    up(net0, clock, hooks, "net0", addr="192.0.2.1")
    net0.addif("net0", V4, "192.0.2.7", 24)
    hooks.take()
    net0.unplumb("net0", V4)
    assert hooks.take() == [
        ("IFINFO", "net0", 4, "all"), ("DELETE", "192.0.2.1", 4, "all"), ("DELADDR", "net0 192.0.2.1", 4, "all"),
        ("DELETE", "192.0.2.7", 4, "all"), ("DELADDR", "net0 192.0.2.7", 4, "all"),
        ("FREEADDR", "net0 192.0.2.1", 4, "all"), ("FREEADDR", "net0 192.0.2.7", 4, "all")]
    with pytest.raises(KernelError):
        net0.phyint("net0")


def test_R60_phyint_flag_ifinfo_both_families(net0, clock, hooks):
    """R60/E6: a phyint flag change sends IFINFO on v4 and v6, even on a down address."""
    net0.plumb("net0", V6, mac=MAC0)
    hooks.take()
    net0.set_flags("net0", V4, set=C.IFF_STANDBY)
    assert hooks.take() == [("IFINFO", "net0", 4, "all"), ("IFINFO", "net0", 6, "all")]
    assert net0.flags("net0", V6) & C.IFF_INACTIVE


def test_R61_down_address_ipif_flag_no_message(net0, hooks):
    """R61: an ipif/ill flag change on a down address sends nothing."""
    net0.set_flags("net0", V4, set=C.IFF_DEPRECATED | C.IFF_DEBUG)
    assert hooks.take() == []
    assert net0.flags("net0", V4) & C.IFF_DEPRECATED


def test_R62_down_up_flags(net0, clock, hooks):
    """R62/E7: DEPRECATED on an UP address: down sequence then up sequence."""
    up(net0, clock, hooks, "net0", addr="192.0.2.1")
    hooks.take()
    net0.set_flags("net0", V4, set=C.IFF_DEPRECATED)
    clock.advance(2)
    assert [t for t, *_ in hooks.take()] == ["IFINFO", "DELETE", "DELADDR", "IFINFO", "NEWADDR", "ADD"]


def test_E6_ill_flag_on_up_ipif0(net0, clock, hooks):
    """E6: an ill flag change on an UP ipif 0 without down/up sends one IFINFO."""
    up(net0, clock, hooks, "net0", addr="192.0.2.1")
    hooks.take()
    net0.set_flags("net0", V4, set=C.IFF_DEBUG)
    assert hooks.take() == [("IFINFO", "net0", 4, "all")]


def test_R63_link_down(net0, clock, hooks):
    """R63/E8: RUNNING cleared, one IFINFO per ill."""
    net0.plumb("net0", V6, mac=MAC0)
    hooks.take()
    net0.link_change("net0", False)
    msgs = hooks.take_msgs()
    assert [(m.ifm_type, af) for m, af, _ in msgs] == [(C.RTM_IFINFO, V4), (C.RTM_IFINFO, V6)]
    assert not msgs[0][0].ifm_flags & C.IFF_RUNNING
    net0.link_change("net0", False)
    assert hooks.take() == []


def test_R64_link_up(net0, clock, hooks):
    """R64/E9: RUNNING set; UP addresses re-run DAD then IFINFO/NEWADDR/ADD; a down ipif 0 -> IFINFO at once."""
    lif = net0.addif("net0", V4, "192.0.2.7", 24)
    up(net0, clock, hooks, lif)
    net0.link_change("net0", False)
    hooks.take()
    assert net0.realized_addresses() == {"net0": []}
    net0.link_change("net0", True)
    assert hooks.take() == [("IFINFO", "net0", 4, "all")]
    clock.advance(2)
    assert hooks.take() == [("NEWADDR", "net0 192.0.2.7", 4, "all"), ("ADD", "192.0.2.7", 4, "all")]


def test_E10_ifindex_change(net0, hooks):
    """E10: an interface index change sends IFINFO on both ills."""
    net0.plumb("net0", V6, mac=MAC0)
    hooks.take()
    net0.set_ifindex("net0", 9)
    msgs = hooks.take_msgs()
    assert [(m.ifm_index, af) for m, af, _ in msgs] == [(9, V4), (9, V6)]


def test_E11_router_flag(net0, hooks):
    """E11: IFF_ROUTER change sends RTM_IFINFO for the ill."""
    net0.set_flags("net0", V4, set=C.IFF_ROUTER)
    assert hooks.take() == [("IFINFO", "net0", 4, "all")]
    assert net0.flags("net0", V4) & C.IFF_ROUTER


def test_changed_hook_follows_realized_state(net0, clock, hooks):
    """hooks.changed() fires when realized addresses change, and addresses appear only after DAD."""
    net0.set_addr("net0", V4, "192.0.2.1", 24)
    before = hooks.changes
    net0.set_flags("net0", V4, set=C.IFF_UP)
    assert net0.realized_addresses() == {"net0": []} and net0.tentative("net0", V4)
    clock.advance(2)
    assert hooks.changes > before
    assert net0.realized_addresses() == {"net0": [(V4, ipaddress.IPv4Address("192.0.2.1"), 24, "normal")]}
