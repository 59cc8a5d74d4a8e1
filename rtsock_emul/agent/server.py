"""The agent's listeners and connections: one asyncio loop, non-blocking sockets,
readers registered with loop.add_reader (no threads, no polling).

A connection that sends garbage gets an errno back (or is closed if it cannot
even say hello); the exception is logged and no other connection notices.
"""
from __future__ import annotations

import errno
import inspect
import json
import os
import socket
import stat
from typing import Any

from rtsock_emul.rtsock.request import handle_request
from rtsock_emul.rtsock.socket import RtSocket, SockoptError
from rtsock_emul.rtsock.transport import (
    ADMIN_SUFFIX,
    HELLO,
    INTERNAL_ERROR_RC,
    MAX_CONTROL,
    MAX_MSG,
    errno_record,
    parse_record,
    peercred,
    record,
    recv_with_fds,
    recv_with_pid,
)

from .outbox import SEND_FLAGS, Outbox
from .verbs import run_admin

_REQUESTS_PER_WAKEUP = 16  # then yield to other connections
_ACCEPT_BACKOFF = 0.25     # s a listener rests when no fd at all can be had
_FD_LOG_EVERY = 10.0       # s between two "out of file descriptors" lines


class AgentStartError(RuntimeError):
    """The agent cannot listen at its path; the text says what to do."""


def listen(path: str) -> socket.socket:
    """A SOCK_SEQPACKET listener at path, removing a stale socket file only if dead."""
    if os.path.lexists(path):
        if not stat.S_ISSOCK(os.lstat(path).st_mode):
            raise AgentStartError(f"{path} exists and is not a socket; choose another --socket path")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            probe.connect(path)
        except OSError:
            os.unlink(path)  # stale: its agent is gone
        else:
            raise AgentStartError(f"an agent is already listening at {path}; stop it first")
        finally:
            probe.close()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    sock.bind(path)
    os.chmod(path, 0o666)  # anyone may open a routing socket; privilege is per request (R9)
    sock.listen(128)
    sock.setblocking(False)
    return sock


class Server:
    """Data listener at `path`, admin listener at `path + ".admin"`."""

    def __init__(self, ctx, loop, path: str):
        self.ctx, self.loop, self.path = ctx, loop, path
        self.admin_path = path + ADMIN_SUFFIX
        self.conns: set = set()
        self._listeners: list[socket.socket] = []
        self._bound: list[str] = []  # only these socket files are ours to remove
        self._reserve: int | None = None  # spent to shed a client when accept gets EMFILE
        self._refused = 0
        self._refused_logged_at: float | None = None

    def start(self) -> None:
        self._reserve = _reserve_fd()
        data = listen(self.path)
        self._listeners.append(data)
        self._bound.append(self.path)
        admin = listen(self.admin_path)
        self._listeners.append(admin)
        self._bound.append(self.admin_path)
        self.loop.add_reader(data.fileno(), self._accept, data, DataConn)
        self.loop.add_reader(admin.fileno(), self._accept, admin, AdminConn)

    def close(self) -> None:
        for conn in tuple(self.conns):
            conn.close()
        for sock in self._listeners:
            self.loop.remove_reader(sock.fileno())
            sock.close()
        self._listeners.clear()
        for path in self._bound:
            if os.path.lexists(path):
                os.unlink(path)
        self._bound.clear()
        if self._reserve is not None:
            os.close(self._reserve)
            self._reserve = None

    def _accept(self, listener: socket.socket, kind) -> None:
        try:
            sock, _ = listener.accept()
        except BlockingIOError:
            return
        except OSError as exc:
            if exc.errno in (errno.EMFILE, errno.ENFILE):
                return self._out_of_fds(listener, kind, exc)
            self.ctx.log.error("accept on %s failed: %s", listener.getsockname(), exc)
            return
        sock.setblocking(False)
        self.conns.add(kind(self, sock))

    def _out_of_fds(self, listener: socket.socket, kind, exc: OSError) -> None:
        """The pending client stays pending and its listener readable: spend the
        reserve fd to accept and close it (the client sees EOF at once), or, with no
        fd at all, stop listening for _ACCEPT_BACKOFF. Never spin; log rarely."""
        self._refused += 1
        shed = False
        if self._reserve is not None:
            os.close(self._reserve)
            try:
                listener.accept()[0].close()
                shed = True
            except OSError:
                pass
            self._reserve = _reserve_fd()
        if not shed:
            self.loop.remove_reader(listener.fileno())
            self.loop.call_later(_ACCEPT_BACKOFF, self._resume, listener, kind)
        now = self.loop.time()
        if self._refused_logged_at is None or now - self._refused_logged_at >= _FD_LOG_EVERY:
            self.ctx.log.error("accept on %s: %s; refused %d connection(s) since the last such line; "
                               "close routing sockets or raise the agent's RLIMIT_NOFILE",
                               listener.getsockname(), exc, self._refused)
            self._refused, self._refused_logged_at = 0, now

    def _resume(self, listener: socket.socket, kind) -> None:
        if listener in self._listeners:
            self.loop.add_reader(listener.fileno(), self._accept, listener, kind)


