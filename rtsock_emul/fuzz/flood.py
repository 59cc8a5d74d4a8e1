"""A client that sends and never reads: what a slow or hostile client does to an
agent's channel (admin, control or routing socket), and how to see the agent
hang up on it. Used by the slow-client tests and bench/slow_clients.py."""
from __future__ import annotations

import select
import socket


def flood(sock: socket.socket, record: bytes, n: int, stall: float = 1.0) -> int:
    """Send up to n records without reading any reply, as fast as the agent takes
    them; stop when it takes none for `stall` seconds or hangs up. How many went out."""
    sock.setblocking(False)
    writable = select.poll()
    writable.register(sock, select.POLLOUT)
    sent = 0
    while sent < n:
        try:
            sock.send(record)
            sent += 1
        except BlockingIOError:
            if not writable.poll(stall * 1000):
                break
        except (BrokenPipeError, ConnectionResetError):
            break
    return sent


def hung_up(sock: socket.socket) -> bool:
    """The agent closed its end of sock (seen without reading what it queued)."""
    p = select.poll()
    p.register(sock, select.POLLRDHUP)
    return any(ev & (select.POLLHUP | select.POLLRDHUP) for _, ev in p.poll(0))
