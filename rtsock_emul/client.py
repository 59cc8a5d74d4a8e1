"""Client library: emulated PF_ROUTE sockets over the agent's transport.

    from rtsock_emul import client
    with client.socket(0) as s:                      # $RTSOCK_AGENT
        s.write(client.RtMsg("RTM_ADD", dst="198.51.100.0/24", gateway="192.0.2.1"))
        msg = s.read_msg(timeout=2)

`write` returns 0 or raises OSError whose errno is the Linux errno and whose
`illumos_name` is the illumos errno name (M13). One sans-IO core (`_Core`)
holds the whole protocol (hello, control records, overflow, replies) as
generators that yield the I/O they need (`_Send`, `_Recv`); `RoutingSocket`
(blocking) and `AsyncRoutingSocket` (asyncio) only perform that I/O. A socket
is used by one thread or task at a time, as a file descriptor would be.

`admin_call` is the client of the agent's admin channel (one verb line, one
reply); `user=` makes either channel connect as that user (SO_PEERCRED, R9).
"""
from __future__ import annotations

import errno
import os
import pwd
import select
import socket as _socket
import time
from collections import deque
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar, Union

from rtsock_emul.rtsock.transport import (
    ADMIN_SUFFIX,
    ENV_AGENT,
    HELLO,
    MAX_CONTROL,
    MAX_MSG,
    parse_record,
    record,
    recv_with_fds,
    send_with_fd,
)
from rtsock_emul.wire import RtMsg, WireError, decode, encode  # noqa: F401  (RtMsg re-exported)
from rtsock_emul.wire.constants import SHUT_RD, SHUT_RDWR, SHUT_WR  # noqa: F401
from rtsock_emul.wire.messages import Message, RtMsghdr

__all__ = ["socket", "asocket", "RoutingSocket", "AsyncRoutingSocket", "RtMsg", "RoutingSocketError",
           "connect_as", "admin_call"]

T = TypeVar("T")
User = Union[int, str]
Request = Union[bytes, bytearray, memoryview, Message]
MAX_ADMIN_REPLY = 1 << 20


class RoutingSocketError(OSError):
    """A routing-socket call failed: `errno` is Linux's value, `illumos_name` the name."""

    def __init__(self, err: int, name: str, what: str):
        super().__init__(err, f"{what}: {name} ({os.strerror(err)})")
        self.illumos_name = name
        self.dropped: int | None = None    # ENOBUFS: messages dropped so far


def _agent_path(path: str | None) -> str:
    path = path or os.environ.get(ENV_AGENT)
    if not path:
        raise RoutingSocketError(errno.ENOENT, "ENOENT",
                                 f"no agent: pass path= or set {ENV_AGENT} to the agent's socket")
    return path


def resolve_user(user: User) -> tuple[int, int]:
    """(uid, gid) of a user name or uid; a uid with no passwd entry is its own gid."""
    try:
        entry = pwd.getpwuid(user) if isinstance(user, int) else pwd.getpwnam(user)
    except KeyError:
        if isinstance(user, int):
            return user, user
        raise ValueError(f"no such user {user!r}") from None
    return entry.pw_uid, entry.pw_gid


def connect_as(path: str, user: User) -> _socket.socket:
    """A SOCK_SEQPACKET connection to `path` made by a child running as `user`,
    so that SO_PEERCRED (taken at connect time) shows that uid (R9)."""
    uid, gid = resolve_user(user)
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
        err: dict[str, Any] = parse_record(data) if data else {"errno": errno.EIO, "text": "child died"}
        raise RoutingSocketError(err["errno"], errno.errorcode.get(err["errno"], "?"),
                                 f"connect to {path} as {user!r}: {err.get('text', '')}")
    return _socket.socket(fileno=fds[0])


def _connect(path: str, user: User | None) -> _socket.socket:
    if user is not None:
        return connect_as(path, user)
    conn = _socket.socket(_socket.AF_UNIX, _socket.SOCK_SEQPACKET)
    try:
        conn.connect(path)
    except OSError:
        conn.close()
        raise
    return conn


def admin_call(path: str, argv: list[str], *, user: User | None = None,
               timeout: float | None = None) -> tuple[int, str, str]:
    """(rc, out, err) of one verb line on the admin channel of the agent at `path`
    (`path + ".admin"`: {"argv": [...]} -> {"rc", "out", "err"}). The agent runs
    the verb as the connecting uid (SO_PEERCRED), so `user=` connects from a
    child running as that user; OSError if the agent cannot be reached."""
    with _connect(path + ADMIN_SUFFIX, user) as conn:
        conn.settimeout(timeout)
        conn.sendall(record(argv=argv))
        reply = parse_record(conn.recv(MAX_ADMIN_REPLY))
    return int(reply.get("rc", 1)), reply.get("out", ""), reply.get("err", "")