def _reserve_fd() -> int | None:
    try:
        return os.open(os.devnull, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None


class DataConn:
    """One routing socket: hello, then requests in and messages out."""

    def __init__(self, server: Server, sock: socket.socket):
        self.server, self.loop, self.log = server, server.loop, server.ctx.log
        self.data = sock
        # set by the hello; the request and control readers exist only after it
        self.ctrl: socket.socket | None = None
        self.rts: RtSocket | None = None
        self.out: Outbox | None = None
        self.closed = False
        self.pid, self.uid, self.gid = peercred(sock)
        # rtm_pid is the process that writes (R28), which may not be the one that
        # connected (client.socket(user=...) connects from a child): per-message creds.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.label = f"rtsock pid {self.pid} uid {self.uid} fd {sock.fileno()}"
        self.loop.add_reader(sock.fileno(), self._on_hello)

    # -- hello ---------------------------------------------------------------
    def _on_hello(self) -> None:
        try:
            data, fds = recv_with_fds(self.data, MAX_CONTROL)
        except BlockingIOError:
            return
        except OSError as exc:
            self.log.warning("%s: hello failed: %s", self.label, exc)
            return self.close()
        if not fds:
            self.log.warning("%s: hello without a control fd (%r); closing", self.label, data[:60])
            return self.close()
        self.ctrl = ctrl = socket.socket(fileno=fds[0])
        ctrl.setblocking(False)
        ctrl.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)  # empty record vs EOF
        self.out = Outbox(self.loop, ctrl, on_stuck=self._stuck, on_gone=self._gone)
        try:
            if not data.startswith(HELLO):
                raise ValueError(f"hello must start with {HELLO!r}")
            protocol = int(parse_record(data[len(HELLO):]).get("protocol", 0))
            self.rts = rts = RtSocket(proto=protocol, uid=self.uid, pid=self.pid, name=self.label,
                                privileged=self.server.ctx.privileged(self.uid),
                                send=self._send, notify_overflow=self._overflow,
                                resize=self._resize)
        except SockoptError as exc:  # R1
            self._control(errno_record("hello", exc.errno or errno.EINVAL))
            return self.close()
        except (ValueError, TypeError) as exc:
            self.log.warning("%s: bad hello %r: %s", self.label, data[:80], exc)
            self._control(errno_record("hello", errno.EINVAL))
            return self.close()
        self._resize(rts.rcvbuf)
        self.server.ctx.hub.add(rts)
        self._control(errno_record("hello", 0))
        self.loop.remove_reader(self.data.fileno())
        self.loop.add_reader(self.data.fileno(), self._on_request)
        self.loop.add_reader(ctrl.fileno(), self._on_control)

    # -- requests --------------------------------------------------------------
    def _on_request(self) -> None:
        for _ in range(_REQUESTS_PER_WAKEUP):
            if self.closed:
                return
            try:
                data, pid = recv_with_pid(self.data, MAX_MSG + 1)
            except BlockingIOError:
                return
            except ConnectionResetError:  # closed with messages unread: an ordinary close
                return self.close()
            except OSError as exc:
                self.log.info("%s: data connection error %s; closing", self.label, exc)
                return self.close()
            if not data and pid is None:
                # End of file carries no SCM_CREDENTIALS; write(b"") does (R6: EINVAL).
                return self.close()  # the client closed its routing socket
            self._control(self._request(data, pid))

    def _request(self, data: bytes, pid: int | None) -> bytes:
        assert self.rts is not None     # requests are read only after the hello
        if self.rts.shut_wr:
            return errno_record("ack", errno.EPIPE)
        try:
            err = handle_request(self.server.ctx.kernel, self.server.ctx.hub, self.rts, data, pid)
        except Exception:  # a bug must not take the agent down; the client gets EIO
            self.log.exception("%s: request %s failed inside the agent", self.label, data[:96].hex())
            return errno_record("ack", errno.EIO)
        return errno_record("ack", int(err), getattr(err, "name", None))

    # -- control ---------------------------------------------------------------
    def _on_control(self) -> None:
        assert self.ctrl is not None and self.rts is not None     # read only after the hello
        try:
            data, pid = recv_with_pid(self.ctrl, MAX_CONTROL)
        except BlockingIOError:
            return
        except OSError as exc:
            self.log.info("%s: control channel error %s; closing", self.label, exc)
            return self.close()
        if not data and pid is None:  # EOF (an empty record carries credentials)
            return self.close()
        try:
            req = parse_record(data)
            op = req["op"]
            handler = _CONTROL_OPS[op]
        except (ValueError, KeyError) as exc:
            self.log.warning("%s: bad control record %r: %s", self.label, data[:80], exc)
            return self._control(errno_record("reply", errno.EINVAL))
        try:
            value = handler(self.rts, req)
        except SockoptError as exc:
            return self._control(errno_record("reply", exc.errno or errno.EINVAL))
        except (TypeError, ValueError, KeyError, ArithmeticError) as exc:  # a missing or odd field
            self.log.warning("%s: bad %s record %r: %s", self.label, op, req, exc)
            return self._control(errno_record("reply", errno.EINVAL))
        self._control(errno_record("reply", 0, value=value))

    def _control(self, rec: bytes) -> None:
        if self.out is not None:
            self.out.send(rec)

    def _stuck(self, records: int, nbytes: int) -> None:
        self.log.warning("%s: %d control records (%d bytes) unread: the client does not read "
                         "its acks and replies; closing the routing socket", self.label, records, nbytes)
        self.close()

    def _gone(self, exc: OSError) -> None:
        self.log.info("%s: control channel gone (%s); closing", self.label, exc)
        self.close()

    # -- delivery (RtSocket's transport) --------------------------------------------
    def _send(self, data: bytes) -> bool:
        try:
            self.data.send(data, SEND_FLAGS)
        except BlockingIOError:
            return False
        except OSError:  # the reader is gone; its EOF closes the connection
            return True
        return True

    def _overflow(self, dropped: int) -> None:
        self.log.info("%s: receive buffer full, %d dropped so far", self.label, dropped)
        self._control(record(op="overflow", dropped=dropped))

    def _resize(self, nbytes: int) -> None:
        self.data.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, max(nbytes, 1))

    def close(self) -> None:
        self.closed = True
        if self.out is not None:
            self.out.close()
        if self.rts is not None:
            self.server.ctx.hub.remove(self.rts)
        for sock in (self.data, self.ctrl):
            if sock is not None and sock.fileno() >= 0:
                self.loop.remove_reader(sock.fileno())
                sock.close()
        self.server.conns.discard(self)


