"""Send hostile inputs to one agent and keep the figures.

Every routing-socket write must answer with an errno `oracle.allowed` lists
(never EIO); every admin record with one well-formed reply that is not an
internal error; every control record with a reply whose errno `oracle.CONTROL`
lists. `probe()` checks that the agent still serves everyone: each subscriber
must receive a fresh RTM_GET reply.
"""
from __future__ import annotations

import collections
import errno
import json
import os
import socket
import threading

from rtsock_emul import client
from rtsock_emul.rtsock.transport import ADMIN_SUFFIX, INTERNAL_ERROR_RC
from rtsock_emul.util.wait import wait_until
from rtsock_emul.wire import RtMsg
from rtsock_emul.wire import constants as C
from rtsock_emul.wire.structs import RT_MSGHDR

from . import oracle

REPLY_TIMEOUT = 10.0    # s an answer may take on a loaded machine before it counts as a hang
PROBE_SEQ = 0x7f000000  # rtm_seq of probes; fuzzed writes rarely reach this range


class Finding(dict):
    """One failure: channel, what was sent (hex), what came back, what was allowed."""


class Subscriber(threading.Thread):
    """Reads one routing socket until stopped; remembers the newest probe seq seen."""

    def __init__(self, sock) -> None:
        super().__init__(daemon=True)
        self.sock, self.received, self.overflows, self.probe_seen = sock, 0, 0, 0
        self.error: OSError | None = None
        self.stopping = threading.Event()

    def run(self) -> None:
        pid = os.getpid()
        while not self.stopping.is_set():
            try:
                raw = self.sock.read(timeout=0.2)
            except TimeoutError:
                continue
            except OSError as exc:
                if exc.errno == errno.ENOBUFS:
                    self.overflows += 1
                    continue
                if not self.stopping.is_set():
                    self.error = exc
                return
            self.received += 1
            if len(raw) >= RT_MSGHDR.size:
                seq = RT_MSGHDR.peek(raw, "rtm_seq")
                if seq >= PROBE_SEQ and RT_MSGHDR.peek(raw, "rtm_pid") == pid:
                    self.probe_seen = max(self.probe_seen, seq)