# --- the I/O a core step asks its driver for -------------------------------------
@dataclass(frozen=True)
class _Send:
    """Send one record on sock."""
    sock: _socket.socket
    data: bytes


@dataclass(frozen=True)
class _Recv:
    """One record from sock (b"" at EOF), or None if none came by `deadline`
    (time.monotonic(); None waits for ever, a past one only takes what is there)."""
    sock: _socket.socket
    size: int
    deadline: float | None


_Steps = Generator[Union[_Send, _Recv], Union[bytes, None], T]
NOW = 0.0   # a deadline already past: take only what is waiting


def _deadline(timeout: float | None) -> float | None:
    return None if timeout is None else time.monotonic() + timeout


def _left(deadline: float | None) -> float | None:
    return None if deadline is None else max(0.0, deadline - time.monotonic())


def _reply_to(raw: bytes, seq: int, pid: int) -> Message | None:
    """raw decoded if it carries our (pid, seq) (M10), else None (undecodable too)."""
    try:
        msg = decode(raw)
    except WireError:
        return None
    if isinstance(msg, RtMsghdr) and (msg.rtm_seq, msg.rtm_pid) == (seq, pid):
        return msg
    return None


class _Core:
    """The protocol, written once: each public step is a generator the façades drive."""

    def __init__(self, data: _socket.socket, protocol: int):
        self.data, self.protocol = data, protocol
        self.ctrl, theirs = _socket.socketpair(_socket.AF_UNIX, _socket.SOCK_SEQPACKET)
        self.hello = HELLO + record(protocol=protocol)
        self._theirs = theirs
        self.overflow = 0       # overflow notices not yet reported as ENOBUFS
        self.dropped = 0
        self.pending: deque[bytes] = deque()   # messages read_reply passed over, for read
        self.closed = False

    # -- steps --------------------------------------------------------------------
    def open(self) -> _Steps[None]:
        """Hand the agent our end of the control channel; wait for its hello record."""
        try:
            send_with_fd(self.data, self.hello, self._theirs.fileno())
        except (BrokenPipeError, ConnectionResetError):
            raise RoutingSocketError(errno.ECONNRESET, "ECONNRESET",
                                     "the agent closed the connection before the hello "
                                     "(its log says why, e.g. out of file descriptors)") from None
        self._theirs.close()
        self.check((yield from self.wait("hello", None)), f"socket(PF_ROUTE, SOCK_RAW, {self.protocol})")

    def wait(self, want: str, deadline: float | None) -> _Steps[dict]:
        """The next control record of kind `want`, counting overflow notices on the way."""
        while True:
            data = yield _Recv(self.ctrl, MAX_CONTROL, deadline)
            if data is None:
                raise TimeoutError(f"no {want} record from the agent in time")
            rec = self.on_control(data, want)
            if rec is not None:
                return rec

    def call(self, timeout: float | None = None, **fields: Any) -> _Steps[Any]:
        """A control request: its reply's value, or RoutingSocketError with its errno."""
        yield _Send(self.ctrl, record(**fields))
        return self.check((yield from self.wait("reply", _deadline(timeout))), f"{fields['op']}({fields})")

    def control(self, data: bytes, timeout: float | None) -> _Steps[dict]:
        """Any bytes as one control record; the agent's reply record, unchecked."""
        yield _Send(self.ctrl, data)
        return (yield from self.wait("reply", _deadline(timeout)))

    def write(self, msg: Request) -> _Steps[int]:
        data = bytes(msg) if isinstance(msg, (bytes, bytearray, memoryview)) else encode(msg)
        yield _Send(self.data, data)
        self.check((yield from self.wait("ack", None)), f"write({len(data)} bytes)")
        return 0

    def drain(self) -> _Steps[None]:
        """Take every control record already waiting (overflow notices)."""
        while True:
            data = yield _Recv(self.ctrl, MAX_CONTROL, NOW)
            if data is None:
                return
            self.on_control(data, "none")

    def overflowed(self) -> _Steps[bool]:
        """True once per overflow notice: the ENOBUFS the next read would raise, taken."""
        yield from self.drain()
        return self.take_overflow()

    def read(self, timeout: float | None) -> _Steps[bytes]:
        """One whole routing message (R42): a queued one first."""
        if self.pending:
            return self.pending.popleft()
        return (yield from self._receive(_deadline(timeout), timeout))

    def read_reply(self, seq: int, timeout: float | None, pid: int | None) -> _Steps[Message]:
        """The first message with our (pid, seq) (M10); the others stay queued for read."""
        pid = os.getpid() if pid is None else pid
        for raw in self.pending:
            msg = _reply_to(raw, seq, pid)
            if msg is not None:
                self.pending.remove(raw)
                return msg
        deadline = _deadline(timeout)
        while True:
            raw = yield from self._receive(deadline, timeout)
            msg = _reply_to(raw, seq, pid)
            if msg is not None:
                return msg
            self.pending.append(raw)

    def _receive(self, deadline: float | None, timeout: float | None) -> _Steps[bytes]:
        yield from self.drain()
        if self.take_overflow():
            raise self.overflow_error((yield from self.call(op="dropped")))
        data = yield _Recv(self.data, MAX_MSG, deadline)
        if data is None:
            raise TimeoutError(f"no routing message within {timeout}s")
        if not data:
            raise RoutingSocketError(errno.ECONNRESET, "ECONNRESET", "the agent closed the routing socket")
        return data

    # -- state --------------------------------------------------------------------
    def on_control(self, data: bytes, want: str) -> dict | None:
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
    def check(rec: dict, what: str) -> Any:
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

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self.data.close()
            self.ctrl.close()
            if self._theirs.fileno() >= 0:
                self._theirs.close()


