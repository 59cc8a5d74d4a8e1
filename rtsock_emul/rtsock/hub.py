"""The set of open routing sockets and the delivery predicate (rts_queue_input, R30-R41).

`RtsHub.queue` is the kernel's `rts` hook: it encodes a message once and sends
the same bytes to every socket the predicate selects (`rts_queue_input`).
In-agent subscribers (in.mpathd) get the message object instead, through
`defer` (the agent passes `loop.call_soon`, so they run after the kernel
operation that produced the message, as a separate daemon would).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from rtsock_emul.wire.constants import AF_UNSPEC, RTAW_UNDER_IPMP, RTSQ_DEFAULT, RTSQ_NORMAL, RTSQ_UNDER_IPMP
from rtsock_emul.wire.messages import Message
from rtsock_emul.wire.messages import encode as wire_encode

from .socket import RtSocket

if TYPE_CHECKING:
    from .journal import Journal


# The family of a request echo whose error came before RTA_DST was parsed
# (R7-R10): the kernel's `af` is uninitialised there. Named choice (the
# early errors of ip_rts_request_common): deliver such echoes only to proto-0 sockets and to the originator.
UNKNOWN_AF = None


def wanted(proto: int, rt_aware: int, af, rtsq: int) -> bool:
    """The family and awareness terms of the predicate (R34, R37, R38)."""
    if proto != AF_UNSPEC and proto != af:
        return False
    return bool(rtsq & (RTSQ_UNDER_IPMP if rt_aware & RTAW_UNDER_IPMP else RTSQ_NORMAL))


@dataclass(eq=False)
class InternalSubscriber:
    callback: Callable[[object, int], None]
    proto: int = AF_UNSPEC
    rt_aware: int = RTAW_UNDER_IPMP


def _call_now(fn, *args):
    fn(*args)


class RtsHub:
    """Routing sockets of one host. `encode(msg) -> bytes` is called at most once per message."""

    def __init__(self, *, encode: Callable[[Message], bytes] = wire_encode, defer=_call_now, log=None):
        self._encode = encode
        self._defer = defer
        self._log = log
        self.sockets: list[RtSocket] = []
        self.internal: list[InternalSubscriber] = []
        self.queued = 0
        self.journal: Journal | None = None       # when the agent keeps one
        self._idents = 0

    def add(self, sock: RtSocket) -> RtSocket:
        self._idents += 1
        sock.ident = self._idents  # names the socket in the journal's `to` lists
        self.sockets.append(sock)
        return sock

    def remove(self, sock: RtSocket) -> None:
        if sock in self.sockets:
            self.sockets.remove(sock)

    def add_internal(self, callback, *, proto: int = AF_UNSPEC,
                     rt_aware: int = RTAW_UNDER_IPMP) -> InternalSubscriber:
        sub = InternalSubscriber(callback, proto, rt_aware)
        self.internal.append(sub)
        return sub

    def remove_internal(self, sub: InternalSubscriber) -> None:
        if sub in self.internal:
            self.internal.remove(sub)

    def queue(self, msg, af, rtsq: int, origin: RtSocket | None = None, *,
              data: bytes | None = None) -> int:
        """Deliver msg to every matching socket; return how many got it.

        msg: a wire message object (None for an undecodable request echo);
        data: its bytes if already known (a request echo is the caller's own bytes).
        """
        if rtsq & RTSQ_DEFAULT:
            raise ValueError("RTSQ_DEFAULT must be resolved by the kernel before queueing (rts_queue_input, R30-R41)")
        self.queued += 1
        sent = 0
        to: list[int] = []
        dropped: list[int] = []
        shut: list[int] = []
        for sock in tuple(self.sockets):
            if not wanted(sock.proto, sock.rt_aware, af, rtsq):
                if not (af is UNKNOWN_AF and sock is origin):
                    continue
            if sock is origin and not sock.useloopback:  # R32
                continue
            if data is None:
                data = self._encode(msg)  # once, on the first match
            ok = sock.deliver(data)
            sent += ok
            (to if ok else shut if sock.shut_rd else dropped).append(sock.ident)
        if self.journal is not None:
            if data is None and msg is not None:
                data = self._encode(msg)
            self.journal.message(msg, data, af, rtsq, getattr(origin, "ident", None), to, dropped, shut)
        if msg is not None:
            for sub in tuple(self.internal):
                if wanted(sub.proto, sub.rt_aware, af, rtsq):
                    self._defer(sub.callback, msg, af)
        return sent