class FuzzSession:
    def __init__(self, agent, *, subscribers: int = 4, unprivileged: str | None = "nobody") -> None:
        self.agent = agent
        self.inputs: collections.Counter[str] = collections.Counter()     # channel -> inputs sent
        self.errnos: collections.Counter[str] = collections.Counter()     # "request EINVAL", "control 0", "admin rc 2"
        self.findings: list[Finding] = []
        self.probes = 0
        self.socks = {True: client.socket(path=agent.path)}
        self.unprivileged = unprivileged
        if unprivileged is not None:
            self.socks[False] = client.socket(path=agent.path, user=unprivileged)
        for sock in self.socks.values():
            sock.setsockopt(C.SOL_SOCKET, C.SO_USELOOPBACK, 0)
        self.ctl = client.socket(path=agent.path)
        self.ctl.setsockopt(C.SOL_SOCKET, C.SO_USELOOPBACK, 0)
        self.admin = self._admin_connection()
        self.prober = client.socket(path=agent.path)
        self.subs = [Subscriber(client.socket(path=agent.path)) for _ in range(subscribers)]
        for sub in self.subs:
            sub.start()
        self.rss_start = self.rss_max = agent.rss_kb()

    def _admin_connection(self) -> socket.socket:
        path = self.agent.path + ADMIN_SUFFIX
        if self.unprivileged is not None:
            conn = client.connect_as(path, self.unprivileged)
        else:
            conn = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            conn.connect(path)
        conn.settimeout(REPLY_TIMEOUT)
        return conn

    def _find(self, channel, data, got, allowed=None) -> None:
        self.findings.append(Finding(channel=channel, input=bytes(data).hex(), got=got,
                                     allowed=sorted(allowed) if allowed else None))

    # -- the three channels -------------------------------------------------------
    def request(self, data: bytes, privileged: bool = True) -> str:
        """Write data on a routing socket; the errno name (or "0")."""
        privileged = privileged or False not in self.socks
        sock = self.socks[privileged]
        self.inputs["request"] += 1
        allowed = oracle.allowed(data, privileged)
        try:
            sock.write(data)
            got = "0"
        except OSError as exc:
            got = getattr(exc, "illumos_name", None) or ""
            if got in ("", "ECONNRESET"):  # not an answer: the connection broke
                self._find("request", data, f"routing socket lost: {exc}", allowed)
                self.socks[privileged] = self._reopen(privileged)
                return got
        self.errnos[f"request {got}"] += 1
        if got not in allowed:
            self._find("request", data, got, allowed)
        return got

    def _reopen(self, privileged: bool):
        user = None if privileged else self.unprivileged
        sock = client.socket(path=self.agent.path, user=user)
        sock.setsockopt(C.SOL_SOCKET, C.SO_USELOOPBACK, 0)
        return sock

    def admin_record(self, data: bytes) -> None:
        """One admin record: exactly one reply, rc an int, no internal error."""
        self.inputs["admin"] += 1
        try:
            self.admin.send(data)
            raw = self.admin.recv(1 << 20)
        except OSError as exc:
            self._find("admin", data, f"no reply: {exc!r}")
            self.admin.close()
            self.admin = self._admin_connection()
            return
        if not raw:
            self._find("admin", data, "connection closed instead of a reply")
            self.admin.close()
            self.admin = self._admin_connection()
            return
        try:
            reply = json.loads(raw)
            rc, err = reply["rc"], reply["err"]
            assert isinstance(rc, int) and isinstance(reply["out"], str) and isinstance(err, str)
        except (ValueError, KeyError, TypeError, AssertionError):
            self._find("admin", data, f"malformed reply {raw[:200]!r}")
            return
        self.errnos[f"admin rc {rc}"] += 1
        if rc == INTERNAL_ERROR_RC or "internal error" in err:
            self._find("admin", data, f"rc {rc}: {err.strip()[:300]}")

    def control_record(self, data: bytes) -> None:
        """One control record on a routing socket's control channel: one reply."""
        self.inputs["control"] += 1
        try:
            rec = self.ctl.control(data, REPLY_TIMEOUT)
        except (OSError, ValueError) as exc:
            self._find("control", data, f"no reply: {exc!r}")
            self.ctl.close()
            self.ctl = self._reopen(True)
            return
        got = rec.get("name") or str(rec.get("errno"))
        self.errnos[f"control {got}"] += 1
        if got not in oracle.CONTROL:
            self._find("control", data, got, oracle.CONTROL)
        if rec.get("errno") == 0 and b"shutdown" in data:
            self.ctl.close()  # a shut-down socket tests nothing more
            self.ctl = self._reopen(True)

    # -- health -------------------------------------------------------------------
    def probe(self, timeout: float = REPLY_TIMEOUT) -> None:
        """Every subscriber receives a fresh RTM_GET reply; note the agent's RSS."""
        self.probes += 1
        seq = PROBE_SEQ + self.probes
        self.prober.write(RtMsg("RTM_GET", dst="192.0.2.1", seq=seq))
        wait_until(lambda: all(s.probe_seen >= seq or s.error for s in self.subs), timeout,
                   what=f"probe {seq:#x} at every subscriber")
        dead = [s.error for s in self.subs if s.error]
        if dead:
            raise AssertionError(f"subscribers lost: {dead}")
        self.rss_max = max(self.rss_max, self.agent.rss_kb())

    def report(self) -> dict:
        return {
            "inputs": dict(self.inputs), "total": sum(self.inputs.values()),
            "findings": len(self.findings), "first_findings": self.findings[:5],
            "errnos": dict(sorted(self.errnos.items())),
            "agent_alive": self.agent.alive(),
            "rss_kb": {"start": self.rss_start, "max": self.rss_max, "end": self.agent.rss_kb()
                       if self.agent.alive() else None},
            "subscribers": {"held": sum(1 for s in self.subs if not s.error), "of": len(self.subs),
                            "received": [s.received for s in self.subs],
                            "overflows": sum(s.overflows for s in self.subs)},
            "probes": self.probes,
        }

    def close(self) -> None:
        for sub in self.subs:
            sub.stopping.set()
        for sub in self.subs:
            sub.join(2)
            sub.sock.close()
        for sock in (*self.socks.values(), self.ctl, self.prober, self.admin):
            sock.close()  # type: ignore[attr-defined]
