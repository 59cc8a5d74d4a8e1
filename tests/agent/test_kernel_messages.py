"""Kernel-generated messages through real client sockets (R43-R54, R55-R64; R37-R40,
R43-R59, R75-R77, R82-R84). The agent runs in this process so the test can drive
its kernel (on the agent's loop) while reading from real routing sockets."""
import errno
import ipaddress
import os

import pytest

from rtsock_emul.util.wait import wait_until
from rtsock_emul.wire import RtMsg, SockaddrDl, decode
from rtsock_emul.wire import constants as C

from .agents import InprocAgent, drain
from .helpers import add, expect_errno, next_seq

V4, V6 = C.AF_INET, C.AF_INET6
CONFIG = {
    "mpathd": False,
    "privileged_uids": sorted({0, os.geteuid()}),
    "interfaces": [
        {"name": "net0", "mac": "02:00:00:00:00:01", "addresses": ["192.0.2.10/24", "2001:db8:1::10/64"]},
        {"name": "net1", "mac": "02:00:00:00:00:02", "ip": True},   # plumbed at boot, no address
        {"name": "net2", "mac": "02:00:00:00:00:03", "ip": True},
        {"name": "net3", "mac": "02:00:00:00:00:04", "addresses": ["198.18.0.10/24"]},
    ],
}


def settled(k):
    return all(i.ready for i in k.lifs() if i.up)


@pytest.fixture(scope="module")
def ag():
    a = InprocAgent(CONFIG)
    try:
        wait_until(lambda: a.call(settled, a.ctx.kernel), 5, what="DAD of the configured addresses")
        yield a
    finally:
        a.stop()


def kcall(ag, name, *args, **kw):
    return ag.call(getattr(ag.ctx.kernel, name), *args, **kw)


def settle(ag):
    wait_until(lambda: ag.call(settled, ag.ctx.kernel), 5, what="DAD to finish")


def types(msgs):
    return [C.RTM_NAMES[m.type] for m in msgs]


@pytest.fixture(scope="module")
def ipmp(ag):
    """ipmp0 (v4) with net1 and net2 as members; data address 192.0.2.50 on ipmp0,
    test address 192.0.2.61 on net1 (NOFAILOVER)."""
    kcall(ag, "plumb", "ipmp0", V4, ipmp=True)
    kcall(ag, "plumb", "ipmp0", V6, ipmp=True)
    for name in ("net1", "net2"):
        kcall(ag, "set_groupname", name, V4, "ipmp0")
    kcall(ag, "set_addr", "ipmp0", V4, ipaddress.ip_address("192.0.2.50"), 24)
    kcall(ag, "set_flags", "ipmp0", V4, set=C.IFF_UP)
    kcall(ag, "set_addr", "net1", V4, ipaddress.ip_address("192.0.2.61"), 24)
    kcall(ag, "set_flags", "net1", V4, set=C.IFF_UP | C.IFF_NOFAILOVER | C.IFF_DEPRECATED)
    kcall(ag, "set_flags", "net2", V4, set=C.IFF_UP)  # 0.0.0.0, makes net2 active
    settle(ag)
    return {name: kcall(ag, "ifindex", name) for name in ("ipmp0", "net1", "net2")}


# ---- R2, R5: every kernel-built message -------------------------------------------------
_SA_SIZE = {C.AF_INET: 16, C.AF_INET6: 32, C.AF_LINK: 252, C.AF_UNSPEC: 16}
_HDR = {C.RTM_IFINFO: (84, 4), C.RTM_NEWADDR: (20, 4), C.RTM_DELADDR: (20, 4),
        C.RTM_CHGADDR: (20, 4), C.RTM_FREEADDR: (20, 4)}  # (header size, offset of *_addrs)


