"""Users' programs in lab hosts (docs/preload.md): the environment every host has
(RTSOCK_AGENT, RTSOCK_INCLUDE, RTSOCK_PRELOAD), and programs started with the
preload shim whose standard output a test or a scenario can wait on."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading

from .. import c as cside
from ..util.wait import wait_until
from .errors import LabError

STOP_TIMEOUT = 5.0


def ensure_shim() -> None:
    """Build the shim if its source is newer (./ipmp-lab setup normally did it)."""
    try:
        cside.build()
    except cside.BuildError as exc:
        print(f"ipmp-lab: the preload shim is not available, so `rtsock run` and "
              f"LD_PRELOAD=$RTSOCK_PRELOAD will fail: {exc}", file=sys.stderr)


def host_env(agent_path: str) -> dict:
    return cside.env(agent_path)


def program_env(base: dict, host: dict, preload: bool) -> dict:
    """base + the host's variables; LD_PRELOAD gets the shim first when preload."""
    env = dict(base, **host)
    if preload:
        env["LD_PRELOAD"] = " ".join(p for p in (host[cside.ENV_PRELOAD], base.get("LD_PRELOAD")) if p)
    return env


class Program:
    """A started program: its standard output is collected line by line (stderr
    merged into it), so that `wait_line` can look for a pattern."""

    def __init__(self, host: str, argv: list[str], popen: subprocess.Popen) -> None:
        self.host, self.argv, self.popen = host, list(argv), popen
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.popen.stdout or ():
            with self._lock:
                self.lines.append(line.rstrip("\n"))

    @property
    def pid(self) -> int:
        return self.popen.pid

    def output(self) -> list[str]:
        with self._lock:
            return list(self.lines)

    def wait_line(self, pattern: str, timeout: float, start: int = 0) -> int:
        """Index of the first output line at or after `start` matching the regular
        expression `pattern` (re.search); LabError naming what was printed if none
        comes within `timeout` seconds or the program ends first."""
        regex = re.compile(pattern)

        def probe() -> int | None:
            lines = self.output()
            for i in range(start, len(lines)):
                if regex.search(lines[i]):
                    return i + 1
            if self.popen.poll() is not None and not self._reader.is_alive():
                raise LabError(f"{self.host}: {self.argv[0]} exited with status "
                               f"{self.popen.returncode} before printing a line matching "
                               f"{pattern!r}; it printed: {self._tail(lines)}")
            return None
        try:
            return wait_until(probe, timeout, what=f"{self.host}: {self.argv[0]} printing {pattern!r}") - 1
        except AssertionError:
            raise LabError(f"{self.host}: {self.argv[0]} printed no line matching {pattern!r} "
                           f"within {timeout:g}s; it printed: {self._tail(self.output())}") from None

    @staticmethod
    def _tail(lines: list[str]) -> str:
        return " | ".join(lines[-8:]) if lines else "nothing"

    def stop(self) -> int | None:
        """End the program and what it started (its own process group: SIGTERM, then
        SIGKILL) if it still runs; its exit status."""
        if self.popen.poll() is None:
            _signal_group(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                _signal_group(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
        self._reader.join(STOP_TIMEOUT)
        if self.popen.stdout:
            self.popen.stdout.close()
        return self.popen.returncode


def _signal_group(pid: int, sig) -> None:
    try:
        os.killpg(pid, sig)       # the group spawn() made for this program (setsid)
    except ProcessLookupError:
        pass


def spawn(host: str, argv: list[str], env: dict, cwd: str | None = None) -> Program:
    """Start argv with env, leading a new process group (for a Mininet host argv already
    enters its network namespace)."""
    if not argv:
        raise LabError(f"{host}: no program to start")
    try:
        popen = subprocess.Popen(list(argv), start_new_session=True, env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, bufsize=1)
    except OSError as exc:
        raise LabError(f"{host}: cannot start {argv[0]}: {exc.strerror or exc}") from None
    return Program(host, argv, popen)


__all__ = ["Program", "spawn", "host_env", "program_env", "ensure_shim"]
