"""Build and dissect in pairs, for every message type, against hand-written golden
bytes (wire_golden.py, from the offsets of R3-R5). Each case checks both directions:
encode(object) == golden and decode(golden) == object."""
import pytest
from wire_golden import MISS_V4_HEX, if_msghdr, ifa_msghdr, rt_msghdr, sdl, sin, sin6

from rtsock_emul.wire import (
    AF_INET,
    AF_INET6,
    IFF_BROADCAST,
    IFF_DUPLICATE,
    IFF_IPMP,
    IFF_IPV4,
    IFF_MULTICAST,
    IFF_OFFLINE,
    IFF_RUNNING,
    IFF_UP,
    IFT_ETHER,
    IFT_OTHER,
    RTA_AUTHOR,
    RTA_BRD,
    RTA_DST,
    RTA_GATEWAY,
    RTA_IFA,
    RTA_IFP,
    RTA_NETMASK,
    RTA_SRC,
    RTF_DONE,
    RTF_DYNAMIC,
    RTF_GATEWAY,
    RTF_HOST,
    RTF_SETSRC,
    RTF_STATIC,
    RTF_UP,
    RTM_ADD,
    RTM_CHANGE,
    RTM_CHGADDR,
    RTM_DELADDR,
    RTM_DELETE,
    RTM_FREEADDR,
    RTM_GET,
    RTM_IFINFO,
    RTM_LOCK,
    RTM_LOSING,
    RTM_MISS,
    RTM_NEWADDR,
    RTM_OLDADD,
    RTM_OLDDEL,
    RTM_REDIRECT,
    RTM_RESOLVE,
    RTV_MTU,
    RTV_RPIPE,
    RTV_RTT,
    RTV_RTTVAR,
    RTV_SPIPE,
    RTV_SSTHRESH,
    IfaMsghdr,
    IfData,
    IfMsghdr,
    RtMetrics,
    RtMsghdr,
    SockaddrDl,
    SockaddrIn,
    SockaddrIn6,
    decode,
    encode,
)

MAC0 = bytes.fromhex("020000000a01")
NET0 = SockaddrDl(2, IFT_ETHER, "net0", MAC0)
NET0_G = sdl(2, 6, "net0", MAC0)


def pair(obj, golden):
    """Both directions of one build/dissect pair."""
    assert encode(obj) == golden, "encode differs from the hand-written golden bytes"
    assert decode(golden) == obj, "decode of the golden bytes differs from the object"
    assert golden[2] == 3  # R2: version 3 in every message


# --- interface and address messages (R44-R51) --------------------------------

def test_R44_ifinfo_336_bytes():
    """R44. RTM_IFINFO: ifm_addrs=RTA_IFP(0x10); length 336; ifm_index = own ifindex;
    ifi_type, ifi_mtu, ifi_metric set; all other if_data fields 0."""
    flags = IFF_UP | IFF_BROADCAST | IFF_RUNNING | IFF_MULTICAST | IFF_IPV4
    obj = IfMsghdr(RTM_IFINFO, flags, 2, IfData(ifi_type=IFT_ETHER, ifi_mtu=1500), {RTA_IFP: NET0})
    golden = if_msghdr(336, 0x10, 0x01000843, 2, 6, 1500) + NET0_G
    assert len(golden) == 336
    pair(obj, golden)
    assert golden[16 + 12:84] == bytes(84 - 28)  # baudrate .. lastchange all zero


def test_R45_ifm_flags_keep_only_the_low_32_bits():
    """R45. ifm_flags is the low 32 bits of the 64-bit flags; IFF_IPMP, IFF_DUPLICATE never appear."""
    obj = IfMsghdr(RTM_IFINFO, IFF_UP | IFF_OFFLINE | IFF_IPMP | IFF_DUPLICATE, 5, IfData(),
                   {RTA_IFP: SockaddrDl(5, IFT_OTHER, "ipmp0")})
    golden = if_msghdr(336, 0x10, 0x80000001, 5, 0, 0) + sdl(5, 1, "ipmp0", b"")
    pair(obj, golden)
    got = decode(golden)
    assert got.ifm_flags & IFF_OFFLINE and not got.ifm_flags & (IFF_IPMP | IFF_DUPLICATE)


def test_R46_sdl_data_is_name_without_nul_then_mac():
    """R46. sdl_data holds the ill's name, not NUL-terminated, followed by its MAC;
    sdl_index may differ from the message index (the IPMP interface's for an underlying ill)."""
    dl = SockaddrDl(7, IFT_ETHER, "net1", bytes.fromhex("0200000000b1"))
    golden = sdl(7, 6, "net1", bytes.fromhex("0200000000b1"))
    assert golden[5] == 4 and golden[6] == 6 and golden[8:12] == b"net1" and golden[12] == 0x02
    assert dl.encode() == golden
    obj = IfMsghdr(RTM_IFINFO, IFF_UP, 3, IfData(ifi_type=6, ifi_mtu=1500), {RTA_IFP: dl})
    pair(obj, if_msghdr(336, 0x10, 1, 3, 6, 1500) + golden)