def test_R2_R5_version_3_and_packed_sockaddrs(ag):
    """R2: version 3 everywhere; R5: sockaddrs in bit order, no padding, 16/32/252 bytes."""
    with ag.socket() as s:
        down, up = _down_up(ag, s, "net0", V6)
        kcall(ag, "emit_miss", "10.66.0.9")
        raws = []
        while True:
            try:
                raws.append(s.read(0.15))
            except TimeoutError:
                break
    assert len(raws) >= 1 and down and up
    for raw in raws:
        assert raw[2] == C.RTM_VERSION
        size, at = _HDR.get(raw[3], (76, 12))
        addrs = int.from_bytes(raw[at:at + 4], "little")
        cursor = size
        for bit in range(C.RTA_NUMBITS):
            if addrs & (1 << bit):
                family = int.from_bytes(raw[cursor:cursor + 2], "little")
                cursor += 252 if (1 << bit) == C.RTA_IFP else _SA_SIZE[family]
        assert cursor == len(raw) == int.from_bytes(raw[:2], "little")


# ---- R43-R45: RTM_IFINFO ---------------------------------------------------------
def test_R43_ifinfo_only_for_ipif0(ag):
    with ag.socket() as s:
        lif = kcall(ag, "addif", "net3", V4, ipaddress.ip_address("198.18.0.11"), 24)
        kcall(ag, "set_flags", lif, V4, set=C.IFF_UP)
        settle(ag)
        assert "RTM_IFINFO" not in types(drain(s))
        kcall(ag, "set_flags", lif, V4, clear=C.IFF_UP)
        assert "RTM_IFINFO" not in types(drain(s))
        kcall(ag, "set_flags", "net3", V4, clear=C.IFF_UP)
        assert types(drain(s))[0] == "RTM_IFINFO"
        kcall(ag, "set_flags", "net3", V4, set=C.IFF_UP)
        settle(ag)
        drain(s)


def test_R44_R45_ifinfo_layout(ag):
    with ag.socket(V4) as s:
        assert ag.admin("sim", "link", "net3", "down")[0] == 0
        raw = s.read(2)
        ag.admin("sim", "link", "net3", "up")
        settle(ag)
    msg = decode(raw)
    assert len(raw) == 336 and msg.type == C.RTM_IFINFO
    assert msg.addrs() == C.RTA_IFP and int.from_bytes(raw[4:8], "little") == 0x10
    assert msg.ifm_index == kcall(ag, "ifindex", "net3")
    d = msg.ifm_data
    assert (d.ifi_type, d.ifi_mtu, d.ifi_metric) == (C.IFT_ETHER, 1500, 0)
    assert all(getattr(d, f) == 0 for f in ("ifi_addrlen", "ifi_hdrlen", "ifi_baudrate", "ifi_ipackets",
                                            "ifi_opackets", "ifi_ierrors", "ifi_oerrors"))
    full = kcall(ag, "flags", "net3", V4)
    assert msg.ifm_flags & 0xFFFFFFFF == full & 0xFFFFFFFF & ~C.IFF_RUNNING  # R45: low 32 bits


# ---- R46-R47, R37-R40: IPMP visibility --------------------------------------------
def test_R38_R39_underlying_events_reach_aware_sockets_only(ag, ipmp):
    with ag.socket() as normal, ag.socket() as aware:
        aware.setsockopt(C.SOL_ROUTE, C.RT_AWARE, C.RTAW_UNDER_IPMP)
        ag.admin("sim", "link", "net1", "down")
        try:
            got_aware = drain(aware)
            got_normal = drain(normal)
        finally:
            ag.admin("sim", "link", "net1", "up")
            settle(ag)
        about_net1 = [m for m in got_aware if m.type == C.RTM_IFINFO and m.sockaddrs[C.RTA_IFP].name == "net1"]
        assert about_net1, "R39: the aware socket sees net1's IFINFO"
        assert not any(m.type == C.RTM_IFINFO and m.sockaddrs[C.RTA_IFP].name == "net1" for m in got_normal)


def test_R40_ipmp_interface_events_reach_everyone(ag, ipmp):
    with ag.socket() as normal, ag.socket() as aware:
        aware.setsockopt(C.SOL_ROUTE, C.RT_AWARE, C.RTAW_UNDER_IPMP)
        kcall(ag, "set_flags", "ipmp0", V4, clear=C.IFF_UP)
        for sock in (normal, aware):
            assert types(drain(sock))[:3] == ["RTM_IFINFO", "RTM_DELETE", "RTM_DELADDR"]
        kcall(ag, "set_flags", "ipmp0", V4, set=C.IFF_UP)
        settle(ag)


