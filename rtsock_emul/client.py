"""Client library: emulated PF_ROUTE sockets over the agent's transport.

    from rtsock_emul import client
    with client.socket(0) as s:                      # $RTSOCK_AGENT
        s.write(client.RtMsg("RTM_ADD", dst="198.51.100.0/24", gateway="192.0.2.1"))
        msg = s.read_msg(timeout=2)

`write` returns 0 or raises OSError whose errno is the Linux errno and whose
`illumos_name` is the illumos errno name (M13). One sans-IO core (`_Core`)
holds the protocol; `RoutingSocket` (blocking) and `AsyncRoutingSocket`
(asyncio) only move bytes.
"""
from __future__ import annotations

import asyncio
import errno
import os
import pwd
import select
import socket as _socket
import time

from rtsock_emul.rtsock.transport import (
    ENV_AGENT,
    HELLO,
    MAX_CONTROL,
    MAX_MSG,
    parse_record,
    record,
    recv_with_fds,
    send_with_fd,
)
from rtsock_emul.wire import RtMsg, decode, encode  # noqa: F401  (RtMsg re-exported)
from rtsock_emul.wire.constants import SHUT_RD, SHUT_RDWR, SHUT_WR  # noqa: F401

__all__ = ["socket", "asocket", "RoutingSocket", "AsyncRoutingSocket", "RtMsg", "RoutingSocketError",
           "connect_as"]


class RoutingSocketError(OSError):
    """A routing-socket call failed: `errno` is Linux's value, `illumos_name` the name."""

    def __init__(self, err: int, name: str, what: str):
        super().__init__(err, f"{what}: {name} ({os.strerror(err)})")
        self.illumos_name = name


def _agent_path(path: str | None) -> str:
    path = path or os.environ.get(ENV_AGENT)
    if not path:
        raise RoutingSocketError(errno.ENOENT, "ENOENT",
                                 f"no agent: pass path= or set {ENV_AGENT} to the agent's socket")
    return path


def _resolve_user(user) -> tuple[int, int]:
    try:
        entry = pwd.getpwuid(user) if isinstance(user, int) else pwd.getpwnam(user)
    except KeyError:
        if isinstance(user, int):
            return user, user
        raise ValueError(f"no such user {user!r}") from None
    return entry.pw_uid, entry.pw_gid


def connect_as(path: str, user) -> _socket.socket:
    """A data connection to `path` made by a child running as `user`, so that
    SO_PEERCRED (taken at connect time) shows that uid (R9)."""
    uid, gid = _resolve_user(user)
    parent, child = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid == 0:  # child: only async-signal-safe-ish calls, then _exit
        status = 1
        try:
            parent.close()
            os.setgroups([])
            os.setgid(gid)
            os.setuid(uid)
            conn = _socket.socket(_socket.AF_UNIX, _socket.SOCK_SEQPACKET)
            conn.connect(path)
            send_with_fd(child, b"ok", conn.fileno())
            status = 0
        except OSError as exc:
            try:
                child.send(record(errno=exc.errno or errno.EIO, text=str(exc)))
            except OSError:
                pass
        finally:
            os._exit(status)
    child.close()
    try:
        data, fds = recv_with_fds(parent)
    finally:
        parent.close()
        os.waitpid(pid, 0)
    if not fds:
        err = parse_record(data) if data else {"errno": errno.EIO, "text": "child died"}
        raise RoutingSocketError(err["errno"], errno.errorcode.get(err["errno"], "?"),
                                 f"connect to {path} as {user!r}: {err.get('text', '')}")
    return _socket.socket(fileno=fds[0])


