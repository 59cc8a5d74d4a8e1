"""`--cpu-load N`: run the session with N busy worker processes contending for the
CPUs, as on a shared CI runner (docs/oracle.md "Under load").

Each worker is a child of the pytest process that spins until its deadline
(`--cpu-load-seconds`), or until that parent is gone. The session stops them
by pid when it ends, also after Ctrl-C, and never by name.
"""
from __future__ import annotations

import subprocess
import sys

import pytest

from rtsock_emul.util.wait import WaitTimeout, wait_until

DEFAULT_SECONDS = 3600.0
STOP_TIMEOUT = 5.0
# spins until the deadline or until its parent (the pytest process) is gone
_BUSY = ("import os,sys,time\n"
         "end=time.monotonic()+float(sys.argv[1]);parent=os.getppid()\n"
         "while time.monotonic()<end and os.getppid()==parent:\n"
         "    for _ in range(200000): pass\n")


class BusyWorkers:
    """N busy processes, bounded in time, stopped by pid."""

    def __init__(self, n, seconds=DEFAULT_SECONDS) -> None:
        if n < 0:
            raise ValueError(f"--cpu-load {n}: need 0 or more workers")
        self.n, self.seconds = n, seconds
        self.procs: list[subprocess.Popen] = []

    def start(self) -> BusyWorkers:
        for _ in range(self.n):
            self.procs.append(subprocess.Popen([sys.executable, "-c", _BUSY, str(self.seconds)],
                                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL))
        return self

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        try:
            wait_until(lambda: all(p.poll() is not None for p in self.procs), STOP_TIMEOUT,
                       what="busy workers to exit after SIGTERM")
        except WaitTimeout:    # those still running get SIGKILL, by pid
            for p in self.procs:
                if p.poll() is None:
                    p.kill()
                    p.wait()
        self.procs = []


def pytest_addoption(parser) -> None:
    group = parser.getgroup("rtsock", "ipmp-lab scenarios")
    group.addoption("--cpu-load", type=int, default=0, metavar="N",
                    help="start N busy worker processes for the whole session (contended CPUs)")
    group.addoption("--cpu-load-seconds", type=float, default=DEFAULT_SECONDS, metavar="S",
                    help=f"each busy worker stops by itself after S seconds (default {DEFAULT_SECONDS:g})")


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session) -> None:
    n = session.config.getoption("cpu_load")
    if n:
        workers = BusyWorkers(n, session.config.getoption("cpu_load_seconds")).start()
        session.config._rtsock_busy = workers
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter:
            reporter.write_line(f"--cpu-load: {n} busy worker(s), pids {workers.pids()}")


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session, exitstatus) -> None:
    """Before the leftover check: the workers are this session's own children."""
    workers = getattr(session.config, "_rtsock_busy", None)
    if workers is not None:
        workers.stop()
        session.config._rtsock_busy = None


def pytest_unconfigure(config) -> None:
    workers = getattr(config, "_rtsock_busy", None)
    if workers is not None:
        workers.stop()
