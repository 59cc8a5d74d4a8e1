"""RtsHub and RtSocket without sockets: the delivery predicate (rts_queue_input, R30-R41) and options (R31-R37; rts.c)."""
import errno

import pytest

from rtsock_emul.rtsock.hub import UNKNOWN_AF, RtsHub
from rtsock_emul.rtsock.socket import RTS_MAX_BUF, RtSocket, SockoptError
from rtsock_emul.wire import RtMsg
from rtsock_emul.wire.constants import (
    AF_INET,
    AF_INET6,
    AF_UNSPEC,
    RT_AWARE,
    RTAW_UNDER_IPMP,
    RTSQ_ALL,
    RTSQ_DEFAULT,
    RTSQ_NORMAL,
    RTSQ_UNDER_IPMP,
    SHUT_RD,
    SHUT_WR,
    SO_PROTOTYPE,
    SO_RCVBUF,
    SO_USELOOPBACK,
    SOL_ROUTE,
    SOL_SOCKET,
)

MSG = RtMsg("RTM_ADD", dst="198.51.100.0/24", gateway="192.0.2.1")


class Reader:
    """A fake transport: records what it got; `room` messages fit before it is full."""

    def __init__(self, room=1 << 30):
        self.got, self.room, self.notices = [], room, []

    def send(self, data):
        if len(self.got) >= self.room:
            return False
        self.got.append(data)
        return True


def sock(proto=AF_UNSPEC, room=1 << 30, **kw):
    r = Reader(room)
    s = RtSocket(proto=proto, send=r.send, notify_overflow=r.notices.append, **kw)
    s.reader = r
    return s


def make_hub(*socks):
    calls = []

    def encode(msg):
        calls.append(msg)
        return msg.encode()

    hub = RtsHub(encode=encode)
    for s in socks:
        hub.add(s)
    return hub, calls


def test_fanout_encodes_once_whatever_the_subscriber_count():
    """BENCH target: encode a message once, not once per subscriber."""
    for n in (1, 10, 100):
        socks = [sock() for _ in range(n)]
        hub, calls = make_hub(*socks)
        assert hub.queue(MSG, AF_INET, RTSQ_ALL) == n
        assert len(calls) == 1
        first = socks[0].reader.got[0]
        assert all(s.reader.got[0] is first for s in socks)


def test_no_encode_when_nobody_matches():
    hub, calls = make_hub(sock(AF_INET6))
    assert hub.queue(MSG, AF_INET, RTSQ_ALL) == 0
    assert calls == []


def test_R34_protocol_filters_by_family():
    """R34: proto AF_INET/AF_INET6 gets only that family; proto 0 gets all."""
    v4, v6, anyf = sock(AF_INET), sock(AF_INET6), sock(AF_UNSPEC)
    hub, _ = make_hub(v4, v6, anyf)
    hub.queue(MSG, AF_INET, RTSQ_ALL)
    assert [len(s.reader.got) for s in (v4, v6, anyf)] == [1, 0, 1]


@pytest.mark.parametrize("rtsq, normal_gets, aware_gets", [
    (RTSQ_NORMAL, 1, 0), (RTSQ_UNDER_IPMP, 0, 1), (RTSQ_ALL, 1, 1)])
def test_R38_awareness_selects_queue_flags(rtsq, normal_gets, aware_gets):
    """R38: aware sockets take RTSQ_UNDER_IPMP messages, normal ones RTSQ_NORMAL."""
    normal, aware = sock(), sock(rt_aware=RTAW_UNDER_IPMP)
    hub, _ = make_hub(normal, aware)
    hub.queue(MSG, AF_INET, rtsq)
    assert (len(normal.reader.got), len(aware.reader.got)) == (normal_gets, aware_gets)


def test_R37_only_the_under_ipmp_bit_counts():
    """R37: aware iff rt_aware & 0x10."""
    odd = sock(rt_aware=0x3F)   # has 0x10
    other = sock(rt_aware=0x0F)  # lacks it
    hub, _ = make_hub(odd, other)
    hub.queue(MSG, AF_INET, RTSQ_UNDER_IPMP)
    assert (len(odd.reader.got), len(other.reader.got)) == (1, 0)


def test_R32_R33_useloopback_suppresses_only_own_echo():
    """R32: no echo to an origin with SO_USELOOPBACK off; R33: kernel messages still come."""
    me, other = sock(useloopback=False), sock()
    hub, _ = make_hub(me, other)
    hub.queue(MSG, AF_INET, RTSQ_ALL, origin=me)
    assert (len(me.reader.got), len(other.reader.got)) == (0, 1)
    hub.queue(MSG, AF_INET, RTSQ_ALL, origin=None)
    assert len(me.reader.got) == 1


def test_R41_shut_rd_receives_nothing():
    s = sock()
    s.shutdown(SHUT_RD)
    hub, _ = make_hub(s)
    hub.queue(MSG, AF_INET, RTSQ_ALL)
    assert s.reader.got == []


