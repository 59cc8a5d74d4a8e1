"""Property tests: lossless round trips, and decode never fails with anything but WireError."""
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rtsock_emul.wire import (
    RTA_IFP,
    RTAX_MAX,
    RTM_IFINFO,
    IfaMsghdr,
    IfData,
    IfMsghdr,
    RtMetrics,
    RtMsghdr,
    SockaddrDl,
    SockaddrIn,
    SockaddrIn6,
    SockaddrUnspec,
    Timeval32,
    WireError,
    decode,
    encode,
)
from rtsock_emul.wire.messages import MESSAGE_TYPES

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)
i32 = st.integers(-(2 ** 31), 2 ** 31 - 1)

sa_in = st.builds(SockaddrIn, st.integers(0, 2 ** 32 - 1), u16, st.binary(min_size=8, max_size=8))
sa_in6 = st.builds(SockaddrIn6, st.integers(0, 2 ** 128 - 1), u32, u16, u32, u32)
sa_dl = st.builds(SockaddrDl, u16, u8, st.text(st.characters(max_codepoint=255), max_size=32),
                  st.binary(max_size=20), st.none(), u8, st.binary(max_size=16))
sa_unspec = st.builds(SockaddrUnspec, st.binary(max_size=14))
sa_ifp_unspec = st.builds(SockaddrUnspec, st.binary(max_size=250))
sa_any = st.one_of(sa_in, sa_in6, sa_dl, sa_unspec)
sa_ifp = st.one_of(sa_dl, sa_ifp_unspec)


@st.composite
def sockaddr_maps(draw):
    bits = draw(st.sets(st.integers(0, RTAX_MAX - 1)))
    return {1 << i: draw(sa_ifp if 1 << i == RTA_IFP else sa_any) for i in bits}


metrics = st.builds(RtMetrics, *[u32] * 10)
rt_types = st.sampled_from(sorted(t for t, cls in MESSAGE_TYPES.items() if cls is RtMsghdr))
ifa_types = st.sampled_from(sorted(t for t, cls in MESSAGE_TYPES.items() if cls is IfaMsghdr))

rt_msgs = st.builds(RtMsghdr, rt_types, u16, u32, i32, i32, i32, i32, u32, metrics, sockaddr_maps(),
                    st.just(3) | u8, st.binary(max_size=24))
if_msgs = st.builds(IfMsghdr, st.just(RTM_IFINFO), u32, u16,
                    st.builds(IfData, u8, u8, u8, *[u32] * 14, st.builds(Timeval32, i32, i32)),
                    sockaddr_maps(), st.just(3) | u8)
ifa_msgs = st.builds(IfaMsghdr, ifa_types, u32, u16, i32, sockaddr_maps(), st.just(3) | u8)
messages = st.one_of(rt_msgs, if_msgs, ifa_msgs)

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(messages)
def test_R5_round_trip_decode_encode(msg):
    """decode(encode(m)) == m and the length is header + per-family sizes (R5)."""
    buf = encode(msg)
    assert decode(buf) == msg
    assert encode(decode(buf)) == buf
    assert struct.unpack_from("<H", buf)[0] == len(buf)


@FAST
@given(st.binary(max_size=600))
def test_decode_of_arbitrary_bytes_is_a_message_or_wire_error(buf):
    try:
        decode(buf)
    except WireError:
        pass


@st.composite
def plausible_buffers(draw):
    """Arbitrary bodies with a self-consistent msglen and a valid type, to reach the sockaddr walk."""
    body = bytearray(draw(st.binary(min_size=20, max_size=900)))
    struct.pack_into("<H", body, 0, len(body))
    body[3] = draw(st.integers(1, 0x10))
    return bytes(body)


@FAST
@given(plausible_buffers())
def test_decode_of_plausible_bytes_is_a_message_or_wire_error(buf):
    try:
        msg = decode(buf)
    except WireError as exc:
        assert exc.buf == buf and str(exc).endswith(f"decode(bytes.fromhex('{buf.hex()}'))")
    else:
        canonical = bytearray(buf)
        for off, size in type(msg).LAYOUT.pads:  # pads are ignored, as the kernel does
            canonical[off:off + size] = bytes(size)
        assert encode(msg) == canonical  # everything else is kept losslessly


@FAST
@given(messages, st.data())
def test_mutated_messages_decode_or_raise_wire_error(msg, data):
    buf = bytearray(encode(msg))
    pos = data.draw(st.integers(0, len(buf) - 1))
    buf[pos] = data.draw(u8)
    try:
        again = encode(decode(bytes(buf)))
    except WireError:
        return
    for off, size in type(msg).LAYOUT.pads:  # pads are ignored on decode, as the kernel does
        buf[off:off + size] = bytes(size)
    assert again == bytes(buf)
