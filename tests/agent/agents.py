"""Agents for the socket tests: a real `python -m rtsock_emul.agent --platform sim`
process (`agent`), and an in-process one whose kernel a test can drive (`inproc`)."""
from __future__ import annotations

import asyncio
import concurrent.futures
import json
import os
import selectors
import shutil
import subprocess
import sys
import tempfile
import threading

from rtsock_emul import client
from rtsock_emul.agent import make_logger, serve
from rtsock_emul.util.procs import end
from rtsock_emul.util.wait import wait_until

START_TIMEOUT = 10.0
NET0_MAC = bytes.fromhex("020000000001")
SIM_CONFIG = {
    "mpathd": False,
    "privileged_uids": sorted({0, os.geteuid()}),  # an unprivileged run still may change routes
    "interfaces": [
        {"name": "net0", "mac": "02:00:00:00:00:01",
         "addresses": ["192.0.2.10/24", "2001:db8:1::10/64"]},
        {"name": "net1", "mac": "02:00:00:00:00:02", "addresses": ["203.0.113.10/24"]},
    ],
}


def admin_call(path: str, argv: list[str]) -> tuple[int, str, str]:
    return client.admin_call(path, argv, timeout=10)


def drain(sock, quiet: float = 0.15) -> list:
    """Every message until none comes for `quiet` seconds."""
    out = []
    while True:
        try:
            out.append(sock.read_msg(timeout=quiet))
        except TimeoutError:
            return out


def wait_addresses_up(path: str) -> None:
    """Until every UP address finished DAD (`sim settle`)."""
    wait_until(lambda: admin_call(path, ["sim", "settle"])[0] == 0, 5,
               what="DAD of the sim agent's addresses")


def shared_dir() -> str:
    """A socket directory an unprivileged uid can reach (pytest's tmp is 0700)."""
    d = tempfile.mkdtemp(prefix="rtsock-test-")
    os.chmod(d, 0o755)
    return d


class AgentProcess:
    def __init__(self, config: dict):
        self.dir = shared_dir()
        self.path = os.path.join(self.dir, "agent.sock")
        self.log = os.path.join(self.dir, "agent.log")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "rtsock_emul.agent", "--socket", self.path, "--platform", "sim",
             "--config", json.dumps(config), "--log", self.log],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        line = self.proc.stdout.readline() if sel.select(START_TIMEOUT) else ""
        sel.close()
        if not line.startswith("READY"):
            self.stop()
            raise RuntimeError(f"agent did not start: {line!r} {self.proc.stderr.read()} "
                               f"log: {open(self.log).read() if os.path.exists(self.log) else ''}")
        self.pid = self.proc.pid

    def socket(self, protocol=0, user=None):
        return client.socket(protocol, path=self.path, user=user)

    def admin(self, *argv):
        return admin_call(self.path, list(argv))

    def rss_kb(self) -> int:
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        raise RuntimeError("no VmRSS")

    def stop(self):
        end(self.proc)
        for stream in (self.proc.stdout, self.proc.stderr):
            stream.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class InprocAgent:
    """serve() in a thread of this process; `call(fn, *args)` runs fn on its loop."""

    def __init__(self, config: dict):
        self.dir = shared_dir()
        self.path = os.path.join(self.dir, "agent.sock")
        self.ready = concurrent.futures.Future()
        self.thread = threading.Thread(target=self._run, args=(config,), daemon=True)
        self.thread.start()
        self.ctx = self.ready.result(START_TIMEOUT)

    def _run(self, config):
        log = make_logger(os.path.join(self.dir, "agent.log"))
        self.loop = asyncio.new_event_loop()
        try:
            self.loop.run_until_complete(serve(self.path, "sim", config, log, self.ready.set_result))
        except BaseException as exc:
            if not self.ready.done():
                self.ready.set_exception(exc)
            raise
        finally:
            self.loop.close()

    def call(self, fn, *args, **kw):
        done = concurrent.futures.Future()

        def run():
            try:
                done.set_result(fn(*args, **kw))
            except BaseException as exc:
                done.set_exception(exc)
        self.loop.call_soon_threadsafe(run)
        return done.result(10)

    def socket(self, protocol=0, user=None):
        return client.socket(protocol, path=self.path, user=user)

    def admin(self, *argv):
        return admin_call(self.path, list(argv))

    def stop(self):
        self.loop.call_soon_threadsafe(self.ctx.stop, "test over")
        self.thread.join(10)
        shutil.rmtree(self.dir, ignore_errors=True)