def _setsockopt(rts: RtSocket, req: dict[str, Any]) -> Any:
    rts.setsockopt(int(req["level"]), int(req["name"]), int(req["value"]))
    return None


def _getsockopt(rts: RtSocket, req: dict[str, Any]) -> Any:
    return rts.getsockopt(int(req["level"]), int(req["name"]))


def _shutdown(rts: RtSocket, req: dict[str, Any]) -> Any:
    rts.shutdown(int(req["how"]))
    return None


def _dropped(rts: RtSocket, req: dict[str, Any]) -> Any:
    return rts.dropped  # read when the client reports ENOBUFS: the count at that moment


def _ident(rts: RtSocket, req: dict[str, Any]) -> Any:
    """The socket's name in the delivery journal (lab-only; `kernel journal`)."""
    return rts.ident


_CONTROL_OPS = {"setsockopt": _setsockopt, "getsockopt": _getsockopt, "shutdown": _shutdown,
                "dropped": _dropped, "ident": _ident}


class AdminConn:
    """`{"argv": [...]}` -> `{"rc", "out", "err"}`, one at a time, in order."""

    def __init__(self, server: Server, sock: socket.socket):
        self.server, self.loop, self.log = server, server.loop, server.ctx.log
        self.sock = sock
        _, self.uid, _ = peercred(sock)
        self.label = f"admin uid {self.uid} fd {sock.fileno()}"
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)  # empty record vs EOF
        self.out = Outbox(self.loop, sock, on_stuck=self._stuck, on_gone=self._gone)
        self.loop.add_reader(sock.fileno(), self._on_request)

    def _on_request(self) -> None:
        try:
            data, pid = recv_with_pid(self.sock, MAX_CONTROL)
        except BlockingIOError:
            return
        except OSError:
            return self.close()
        if not data and pid is None:  # EOF; an empty record gets "bad admin request"
            return self.close()
        try:
            argv = parse_record(data)["argv"]
            if not isinstance(argv, list) or not all(isinstance(a, str) for a in argv):
                raise ValueError("argv must be a list of strings")
        except (ValueError, KeyError) as exc:
            return self._reply(2, "", f"bad admin request {data[:80]!r}: {exc}\n")
        try:
            result = run_admin(self.server.ctx, argv, self.uid)
        except Exception as exc:
            self.log.exception("admin %r failed inside the agent", argv)
            return self._reply(INTERNAL_ERROR_RC, "", f"internal error running {' '.join(argv)}: {exc!r}\n")
        if inspect.isawaitable(result):
            self.loop.remove_reader(self.sock.fileno())  # keep replies in order
            task = self.loop.create_task(result)
            task.add_done_callback(lambda t: self._done(argv, t))
        else:
            self._reply(*result)

    def _done(self, argv, task) -> None:
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            self.log.error("admin %r failed inside the agent: %r", argv, exc)
            self._reply(INTERNAL_ERROR_RC, "", f"internal error running {' '.join(argv)}: {exc!r}\n")
        else:
            self._reply(*task.result())
        if self.sock.fileno() >= 0:
            self.loop.add_reader(self.sock.fileno(), self._on_request)

    def _reply(self, rc: int, out: str, err: str) -> None:
        self.out.send(json.dumps({"rc": rc, "out": out, "err": err}).encode())

    def _stuck(self, records: int, nbytes: int) -> None:
        self.log.warning("%s: %d replies (%d bytes) unread: the client does not read them; "
                         "closing the connection", self.label, records, nbytes)
        self.close()

    def _gone(self, exc: OSError) -> None:
        self.log.info("%s: client gone before its reply (%s)", self.label, exc)
        self.close()

    def close(self) -> None:
        self.out.close()
        if self.sock.fileno() >= 0:
            self.loop.remove_reader(self.sock.fileno())
            self.sock.close()
        self.server.conns.discard(self)
