"""The lab's side of the zygote: agent processes for shards of hosts, wait for READY.

A shard of up to HOSTS_PER_PROCESS hosts shares one agent process (a thread per
host, rtsock_emul/lab/worker.py): lab.agent_pids() maps each host to its process,
and the registry records each process once with the hosts it serves."""
from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, NoReturn, Sequence

from .errors import LabError

STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
READY_TIMEOUT = 20.0        # seconds for every agent of a lab to print READY
# Hosts per agent process: a crash of the process ends at most this many hosts; the
# interpreter's memory is shared by them (docs/performance.md "Lab scale").
HOSTS_PER_PROCESS = int(os.environ.get("RTSOCK_LAB_HOSTS_PER_PROCESS", "16"))
PROJECT_ROOT = Path(__file__).resolve().parents[2]


def _hold_stop_signals() -> set[int] | None:
    """Block SIGINT/SIGTERM/SIGHUP (main thread only); the previous mask, or None."""
    if threading.current_thread() is threading.main_thread():
        return signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    return None


class Zygote:
    """A running `python -m rtsock_emul.lab.zygote` and its agents."""

    def __init__(self, registry, run_dir: Path) -> None:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
        proc: subprocess.Popen[bytes] | None = None
        held = _hold_stop_signals()    # a signal inside Popen would leave an unrecorded zygote
        try:
            with open(run_dir / "zygote.log", "ab") as errlog:
                proc = subprocess.Popen(
                    # -OO: no docstrings in the zygote, so ~1 MB less in every agent's RSS
                    [sys.executable, "-OO", "-m", "rtsock_emul.lab.zygote"], stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE, stderr=errlog,
                    env=env, cwd=str(run_dir), start_new_session=True)   # Ctrl-C reaches only the lab
            self.registry = registry
            self.entry = registry.process(proc.pid, "zygote")
        except BaseException:     # interrupted before the registry knows it: the lab cannot stop it
            if proc is not None:
                proc.kill()
                proc.wait()
            raise
        finally:
            if held is not None:
                signal.pthread_sigmask(signal.SIG_SETMASK, held)
        assert proc.stdin is not None and proc.stdout is not None     # both are pipes
        self.proc: subprocess.Popen[bytes] = proc
        self._stdin: IO[bytes] = proc.stdin
        self._stdout: IO[bytes] = proc.stdout
        self.pids: dict[str, int] = {}       # host -> pid of the process serving it
        self.tids: dict[str, int] = {}       # host -> its thread in that process
        self.ready: set[str] = set()
        self.exited: dict[str, int] = {}
        self.errors: list[str] = []          # fatal: the zygote is gone
        self.notes: list[str] = []
        self._buf = b""
        self._agent_entries: dict[int, dict] = {}
        self.run_dir = run_dir

    def spawn(self, reqs: list[dict]) -> None:
        """Start agents for `reqs` ({"host", "netns_pid", "socket", "log", "platform",
        "config"} each), HOSTS_PER_PROCESS hosts to a process, spread evenly."""
        n = -(-len(reqs) // max(1, HOSTS_PER_PROCESS))
        for i in range(n):       # the zygote serves the last shard itself, after forking the others
            self._send({"op": "spawn", "hosts": reqs[i::n], "here": i == n - 1})

    def _send(self, req: dict) -> None:
        try:
            self._stdin.write((json.dumps(req) + "\n").encode())
            self._stdin.flush()
        except BrokenPipeError:
            raise LabError(f"the agent zygote exited ({self.proc.poll()}); see {self.run_dir}/zygote.log") from None

    def wait_ready(self, hosts: Sequence[str], timeout: float = READY_TIMEOUT, logs=None) -> None:
        """Read zygote events until every host's agent is READY (event-driven)."""
        want = set(hosts)
        deadline = time.monotonic() + timeout
        sel = selectors.DefaultSelector()
        sel.register(self._stdout, selectors.EVENT_READ)
        try:
            while not want <= self.ready:
                dead = sorted(h for h in want if h in self.exited)
                if dead or self.errors:
                    self._fail(dead, logs)
                left = deadline - time.monotonic()
                if left <= 0:
                    late = sorted(want - self.ready)
                    raise LabError(f"agents of {', '.join(late)} not READY after {timeout:g}s; "
                                   f"see {self._log_hint(late, logs)}")
                if sel.select(left):
                    self._read_events()
        finally:
            sel.close()

    def _fail(self, dead: list[str], logs: dict | None) -> NoReturn:
        lines = [f"agent of {h} exited with status {self.exited[h]} before READY" for h in dead]
        lines += self.errors + [f"zygote: {n}" for n in self.notes]
        tail = ""
        for h in dead[:1]:
            if logs and Path(logs[h]).exists():
                tail = "\n  " + "\n  ".join(Path(logs[h]).read_text().splitlines()[-12:])
        raise LabError("; ".join(lines) + f"; see {self._log_hint(dead, logs)}" + tail)

    def _log_hint(self, hosts: Sequence[str], logs):
        return ", ".join(str(logs[h]) for h in hosts if logs and h in logs) or str(self.run_dir / "zygote.log")

    def _read_events(self) -> None:
        chunk = os.read(self._stdout.fileno(), 65536)
        if not chunk:
            self.errors.append(f"the agent zygote exited ({self.proc.wait()}); see {self.run_dir}/zygote.log")
            return
        self._buf += chunk
        while b"\n" in self._buf:
            line, self._buf = self._buf.split(b"\n", 1)
            self._event(json.loads(line))

    def _event(self, ev: dict) -> None:
        kind, host = ev["ev"], ev.get("host", "")
        if kind == "spawned":
            if ev["pid"] != self.proc.pid:      # the zygote's own shard: it is registered already
                self._agent_entries[ev["pid"]] = self.registry.process(ev["pid"], "agent", hosts=ev["hosts"])
            self.pids.update(dict.fromkeys(ev["hosts"], ev["pid"]))
        elif kind == "ready":
            self.ready.add(host)
            self.tids[host] = int(ev.get("tid") or 0)
        elif kind == "exit":
            self.exited[host] = ev["status"]
            self.ready.discard(host)
        elif kind == "error":
            self.notes.append(ev["text"])     # an import failed; fatal only if agents die

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the zygote to end its agents and exit; the registry catches the rest."""
        if self.proc.poll() is None:
            try:
                self._stdin.write(b'{"op": "stop"}\n')
                self._stdin.close()
            except (BrokenPipeError, ValueError):
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                pass
        self._stdout.close()
