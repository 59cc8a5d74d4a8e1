"""One emulated routing socket: its options, shutdown state and delivery (R31-R37; rts.c).

The transport is not here: the agent gives each `RtSocket` a `send(data) -> bool`
(non-blocking; False when the peer's buffer is full), a `notify_overflow(n)` and
a `resize(nbytes)` for SO_RCVBUF. Tests give fakes.
"""
from __future__ import annotations

import errno
from dataclasses import dataclass, field
from typing import Callable

from rtsock_emul.wire.constants import (
    AF_INET,
    AF_INET6,
    AF_UNSPEC,
    RT_AWARE,
    RTAW_DEFAULT,
    SHUT_RD,
    SHUT_RDWR,
    SHUT_WR,
    SO_PROTOTYPE,
    SO_RCVBUF,
    SO_USELOOPBACK,
    SOL_ROUTE,
    SOL_SOCKET,
)

# rts_create accepts these protocols (R1).
PROTOCOLS = frozenset({AF_UNSPEC, AF_INET, AF_INET6})
# rts_max_buf: SO_RCVBUF above this fails with ENOBUFS ([rts.c]).
RTS_MAX_BUF = 256 * 1024
# What SO_RCVBUF reports until set; the agent sizes the connection's buffer to it.
DEFAULT_RCVBUF = RTS_MAX_BUF


class SockoptError(OSError):
    """setsockopt/getsockopt refused: errno says why."""


def _no_send(data: bytes) -> bool:
    return True


@dataclass(eq=False)
class RtSocket:
    """State of one routing socket (`rts_t` + the conn fields the predicate reads)."""

    proto: int = AF_UNSPEC
    uid: int = 0
    pid: int = 0
    send: Callable[[bytes], bool] = _no_send
    notify_overflow: Callable[[int], None] = lambda dropped: None
    resize: Callable[[int], None] = lambda nbytes: None
    name: str = ""
    privileged: bool | None = None  # secpolicy_ip_config; None: uid == 0
    useloopback: bool = True  # R31: on by default (ip_rts_register)
    rt_aware: int = RTAW_DEFAULT
    shut_rd: bool = False
    shut_wr: bool = False
    rcvbuf: int = DEFAULT_RCVBUF
    ident: int = 0  # set by RtsHub.add; names the socket in the delivery journal
    delivered: int = 0
    dropped: int = 0
    overflowed: bool = field(default=False)  # dropped since the last successful send

    def __post_init__(self) -> None:
        if self.privileged is None:
            self.privileged = self.uid == 0
        if self.proto not in PROTOCOLS:
            raise SockoptError(errno.EPROTONOSUPPORT,
                               f"routing socket protocol {self.proto} not in 0, 2, 26 (R1)")

    # -- delivery ---------------------------------------------------------
    def deliver(self, data: bytes) -> bool:
        """Queue one encoded message; a full buffer drops it for this socket only."""
        if self.shut_rd:
            return False
        if self.send(data):
            self.delivered += 1
            self.overflowed = False
            return True
        self.dropped += 1
        if not self.overflowed:  # one notice per burst of drops
            self.overflowed = True
            self.notify_overflow(self.dropped)
        return False

    # -- options (dispatch by table) -----------------------------------------
    def setsockopt(self, level: int, name: int, value) -> None:
        try:
            setter = _SETTERS[(level, name)]
        except KeyError:
            raise SockoptError(errno.ENOPROTOOPT,
                               f"no routing-socket option level {level:#x} name {name:#x}") from None
        setter(self, int(value))

    def getsockopt(self, level: int, name: int) -> int:
        try:
            getter = _GETTERS[(level, name)]
        except KeyError:
            raise SockoptError(errno.ENOPROTOOPT,
                               f"no routing-socket option level {level:#x} name {name:#x}") from None
        return getter(self)

    def shutdown(self, how: int) -> None:
        """R41/M15: SHUT_RD stops deliveries; SHUT_WR blocks sending (EPIPE)."""
        if how not in (SHUT_RD, SHUT_WR, SHUT_RDWR):
            raise SockoptError(errno.EINVAL, f"shutdown how={how} not SHUT_RD/WR/RDWR")
        if how in (SHUT_RD, SHUT_RDWR):
            self.shut_rd = True
        if how in (SHUT_WR, SHUT_RDWR):
            self.shut_wr = True


def _set_useloopback(s: RtSocket, v: int) -> None:
    s.useloopback = v != 0


def _set_prototype(s: RtSocket, v: int) -> None:
    if v not in (AF_INET, AF_INET6):  # R35
        raise SockoptError(errno.EPROTONOSUPPORT, f"SO_PROTOTYPE {v} is not AF_INET or AF_INET6 (R35)")
    s.proto = v


def _set_rt_aware(s: RtSocket, v: int) -> None:
    s.rt_aware = v  # R36: stored unchecked


def _set_rcvbuf(s: RtSocket, v: int) -> None:
    if v > RTS_MAX_BUF:
        raise SockoptError(errno.ENOBUFS, f"SO_RCVBUF {v} exceeds rts_max_buf {RTS_MAX_BUF}")
    if v < 0:
        raise SockoptError(errno.EINVAL, f"SO_RCVBUF {v} is negative")
    s.rcvbuf = v
    s.resize(v)


_SETTERS = {
    (SOL_SOCKET, SO_USELOOPBACK): _set_useloopback,
    (SOL_SOCKET, SO_PROTOTYPE): _set_prototype,
    (SOL_SOCKET, SO_RCVBUF): _set_rcvbuf,
    (SOL_ROUTE, RT_AWARE): _set_rt_aware,
}
_GETTERS = {
    (SOL_SOCKET, SO_USELOOPBACK): lambda s: SO_USELOOPBACK if s.useloopback else 0,  # R31
    (SOL_SOCKET, SO_PROTOTYPE): lambda s: s.proto,
    (SOL_SOCKET, SO_RCVBUF): lambda s: s.rcvbuf,
    (SOL_ROUTE, RT_AWARE): lambda s: s.rt_aware,
}
