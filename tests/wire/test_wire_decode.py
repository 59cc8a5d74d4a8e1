"""Strict decode errors, sockaddr sizing rules (rts_getaddrs) and the friendly builders."""
import struct

import pytest
from wire_golden import MISS_V4_HEX, rt_msghdr, sdl, sin, sin6

from rtsock_emul.wire import (
    AF_INET,
    AF_INET6,
    AF_UNSPEC,
    RTA_DST,
    RTA_GATEWAY,
    RTA_IFA,
    RTA_IFP,
    RTA_NETMASK,
    RTAX_DST,
    RTAX_IFP,
    RTF_GATEWAY,
    RTF_HOST,
    RTF_STATIC,
    RTF_UP,
    RTM_ADD,
    RTM_GET,
    RTM_IFINFO,
    RTM_NEWADDR,
    IfaMsg,
    IfMsg,
    RtMsg,
    RtMsghdr,
    SockaddrDl,
    SockaddrIn,
    SockaddrIn6,
    SockaddrUnspec,
    WireError,
    decode,
    decode_request,
    decode_sockaddr,
    encode,
)


def test_R15_unspec_ifp_takes_252_bytes():
    """rts_getaddrs/R15: RTA_IFP is AF_LINK or AF_UNSPEC and always takes 252 bytes."""
    obj = RtMsghdr(RTM_ADD, sockaddrs={RTA_DST: SockaddrIn("203.0.113.0"), RTA_IFP: SockaddrUnspec(),
                                       RTA_IFA: SockaddrIn("192.0.2.10")})
    golden = rt_msghdr(76 + 16 + 252 + 16, 1, 0x31) + sin("203.0.113.0") + bytes(252) + sin("192.0.2.10")
    assert encode(obj) == golden
    assert decode(golden) == obj


@pytest.mark.parametrize("raw, slot, size, cls", [
    (sin("192.0.2.1"), RTAX_DST, 16, SockaddrIn),
    (sin6("2001:db8::1"), RTAX_DST, 32, SockaddrIn6),
    (bytes(16), RTAX_DST, 16, SockaddrUnspec),
    (bytes(252), RTAX_IFP, 252, SockaddrUnspec),
    (sdl(3, 6, "net1", b"\x02" * 6), RTAX_IFP, 252, SockaddrDl),
    (sdl(3, 6, "net1", b"\x02" * 6), RTAX_DST, 252, SockaddrDl),
])
def test_R5_decode_sockaddr_sizes_by_family(raw, slot, size, cls):
    """R5 / rts_getaddrs: AF_INET and AF_UNSPEC 16, AF_INET6 32, AF_LINK 252, RTA_IFP 252."""
    buf = b"\xee" * 8 + raw + b"\xff" * 4
    sa, got = decode_sockaddr(buf, 8, slot)
    assert (type(sa), got) == (cls, size)


def test_decode_sockaddr_errors_name_the_place():
    with pytest.raises(WireError, match=r"sockaddrs\[RTAX_IFP\].sa_family at offset 0: AF_INET is not allowed"):
        decode_sockaddr(sin("192.0.2.1") + bytes(236), 0, RTAX_IFP)
    with pytest.raises(WireError, match="unknown address family 24"):
        decode_sockaddr(struct.pack("<H", 24) + bytes(14), 0, RTAX_DST)
    with pytest.raises(WireError, match="needs 32 bytes, only 16 left"):
        decode_sockaddr(sin6("::1")[:16], 0, RTAX_DST)


def _raises(buf, field, offset):
    with pytest.raises(WireError) as info:
        decode(buf)
    err = info.value
    assert isinstance(err, ValueError)
    assert (err.field, err.offset) == (field, offset)
    assert str(err).endswith(f"decode(bytes.fromhex('{bytes(buf).hex()}'))")
    assert eval(str(err).split("reproduce with ")[1], {"decode": lambda b: b}) == bytes(buf)
    return err


