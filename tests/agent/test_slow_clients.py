"""Slow and hostile clients: none may block the agent's loop or make it lie
(overflow counts, admin and control channels, accept under EMFILE)."""
import asyncio
import errno
import json
import logging
import os
import resource
import socket
import threading
import time
import types

import pytest

from rtsock_emul import client
from rtsock_emul.agent.server import Server
from rtsock_emul.fuzz.flood import flood, hung_up
from rtsock_emul.util.wait import wait_until
from rtsock_emul.wire import RtMsg
from rtsock_emul.wire import constants as C
from rtsock_emul.wire.structs import RT_MSGHDR

from .agents import SIM_CONFIG, AgentProcess, wait_addresses_up
from .helpers import add

BURST = 3000


@pytest.fixture
def fresh_agent(request):
    a = AgentProcess(getattr(request, "param", SIM_CONFIG))
    try:
        wait_addresses_up(a.path)
        yield a
    finally:
        a.stop()


def _read_all(sock, quiet=0.5) -> int:
    n = 0
    while True:
        try:
            sock.read(timeout=quiet)
        except TimeoutError:
            return n
        n += 1


def test_M10_overflow_notice_counts_every_dropped_message(fresh_agent):
    """After a burst, the ENOBUFS a stalled reader gets carries the true number of
    messages dropped for it, at the time it reads (not the count at the first drop)."""
    agent = fresh_agent
    with agent.socket() as writer, agent.socket() as stalled:
        writer.setsockopt(C.SOL_SOCKET, C.SO_USELOOPBACK, 0)
        stalled.setsockopt(C.SOL_SOCKET, C.SO_RCVBUF, 16384)
        route = add("198.51.100.0/24").encode()      # encoded once; each write patches its seq
        delete = RtMsg("RTM_DELETE", dst="198.51.100.0/24", gateway="192.0.2.1").encode()
        for seq in range(1, BURST + 1):
            # returns once the agent queued the echo for everyone
            writer.write(RT_MSGHDR.patch(route if seq % 2 else delete, rtm_seq=seq))
        with pytest.raises(OSError) as info:
            stalled.read(timeout=2)
        assert info.value.errno == errno.ENOBUFS
        delivered = _read_all(stalled)
        assert 0 < delivered < BURST
        assert f"{BURST - delivered} messages dropped" in str(info.value), (delivered, str(info.value))
        assert info.value.dropped == BURST - delivered


FLOOD = 2000         # requests a hostile client sends without reading a reply
LATENCY_LIMIT = 0.5  # s; an RTM_GET takes ~2 ms here, a blocked loop 5 s and more


def _served_until(agent, done, timeout=20.0) -> list[float]:
    """Seconds each RTM_GET of another client took, issued back to back until
    done() (or timeout); a thread, so that a stalled agent fails the test
    instead of hanging it."""
    out, errors = [], []
    deadline = time.monotonic() + timeout

    def run():
        try:
            with agent.socket() as s:
                s.setsockopt(C.SOL_SOCKET, C.SO_USELOOPBACK, 0)
                while time.monotonic() < deadline and not (out and done()):
                    t0 = time.monotonic()
                    s.write(RtMsg("RTM_GET", dst="192.0.2.1"))
                    out.append(time.monotonic() - t0)
        except OSError as exc:
            errors.append(exc)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(timeout + 5)
    assert not t.is_alive(), f"the agent stalled: {len(out)} RTM_GETs answered, slowest {max(out, default=0):.3f}s"
    assert not errors, errors
    assert out, f"no RTM_GET answered within {timeout}s: the agent's loop is blocked"
    assert max(out) < LATENCY_LIMIT, f"{len(out)} RTM_GETs, slowest {max(out):.3f}s"
    assert done(), f"not done after {timeout}s ({len(out)} RTM_GETs, slowest {max(out):.3f}s)"
    return out


def _until_closed(sock, timeout=10.0) -> int:
    """Read what the agent queued for sock until it closed the connection; how many records."""
    sock.setblocking(True)
    sock.settimeout(timeout)
    n = 0
    while sock.recv(1 << 16):
        n += 1
    return n


@pytest.mark.parametrize("fresh_agent", [dict(SIM_CONFIG, mpathd={})], indirect=True, ids=["mpathd"])
def test_slow_admin_client_cannot_stall_the_agent(fresh_agent):
    """An unprivileged user queues hundreds of `ipmpstat -g` on the admin socket
    (mode 0666) and reads nothing: other clients stay served in milliseconds and
    the agent drops that connection once its bounded reply queue is full."""
    agent = fresh_agent
    hostile = client.connect_as(agent.path + ".admin", "nobody")
    try:
        sent = flood(hostile, json.dumps({"argv": ["ipmpstat", "-g"]}).encode(), FLOOD)
        assert sent > 200
        _served_until(agent, lambda: hung_up(hostile))
        assert _until_closed(hostile) < sent, "replies were queued without bound"
    finally:
        hostile.close()
    rc, out, err = agent.admin("ipmpstat", "-g")
    assert (rc, err) == (0, ""), err


