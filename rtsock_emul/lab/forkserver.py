"""The fork server: one warm process per Python process that starts labs; it forks each
lab's agent zygote (rtsock_emul/lab/zygote.py) with the agent stack already imported.

A cold `python -OO` importing the stack costs ~0.25 s of CPU per lab; a fork of this
process costs a few ms (docs/performance.md "Labs after the first"). The server belongs to the
process that started it, never to a lab, and is never shared with another process:
- it is started at the first lab (`start_soon()`: it imports while Mininet builds the
  first network) and ended at exit (atexit) or by `shutdown()`; by pid (our child);
- the process dying ends it: PR_SET_PDEATHSIG (SIGKILL) when the main thread started it
  (the kernel's "parent" is the starting thread), and EOF on its control socket always;
- a forked copy of the process (os.fork) drops the inherited one and starts its own.

Control socket (SOCK_SEQPACKET, one JSON message each way):
  {"op": "fork", "env", "cwd"} + fds [stdin, stdout, stderr]  ->  {"pid"} | {"error"} | {"stale"}
  {"op": "command", "argv", "env", "cwd", "user"} + fds [stdout, stderr, status]  ->  {"pid"} | ...
  {"op": "children"}  ->  {"pids": [zygotes still running]}
A "command" child is the `rtsock` command (`rtsock_emul.admin.cli.main(argv)`, `route` for
the lab): a process of its own, as a started `rtsock` is (its pid is the rtm_pid of what it
writes; with "user": [uid, gid] it drops to that user first, and the agent sees that uid),
without a cold interpreter's start and imports (~80 ms of CPU each). It writes its output to
the two pipes and its exit status, as text, to the third, then exits; the server reaps it.
The forked zygote is in a session of its own, reads the lab's stdin pipe, writes events
to the lab's stdout pipe and its traceback to the lab's zygote.log; EOF on that stdin
stops it exactly as before. It is the lab's to register and end, by pid; the server only
reaps it. On EOF the server exits once its zygotes have. A project source file changed
since the server imported it makes the server answer "stale" and exit: the lab then
starts a fresh one.
"""
from __future__ import annotations

import atexit
import ctypes
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, NoReturn, Sequence

from . import stopsignals, zygote
from .errors import LabError

PROJECT_ROOT = Path(__file__).resolve().parents[2]
REPLY_TIMEOUT = 20.0        # seconds for an answer (the first one waits for the imports)
EXIT_TIMEOUT = 5.0          # seconds the server gets to exit after EOF, then SIGKILL
MAX_MSG = 1 << 20
PR_SET_NAME = 15


