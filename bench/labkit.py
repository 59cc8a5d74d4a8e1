"""Mininet-lab helpers shared by the latency and outage benchmarks.

Listeners run in threads of the benchmark process and stamp each event with
time.perf_counter() as soon as their blocking read returns; the main thread
cuts links (`lab.link`) and waits on their queues.
"""
from __future__ import annotations

import contextlib
import os
import queue
import threading
import time

import rtsock_emul.lab as lab_api
from rtsock_emul.util.wait import wait_until
from rtsock_emul.wire.constants import (
    AF_INET,
    IFF_FAILED,
    IFF_RUNNING,
    RT_AWARE,
    RTAW_UNDER_IPMP,
    RTM_IFINFO,
    SOL_ROUTE,
)

DATA_ADDR = "192.0.2.10"
PEER_ADDR = "192.0.2.1"
MEMBERS = ("net0", "net1")
SETUP = ("ipadm create-ip net0", "ipadm create-ip net1",     # h1 boots with bare datalinks
         "ipadm create-ipmp -i net0,net1 ipmp0",
         f"ipadm create-addr -T static -a {DATA_ADDR}/24 ipmp0/v4")


def need_root() -> str | None:
    """Why a Mininet benchmark cannot run here, or None."""
    if os.geteuid() != 0:
        return "needs root (network namespaces, veths): run with sudo"
    return None


def start_pair(fdt_ms: int = 1000, quiet_period: int | None = None):
    """ipmp-pair with h1's net0+net1 in ipmp0 and the data address up."""
    mpathd = {"failure_detection_time": fdt_ms}
    if quiet_period is not None:
        mpathd["quiet_period"] = quiet_period
    lab = lab_api.start("ipmp-pair", config={"mpathd": mpathd})
    try:
        for cmd in SETUP:
            lab.admin_ok("h1", cmd)
    except BaseException:
        lab.stop()
        raise
    return lab


def ifindex(lab, host: str, ifname: str) -> int:
    """The emulated kernel's ifindex (plumb order after lo0), as RTM_IFINFO carries it."""
    return int(lab.admin_ok(host, f"ifindex {ifname}"))


@contextlib.contextmanager
def in_netns(pid: int):
    """This thread inside the network namespace of `pid` (sockets made here stay there)."""
    from pyroute2.netns import setns
    home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY)
    try:
        setns(target)
        yield
    finally:
        setns(home)
        os.close(target)
        os.close(home)


class Listener(threading.Thread):
    """Base: a daemon thread putting (perf_counter, event) on `events`."""

    def __init__(self, name: str):
        super().__init__(name=name, daemon=True)
        self.events: queue.Queue = queue.Queue()
        self.stopping = False

    def wait_for(self, match, timeout: float, what: str):
        """The first queued (t, event) with match(event) true; earlier ones are dropped."""
        deadline = time.monotonic() + timeout
        skipped = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.name}: no {what} within {timeout}s; "
                                   f"saw instead: {'; '.join(skipped[-8:]) or 'nothing'}")
            try:
                t, ev = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if match(ev):
                return t, ev
            skipped.append(describe(ev))

    def clear(self) -> None:
        while True:
            try:
                self.events.get_nowait()
            except queue.Empty:
                return


class NetlinkListener(Listener):
    """The floor: a pyroute2 IPRoute bound to the link group inside host's namespace.
    Events: (ifname, lower_up: bool)."""

    def __init__(self, ns_pid: int):
        super().__init__("netlink")
        self.ns_pid = ns_pid
        self.ipr = None
        self.ready = threading.Event()
        self.error: BaseException | None = None

    def start(self) -> None:
        super().start()
        self.ready.wait(10.0)
        if self.ipr is None:
            raise RuntimeError(f"netlink listener did not start in the namespace of pid {self.ns_pid}: {self.error!r}")

    def run(self) -> None:
        # pyroute2's sync IPRoute belongs to the thread that made it: make it here,
        # inside the host's namespace (setns changes this thread only)
        from pyroute2 import IPRoute
        try:
            with in_netns(self.ns_pid):
                ipr = IPRoute()
                ipr.bind(groups=0x1)   # RTMGRP_LINK
            self.ipr = ipr
        except BaseException as exc:
            self.error = exc
            return
        finally:
            self.ready.set()
        while not self.stopping:
            try:
                msgs = ipr.get()
            except Exception:
                if self.stopping:
                    return
                raise
            t = time.perf_counter()
            for m in msgs:
                if m.get("event") == "RTM_NEWLINK":
                    self.events.put((t, (m.get_attr("IFLA_IFNAME"), bool(m["flags"] & 0x10000))))

    def close(self) -> None:
        self.stopping = True
        if self.ipr is not None:
            try:
                self.ipr.close()   # unblocks get() in the thread (EBADF), which then ends
            except Exception:
                pass
        self.join(1.0)


