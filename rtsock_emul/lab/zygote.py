"""The agent zygote: import the agent stack once, fork one agent per host.

Thirty-two cold interpreters that each import scapy cannot start a lab in
about a second (docs/performance.md targets); one warm process forking children can, and
the children share the imported pages copy-on-write (gc.freeze keeps them so).

Protocol, one JSON object per line:
  lab -> zygote (stdin):  {"op": "spawn", "host", "netns_pid" | null, "socket",
                           "log", "platform", "config"}   {"op": "stop"}
  zygote -> lab (stdout): {"ev": "hello", "pid"}  {"ev": "spawned", "host", "pid"}
                          {"ev": "ready", "host"}  {"ev": "exit", "host", "pid", "status"}
                          {"ev": "error", "host"?, "text"}
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

CLONE_NEWNET = 0x40000000
STOP_TIMEOUT = 3.0          # seconds children get after SIGTERM, then SIGKILL


def setns_net(pid: int) -> None:
    """Enter the network namespace of process `pid` (Python 3.11 has no os.setns)."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns into the network namespace of pid {pid}: {os.strerror(err)}")
    finally:
        os.close(fd)


def _child(req: dict, ready_w: int) -> None:
    """In the forked child: become host `req['host']`'s agent. Never returns."""
    code = 1
    try:
        for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)
        signal.set_wakeup_fd(-1)
        log_fd = os.open(req["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        os.closerange(3, ready_w)
        os.closerange(ready_w + 1, 1 << 16)
        sys.stdout = os.fdopen(1, "w", buffering=1)
        sys.stderr = os.fdopen(2, "w", buffering=1)
        if req.get("netns_pid"):
            setns_net(req["netns_pid"])
        from rtsock_emul.agent import run_agent
        run_agent(req["socket"], req["platform"], req.get("config") or {}, req["log"], ready_fd=ready_w)
        code = 0
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


class Zygote:
    def __init__(self) -> None:
        self.sel = selectors.DefaultSelector()
        self.children: dict[int, str] = {}       # pid -> host
        self.ready_pipes: dict[int, tuple] = {}  # read fd -> (host, buffer)
        self.stopping = False

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
        while not (self.stopping and not self.children):
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
                    self.ready_data(key.fd)
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
        ready_r, ready_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(ready_r)
            _child(req, ready_w)
        os.close(ready_w)
        self.children[pid] = req["host"]
        self.ready_pipes[ready_r] = (req["host"], b"")
        self.sel.register(ready_r, selectors.EVENT_READ, (req["host"],))
        self.emit(ev="spawned", host=req["host"], pid=pid)

    def ready_data(self, fd: int) -> None:
        host, buf = self.ready_pipes[fd]
        chunk = os.read(fd, 4096)
        buf += chunk
        if buf.startswith(b"READY"):
            self.emit(ev="ready", host=host)
            chunk = b""
        if not chunk:
            self.sel.unregister(fd)
            os.close(fd)
            del self.ready_pipes[fd]
        else:
            self.ready_pipes[fd] = (host, buf)

    def reap(self) -> None:
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            host = self.children.pop(pid, None)
            self.emit(ev="exit", host=host, pid=pid, status=os.waitstatus_to_exitcode(status))

    def begin_stop(self) -> None:
        if not self.stopping:
            self.stopping = True
            self.deadline = _monotonic() + STOP_TIMEOUT
            self.signal_all(signal.SIGTERM)

    def escalate(self) -> None:
        if self.children and _monotonic() > self.deadline:
            self.signal_all(signal.SIGKILL)
            self.deadline = float("inf")

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
    for mod in ("rtsock_emul.agent", "rtsock_emul.linux", "rtsock_emul.sim"):
        try:
            __import__(mod)
        except ImportError as exc:
            missing.append(f"{mod}: {exc}")
    return missing


def main() -> int:
    # the lab starts this process with its stop signals blocked (so it is in the registry
    # before any can land); blocked signals survive exec, so they are let in here
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT, signal.SIGTERM, signal.SIGHUP})
    missing = warm_imports()
    gc.collect()
    ctypes.CDLL(None).malloc_trim(0)   # return import-time garbage: children inherit less RSS
    gc.freeze()        # keep shared pages shared after fork
    zyg = Zygote()
    for text in missing:
        zyg.emit(ev="error", text=f"import {text}")
    return zyg.run()


if __name__ == "__main__":
    sys.exit(main())