def test_R6_short_message_is_a_wire_error():
    """R6's input: fewer than 76 bytes is not an rt_msghdr."""
    _raises(bytes.fromhex(MISS_V4_HEX)[:60], "rtm_msglen", 0)
    _raises(b"\x01", "rtm_msglen", 0)


def test_R7_msglen_must_match_the_buffer():
    """R7's input: rtm_msglen ≠ bytes written."""
    good = bytearray.fromhex(MISS_V4_HEX)
    struct.pack_into("<H", good, 0, 100)
    err = _raises(good, "rtm_msglen", 0)
    assert "says 100 bytes but the buffer has 92" in str(err)


def test_unknown_type_and_addrs_bits():
    bad_type = bytearray.fromhex(MISS_V4_HEX)
    bad_type[3] = 0x11
    _raises(bad_type, "rtm_type", 3)
    bad_addrs = bytearray.fromhex(MISS_V4_HEX)
    struct.pack_into("<I", bad_addrs, 12, 0x201)
    _raises(bad_addrs, "rtm_addrs", 12)


def test_truncated_sockaddr_is_located_in_the_message():
    buf = bytearray(rt_msghdr(92, 7, 0x3, 0x40) + sin("192.0.2.1"))  # GATEWAY bit set, no bytes
    err = _raises(buf, "sockaddrs[RTAX_GATEWAY].sa_family", 92)
    assert "0 bytes left" in str(err)


def test_rt_msghdr_keeps_a_trailer_others_refuse_one():
    """rtm_ext_t after the sockaddrs of a request is kept as `trailer` (route.h)."""
    ext = struct.pack("<II", 1, 0)
    buf = rt_msghdr(92 + 8, 1, 0x1) + sin("192.0.2.1") + ext
    msg = decode(buf)
    assert msg.trailer == ext and encode(msg) == buf
    ifa = encode(IfaMsg("RTM_DELADDR", 2, "192.0.2.10", 24, 2))
    bad = bytearray(ifa + ext)
    struct.pack_into("<H", bad, 0, len(bad))
    assert "has no trailer" in str(_raises(bad, "ifam_msglen", 0))


def test_decode_request_reads_any_type_as_rt_msghdr():
    """The kernel parses every request as an rt_msghdr (R26 needs IFINFO/NEWADDR requests)."""
    req = RtMsg(RTM_IFINFO, dst="192.0.2.1")
    buf = encode(req)
    assert decode_request(buf) == req
    with pytest.raises(WireError):
        decode(buf)  # as an if_msghdr these bytes make no sense


def test_family_and_af():
    assert RtMsg("GET", dst="2001:db8::1").family() == AF_INET6
    assert RtMsg("GET", dst=None).family() == AF_UNSPEC
    ifinfo = IfMsg(2, "UP", 2, af=AF_INET6)
    assert ifinfo.family() == AF_INET6
    got = decode(encode(ifinfo))
    assert got.af is None and got == ifinfo and got.family() == AF_UNSPEC


def test_rtmsg_builder():
    m = RtMsg("RTM_ADD", dst="198.51.100.0/24", gateway="192.0.2.1", flags=["UP", "GATEWAY", "STATIC"],
              seq=42, ifp=(2, "net0"))
    assert m.rtm_type == RTM_ADD and m.rtm_seq == 42
    assert m.rtm_flags == RTF_UP | RTF_GATEWAY | RTF_STATIC
    assert m.sockaddrs == {RTA_DST: SockaddrIn("198.51.100.0"), RTA_NETMASK: SockaddrIn("255.255.255.0"),
                           RTA_GATEWAY: SockaddrIn("192.0.2.1"), RTA_IFP: SockaddrDl(2, 0, "net0")}
    assert len(encode(m)) == 76 + 16 * 3 + 252