# --- the lab's side --------------------------------------------------------------
class Server:
    """A running fork server, our child."""

    def __init__(self, env: dict) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        main = threading.current_thread() is threading.main_thread()
        # stop signals held: a Ctrl-C inside Popen cannot leave an unrecorded server
        with stopsignals.held():
            try:
                self.proc = subprocess.Popen(      # -OO: no docstrings, ~1 MB less in every agent's RSS
                    [sys.executable, "-OO", "-m", "rtsock_emul.lab.forkserver", str(os.getpid()), str(int(main))],
                    stdin=theirs.fileno(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    env=env, cwd=str(PROJECT_ROOT), start_new_session=True)   # Ctrl-C reaches only the lab
            except BaseException:
                ours.close()
                raise
            finally:
                theirs.close()
        self.sock = ours
        self.key = _startup_key(env)
        self.lock = threading.Lock()      # one request at a time: labs may start in threads

    def request(self, req: dict, fds: Sequence[int] = (), timeout: float = REPLY_TIMEOUT) -> dict:
        """One request, one answer; LabError if the server is gone or silent."""
        try:
            with self.lock, selectors.DefaultSelector() as sel:
                socket.send_fds(self.sock, [json.dumps(req).encode()], list(fds))
                sel.register(self.sock, selectors.EVENT_READ)
                if not sel.select(timeout):
                    raise LabError(f"the agent fork server (pid {self.proc.pid}) did not answer in {timeout:g}s")
                msg = self.sock.recv(MAX_MSG)
        except OSError as exc:
            msg = b""
            why = str(exc)
        else:
            why = "it closed its control socket"
        if not msg:
            raise LabError(f"the agent fork server (pid {self.proc.pid}) exited ({why})")
        return json.loads(msg)

    def retire(self) -> None:
        """EOF: it exits once its zygotes have (their labs end them); close() reaps it."""
        self.sock.close()

    def close(self, timeout: float = EXIT_TIMEOUT) -> None:
        """EOF, then wait for it (it exits once its zygotes have); SIGKILL after `timeout`."""
        self.sock.close()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


_lock = threading.RLock()
_server: Server | None = None
_retired: list[Server] = []      # replaced while their zygotes still ran: reaped at shutdown


def _startup_key(env: dict) -> tuple:
    """What the server's interpreter fixed at its start: a lab whose environment differs
    here gets a new server (the rest of the environment is set in each zygote)."""
    return (sys.executable,) + tuple(sorted((k, v) for k, v in env.items() if k.startswith("PYTHON")))


def server_env(env: dict | None = None) -> dict:
    env = dict(os.environ if env is None else env)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    return env


def _get(env: dict) -> Server:
    global _server
    with _lock:
        if _server is not None and _server.key != _startup_key(env):
            _retire(_server)
        if _server is None:
            _server = Server(env)
        return _server


def _retire(server: Server) -> None:
    global _server
    with _lock:
        if _server is server:
            _server = None
        server.retire()
        _retired.append(server)


def start_soon() -> None:
    """Start the server if this process has none; do not wait for it (it imports meanwhile)."""
    _get(server_env())


def fork_zygote(env: dict, cwd: str, fds: list[int]) -> int:
    """pid of a new zygote with `fds` as its stdin, stdout, stderr, running in `cwd` with `env`."""
    return _fork_child(env, {"op": "fork", "env": env, "cwd": cwd}, fds, "start a zygote")


def _fork_child(env: dict, req: dict, fds: list[int], what: str) -> int:
    """pid of the child the server forked for `req`. A server that died or went stale
    is replaced once."""
    for attempt in (1, 2):
        server = _get(env)
        try:
            reply = server.request(req, fds)
        except LabError:
            _retire(server)          # dead or silent: a new one is tried once
            if attempt == 2:
                raise
            continue
        if "pid" in reply:
            return int(reply["pid"])
        if "stale" in reply and attempt == 1:
            _retire(server)
            continue
        raise LabError(f"the agent fork server could not {what}: {reply.get('error') or reply}")
    raise AssertionError("unreachable")


def run_command(argv: list[str], env: dict, cwd: str, user: tuple[int, int] | None = None,
                timeout: float = REPLY_TIMEOUT) -> tuple[int, str, str]:
    """(rc, out, err) of `rtsock ARGV...` run by a child of the fork server (see above).
    LabError if it does not finish within `timeout` (it is then killed)."""
    fds: list[int] = []
    try:
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        status_r, status_w = os.pipe()
        fds = [out_r, out_w, err_r, err_w, status_r, status_w]
        req = {"op": "command", "argv": list(argv), "env": env, "cwd": cwd,
               "user": list(user) if user is not None else None}
        pid = _fork_child(env, req, [out_w, err_w, status_w], f"run `rtsock {' '.join(argv)}`")
        for fd in (out_w, err_w, status_w):
            os.close(fd)
            fds.remove(fd)
        got = _read_all([out_r, err_r, status_r], timeout)
        if got is None:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            raise LabError(f"`rtsock {' '.join(argv)}` did not finish in {timeout:g}s; killed")
        out, err, status = (b.decode(errors="replace") for b in got)
        if not status.strip():           # it died before saying: its traceback is in err
            return 1, out, err
        return int(status), out, err
    finally:
        for fd in fds:
            os.close(fd)


def _read_all(fds: list[int], timeout: float) -> list[bytes] | None:
    """Everything each fd gives until EOF on all of them; None at the timeout."""
    chunks: dict[int, list[bytes]] = {fd: [] for fd in fds}
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as sel:
        for fd in fds:
            sel.register(fd, selectors.EVENT_READ)
        while sel.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            for key, _ in sel.select(left):
                data = os.read(key.fd, 1 << 16)
                if data:
                    chunks[key.fd].append(data)
                else:
                    sel.unregister(key.fd)
    return [b"".join(chunks[fd]) for fd in fds]


def server_pid() -> int | None:
    with _lock:
        return _server.proc.pid if _server is not None else None


def shutdown(only_if_idle: bool = False) -> bool:
    """End this process's server (by EOF, then its pid); with only_if_idle, only when no zygote
    of it still runs (a leaked lab keeps it, so a leftover check sees the whole tree).
    True when no server is left."""
    global _server
    with _lock:
        servers = ([_server] if _server else []) + _retired
        if only_if_idle:
            for server in servers:
                if server is not _server:       # retired: it exits once its zygotes have
                    if server.proc.poll() is None:
                        return False
                    continue
                try:
                    if server.request({"op": "children"})["pids"]:
                        return False
                except LabError:
                    pass
        _server = None
        _retired.clear()
    for server in servers:
        server.close(timeout=0 if server.proc.poll() is not None else EXIT_TIMEOUT)
    return True


def _forget_after_fork() -> None:
    """In a forked child of this process: the server is the parent's; close our copy of its
    socket (its EOF must come when the parent goes) and start our own when needed."""
    global _server, _lock
    _lock = threading.RLock()
    for server in ([_server] if _server else []) + _retired:
        server.sock.close()
        server.proc.returncode = 0     # the parent's child: not ours to wait for
    _server = None
    _retired.clear()


os.register_at_fork(after_in_child=_forget_after_fork)
atexit.register(shutdown)     # registered at import: runs after the lab's own atexit stops its labs


# --- the server ---------------------------------------------------------------------
def _project_files() -> dict[str, tuple[int, int]]:
    out = {}
    root = str(PROJECT_ROOT) + os.sep
    for mod in list(sys.modules.values()):
        path = getattr(mod, "__file__", None)
        if path and path.startswith(root):
            try:
                st = os.stat(path)
            except OSError:
                continue
            out[path] = (st.st_mtime_ns, st.st_size)
    return out


def _changed(files: dict[str, tuple[int, int]]) -> str | None:
    for path, sig in files.items():
        try:
            st = os.stat(path)
        except OSError:
            return path
        if (st.st_mtime_ns, st.st_size) != sig:
            return path
    return None


def _zygote_child(req: dict, fds: list[int], missing: list[str]) -> NoReturn:
    """In the forked child: become the lab's zygote."""
    zygote.exit_after(lambda: _become_zygote(req, fds, missing))


def _become_zygote(req: dict, fds: list[int], missing: list[str]) -> int:
    os.setsid()
    # ps: its command line is still the server's; its name says what it is
    ctypes.CDLL(None).prctl(PR_SET_NAME, b"ipmp-zygote")
    signal.set_wakeup_fd(-1)
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    os.closerange(3, 1 << 16)        # the control socket, the server's selector, fds
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    os.environ.clear()
    os.environ.update(req["env"])
    os.chdir(req["cwd"])
    return zygote.serve(missing)


def _command_child(req: dict, fds: list[int]) -> NoReturn:
    """In the forked child: be `rtsock ARGV...` with the lab's environment, as its user."""
    zygote.exit_after(lambda: _run_command(req, fds))


def _run_command(req: dict, fds: list[int]) -> int:
    ctypes.CDLL(None).prctl(PR_SET_NAME, b"rtsock")
    signal.set_wakeup_fd(-1)
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    out, err, status = fds
    os.dup2(out, 1)
    os.dup2(err, 2)
    status = os.dup2(status, 3)
    os.closerange(4, 1 << 16)         # the control socket, the server's selector, fds
    os.environ.clear()
    os.environ.update(req["env"])
    os.chdir(req["cwd"])
    if req.get("user") is not None:
        uid, gid = req["user"]
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    from rtsock_emul.admin.cli import main as rtsock_main
    try:
        rc = rtsock_main(list(req["argv"]))
    except SystemExit as exc:
        rc = exc.code if isinstance(exc.code, int) else 1
    sys.stdout.flush()
    sys.stderr.flush()
    os.write(status, str(rc).encode())
    return rc


def serve(ctl: socket.socket, missing: list[str]) -> int:
    files = _project_files()
    sel = selectors.DefaultSelector()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    sel.register(ctl, selectors.EVENT_READ, "ctl")
    sel.register(wake_r, selectors.EVENT_READ, "signal")
    children: set[int] = set()
    eof = False
    while not (eof and not children):
        for key, _ in sel.select():
            if key.data == "signal":
                os.read(wake_r, 512)
                continue
            msg, fds, _, _ = socket.recv_fds(ctl, MAX_MSG, 3)
            if not msg:
                eof = True
                sel.unregister(ctl)
                continue
            reply: dict[str, Any]
            try:
                req = json.loads(msg)
                if req["op"] == "children":
                    _reap(children)      # a zygote its lab saw exit may not be reaped yet
                    reply = {"pids": sorted(children)}
                elif changed := _changed(files):
                    reply = {"stale": changed}
                    eof = True           # a fresh server imports the new code
                    sel.unregister(ctl)
                elif req["op"] == "fork" and len(fds) == 3:
                    with stopsignals.held() as before:
                        pid = os.fork()
                        if pid == 0:
                            if before is not None:
                                signal.pthread_sigmask(signal.SIG_SETMASK, before)
                            _zygote_child(req, fds, missing)
                    children.add(pid)
                    reply = {"pid": pid}
                elif req["op"] == "command" and len(fds) == 3:
                    import rtsock_emul.admin.cli  # noqa: F401  once, here: each child has it
                    pid = os.fork()
                    if pid == 0:
                        _command_child(req, fds)
                    children.add(pid)
                    reply = {"pid": pid}
                else:
                    reply = {"error": f"bad request {req.get('op')!r} with {len(fds)} fds"}
            except Exception as exc:      # an answer, not a dead server
                reply = {"error": f"{type(exc).__name__}: {exc}"}
            finally:
                for fd in fds:
                    os.close(fd)
            try:
                ctl.send(json.dumps(reply).encode())
            except OSError:              # the process that asked is gone: as EOF
                if not eof:
                    eof = True
                    sel.unregister(ctl)
        _reap(children)
    return 0


def _reap(children: set[int]) -> None:
    while children:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            children.clear()
            return
        if pid == 0:
            return
        children.discard(pid)


def main() -> int:
    owner, by_main_thread = int(sys.argv[1]), sys.argv[2] == "1"
    if by_main_thread:
        ctypes.CDLL(None).prctl(zygote.PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != owner:        # it died before the prctl
        return 0
    signal.pthread_sigmask(signal.SIG_UNBLOCK, stopsignals.STOP_SIGNALS)   # held by the lab around our start
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    ctl = socket.socket(fileno=os.dup(0))
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)   # fd 0 of a zygote is its lab's pipe
    try:
        missing = zygote.prepare()
    except BaseException as exc:     # said to the lab that asks first
        msg, _fds, _, _ = socket.recv_fds(ctl, MAX_MSG, 3)
        if msg:
            ctl.send(json.dumps({"error": f"import failed: {type(exc).__name__}: {exc}"}).encode())
        return 1
    return serve(ctl, missing)


if __name__ == "__main__":
    sys.exit(main())