class RoutingSocket:
    """A blocking emulated routing socket."""

    def __init__(self, protocol: int = 0, *, path: str | None = None, user: User | None = None):
        self.path = _agent_path(path)
        self._core = _Core(_connect(self.path, user), protocol)
        try:
            self._run(self._core.open())
        except BaseException:
            self._core.close()
            raise

    @staticmethod
    def _run(steps: _Steps[T]) -> T:
        """Drive a core step with blocking I/O."""
        result: bytes | None = None
        try:
            while True:
                op = steps.send(result)
                if isinstance(op, _Send):
                    op.sock.sendall(op.data)
                    result = None
                elif select.select([op.sock], [], [], _left(op.deadline))[0]:
                    result = op.sock.recv(op.size)
                else:
                    result = None
        except StopIteration as stop:
            value: T = stop.value
            return value

    def write(self, msg: Request) -> int:
        """Send one request (bytes or a wire message); 0, or OSError with the request's errno."""
        return self._run(self._core.write(msg))

    def read(self, timeout: float | None = None) -> bytes:
        """One whole routing message (R42); TimeoutError after `timeout` seconds."""
        return self._run(self._core.read(timeout))

    def read_msg(self, timeout: float | None = None) -> Message:
        return decode(self.read(timeout))

    def read_reply(self, seq: int, timeout: float | None = 5.0, pid: int | None = None) -> Message:
        """The first message with our (pid, seq): the echo or RTM_GET reply (M10).
        Messages passed over on the way stay queued: `read` returns them next."""
        return self._run(self._core.read_reply(seq, timeout, pid))

    @property
    def pending(self) -> int:
        """Messages read_reply queued: `read` returns them without touching fileno()."""
        return len(self._core.pending)

    def overflowed(self) -> bool:
        """For a caller that reads fileno() itself: True once per overflow notice,
        which is then taken (the next read() does not raise that ENOBUFS)."""
        return self._run(self._core.overflowed())

    def control(self, data: bytes, timeout: float | None = None) -> dict:
        """Send any bytes as one control record; the agent's reply record (lab-only)."""
        return self._run(self._core.control(data, timeout))

    def setsockopt(self, level: int, name: int, value: int) -> None:
        self._run(self._core.call(op="setsockopt", level=level, name=name, value=int(value)))

    def getsockopt(self, level: int, name: int) -> int:
        value: int = self._run(self._core.call(op="getsockopt", level=level, name=name))
        return value

    def shutdown(self, how: int) -> None:
        self._run(self._core.call(op="shutdown", how=how))

    def ident(self) -> int:
        """This socket's name in the agent's delivery journal (lab-only)."""
        value: int = self._run(self._core.call(op="ident"))
        return value

    def fileno(self) -> int:
        """The data connection's fd: readable when a message is waiting (see `pending`)."""
        return self._core.data.fileno()

    def close(self) -> None:
        self._core.close()

    def __enter__(self) -> RoutingSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[Message]:
        while True:
            yield self.read_msg()