def test_slow_control_client_cannot_stall_the_agent(fresh_agent):
    """A routing socket whose owner floods the control channel with getsockopt and
    never reads a reply is closed by the agent once its bounded queue is full."""
    agent = fresh_agent
    with agent.socket() as spammer:
        ctrl = spammer._core.ctrl
        sent = flood(ctrl, json.dumps({"op": "getsockopt", "level": C.SOL_SOCKET,
                                        "name": C.SO_RCVBUF}).encode(), FLOOD)
        assert sent > 200
        _served_until(agent, lambda: hung_up(spammer._core.data))
    with open(agent.log) as f:
        noise = [line for line in f if "control" in line]
    assert len(noise) < 10, noise[:20]


def _fds(pid: int) -> set[int]:
    return {int(fd) for fd in os.listdir(f"/proc/{pid}/fd")}


def _use_up_fds(agent) -> list:
    """Lower the agent's RLIMIT_NOFILE to its highest fd + 1 and fill the holes
    below it with idle admin connections (one fd each in the agent)."""
    fds = _fds(agent.pid)
    limit = max(fds) + 1
    _, hard = resource.prlimit(agent.pid, resource.RLIMIT_NOFILE)
    resource.prlimit(agent.pid, resource.RLIMIT_NOFILE, (limit, hard))
    fillers = []
    for _ in range(limit - len(fds)):
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        conn.connect(agent.path + ".admin")
        fillers.append(conn)
    wait_until(lambda: len(_fds(agent.pid)) == limit, 5, what=f"the agent to hold {limit} fds")
    return fillers


def test_accept_at_emfile_sheds_the_client_without_spinning(fresh_agent):
    """With its RLIMIT_NOFILE spent, the agent answers a new connection with EOF at
    once (no hang, no busy loop, one log line), keeps serving open sockets, and
    accepts again as soon as fds are free."""
    agent = fresh_agent
    first = agent.socket()
    fillers = _use_up_fds(agent)
    try:
        outcome = []

        def third():
            try:
                outcome.append(agent.socket())
            except OSError as exc:
                outcome.append(exc)
        for _ in range(3):
            t = threading.Thread(target=third, daemon=True)
            t.start()
            t.join(5)
            assert not t.is_alive(), "a client at EMFILE was left hanging"
        assert [getattr(o, "errno", o) for o in outcome] == [errno.ECONNRESET] * 3, outcome
        assert [first.write(RtMsg("RTM_GET", dst="192.0.2.1")) for _ in range(20)] == [0] * 20
        with open(agent.log) as f:
            lines = [line for line in f if "accept on" in line]
        assert len(lines) == 1 and "RLIMIT_NOFILE" in lines[0], (len(lines), lines[:3])
        held = len(_fds(agent.pid))
        first.close()  # frees two fds once the agent sees it
        wait_until(lambda: len(_fds(agent.pid)) <= held - 2, 5, what="the agent to close a socket")
        with agent.socket() as again:
            assert again.write(RtMsg("RTM_GET", dst="192.0.2.1")) == 0
    finally:
        first.close()
        for conn in fillers:
            conn.close()


class _NoFdListener:
    """A listener whose accept always fails with EMFILE (fileno: a readable socket)."""

    def __init__(self):
        self.a, self.b = socket.socketpair()
        self.b.send(b"x")
        self.accepts = 0

    def fileno(self):
        return self.a.fileno()

    def accept(self):
        self.accepts += 1
        raise OSError(errno.EMFILE, "Too many open files")

    def getsockname(self):
        return "test-listener"


def test_accept_at_emfile_without_a_reserve_fd_backs_off(caplog):
    """No fd even for the reserve: the listener rests (no reader) and comes back."""
    loop = asyncio.new_event_loop()
    listener = _NoFdListener()
    server = Server(types.SimpleNamespace(log=logging.getLogger("test.emfile")), loop, "/nonexistent")
    server._listeners.append(listener)
    try:
        loop.add_reader(listener.fileno(), server._accept, listener, None)
        resumed = loop.create_future()
        loop.call_later(0.5, resumed.set_result, None)
        with caplog.at_level(logging.ERROR, "test.emfile"):
            loop.run_until_complete(resumed)
        # 0.5 s at a readable listener: a handful of accepts (0.25 s apart), not a spin
        assert 1 <= listener.accepts <= 4, listener.accepts
        assert len(caplog.records) == 1 and "RLIMIT_NOFILE" in caplog.records[0].getMessage()
    finally:
        server._listeners.clear()
        loop.close()
        listener.a.close()
        listener.b.close()
