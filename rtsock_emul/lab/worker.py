"""One agent process serving a shard of hosts: a thread per host.

setns(2) moves only the calling thread, and a socket keeps the network namespace
it was made in; so each host's thread enters that host's namespace once and
everything it opens later (netlink, packet and raw sockets, /proc/sys/net
writes) is the host's, as in a process of its own. Each thread runs its own
asyncio loop and kernel model (`rtsock_emul.agent.serve`) with the host's log;
an exception in one host ends that host's thread only: it is logged there and
reported as that host's exit, and the other hosts keep serving. The imported code
and the interpreter are paid once per shard instead of once per host.

Events to the zygote, one JSON line each on `events_fd`:
  {"ev": "ready", "host", "tid"}   {"ev": "exit", "host", "status"}
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import selectors
import signal
import sys
import threading
import traceback

from .netns import setns_net

SWITCH_INTERVAL = 0.001     # s: a busy host's thread hands the GIL on soon (default 5 ms)


class _ThreadLogs(logging.Handler):
    """Root handler: a record goes to the log of the host whose thread emitted it
    (module loggers such as in.mpathd's propagate here), else to stderr."""

    def __init__(self):
        super().__init__(logging.WARNING)     # what logging's last resort would print
        self.by_thread: dict[int, logging.Handler] = {}
        self.fallback = logging.StreamHandler(sys.stderr)

    def emit(self, record):
        self.by_thread.get(threading.get_ident(), self.fallback).handle(record)


class HostAgent(threading.Thread):
    def __init__(self, req: dict, worker: "Worker"):
        super().__init__(name=f"agent-{req['host']}", daemon=True)
        self.req, self.worker = req, worker
        self.host = req["host"]
        self.loop: asyncio.AbstractEventLoop | None = None
        self.task: asyncio.Task | None = None
        self.ctx = None
        self.stopping = False
        self.finished = False

    def run(self) -> None:
        from rtsock_emul.agent import make_logger, serve
        req, status, log = self.req, 1, None
        try:
            if req.get("netns_pid"):
                setns_net(req["netns_pid"])
            log = make_logger(req["log"], name=f"rtsock_emul.agent.{self.host}")
            log.info("agent of %s: pid %d, thread %d", self.host, os.getpid(), threading.get_native_id())
            self.worker.logs.by_thread[threading.get_ident()] = log.handlers[0]
            self.loop = loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            self.task = task = loop.create_task(
                serve(req["socket"], req["platform"], req.get("config") or {}, log, self._ready))
            if self.stopping:     # asked to stop before the loop existed
                task.cancel()
            try:
                loop.run_until_complete(task)
                status = 0
            except asyncio.CancelledError:
                status = 0 if self.stopping else 1
        except SystemExit as exc:
            status = exc.code if isinstance(exc.code, int) else 1
        except BaseException as exc:
            text = "".join(traceback.format_exception(exc))
            if log is not None:
                log.error("agent of %s failed:\n%s", self.host, text)
            else:
                _append(req["log"], text)
        finally:
            if self.loop is not None:
                self.loop.close()
            self.worker.logs.by_thread.pop(threading.get_ident(), None)
            self.finished = True       # before the wake-up: is_alive() may still be true then
            self.worker.emit(ev="exit", host=self.host, status=status)

    def _ready(self, ctx) -> None:
        self.ctx = ctx
        _append(self.req["log"], f"READY {self.req['socket']}\n")
        self.worker.emit(ev="ready", host=self.host, tid=threading.get_native_id())
        if self.stopping:
            ctx.stop("stop")

    def stop(self) -> None:
        """From any thread: end this host's agent (its serve() cleans up)."""
        self.stopping = True
        loop = self.loop
        if loop is None or loop.is_closed():
            return
        try:
            if self.ctx is not None:
                loop.call_soon_threadsafe(self.ctx.stop, "signal")
            elif self.task is not None:
                loop.call_soon_threadsafe(self.task.cancel)
        except RuntimeError:      # the loop closed meanwhile: the thread is ending anyway
            pass


def _append(path: str, text: str) -> None:
    with open(path, "a") as f:
        f.write(text)


class Worker:
    def __init__(self, events_fd: int):
        self.events_fd = events_fd
        self.lock = threading.Lock()
        self.agents: list[HostAgent] = []
        self.logs = _ThreadLogs()
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_w, False)

    def emit(self, **event) -> None:
        line = (json.dumps(event) + "\n").encode()
        with self.lock:
            try:
                os.write(self.events_fd, line)
            except BrokenPipeError:        # the zygote is gone: stop serving
                self.stop_all()
        if event["ev"] == "exit":
            try:
                os.write(self.wake_w, b"x")
            except BlockingIOError:     # full of wake-ups already
                pass

    def stop_all(self) -> None:
        for agent in self.agents:
            agent.stop()

    def start(self, reqs: list[dict]) -> None:
        """Start a thread per host; they report on events_fd."""
        logging.getLogger().addHandler(self.logs)
        sys.setswitchinterval(SWITCH_INTERVAL)
        self.agents = [HostAgent(req, self) for req in reqs]
        for agent in self.agents:
            agent.start()

    def alive(self) -> bool:
        return any(not a.finished for a in self.agents)

    def run(self, reqs: list[dict]) -> int:
        """The whole life of a forked agent process: serve, stop on a signal."""
        signal.set_wakeup_fd(self.wake_w)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, lambda *_: self.stop_all())
        self.start(reqs)
        with selectors.DefaultSelector() as sel:
            sel.register(self.wake_r, selectors.EVENT_READ)
            while self.alive():
                if sel.select():
                    os.read(self.wake_r, 4096)
        for agent in self.agents:
            agent.join()
        return 0


def run_worker(reqs: list[dict], events_fd: int) -> int:
    """In a process forked from the zygote: serve `reqs` (one spawn request per host)."""
    return Worker(events_fd).run(reqs)