class AsyncRoutingSocket:
    """The asyncio form: `await s.write(m)`, `await s.read()`, `async for msg in s`."""

    def __init__(self, core: _Core, path: str):
        import asyncio  # here: the blocking form (the `rtsock` command) starts without it
        self._core, self.path = core, path
        self._loop = asyncio.get_running_loop()
        for sock in (core.data, core.ctrl):
            sock.setblocking(False)

    @classmethod
    async def open(cls, protocol: int = 0, *, path: str | None = None,
                   user: User | None = None) -> AsyncRoutingSocket:
        import asyncio
        path = _agent_path(path)
        loop = asyncio.get_running_loop()
        if user is not None:
            data = await loop.run_in_executor(None, connect_as, path, user)
        else:
            data = _socket.socket(_socket.AF_UNIX, _socket.SOCK_SEQPACKET)
            data.setblocking(False)
            try:
                await loop.sock_connect(data, path)
            except BaseException:
                data.close()
                raise
        self = cls(_Core(data, protocol), path)
        try:
            await self._run(self._core.open())
        except BaseException:
            self._core.close()
            raise
        return self

    async def _run(self, steps: _Steps[T]) -> T:
        """Drive a core step with the event loop."""
        result: bytes | None = None
        try:
            while True:
                op = steps.send(result)
                if isinstance(op, _Send):
                    await self._loop.sock_sendall(op.sock, op.data)
                    result = None
                else:
                    result = await self._recv(op)
        except StopIteration as stop:
            value: T = stop.value
            return value

    async def _recv(self, op: _Recv) -> bytes | None:
        while True:
            try:
                return op.sock.recv(op.size)
            except BlockingIOError:
                pass
            left = _left(op.deadline)
            if left == 0 or not await self._readable(op.sock, left):
                return None

    async def _readable(self, sock: _socket.socket, timeout: float | None) -> bool:
        """True once sock is readable; False after `timeout` seconds (None: no limit)."""
        import asyncio
        readable: asyncio.Future[None] = self._loop.create_future()

        def wake() -> None:
            if not readable.done():
                readable.set_result(None)
        self._loop.add_reader(sock.fileno(), wake)
        try:
            await asyncio.wait_for(readable, timeout)
            return True
        except TimeoutError:
            return False
        finally:
            self._loop.remove_reader(sock.fileno())

    async def write(self, msg: Request) -> int:
        return await self._run(self._core.write(msg))

    async def read(self, timeout: float | None = None) -> bytes:
        """One whole routing message (R42); TimeoutError after `timeout` seconds."""
        return await self._run(self._core.read(timeout))

    async def read_msg(self, timeout: float | None = None) -> Message:
        return decode(await self.read(timeout))

    async def read_reply(self, seq: int, timeout: float | None = 5.0, pid: int | None = None) -> Message:
        """As RoutingSocket.read_reply: passed-over messages stay queued for read."""
        return await self._run(self._core.read_reply(seq, timeout, pid))

    @property
    def pending(self) -> int:
        return len(self._core.pending)

    async def setsockopt(self, level: int, name: int, value: int) -> None:
        await self._run(self._core.call(op="setsockopt", level=level, name=name, value=int(value)))

    async def getsockopt(self, level: int, name: int) -> int:
        value: int = await self._run(self._core.call(op="getsockopt", level=level, name=name))
        return value

    async def shutdown(self, how: int) -> None:
        await self._run(self._core.call(op="shutdown", how=how))

    async def ident(self) -> int:
        value: int = await self._run(self._core.call(op="ident"))
        return value

    def fileno(self) -> int:
        return self._core.data.fileno()

    def close(self) -> None:
        self._core.close()

    async def __aenter__(self) -> AsyncRoutingSocket:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    def __aiter__(self) -> AsyncRoutingSocket:
        return self

    async def __anext__(self) -> Message:
        return await self.read_msg()


def socket(protocol: int = 0, *, path: str | None = None, user: User | None = None) -> RoutingSocket:
    """socket(PF_ROUTE, SOCK_RAW, protocol) against the agent at path ($RTSOCK_AGENT)."""
    return RoutingSocket(protocol, path=path, user=user)


async def asocket(protocol: int = 0, *, path: str | None = None,
                  user: User | None = None) -> AsyncRoutingSocket:
    return await AsyncRoutingSocket.open(protocol, path=path, user=user)