class _Core:
    """Protocol state shared by both façades: hello, control records, overflow."""

    def __init__(self, data: _socket.socket, protocol: int):
        self.data, self.protocol = data, protocol
        self.ctrl, theirs = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_SEQPACKET)
        self.hello = HELLO + record(protocol=protocol)
        self._theirs = theirs
        self.overflow = 0       # overflow notices not yet reported as ENOBUFS
        self.dropped = 0
        self.closed = False

    def send_hello(self) -> None:
        try:
            send_with_fd(self.data, self.hello, self._theirs.fileno())
        except (BrokenPipeError, ConnectionResetError):
            raise RoutingSocketError(errno.ECONNRESET, "ECONNRESET",
                                     "the agent closed the connection before the hello "
                                     "(its log says why, e.g. out of file descriptors)") from None
        self._theirs.close()

    def on_control(self, data: bytes, want: str):
        """Handle one control record; return it if it is the awaited kind (`want`)."""
        if not data:
            raise RoutingSocketError(errno.ECONNRESET, "ECONNRESET", "the agent closed the routing socket")
        rec = parse_record(data)
        if rec.get("op") == "overflow":
            self.overflow += 1
            self.dropped = rec.get("dropped", self.dropped)
            return None
        if rec.get("op") != want:
            raise RoutingSocketError(errno.EPROTO, "EPROTO", f"expected a {want} record, got {rec}")
        return rec

    @staticmethod
    def check(rec: dict, what: str):
        if rec["errno"]:
            raise RoutingSocketError(rec["errno"], rec.get("name") or errno.errorcode.get(rec["errno"], "?"),
                                     what)
        return rec.get("value")

    def take_overflow(self) -> bool:
        """True once per overflow notice: the caller asks the agent for the count
        (op "dropped"; the notice's own count is the one at the first drop) and
        raises `overflow_error`."""
        if self.overflow:
            self.overflow = 0
            return True
        return False

    def overflow_error(self, dropped: int | None) -> RoutingSocketError:
        if dropped is not None:
            self.dropped = dropped
        exc = RoutingSocketError(errno.ENOBUFS, "ENOBUFS",
                                 f"routing socket overflowed; {self.dropped} messages dropped so far")
        exc.dropped = self.dropped
        return exc

    @staticmethod
    def request_bytes(msg) -> bytes:
        return bytes(msg) if isinstance(msg, (bytes, bytearray, memoryview)) else encode(msg)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.data.close()
            self.ctrl.close()
            if self._theirs.fileno() >= 0:
                self._theirs.close()


def _open_data(path, user) -> _socket.socket:
    if user is not None:
        return connect_as(path, user)
    data = _socket.socket(_socket.AF_UNIX, _socket.SOCK_SEQPACKET)
    try:
        data.connect(path)
    except OSError:
        data.close()
        raise
    return data


class RoutingSocket:
    """A blocking emulated routing socket."""

    def __init__(self, protocol: int = 0, *, path: str | None = None, user=None):
        self.path = _agent_path(path)
        self._core = _Core(_open_data(self.path, user), protocol)
        try:
            self._core.send_hello()
            _Core.check(self._wait("hello"), f"socket(PF_ROUTE, SOCK_RAW, {protocol})")
        except BaseException:
            self._core.close()
            raise

    def _wait(self, want: str, timeout: float | None = None) -> dict:
        core = self._core
        core.ctrl.settimeout(timeout)
        while True:
            rec = core.on_control(core.ctrl.recv(MAX_CONTROL), want)
            if rec is not None:
                return rec

    def _drain_control(self) -> None:
        core = self._core
        while select.select([core.ctrl], [], [], 0)[0]:
            core.on_control(core.ctrl.recv(MAX_CONTROL), "none")

    def write(self, msg) -> int:
        """Send one request (bytes or a wire message); 0, or OSError with the request's errno."""
        data = _Core.request_bytes(msg)
        self._core.data.sendall(data)
        _Core.check(self._wait("ack"), f"write({len(data)} bytes)")
        return 0

    def read(self, timeout: float | None = None) -> bytes:
        """One whole routing message (R42); TimeoutError after `timeout` seconds."""
        core = self._core
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self._drain_control()
            if core.take_overflow():
                raise core.overflow_error(self._call(op="dropped"))
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            ready = select.select([core.data, core.ctrl], [], [], left)[0]
            if core.data in ready:
                data = core.data.recv(MAX_MSG)
                if not data:
                    raise RoutingSocketError(errno.ECONNRESET, "ECONNRESET", "the agent closed the routing socket")
                return data
            if not ready:
                raise TimeoutError(f"no routing message within {timeout}s")

    def read_msg(self, timeout: float | None = None):
        return decode(self.read(timeout))

    def read_reply(self, seq: int, timeout: float = 5.0, pid: int | None = None):
        """The first message with our (pid, seq): the echo or RTM_GET reply (M10)."""
        pid = os.getpid() if pid is None else pid
        deadline = time.monotonic() + timeout
        while True:
            msg = self.read_msg(max(0.0, deadline - time.monotonic()))
            if getattr(msg, "rtm_seq", None) == seq and msg.rtm_pid == pid:
                return msg

    def _call(self, **fields):
        self._core.ctrl.send(record(**fields))
        return _Core.check(self._wait("reply"), f"{fields['op']}({fields})")

    def setsockopt(self, level: int, name: int, value: int) -> None:
        self._call(op="setsockopt", level=level, name=name, value=int(value))

    def getsockopt(self, level: int, name: int) -> int:
        return self._call(op="getsockopt", level=level, name=name)

    def shutdown(self, how: int) -> None:
        self._call(op="shutdown", how=how)

    def ident(self) -> int:
        """This socket's name in the agent's delivery journal (lab-only)."""
        return self._call(op="ident")

    def fileno(self) -> int:
        """The data connection's fd: readable when a message is waiting."""
        return self._core.data.fileno()

    def close(self) -> None:
        self._core.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __iter__(self):
        while True:
            yield self.read_msg()