def test_rtmsg_builder_host_route_and_masks():
    host = RtMsg("ADD", dst="192.0.2.77", gateway="192.0.2.1", flags="RTF_UP")
    assert host.rtm_flags == RTF_UP | RTF_HOST and RTA_NETMASK not in host.sockaddrs
    v6 = RtMsg(RTM_GET, dst="2001:db8::", netmask=48, ifa="fe80::1%2")
    assert v6.sockaddrs[RTA_NETMASK] == SockaddrIn6("ffff:ffff:ffff::")
    assert v6.sockaddrs[RTA_IFA] == SockaddrIn6("fe80::1", scope_id=2)
    assert not v6.rtm_flags & RTF_HOST
    assert RtMsg(RTM_ADD, errno="ENOTSUP").rtm_errno == 48
    with pytest.raises(ValueError, match="resolve interface names"):
        RtMsg("ADD", dst="192.0.2.1", ifp="net0")


def test_ifa_and_if_builders():
    m = IfaMsg(RTM_NEWADDR, 2, "192.0.2.10", 24, SockaddrDl(2, 6, "net0", b"\x02" * 6), flags="UP")
    assert len(encode(m)) == 320 and m.family() == AF_INET
    assert m.sockaddrs[RTA_NETMASK] == SockaddrIn("255.255.255.0")
    i = IfMsg(2, ["UP", "RUNNING"], (2, "net0"), mtu=1500)
    assert len(encode(i)) == 336 and i.ifm_flags == 0x41


def test_encode_rejects_bad_keys_and_values():
    with pytest.raises(WireError, match="not single RTA_ bits"):
        encode(RtMsghdr(RTM_ADD, sockaddrs={3: SockaddrIn("192.0.2.1")}))
    with pytest.raises(WireError, match="not a sockaddr object"):
        encode(RtMsghdr(RTM_ADD, sockaddrs={RTA_DST: "192.0.2.1"}))
    with pytest.raises(WireError, match="rtm_index"):
        encode(RtMsghdr(RTM_ADD, rtm_index=70000))
    with pytest.raises(WireError, match="sdl_data has 244"):
        SockaddrDl(1, 6, "x" * 240, b"\x01" * 6)


def test_sockaddr_objects_are_canonical():
    """Equal bytes give equal objects: alen/extra/data normalised on construction."""
    assert SockaddrDl(1, 6, "ipmp0", b"", sdl_alen=6) == SockaddrDl(1, 6, "ipmp0", bytes(6))
    assert SockaddrUnspec(b"\x01\x00\x00") == SockaddrUnspec(b"\x01")
    assert SockaddrIn("192.0.2.1").family == AF_INET and SockaddrIn6("::").family == AF_INET6
    assert repr(SockaddrIn("192.0.2.1")) == "SockaddrIn('192.0.2.1')"


def test_sdl_lengths_must_fit_sdl_data():
    """sdl_nlen + sdl_alen beyond sdl_data[244] is malformed, not silently truncated."""
    bad = bytearray(sdl(2, 6, "net0", b""))
    bad[5], bad[6] = 200, 100
    with pytest.raises(WireError, match=r"sdl_nlen 200 \+ sdl_alen 100 exceed sdl_data\[244\]"):
        decode_sockaddr(bytes(bad), 0, RTAX_IFP)


def test_rtmsg_default_route_and_bad_names():
    m = RtMsg("ADD", dst="default", gateway="192.0.2.1", flags="UP GATEWAY")
    assert m.sockaddrs[RTA_DST] == SockaddrIn("0.0.0.0") and m.sockaddrs[RTA_NETMASK] == SockaddrIn("0.0.0.0")
    assert not m.rtm_flags & RTF_HOST
    with pytest.raises(WireError, match="not single-byte text"):
        SockaddrDl(1, 6, "nét\u20ac0")
    with pytest.raises(ValueError, match="unknown RTM_ name 'ADDD'"):
        RtMsg("ADDD")
