"""Fault injection on lab links: carrier loss, packet loss, delay; real pings.

- carrier: the switch-side veth end goes down, so the host end stays
  administratively up with its addresses and only loses IFF_LOWER_UP.
- loss: netem when the kernel has it; otherwise nftables in the host's
  namespace, netdev ingress+egress hooks on that interface, `numgen random`.
- delay: netem only.
"""
from __future__ import annotations

import functools
import re
import subprocess
from dataclasses import dataclass

from .errors import LabError

NFT_TABLE = "ipmp_lab_loss"
PING_GRACE = 2.0           # seconds ping may run beyond count*interval
_PING = re.compile(r"(\d+) packets transmitted, (\d+) (?:packets )?received")


@dataclass(frozen=True)
class PingResult:
    sent: int
    received: int

    @property
    def lost(self) -> int:
        return self.sent - self.received


@functools.lru_cache(maxsize=1)
def netem_available() -> bool:
    """Try a netem qdisc in a throwaway network namespace (gone when tc exits)."""
    res = subprocess.run(["unshare", "--net", "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms"],
                         capture_output=True, text=True)
    return res.returncode == 0


def ns_argv(pid: int, argv: list[str]) -> list[str]:
    """argv prefixed to run in the network namespace of process `pid`."""
    return ["nsenter", f"--net=/proc/{pid}/ns/net", "--", *argv]


def in_ns(pid: int, argv: list[str], *, input: str | None = None, timeout: float | None = 30) -> subprocess.CompletedProcess:
    """Run argv in the network namespace of process `pid` (a Mininet host shell).

    nsenter enters the network namespace only: `mnexec -a` also enters the mount
    namespace, which resets the root and breaks inside a chroot."""
    return subprocess.run(ns_argv(pid, argv), input=input, capture_output=True,
                          text=True, timeout=timeout)


def _check(res: subprocess.CompletedProcess, what: str) -> None:
    if res.returncode:
        raise LabError(f"{what} failed: {(res.stderr or res.stdout).strip()}")


def set_carrier(port: str, up: bool) -> None:
    res = subprocess.run(["ip", "link", "set", "dev", port, "up" if up else "down"], capture_output=True, text=True)
    _check(res, f"ip link set {port} {'up' if up else 'down'}")


class Impairments:
    """Loss and delay settings of one host's interfaces, applied as a whole."""

    def __init__(self, host: str, ns_pid: int, registry, ns_entry: dict) -> None:
        self.host, self.ns_pid, self.registry, self.ns_entry = host, ns_pid, registry, ns_entry
        self.loss: dict[str, int] = {}
        self.delay: dict[str, float] = {}
        self._registered: set = set()

    def _register(self, kind: str, **fields) -> None:
        key = (kind, tuple(sorted(fields.items())))
        if key not in self._registered:
            self._registered.add(key)
            self.registry.add(kind, ns_pid=self.ns_pid, ns_starttime=self.ns_entry.get("starttime"), **fields)

    def set_loss(self, ifname: str, percent: float) -> None:
        if not 0 <= percent <= 100:
            raise LabError(f"loss {percent}% on {self.host}:{ifname}: give a percentage in 0..100")
        self.loss[ifname] = round(percent)
        if netem_available():
            self._netem(ifname)
        else:
            self._nft()

    def set_delay(self, ifname: str, ms: float) -> None:
        if not netem_available():
            raise LabError("delay needs the netem qdisc, which this kernel lacks (modprobe sch_netem); "
                           "loss works with nftables")
        if ms < 0:
            raise LabError(f"delay {ms}ms on {self.host}:{ifname}: give 0 or more milliseconds")
        self.delay[ifname] = ms
        self._netem(ifname)

    def _netem(self, ifname: str) -> None:
        loss, delay = self.loss.get(ifname, 0), self.delay.get(ifname, 0)
        if not loss and not delay:
            in_ns(self.ns_pid, ["tc", "qdisc", "del", "dev", ifname, "root"])
            return
        self._register("tc", dev=ifname)
        args = ["tc", "qdisc", "replace", "dev", ifname, "root", "netem"]
        args += ["delay", f"{delay}ms"] if delay else []
        args += ["loss", f"{loss}%"] if loss else []
        _check(in_ns(self.ns_pid, args), f"{self.host}: {' '.join(args)}")

    def _nft(self) -> None:
        """Rewrite this host's loss table in one transaction."""
        self._register("nft", family="netdev", name=NFT_TABLE)
        chains = []
        for ifname, pct in sorted(self.loss.items()):
            if not pct:
                continue
            rule = "drop" if pct >= 100 else f"numgen random mod 100 < {pct} drop"
            for hook in ("ingress", "egress"):
                chains.append(f"  chain {ifname}_{hook} {{ type filter hook {hook} device \"{ifname}\" priority 0;"
                              f" {rule}; }}")
        script = f"table netdev {NFT_TABLE} {{}}\ndelete table netdev {NFT_TABLE}\n"
        if chains:
            script += f"table netdev {NFT_TABLE} {{\n" + "\n".join(chains) + "\n}\n"
        _check(in_ns(self.ns_pid, ["nft", "-f", "-"], input=script), f"{self.host}: nft loss table")


def ping(ns_pid: int, dst: str, count: int, interval: float, *, src_host: str = "?") -> PingResult:
    """iputils ping from a host's namespace; intervals under 0.2 s need root (we are)."""
    # -c without -w: exactly `count` requests, then wait -W for the last reply
    argv = ["ping", "-q", "-n", "-c", str(count), "-i", f"{interval:g}", "-W", "1", str(dst)]
    res = in_ns(ns_pid, argv, timeout=count * interval + PING_GRACE + 10)
    m = _PING.search(res.stdout)
    if not m:
        raise LabError(f"{src_host}: {' '.join(argv)} gave no summary: {(res.stderr or res.stdout).strip()}")
    return PingResult(int(m.group(1)), int(m.group(2)))