class AsyncRoutingSocket:
    """The asyncio form: `await s.write(m)`, `await s.read()`, `async for msg in s`."""

    def __init__(self, core: _Core, path: str):
        self._core, self.path = core, path
        self._loop = asyncio.get_running_loop()
        for sock in (core.data, core.ctrl):
            sock.setblocking(False)

    @classmethod
    async def open(cls, protocol: int = 0, *, path: str | None = None, user=None):
        path = _agent_path(path)
        loop = asyncio.get_running_loop()
        if user is not None:
            data = await loop.run_in_executor(None, connect_as, path, user)
        else:
            data = _socket.socket(_socket.AF_UNIX, _socket.SOCK_SEQPACKET)
            data.setblocking(False)
            await loop.sock_connect(data, path)
        core = _Core(data, protocol)
        core.send_hello()
        self = cls(core, path)
        try:
            _Core.check(await self._wait("hello"), f"socket(PF_ROUTE, SOCK_RAW, {protocol})")
        except BaseException:
            core.close()
            raise
        return self

    async def _wait(self, want: str) -> dict:
        while True:
            rec = self._core.on_control(await self._loop.sock_recv(self._core.ctrl, MAX_CONTROL), want)
            if rec is not None:
                return rec

    def _drain_control(self) -> None:
        core = self._core
        while True:
            try:
                data = core.ctrl.recv(MAX_CONTROL)
            except BlockingIOError:
                return
            core.on_control(data, "none")

    async def write(self, msg) -> int:
        data = _Core.request_bytes(msg)
        await self._loop.sock_sendall(self._core.data, data)
        _Core.check(await self._wait("ack"), f"write({len(data)} bytes)")
        return 0

    async def read(self) -> bytes:
        self._drain_control()
        if self._core.take_overflow():
            raise self._core.overflow_error(await self._call(op="dropped"))
        data = await self._loop.sock_recv(self._core.data, MAX_MSG)
        if not data:
            raise RoutingSocketError(errno.ECONNRESET, "ECONNRESET", "the agent closed the routing socket")
        return data

    async def read_msg(self):
        return decode(await self.read())

    async def _call(self, **fields):
        await self._loop.sock_sendall(self._core.ctrl, record(**fields))
        return _Core.check(await self._wait("reply"), f"{fields['op']}({fields})")

    async def setsockopt(self, level, name, value) -> None:
        await self._call(op="setsockopt", level=level, name=name, value=int(value))

    async def getsockopt(self, level, name) -> int:
        return await self._call(op="getsockopt", level=level, name=name)

    async def shutdown(self, how) -> None:
        await self._call(op="shutdown", how=how)

    def fileno(self) -> int:
        return self._core.data.fileno()

    def close(self) -> None:
        self._core.close()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        self.close()

    def __aiter__(self):
        return self

    async def __anext__(self):
        return await self.read_msg()


def socket(protocol: int = 0, *, path: str | None = None, user=None) -> RoutingSocket:
    """socket(PF_ROUTE, SOCK_RAW, protocol) against the agent at path ($RTSOCK_AGENT)."""
    return RoutingSocket(protocol, path=path, user=user)


async def asocket(protocol: int = 0, *, path: str | None = None, user=None) -> AsyncRoutingSocket:
    return await AsyncRoutingSocket.open(protocol, path=path, user=user)