def test_R47_ipmp_sdl_has_alen_but_zero_address():
    """R47. The IPMP interface's sockaddr_dl: sdl_alen = members' MAC length, zero
    bytes; with no members alen 0 and type IFT_OTHER (1)."""
    with_members = SockaddrDl(4, IFT_ETHER, "ipmp0", b"", sdl_alen=6)
    assert with_members.encode() == sdl(4, 6, "ipmp0", bytes(6))
    assert decode(if_msghdr(336, 0x10, 1, 4, 6, 1500) + sdl(4, 6, "ipmp0", bytes(6))
                  ).sockaddrs[RTA_IFP] == with_members
    alone = SockaddrDl(4, IFT_OTHER, "ipmp0", b"")
    assert alone.encode() == sdl(4, 1, "ipmp0", b"")


def _addrmsg_v4(rtm_type, flags):
    obj = IfaMsghdr(rtm_type, flags, 2, 0, {
        RTA_NETMASK: SockaddrIn("255.255.255.0"), RTA_IFP: NET0,
        RTA_IFA: SockaddrIn("192.0.2.10"), RTA_BRD: SockaddrIn("0.0.0.0")})
    golden = (ifa_msghdr(320, rtm_type, 0xB4, flags, 2) + sin("255.255.255.0") + NET0_G
              + sin("192.0.2.10") + sin("0.0.0.0"))
    return obj, golden


@pytest.mark.parametrize("rtm_type, flags", [
    (RTM_NEWADDR, RTF_UP), (RTM_DELADDR, 0), (RTM_CHGADDR, 0), (RTM_FREEADDR, 0)])
def test_R48_R49_R50_R51_address_messages_v4(rtm_type, flags):
    """R48. ifam_addrs = 0xB4, sockaddrs NETMASK, IFP, IFA, BRD in that order.
    R49. 320 bytes for IPv4. R50. ifam_flags = RTF_UP for NEWADDR, 0 otherwise.
    R51. RTA_BRD is 0 on broadcast links."""
    obj, golden = _addrmsg_v4(rtm_type, flags)
    assert len(golden) == 320
    pair(obj, golden)
    # the sockaddrs sit back to back: NETMASK @20, IFP @36, IFA @288, BRD @304
    assert golden[20:22] == b"\x02\x00" and golden[36:38] == b"\x19\x00"
    assert golden[288 + 4:288 + 8] == bytes([192, 0, 2, 10]) and golden[304:320] == sin("0.0.0.0")
    assert decode(golden).family() == AF_INET


@pytest.mark.parametrize("rtm_type, flags", [(RTM_NEWADDR, RTF_UP), (RTM_DELADDR, 0)])
def test_R49_address_messages_v6_368(rtm_type, flags):
    """R49. Address messages are 368 bytes for IPv6."""
    obj = IfaMsghdr(rtm_type, flags, 2, 0, {
        RTA_NETMASK: SockaddrIn6("ffff:ffff:ffff:ffff::"), RTA_IFP: NET0,
        RTA_IFA: SockaddrIn6("fe80::ff:fe00:a01"), RTA_BRD: SockaddrIn6("::")})
    golden = (ifa_msghdr(368, rtm_type, 0xB4, flags, 2) + sin6("ffff:ffff:ffff:ffff::") + NET0_G
              + sin6("fe80::ff:fe00:a01") + sin6("::"))
    assert len(golden) == 368
    pair(obj, golden)
    assert decode(golden).family() == AF_INET6


# --- route messages ----------------------------------------------------------

@pytest.mark.parametrize("rtm_type, flags", [(RTM_ADD, RTF_UP | RTF_DONE), (RTM_DELETE, RTF_DONE)])
def test_R54_address_route_messages(rtm_type, flags):
    """R54. Address-derived RTM_ADD/RTM_DELETE: addrs = DST|NETMASK (DST the local address),
    flags UP|DONE for ADD and DONE for DELETE, pid = seq = 0, 108 (v4) / 140 (v6) bytes."""
    v4 = RtMsghdr(rtm_type, rtm_index=2, rtm_flags=flags, sockaddrs={
        RTA_DST: SockaddrIn("192.0.2.10"), RTA_NETMASK: SockaddrIn("255.255.255.0")})
    g4 = rt_msghdr(108, rtm_type, 0x5, flags, index=2) + sin("192.0.2.10") + sin("255.255.255.0")
    pair(v4, g4)
    v6 = RtMsghdr(rtm_type, rtm_index=2, rtm_flags=flags, sockaddrs={
        RTA_DST: SockaddrIn6("2001:db8::10"), RTA_NETMASK: SockaddrIn6("ffff:ffff:ffff:ffff::")})
    g6 = rt_msghdr(140, rtm_type, 0x5, flags, index=2) + sin6("2001:db8::10") + sin6("ffff:ffff:ffff:ffff::")
    pair(v6, g6)
    assert (len(g4), len(g6)) == (108, 140)


