"""A sim agent in a child process for the fuzzer: `with SimAgent() as agent: ...`."""
from __future__ import annotations

import json
import os
import selectors
import shutil
import subprocess
import sys
import tempfile

from rtsock_emul.util.procs import end

START_TIMEOUT = 15.0
CONFIG = {
    "privileged_uids": [0],
    "interfaces": [
        {"name": "net0", "mac": "02:00:00:00:00:01", "addresses": ["192.0.2.10/24", "2001:db8:1::10/64"]},
        {"name": "net1", "mac": "02:00:00:00:00:02", "addresses": ["203.0.113.10/24"]},
    ],
}


class SimAgent:
    """`python -m rtsock_emul.agent --platform sim` in a directory any uid may reach."""

    def __init__(self, config: dict | None = None) -> None:
        self.config = CONFIG if config is None else config
        self.dir = self.path = self.log = ""        # set by __enter__
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> SimAgent:
        self.dir = tempfile.mkdtemp(prefix="rtsock-fuzz-")
        os.chmod(self.dir, 0o755)  # an unprivileged uid connects too (R9)
        self.path = os.path.join(self.dir, "agent.sock")
        self.log = os.path.join(self.dir, "agent.log")
        proc = self.proc = subprocess.Popen(
            [sys.executable, "-m", "rtsock_emul.agent", "--socket", self.path, "--platform", "sim",
             "--config", json.dumps(self.config), "--log", self.log],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        with selectors.DefaultSelector() as sel:
            assert proc.stdout is not None
            sel.register(proc.stdout, selectors.EVENT_READ)
            line = proc.stdout.readline() if sel.select(START_TIMEOUT) else ""
        if not line.startswith("READY"):
            self.__exit__(None, None, None)
            raise RuntimeError(f"the sim agent did not start within {START_TIMEOUT}s: {line!r}")
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None, "the agent is not started"
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def rss_kb(self) -> int:
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError(f"no VmRSS for pid {self.pid}")

    def __exit__(self, *exc) -> None:
        if self.proc is not None:
            end(self.proc)
            for stream in (self.proc.stdout, self.proc.stderr):
                if stream:
                    stream.close()
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
