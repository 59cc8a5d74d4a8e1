"""The agent zygote: a lab's warm process that forks one agent process per shard of hosts.

Thirty-two cold interpreters that each import the stack cannot start a lab in
about a second (docs/performance.md); one warm process forking children can, and
the children share the imported pages copy-on-write (gc.freeze keeps them so).
The zygote is itself a fork of the process's fork server (rtsock_emul/lab/forkserver.py),
which imported the stack once for every lab the process starts.
Each child serves a shard of hosts, a thread per host (rtsock_emul/lab/worker.py),
so the interpreter and the model's code are paid once per shard, not per host.

Protocol, one JSON object per line:
  lab -> zygote (stdin):  {"op": "spawn", "hosts": [{"host", "netns_pid" | null, "socket",
                           "log", "platform", "config"}, ...]}     {"op": "stop"}
  zygote -> lab (stdout): {"ev": "hello", "pid"}  {"ev": "spawned", "hosts", "pid"}
                          {"ev": "ready", "host", "tid"}  {"ev": "exit", "host", "status"}
                          {"ev": "error", "host"?, "text"}
A host's "exit" comes when its thread ends, or when its process does.
EOF on stdin is a stop: when the lab dies its agents go with it.
"""
from __future__ import annotations

import ctypes
import gc
import json
import os
import selectors
import signal
import sys
import traceback
from typing import TYPE_CHECKING, Callable, NoReturn

if TYPE_CHECKING:
    from .worker import Worker

STOP_TIMEOUT = 3.0          # seconds children get after SIGTERM, then SIGKILL


PR_SET_PDEATHSIG = 1


def exit_after(body: Callable[[], int]) -> NoReturn:
    """In a forked child: run `body`, then leave with its exit code (1 if it raised, with the
    traceback on stderr) without returning into the parent's code the fork copied."""
    code = 1
    try:
        code = body()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _child(reqs: list, events_w: int, zygote_pid: int) -> NoReturn:
    """In the forked child: serve the hosts of `reqs`."""
    exit_after(lambda: _serve_shard(reqs, events_w, zygote_pid))


def _serve_shard(reqs: list, events_w: int, zygote_pid: int) -> int:
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    # a zygote killed outright (SIGKILL) cannot stop us: the kernel sends SIGTERM then
    ctypes.CDLL(None).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != zygote_pid:
        return 0
    signal.set_wakeup_fd(-1)
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(2, 1)            # fd 1 is the zygote's event channel: not ours to write
    os.closerange(3, events_w)
    os.closerange(events_w + 1, 1 << 16)
    sys.stdout = os.fdopen(1, "w", buffering=1)
    sys.stderr = os.fdopen(2, "w", buffering=1)
    from .worker import run_worker
    return run_worker(reqs, events_w)