def test_R82_miss_92_and_108_bytes():
    """R82. RTM_MISS: addrs = RTA_DST, flags = RTF_DONE; 92 bytes v4, 108 v6."""
    v4 = RtMsghdr(RTM_MISS, rtm_flags=RTF_DONE, sockaddrs={RTA_DST: SockaddrIn("198.51.100.1")})
    pair(v4, bytes.fromhex(MISS_V4_HEX))
    v6 = RtMsghdr(RTM_MISS, rtm_flags=RTF_DONE, sockaddrs={RTA_DST: SockaddrIn6("2001:db8:1::1")})
    pair(v6, rt_msghdr(108, RTM_MISS, 0x1, 0x40) + sin6("2001:db8:1::1"))


def test_R83_R130_redirect_140_and_204_bytes():
    """R83. RTM_REDIRECT: addrs = DST|GATEWAY|NETMASK|AUTHOR; flags DYNAMIC|GATEWAY|HOST|DONE.
    R130. the IPv6 RTA_AUTHOR is all zeros."""
    flags = RTF_DYNAMIC | RTF_GATEWAY | RTF_HOST | RTF_DONE
    assert flags == 0x56
    v4 = RtMsghdr(RTM_REDIRECT, rtm_flags=flags, sockaddrs={
        RTA_DST: SockaddrIn("198.51.100.7"), RTA_GATEWAY: SockaddrIn("192.0.2.2"),
        RTA_NETMASK: SockaddrIn("255.255.255.255"), RTA_AUTHOR: SockaddrIn("192.0.2.1")})
    pair(v4, rt_msghdr(140, 6, 0x47, 0x56) + sin("198.51.100.7") + sin("192.0.2.2")
         + sin("255.255.255.255") + sin("192.0.2.1"))
    v6 = RtMsghdr(RTM_REDIRECT, rtm_flags=flags, sockaddrs={
        RTA_DST: SockaddrIn6("2001:db8:1::7"), RTA_GATEWAY: SockaddrIn6("fe80::2"),
        RTA_NETMASK: SockaddrIn6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"),
        RTA_AUTHOR: SockaddrIn6("::")})
    g6 = (rt_msghdr(204, 6, 0x47, 0x56) + sin6("2001:db8:1::7") + sin6("fe80::2")
          + sin6("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff") + sin6("::"))
    pair(v6, g6)
    assert len(g6) == 204 and g6[76 + 96 + 8:204] == bytes(24)


def test_R132_losing_ipv4_with_zero_ifa():
    """R132. RTM_LOSING: addrs = DST|GATEWAY|NETMASK|IFA, flags = RTF_DONE, RTA_IFA 0.0.0.0."""
    obj = RtMsghdr(RTM_LOSING, rtm_flags=RTF_DONE, sockaddrs={
        RTA_DST: SockaddrIn("198.51.100.9"), RTA_GATEWAY: SockaddrIn("192.0.2.1"),
        RTA_NETMASK: SockaddrIn("255.255.255.0"), RTA_IFA: SockaddrIn("0.0.0.0")})
    pair(obj, rt_msghdr(140, 5, 0x27, 0x40) + sin("198.51.100.9") + sin("192.0.2.1")
         + sin("255.255.255.0") + sin("0.0.0.0"))


@pytest.mark.parametrize("rtm_type", [RTM_OLDADD, RTM_OLDDEL])
def test_R84_oldadd_olddel_124_bytes_and_src_after_brd_slot(rtm_type):
    """R84: OLDADD/OLDDEL carry DST|GATEWAY|NETMASK (124 v4), +SRC with RTF_SETSRC (140)."""
    flags = RTF_UP | RTF_GATEWAY | RTF_STATIC | RTF_DONE
    obj = RtMsghdr(rtm_type, rtm_flags=flags, sockaddrs={
        RTA_DST: SockaddrIn("203.0.113.0"), RTA_GATEWAY: SockaddrIn("192.0.2.1"),
        RTA_NETMASK: SockaddrIn("255.255.255.0")})
    pair(obj, rt_msghdr(124, rtm_type, 0x7, 0x843) + sin("203.0.113.0") + sin("192.0.2.1")
         + sin("255.255.255.0"))
    obj.sockaddrs[RTA_SRC] = SockaddrIn("192.0.2.10")
    obj.rtm_flags |= RTF_SETSRC
    pair(obj, rt_msghdr(140, rtm_type, 0x107, 0x20843) + sin("203.0.113.0") + sin("192.0.2.1")
         + sin("255.255.255.0") + sin("192.0.2.10"))


