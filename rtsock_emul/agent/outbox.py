"""Records to one non-blocking SOCK_SEQPACKET peer (admin replies, control records).

A record goes out at once when the peer's queue has room; otherwise it waits, in
order, and is flushed when the socket turns writable. A peer that lets more than
`max_records` (or `max_bytes`) wait is not reading: `on_stuck` is called once and
the connection is dropped, as a routing socket whose reader stalls loses messages.
Nothing here blocks the agent's loop.
"""
from __future__ import annotations

import collections
import socket

SEND_FLAGS = socket.MSG_DONTWAIT | socket.MSG_NOSIGNAL
MAX_RECORDS = 64          # a client that pipelines more without reading is stuck
MAX_BYTES = 1 << 20


class Outbox:
    def __init__(self, loop, sock: socket.socket, *, on_stuck, on_gone,
                 max_records: int = MAX_RECORDS, max_bytes: int = MAX_BYTES):
        self.loop, self.sock = loop, sock
        self.on_stuck, self.on_gone = on_stuck, on_gone
        self.max_records, self.max_bytes = max_records, max_bytes
        self.waiting: collections.deque[bytes] = collections.deque()
        self.waiting_bytes = 0
        self.closed = False

    def send(self, rec: bytes) -> None:
        if self.closed:
            return
        if not self.waiting and self._try(rec):
            return
        if self.closed:
            return
        self.waiting.append(rec)
        self.waiting_bytes += len(rec)
        if len(self.waiting) > self.max_records or self.waiting_bytes > self.max_bytes:
            self.close()
            self.on_stuck(len(self.waiting), self.waiting_bytes)
        elif len(self.waiting) == 1:
            self.loop.add_writer(self.sock.fileno(), self._flush)

    def _try(self, rec: bytes) -> bool:
        """True if sent; False if the peer's queue is full. A dead peer: on_gone."""
        try:
            self.sock.send(rec, SEND_FLAGS)
        except BlockingIOError:
            return False
        except OSError as exc:
            self.close()
            self.on_gone(exc)
            return False
        return True

    def _flush(self) -> None:
        while self.waiting and not self.closed:
            if not self._try(self.waiting[0]):
                return
            self.waiting_bytes -= len(self.waiting.popleft())
        if not self.closed:
            self.loop.remove_writer(self.sock.fileno())

    def close(self) -> None:
        """Stop sending (the owner closes the socket)."""
        if self.closed:
            return
        self.closed = True
        if self.waiting and self.sock.fileno() >= 0:
            self.loop.remove_writer(self.sock.fileno())
        self.waiting.clear()
        self.waiting_bytes = 0