class Zygote:
    def __init__(self) -> None:
        self.sel = selectors.DefaultSelector()
        self.children: dict[int, list] = {}      # pid -> hosts it serves
        self.live_hosts: dict[int, set] = {}     # pid -> hosts that have not exited
        self.event_pipes: dict[int, tuple] = {}  # read fd -> (pid, buffer)
        self.stopping = False
        self.worker: Worker | None = None         # the hosts this process serves itself

    def emit(self, **event) -> None:
        os.write(1, (json.dumps(event) + "\n").encode())

    def run(self) -> int:
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_w, False)
        signal.set_wakeup_fd(wake_w)
        signal.signal(signal.SIGCHLD, lambda *_: None)
        signal.signal(signal.SIGTERM, lambda *_: self.begin_stop())
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        self.sel.register(0, selectors.EVENT_READ, "stdin")
        self.sel.register(wake_r, selectors.EVENT_READ, "signal")
        self.emit(ev="hello", pid=os.getpid())
        inbuf = b""
        while not (self.stopping and not self.children and not (self.worker and self.worker.alive())):
            for key, _ in self.sel.select(timeout=None if not self.stopping else 0.05):
                if key.data == "stdin":
                    chunk = os.read(0, 65536)
                    if not chunk:
                        self.sel.unregister(0)
                        self.begin_stop()
                        continue
                    inbuf += chunk
                    while b"\n" in inbuf:
                        line, inbuf = inbuf.split(b"\n", 1)
                        self.command(json.loads(line))
                elif key.data == "signal":
                    os.read(wake_r, 512)
                elif isinstance(key.data, tuple):
                    self.child_events(key.fd)
            self.reap()
            if self.stopping:
                self.escalate()
        return 0

    def command(self, req: dict) -> None:
        if req["op"] == "stop":
            self.begin_stop()
        elif req["op"] == "spawn" and not self.stopping:
            self.spawn(req)

    def spawn(self, req: dict) -> None:
        reqs = req["hosts"]
        if req.get("here"):
            self.serve_here(reqs)
            return
        if self.worker is not None:
            self.emit(ev="error", text="spawn after the zygote began serving hosts itself: refused "
                                       "(a process with threads must not fork)")
            return
        events_r, events_w = os.pipe()
        zygote_pid = os.getpid()
        pid = os.fork()
        if pid == 0:
            os.close(events_r)
            _child(reqs, events_w, zygote_pid)
        os.close(events_w)
        hosts = [r["host"] for r in reqs]
        self.children[pid] = hosts
        self.live_hosts[pid] = set(hosts)
        self.event_pipes[events_r] = (pid, b"")
        self.sel.register(events_r, selectors.EVENT_READ, (pid,))
        self.emit(ev="spawned", hosts=hosts, pid=pid)

    def serve_here(self, reqs: list) -> None:
        """Serve the last shard in this process (a thread per host, as a forked child
        would): the pages every agent dirties exist once more, not once per process."""
        from .worker import Worker
        events_r, events_w = os.pipe()
        pid = os.getpid()
        hosts = [r["host"] for r in reqs]
        self.live_hosts[pid] = set(hosts)
        self.event_pipes[events_r] = (pid, b"")
        self.sel.register(events_r, selectors.EVENT_READ, (pid,))
        self.emit(ev="spawned", hosts=hosts, pid=pid)
        self.worker = Worker(events_w)
        self.worker.start(reqs)

    def child_events(self, fd: int) -> None:
        """Relay a child's ready/exit lines; at EOF its reaping reports the rest."""
        pid, buf = self.event_pipes[fd]
        chunk = os.read(fd, 65536)
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            ev = json.loads(line)
            if ev.get("ev") == "exit":
                self.live_hosts.get(pid, set()).discard(ev.get("host"))
            self.emit(**ev, pid=pid)
        if not chunk:
            self.sel.unregister(fd)
            os.close(fd)
            del self.event_pipes[fd]
        else:
            self.event_pipes[fd] = (pid, buf)

    def reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            for fd, (owner, _) in list(self.event_pipes.items()):
                if owner == pid:        # lines it wrote before dying come first
                    self.child_events(fd)
            self.children.pop(pid, None)
            code = os.waitstatus_to_exitcode(status)
            for host in sorted(self.live_hosts.pop(pid, ())):
                self.emit(ev="exit", host=host, pid=pid, status=code if code else 1)

    def begin_stop(self) -> None:
        if not self.stopping:
            self.stopping = True
            self.deadline = _monotonic() + STOP_TIMEOUT
            self.signal_all(signal.SIGTERM)
            if self.worker is not None:
                self.worker.stop_all()

    def escalate(self) -> None:
        if _monotonic() > self.deadline:
            self.signal_all(signal.SIGKILL)
            self.deadline = float("inf")
            self.worker = None           # its threads are daemons: they end with this process

    def signal_all(self, sig) -> None:
        for pid in list(self.children):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass


def _monotonic() -> float:
    import time
    return time.monotonic()


def warm_imports() -> list[str]:
    """Import what every agent needs, once; return what could not be imported.
    (Both platforms: modules the children would import later cost each of them.)"""
    missing = []
    # the worker too: else each zygote and each agent process it forks imports it after the fork
    for mod in ("rtsock_emul.agent", "rtsock_emul.linux", "rtsock_emul.sim", "rtsock_emul.lab.worker"):
        try:
            __import__(mod)
        except ImportError as exc:
            missing.append(f"{mod}: {exc}")
    return missing


def prepare() -> list[str]:
    """In the fork server, once: import, then keep the pages shareable; what failed to import."""
    missing = warm_imports()
    gc.collect()
    ctypes.CDLL(None).malloc_trim(0)   # return import-time garbage: children inherit less RSS
    gc.freeze()        # keep shared pages shared after fork
    return missing


def serve(missing: list[str]) -> int:
    """In a zygote the fork server made for a lab (rtsock_emul/lab/forkserver.py)."""
    zyg = Zygote()
    for text in missing:
        zyg.emit(ev="error", text=f"import {text}")
    return zyg.run()