def test_R37_aware_iff_bit_0x10(ag, ipmp):
    with ag.socket() as almost:
        almost.setsockopt(C.SOL_ROUTE, C.RT_AWARE, 0x0F)  # not RTAW_UNDER_IPMP
        ag.admin("sim", "link", "net1", "down")
        got = drain(almost)
        ag.admin("sim", "link", "net1", "up")
        settle(ag)
        assert not any(m.type == C.RTM_IFINFO and m.sockaddrs[C.RTA_IFP].name == "net1" for m in got)


def test_R46_underlying_sdl_index_is_the_ipmp_index(ag, ipmp):
    with ag.socket() as aware:
        aware.setsockopt(C.SOL_ROUTE, C.RT_AWARE, C.RTAW_UNDER_IPMP)
        ag.admin("sim", "link", "net2", "down")
        msgs = drain(aware)
        ag.admin("sim", "link", "net2", "up")
        settle(ag)
    sdl = next(m.sockaddrs[C.RTA_IFP] for m in msgs
               if m.type == C.RTM_IFINFO and m.sockaddrs[C.RTA_IFP].name == "net2")
    assert sdl.sdl_index == ipmp["ipmp0"]
    assert sdl.lladdr == bytes.fromhex("020000000003")


def test_R47_ipmp_sdl_has_members_alen_and_zero_bytes(ag, ipmp):
    with ag.socket() as s:
        kcall(ag, "set_flags", "ipmp0", V4, clear=C.IFF_UP)
        msgs = drain(s)
        kcall(ag, "set_flags", "ipmp0", V4, set=C.IFF_UP)
        settle(ag)
    sdl = next(m.sockaddrs[C.RTA_IFP] for m in msgs if m.type == C.RTM_IFINFO)
    assert isinstance(sdl, SockaddrDl) and sdl.name == "ipmp0"
    assert sdl.lladdr == bytes(6) and sdl.sdl_index == ipmp["ipmp0"]


# ---- R48-R55: address messages --------------------------------------------------------
def _down_up(ag, sock, lif, af):
    kcall(ag, "set_flags", lif, af, clear=C.IFF_UP)
    down = drain(sock)
    kcall(ag, "set_flags", lif, af, set=C.IFF_UP)
    settle(ag)
    return down, drain(sock)


@pytest.mark.parametrize("af, lif, length, rt_length", [(V4, "net3", 320, 108), (V6, "net0:1", 368, 140)])
def test_R48_R55_address_message_format_and_order(ag, af, lif, length, rt_length):
    """R48-R51, R54, R55 for IPv4 and IPv6."""
    if af == V6:
        if lif not in [i.name for i in ag.call(ag.ctx.kernel.lifs, V6)]:
            lif = kcall(ag, "addif", "net0", V6, ipaddress.ip_address("2001:db8:1::11"), 64)
            kcall(ag, "set_flags", lif, V6, set=C.IFF_UP)
            settle(ag)
    with ag.socket(af) as s:
        down, up = _down_up(ag, s, lif, af)
    dels = [m for m in down if m.type in (C.RTM_DELETE, C.RTM_DELADDR)]
    adds = [m for m in up if m.type in (C.RTM_NEWADDR, C.RTM_ADD)]
    assert types(dels) == ["RTM_DELETE", "RTM_DELADDR"]            # R55
    assert types(adds) == ["RTM_NEWADDR", "RTM_ADD"]               # R55
    newaddr, deladdr = adds[0], dels[1]
    for m in (newaddr, deladdr):
        assert m.addrs() == 0xB4 and len(m.encode()) == length    # R48, R49
        assert int(m.sockaddrs[C.RTA_BRD].addr) == 0              # R51
    assert (newaddr.ifam_flags, deladdr.ifam_flags) == (C.RTF_UP, 0)  # R50
    route_add, route_del = adds[1], dels[0]
    local = newaddr.sockaddrs[C.RTA_IFA].addr
    for m, flags in ((route_add, C.RTF_UP | C.RTF_DONE), (route_del, C.RTF_DONE)):   # R54
        assert m.addrs() == C.RTA_DST | C.RTA_NETMASK and m.sockaddrs[C.RTA_DST].addr == local
        assert (m.rtm_flags, m.rtm_pid, m.rtm_seq, len(m.encode())) == (flags, 0, 0, rt_length)