class RtsockListener(Listener):
    """An IPMP-aware AF_INET routing socket on host (RTAW_UNDER_IPMP). Events: decoded messages."""

    def __init__(self, lab, host: str, protocol: int = AF_INET):
        super().__init__("rtsock")
        self.sock = lab.open_socket(host, protocol)
        self.sock.setsockopt(SOL_ROUTE, RT_AWARE, RTAW_UNDER_IPMP)

    def run(self) -> None:
        while not self.stopping:
            try:
                msg = self.sock.read_msg(timeout=0.2)
            except TimeoutError:
                continue
            except OSError:
                if self.stopping:
                    return
                raise
            self.events.put((time.perf_counter(), msg))

    def close(self) -> None:
        self.stopping = True
        self.join(1.0)
        self.sock.close()


def describe(ev) -> str:
    if isinstance(ev, tuple):
        return repr(ev)
    from rtsock_emul.wire.render import render
    return " ".join(render(ev).split("\n")[1:2])


def ifinfo(index: int, *, failed: bool | None = None, running: bool | None = None):
    """A matcher for RTM_IFINFO about `index` with FAILED/RUNNING as asked."""
    def match(msg) -> bool:
        if getattr(msg, "ifm_type", None) != RTM_IFINFO or msg.ifm_index != index:
            return False
        if failed is not None and bool(msg.ifm_flags & IFF_FAILED) != failed:
            return False
        return running is None or bool(msg.ifm_flags & IFF_RUNNING) == running
    return match


def member_ok(lab, ifname: str, timeout: float = 10.0) -> None:
    """Wait until ipmpstat -i shows ifname active and ok (in.mpathd repaired it)."""
    def probe():
        out = lab.admin_ok("h1", "ipmpstat -i")
        return any(line.split()[:2] == [ifname, "yes"] and line.split()[-1] == "ok"
                   for line in out.splitlines())
    wait_until(probe, timeout, what=f"h1 {ifname} active and ok in ipmpstat -i")


def bound_member(lab, addr: str = DATA_ADDR) -> str:
    """The member that receives for addr (ipmpstat -a INBOUND)."""
    for line in lab.admin_ok("h1", "ipmpstat -a").splitlines():
        cols = line.split()
        if cols and cols[0] == addr and len(cols) >= 4 and cols[3] in MEMBERS:
            return cols[3]
    raise RuntimeError(f"{addr} is not bound to a member of ipmp0")


def cut_series(n: int, open_run, cut, pick_member, fdt_ms: int = 1000) -> tuple[list, int]:
    """n carrier cuts over as few labs as in.mpathd's flap damping allows.

    in.mpathd (R114) disables link-based repair once a link came up more than
    LINK_UP_PERMIN (2) times in a minute, so one lab gives each member two
    repaired cuts and a third, final one; then a fresh lab is started.
    open_run(lab) -> run state; cut(lab, state, member, repair: bool) -> sample;
    pick_member(lab) -> the member to cut; state.close() at the end.
    Returns (samples, labs used).
    """
    from rtsock_emul.mpathd.config import LINK_UP_PERMIN
    samples, labs = [], 0
    while len(samples) < n:
        lab = start_pair(fdt_ms)
        labs += 1
        state = None
        try:
            state = open_run(lab)
            ups = {m: 0 for m in MEMBERS}
            while len(samples) < n:
                member = pick_member(lab)
                final = ups[member] >= LINK_UP_PERMIN or len(samples) == n - 1
                samples.append(cut(lab, state, member, not final))
                ups[member] += 1
                if final:
                    break
        finally:
            if state is not None:
                state.close()
            lab.stop()
    return samples, labs