def test_R79_R80_get_request_and_reply():
    """RTM_GET request (DST, IFP as route(1M) sends it) and a reply with
    DST|GATEWAY|NETMASK|IFP|IFA, pid/seq copied (R79) and inits ⊇ RTT..RPIPE|MTU in µs (R80)."""
    req = RtMsghdr(RTM_GET, rtm_flags=RTF_HOST, rtm_pid=4242, rtm_seq=7, sockaddrs={
        RTA_DST: SockaddrIn("198.51.100.5"), RTA_IFP: SockaddrDl()})
    pair(req, rt_msghdr(344, 4, 0x11, 0x4, pid=4242, seq=7) + sin("198.51.100.5") + sdl(0, 0, "", b""))
    inits = RTV_RTT | RTV_SSTHRESH | RTV_RTTVAR | RTV_SPIPE | RTV_RPIPE | RTV_MTU
    rmx = RtMetrics(rmx_mtu=1500, rmx_rtt=3000, rmx_rttvar=1000)
    reply = RtMsghdr(RTM_GET, rtm_flags=RTF_UP | RTF_GATEWAY | RTF_DONE, rtm_pid=4242, rtm_seq=7,
                     rtm_inits=inits, rtm_rmx=rmx, sockaddrs={
                         RTA_DST: SockaddrIn("198.51.100.0"), RTA_GATEWAY: SockaddrIn("192.0.2.1"),
                         RTA_NETMASK: SockaddrIn("255.255.255.0"), RTA_IFP: NET0,
                         RTA_IFA: SockaddrIn("192.0.2.10")})
    golden = (rt_msghdr(392, 4, 0x37, 0x43, pid=4242, seq=7, inits=0xF9,
                        rmx=(0, 1500, 0, 0, 0, 0, 0, 3000, 1000, 0))
              + sin("198.51.100.0") + sin("192.0.2.1") + sin("255.255.255.0") + NET0_G + sin("192.0.2.10"))
    pair(reply, golden)


@pytest.mark.parametrize("rtm_type", [RTM_CHANGE, RTM_LOCK, RTM_RESOLVE])
def test_request_only_types(rtm_type):
    """CHANGE, LOCK, RESOLVE travel only as requests: same rt_msghdr layout (R26's inputs)."""
    obj = RtMsghdr(rtm_type, rtm_flags=RTF_GATEWAY, rtm_seq=3, sockaddrs={
        RTA_DST: SockaddrIn("203.0.113.0"), RTA_GATEWAY: SockaddrIn("192.0.2.254"),
        RTA_NETMASK: SockaddrIn("255.255.255.0")})
    pair(obj, rt_msghdr(124, rtm_type, 0x7, 0x2, seq=3) + sin("203.0.113.0") + sin("192.0.2.254")
         + sin("255.255.255.0"))


def test_R5_order_is_by_bit_not_by_insertion_and_unpadded():
    """R5. Sockaddrs follow in increasing RTA bit order with no padding (16/32/252)."""
    obj = RtMsghdr(RTM_ADD, sockaddrs={
        RTA_SRC: SockaddrIn6("2001:db8::1"), RTA_IFP: NET0, RTA_BRD: SockaddrIn6("::"),
        RTA_DST: SockaddrIn6("2001:db8:9::")})
    golden = (rt_msghdr(76 + 32 + 252 + 32 + 32, 1, 0x191) + sin6("2001:db8:9::") + NET0_G
              + sin6("::") + sin6("2001:db8::1"))
    pair(obj, golden)


def test_every_message_type_has_a_pair_here():
    """Coverage guard: each type 1..0x10 appears in a pair above."""
    covered = {RTM_ADD, RTM_DELETE, RTM_CHANGE, RTM_GET, RTM_LOSING, RTM_REDIRECT, RTM_MISS,
               RTM_LOCK, RTM_OLDADD, RTM_OLDDEL, RTM_RESOLVE, RTM_NEWADDR, RTM_DELADDR,
               RTM_IFINFO, RTM_CHGADDR, RTM_FREEADDR}
    assert covered == set(range(1, 0x11))