def test_R52_index_is_the_owner_ipmp_for_data_underlying_for_test(ag, ipmp):
    with ag.socket() as aware:
        aware.setsockopt(C.SOL_ROUTE, C.RT_AWARE, C.RTAW_UNDER_IPMP)
        data_down, _ = _down_up(ag, aware, "ipmp0", V4)
        test_down, _ = _down_up(ag, aware, "net1", V4)
    data = next(m for m in data_down if m.type == C.RTM_DELADDR)
    test = next(m for m in test_down if m.type == C.RTM_DELADDR)
    assert data.ifam_index == ipmp["ipmp0"] and test.ifam_index == ipmp["net1"]


def test_R53_chgaddr_freeaddr_not_sent_for_unspecified(ag):
    with ag.socket(V4) as s:
        lif = kcall(ag, "addif", "net3", V4)                      # 0.0.0.0
        kcall(ag, "removeif", lif, V4)
        got = types(drain(s))
        assert "RTM_FREEADDR" not in got and "RTM_CHGADDR" not in got
        assert got == ["RTM_DELETE", "RTM_DELADDR"]               # E4: even if down
        lif = kcall(ag, "addif", "net3", V4, ipaddress.ip_address("198.18.0.77"), 24)
        kcall(ag, "removeif", lif, V4)
        assert types(drain(s))[-1] == "RTM_FREEADDR"


def test_R56_up_messages_wait_for_dad(ag):
    with ag.socket(V4) as s:
        kcall(ag, "set_flags", "net3", V4, clear=C.IFF_UP)
        drain(s)
        kcall(ag, "set_flags", "net3", V4, set=C.IFF_UP)
        immediate = types(drain(s, quiet=0.02))  # DAD takes >= 3 probes x 50 ms
        settle(ag)
        got = types(drain(s))
        assert immediate == [] and got[-3:] == ["RTM_IFINFO", "RTM_NEWADDR", "RTM_ADD"]


@pytest.fixture(scope="module")
def r56a_agent():
    a = InprocAgent(dict(CONFIG, switches={"r56a_reup_prefix": True}))
    try:
        wait_until(lambda: a.call(settled, a.ctx.kernel), 5, what="DAD of the configured addresses")
        yield a
    finally:
        a.stop()


def test_R56a_reup_prefix_behind_its_switch(r56a_agent):
    """R56a (code-derived, switch r56a_reup_prefix): SIOCSLIFFLAGS up on a down
    address first sends IFINFO(UP clear), DELETE, DELADDR, then E1 after DAD."""
    ag = r56a_agent
    with ag.socket(V4) as s:
        kcall(ag, "set_flags", "net3", V4, clear=C.IFF_UP)
        drain(s)
        kcall(ag, "set_flags", "net3", V4, set=C.IFF_UP)
        settle(ag)
        msgs = drain(s)
    assert types(msgs) == ["RTM_IFINFO", "RTM_DELETE", "RTM_DELADDR", "RTM_IFINFO", "RTM_NEWADDR", "RTM_ADD"]
    assert not msgs[0].ifm_flags & C.IFF_UP and msgs[3].ifm_flags & C.IFF_UP


def test_R57_down_sequence(ag):
    with ag.socket(V4) as s:
        down, _ = _down_up(ag, s, "net3", V4)
        assert types(down) == ["RTM_IFINFO", "RTM_DELETE", "RTM_DELADDR"]


def test_R58_changing_up_and_down_addresses(ag):
    with ag.socket(V4) as s:
        lif = kcall(ag, "addif", "net3", V4, ipaddress.ip_address("198.18.0.20"), 24)
        drain(s)
        kcall(ag, "set_addr", lif, V4, ipaddress.ip_address("198.18.0.21"), 24)   # down: CHGADDR only
        chg = drain(s)
        assert types(chg) == ["RTM_CHGADDR"] and str(chg[0].sockaddrs[C.RTA_IFA].addr) == "198.18.0.21"
        kcall(ag, "set_flags", lif, V4, set=C.IFF_UP)
        settle(ag)
        drain(s)
        kcall(ag, "set_addr", lif, V4, ipaddress.ip_address("198.18.0.22"), 24)   # up: down, CHGADDR, up
        settle(ag)
        got = types(drain(s))
        assert got == ["RTM_DELETE", "RTM_DELADDR", "RTM_CHGADDR", "RTM_NEWADDR", "RTM_ADD"]
        kcall(ag, "removeif", lif, V4)
        drain(s)