def test_unknown_af_echo_goes_to_proto0_and_origin_only():
    """The named choice for the early errors of ip_rts_request_common: early-error echoes reach proto-0 sockets and the sender."""
    origin, v4, anyf = sock(AF_INET), sock(AF_INET), sock()
    hub, _ = make_hub(origin, v4, anyf)
    hub.queue(None, UNKNOWN_AF, RTSQ_ALL, origin=origin, data=b"x" * 76)
    assert [len(s.reader.got) for s in (origin, v4, anyf)] == [1, 0, 1]


def test_full_buffer_drops_for_that_socket_only_and_notifies_once_per_burst():
    slow, fast = sock(room=2), sock()
    hub, _ = make_hub(slow, fast)
    for _ in range(5):
        hub.queue(MSG, AF_INET, RTSQ_ALL)
    assert (len(slow.reader.got), len(fast.reader.got)) == (2, 5)
    assert slow.dropped == 3 and slow.reader.notices == [1]
    slow.reader.room = 10  # the reader drained: a new burst of drops is notified again
    hub.queue(MSG, AF_INET, RTSQ_ALL)
    slow.reader.room = 3
    hub.queue(MSG, AF_INET, RTSQ_ALL)
    assert slow.reader.notices == [1, 4]


def test_rtsq_default_must_be_resolved():
    hub, _ = make_hub(sock())
    with pytest.raises(ValueError, match="RTSQ_DEFAULT"):
        hub.queue(MSG, AF_INET, RTSQ_DEFAULT)


def test_internal_subscribers_get_objects_through_defer():
    deferred = []
    hub = RtsHub(defer=lambda fn, *a: deferred.append((fn, a)))
    got = []
    hub.add_internal(lambda m, af: got.append((m, af)), proto=AF_INET6)
    hub.add_internal(lambda m, af: got.append((m, af)))
    hub.queue(MSG, AF_INET, RTSQ_UNDER_IPMP)
    assert got == [] and len(deferred) == 1
    fn, args = deferred[0]
    fn(*args)
    assert got == [(MSG, AF_INET)]


# -- options (R31-R37; rts.c) -------------------------------------------------------------
def test_R1_protocol_must_be_0_2_or_26():
    for proto in (0, 2, 26):
        RtSocket(proto=proto)
    for proto in (1, 24, 25, 10):
        with pytest.raises(SockoptError) as info:
            RtSocket(proto=proto)
        assert info.value.errno == errno.EPROTONOSUPPORT


def test_R31_useloopback_default_on_get_returns_0x40_or_0():
    s = RtSocket()
    assert s.getsockopt(SOL_SOCKET, SO_USELOOPBACK) == 0x40
    s.setsockopt(SOL_SOCKET, SO_USELOOPBACK, 0)
    assert s.getsockopt(SOL_SOCKET, SO_USELOOPBACK) == 0
    s.setsockopt(SOL_SOCKET, SO_USELOOPBACK, 7)
    assert s.getsockopt(SOL_SOCKET, SO_USELOOPBACK) == 0x40


def test_R35_prototype_only_inet_or_inet6():
    s = RtSocket()
    s.setsockopt(SOL_SOCKET, SO_PROTOTYPE, AF_INET6)
    assert s.proto == AF_INET6
    with pytest.raises(SockoptError) as info:
        s.setsockopt(SOL_SOCKET, SO_PROTOTYPE, AF_UNSPEC)
    assert info.value.errno == errno.EPROTONOSUPPORT and s.proto == AF_INET6


def test_R36_rt_aware_stores_any_int():
    s = RtSocket()
    for v in (0x10, 0x7fff0001, -5):
        s.setsockopt(SOL_ROUTE, RT_AWARE, v)
        assert s.getsockopt(SOL_ROUTE, RT_AWARE) == v


def test_rcvbuf_above_rts_max_buf_is_enobufs_and_sizes_the_buffer():
    sizes = []
    s = RtSocket(resize=sizes.append)
    s.setsockopt(SOL_SOCKET, SO_RCVBUF, 4096)
    assert sizes == [4096] and s.getsockopt(SOL_SOCKET, SO_RCVBUF) == 4096
    with pytest.raises(SockoptError) as info:
        s.setsockopt(SOL_SOCKET, SO_RCVBUF, RTS_MAX_BUF + 1)
    assert info.value.errno == errno.ENOBUFS and sizes == [4096]


def test_unknown_option_is_enoprotoopt():
    with pytest.raises(SockoptError) as info:
        RtSocket().getsockopt(SOL_SOCKET, 0x1234)
    assert info.value.errno == errno.ENOPROTOOPT


def test_shutdown_wr_marks_socket():
    s = RtSocket()
    s.shutdown(SHUT_WR)
    assert s.shut_wr and not s.shut_rd
