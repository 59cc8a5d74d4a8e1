"""Make Linux follow the kernel model: addresses on members, gateway routes.

On every `changed()` the realizer diffs `kernel.realized_addresses()` (each
UP, DAD-complete address on the Linux interface that carries it: a data
address on its bound member) and the model's gateway routes against what it
applied, and adds/removes exactly the difference. The address difference
goes to Linux as one rtnetlink batch (rtnl.py), applied when its send
returns; announcements queued meanwhile (gratuitous ARP / unsolicited NA
after a move) are sent right after it, before any route work, so a peer
learns the new MAC one system call after the move. `sync()`, called at the
end of each kernel operation that changed the realized state, does that
at once; routes follow in a task, one pass at a time (changes that arrive
while it works trigger one more pass), each pass's removals and replacements
one rtnetlink batch too.
"""
from __future__ import annotations

import asyncio
import errno
import ipaddress

from rtsock_emul.wire.constants import RTF_GATEWAY

from . import rtnl


class Realizer:
    def __init__(self, ctx, ifaces: dict, log, send_announce, batcher=None):
        self.ctx, self.ifaces, self.log = ctx, ifaces, log
        self.batcher = batcher if batcher is not None else rtnl.Batcher()
        self.send_announce = send_announce
        self.addrs: set[tuple] = set()      # (ifname, addr, prefixlen) applied
        self.routes: set[tuple] = set()     # (network, gateway, dev) applied
        self.pending_announce: list[tuple] = []
        self._applied: list[tuple] = []     # (op, ifname, addr, plen, errno) not yet logged
        self._dirty = False
        self._task: asyncio.Task | None = None
        self.settled = asyncio.Event()

    # --- wanted state ---------------------------------------------------------
    def wanted_addrs(self) -> set[tuple]:
        out = set()
        for ifname, entries in self.ctx.kernel.realized_addresses().items():
            if ifname not in self.ifaces:
                continue
            for _af, addr, prefixlen, _kind in entries:
                out.add((ifname, ipaddress.ip_address(addr), prefixlen))
        return out

    def wanted_routes(self) -> set[tuple]:
        out = set()
        for route in self.ctx.kernel.routes():
            if not route.flags & RTF_GATEWAY or route.local or route.ipif is not None:
                continue
            dev = route.ill.name if route.ill is not None and route.ill.name in self.ifaces else None
            out.add((ipaddress.ip_network((route.dst, route.prefixlen), strict=False),
                     ipaddress.ip_address(route.gateway), dev))
        return out

    # --- scheduling -----------------------------------------------------------
    def request(self) -> None:
        self._dirty = True
        self.settled.clear()
        if self._task is None or self._task.done():
            self._task = self.ctx.loop.create_task(self._run())

    def sync(self) -> None:
        """At the end of a kernel operation (the model is consistent): the address
        difference and the announcements now, in this call; routes in the task.
        A failover then reaches Linux and the peers with no event-loop turn."""
        try:
            self.apply_addrs()
        except Exception as exc:        # keep serving; the task's pass retries
            self.log.exception("realizer: %s", exc)
        else:
            self._flush_announce()
        self._log_applied()
        self.request()

    def announce(self, phyint: str, af: int, addr) -> None:
        self.pending_announce.append((phyint, af, addr))
        self.request()

    async def _run(self) -> None:
        while self._dirty:
            self._dirty = False
            try:
                self.apply_addrs()
            except Exception as exc:    # keep serving; the next change retries
                self.log.exception("realizer: %s", exc)
            self._flush_announce()      # the addresses are on Linux now: before route work
            self._log_applied()
            try:
                self.apply_routes()
            except Exception as exc:
                self.log.exception("realizer: %s", exc)
        self.settled.set()

    def _flush_announce(self) -> None:
        announce, self.pending_announce = self.pending_announce, []
        for item in announce:
            self.send_announce(*item)

    # --- applying -------------------------------------------------------------
    def apply_addrs(self) -> None:
        """The address difference as one batch, adds before removals (a moved
        address is never absent from the host)."""
        want = self.wanted_addrs()
        adds = sorted(want - self.addrs, key=str)
        dels = sorted(self.addrs - want, key=str)
        ops = [("add", *a) for a in adds] + [("del", *d) for d in dels]
        if not ops:
            return
        self.batcher.drain()
        results = self.batcher.apply([(op, self.ifaces[ifname].index, addr, plen)
                                      for op, ifname, addr, plen in ops])
        for (op, ifname, addr, plen), err in zip(ops, results):
            key = (ifname, addr, plen)
            if op == "del":
                self.addrs.discard(key)         # gone, or never there: nothing to retry
            elif err in (0, errno.EEXIST):
                self.addrs.add(key)
            self._applied.append((op, ifname, addr, plen, err))

    def _log_applied(self) -> None:
        """Logged after the announcements went out (a log line is a write: not before the ARP)."""
        applied, self._applied = self._applied, []
        for op, ifname, addr, plen, err in applied:
            if err in (0, errno.EEXIST):
                self.log.info("realizer: %s %s/%d on %s", op, addr, plen, ifname)
            else:                               # an add left out is retried on the next change
                self.log.warning("realizer: addr %s %s/%d on %s: %s", op, addr, plen, ifname,
                                 rtnl.describe(err))

    def close(self) -> None:
        self.batcher.close()

    def apply_routes(self) -> None:
        """Removals, then replacements, in one batch (applied when its send returns).
        A failed request is logged, not raised; a replacement left out is retried
        on the next change."""
        want_routes = self.wanted_routes()
        ops = [("del", *item) for item in sorted(self.routes - want_routes, key=str)] + \
              [("replace", *item) for item in sorted(want_routes - self.routes, key=str)]
        if not ops:
            return
        self.batcher.drain()
        results = self.batcher.routes([(op, net, gateway, None if dev is None else self.ifaces[dev].index)
                                       for op, net, gateway, dev in ops])
        for (op, net, gateway, dev), err in zip(ops, results):
            if op == "del":
                self.routes.discard((net, gateway, dev))
            elif err == 0:
                self.routes.add((net, gateway, dev))
            if err == 0:
                self.log.info("realizer: route %s %s via %s%s", op, net, gateway, f" dev {dev}" if dev else "")
            else:
                self.log.warning("realizer: route %s %s via %s: %s", op, net, gateway, rtnl.describe(err))