def test_R59_removeif_sequence_and_unit0_ebusy(ag):
    with ag.socket(V4) as s:
        lif = kcall(ag, "addif", "net3", V4, ipaddress.ip_address("198.18.0.30"), 24)
        kcall(ag, "set_flags", lif, V4, set=C.IFF_UP)
        settle(ag)
        drain(s)
        kcall(ag, "removeif", lif, V4)
        assert types(drain(s)) == ["RTM_DELETE", "RTM_DELADDR", "RTM_FREEADDR"]
        with pytest.raises(OSError) as info:
            kcall(ag, "removeif", "net3", V4)
        assert info.value.errno == errno.EBUSY


# ---- R75-R77: RTA_IFP naming an underlying interface ------------------------------------
def test_R75_add_on_underlying_goes_to_ipmp(ag, ipmp):
    with ag.socket() as s:
        s.write(add("198.51.100.0/24", gateway="192.0.2.1", ifp=ipmp["net2"]))
        seq = next_seq()
        s.write(RtMsg("RTM_GET", dst="198.51.100.1", ifp=ipmp["ipmp0"], seq=seq))
        assert s.read_reply(seq).sockaddrs[C.RTA_IFP].name == "ipmp0"


def test_R76_delete_or_change_on_underlying_is_einval(ag, ipmp):
    with ag.socket() as s:
        s.write(add("198.51.101.0/24", gateway="192.0.2.1"))
        expect_errno(s, RtMsg("RTM_DELETE", dst="198.51.101.0/24", gateway="192.0.2.1",
                              ifp=ipmp["net1"], seq=next_seq()), "EINVAL")
        expect_errno(s, RtMsg("RTM_CHANGE", dst="198.51.101.0/24", gateway="192.0.2.1",
                              ifp=ipmp["net1"], seq=next_seq()), "EINVAL")


def test_R77_get_on_underlying_matches_group_routes(ag, ipmp):
    with ag.socket() as s:
        s.write(add("198.51.102.0/24", gateway="192.0.2.1", ifp=ipmp["ipmp0"]))
        seq = next_seq()
        s.write(RtMsg("RTM_GET", dst="198.51.102.9", ifp=ipmp["net1"], seq=seq))
        reply = s.read_reply(seq)
        assert reply.sockaddrs[C.RTA_IFP].name == "ipmp0"


# ---- R82-R84: other kernel messages -----------------------------------------------------
def test_R82_miss(ag):
    with ag.socket() as s:
        kcall(ag, "emit_miss", "10.66.0.1")
        (msg,) = drain(s)
        assert msg.type == C.RTM_MISS and msg.addrs() == C.RTA_DST and msg.rtm_flags == C.RTF_DONE
        assert str(msg.sockaddrs[C.RTA_DST].addr) == "10.66.0.1" and len(msg.encode()) == 92


def test_R83_redirect(ag):
    with ag.socket() as s:
        kcall(ag, "emit_redirect", "10.66.0.2", "192.0.2.1", "192.0.2.254")
        (msg,) = drain(s)
        assert msg.addrs() == C.RTA_DST | C.RTA_GATEWAY | C.RTA_NETMASK | C.RTA_AUTHOR
        assert msg.rtm_flags == C.RTF_DYNAMIC | C.RTF_GATEWAY | C.RTF_HOST | C.RTF_DONE


def test_R84_oldadd_only_from_ioctls(ag):
    with ag.socket() as s, ag.socket() as watcher:
        seq = next_seq()
        s.write(add("198.51.103.0/24", seq=seq))
        assert types(drain(watcher)) == ["RTM_ADD"]
        kcall(ag, "ioctl_addrt", "198.51.104.0", "192.0.2.1", ipaddress.ip_address("255.255.255.0"))
        kcall(ag, "ioctl_delrt", "198.51.104.0", "192.0.2.1", ipaddress.ip_address("255.255.255.0"))
        assert types(drain(watcher)) == ["RTM_OLDADD", "RTM_OLDDEL"]
