"""The lab's side of the zygote: agent processes for shards of hosts, wait for READY.

A shard of up to HOSTS_PER_PROCESS hosts shares one agent process (a thread per
host, rtsock_emul/lab/worker.py): lab.agent_pids() maps each host to its process,
and the registry records each process once with the hosts it serves."""
from __future__ import annotations

import json
import os
import select
import selectors
import signal
import time
from pathlib import Path
from typing import IO, NoReturn, Sequence

from . import forkserver, stopsignals
from .errors import LabError

READY_TIMEOUT = 20.0        # seconds for every agent of a lab to print READY
# Hosts per agent process: a crash of the process ends at most this many hosts; the
# interpreter's memory is shared by them (docs/performance.md "Lab scale").
HOSTS_PER_PROCESS = int(os.environ.get("RTSOCK_LAB_HOSTS_PER_PROCESS", "16"))


class ZygoteProcess:
    """A lab's zygote, forked by the fork server (so not our child): its pipes, and a pidfd
    to wait for it and signal it without a pid reuse race."""

    def __init__(self, pid: int, stdin_w: int, stdout_r: int) -> None:
        self.pid = pid
        self.stdin: IO[bytes] = os.fdopen(stdin_w, "wb")
        self.stdout: IO[bytes] = os.fdopen(stdout_r, "rb", buffering=0)
        try:
            self._pidfd: int | None = os.pidfd_open(pid)
        except ProcessLookupError:   # already gone (and reaped by the server)
            self._pidfd = None

    def running(self) -> bool:
        return self._pidfd is not None and not select.select([self._pidfd], [], [], 0)[0]

    def wait(self, timeout: float | None = None) -> bool:
        """True once it has exited (it is the server's to reap)."""
        return self._pidfd is None or bool(select.select([self._pidfd], [], [], timeout)[0])

    def kill(self) -> None:
        if self._pidfd is not None and self.running():
            signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)

    def close(self) -> None:
        for stream in (self.stdin, self.stdout):
            try:
                stream.close()
            except BrokenPipeError:
                pass
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None


class Zygote:
    """A lab's agent zygote (rtsock_emul/lab/zygote.py) and its agents."""

    def __init__(self, registry, run_dir: Path) -> None:
        env = forkserver.server_env()
        stdin_r, stdin_w = os.pipe()
        stdout_r, stdout_w = os.pipe()
        proc: ZygoteProcess | None = None
        with stopsignals.held():      # a signal before the registry knows it would leave a zygote
            try:
                with open(run_dir / "zygote.log", "ab") as errlog:
                    pid = forkserver.fork_zygote(env, str(run_dir), [stdin_r, stdout_w, errlog.fileno()])
                proc = ZygoteProcess(pid, stdin_w, stdout_r)
                self.registry = registry
                self.entry = registry.process(pid, "zygote")
            except BaseException:     # our end of its stdin closes: a zygote we cannot record stops
                if proc is not None:
                    proc.kill()
                    proc.close()
                else:
                    os.close(stdin_w)
                    os.close(stdout_r)
                raise
            finally:
                os.close(stdin_r)
                os.close(stdout_w)
        self.proc = proc
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
            raise LabError(f"the agent zygote (pid {self.proc.pid}) exited; see {self.run_dir}/zygote.log") from None

    def wait_ready(self, hosts: Sequence[str], timeout: float = READY_TIMEOUT, logs=None) -> None:
        """Read zygote events until every host's agent is READY (event-driven)."""
        want = set(hosts)
        deadline = time.monotonic() + timeout
        sel = selectors.DefaultSelector()
        sel.register(self._stdout, selectors.EVENT_READ)
        with stopsignals.wakeup() as woken:
            if woken is not None:
                sel.register(woken, selectors.EVENT_READ)
            self._wait_ready(want, deadline, timeout, sel, woken, logs)

    def _wait_ready(self, want: set, deadline: float, timeout: float, sel, woken, logs) -> None:
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
                for key, _ in sel.select(left):
                    if key.fileobj == woken:
                        os.read(woken, 512)    # the handler runs now, in this thread
                    else:
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
            self.errors.append(f"the agent zygote (pid {self.proc.pid}) exited; see {self.run_dir}/zygote.log")
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
        if self.proc.running():
            try:
                self._stdin.write(b'{"op": "stop"}\n')
                self._stdin.flush()
            except (BrokenPipeError, ValueError):
                pass
        try:
            self._stdin.close()          # EOF is a stop too
        except (BrokenPipeError, ValueError):
            pass
        self.proc.wait(timeout)
        self.proc.close()
