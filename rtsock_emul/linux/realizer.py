"""Make Linux follow the kernel model: addresses on members, gateway routes.

On every `changed()` the realizer diffs `kernel.realized_addresses()` (each
UP, DAD-complete address on the Linux interface that carries it: a data
address on its bound member) and the model's gateway routes against what it
applied, and adds/removes exactly the difference with netlink. Announcements
queued meanwhile (gratuitous ARP / unsolicited NA after a move) are sent once
the addresses are in place. Runs as one task at a time; changes that arrive
while it works trigger one more pass.
"""
from __future__ import annotations

import asyncio
import ipaddress

from rtsock_emul.wire.constants import AF_INET, AF_INET6, RTF_GATEWAY

IFA_F_NODAD = 0x02
VERSION = {AF_INET: 4, AF_INET6: 6}


class Realizer:
    def __init__(self, ctx, ipr, ifaces: dict, log, send_announce) -> None:
        self.ctx, self.ipr, self.ifaces, self.log = ctx, ipr, ifaces, log
        self.send_announce = send_announce
        self.addrs: set[tuple] = set()      # (ifname, addr, prefixlen) applied
        self.routes: set[tuple] = set()     # (network, gateway, dev) applied
        self.pending_announce: list[tuple] = []
        self._dirty = False
        self._task: asyncio.Task | None = None
        self.passes = 0
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

    def announce(self, phyint: str, af: int, addr) -> None:
        self.pending_announce.append((phyint, af, addr))
        self.request()

    async def _run(self) -> None:
        while self._dirty:
            self._dirty = False
            try:
                await self.reconcile()
            except Exception as exc:    # keep serving; the next change retries
                self.log.exception("realizer: %s", exc)
            announce, self.pending_announce = self.pending_announce, []
            for item in announce:
                self.send_announce(*item)
            self.passes += 1
        self.settled.set()

    # --- applying -------------------------------------------------------------
    async def reconcile(self) -> None:
        want = self.wanted_addrs()
        # add first so a moved address is never absent from the host
        for ifname, addr, plen in sorted(want - self.addrs, key=str):
            if await self._addr("add", ifname, addr, plen):
                self.addrs.add((ifname, addr, plen))
        for ifname, addr, plen in sorted(self.addrs - want, key=str):
            await self._addr("del", ifname, addr, plen)
            self.addrs.discard((ifname, addr, plen))
        want_routes = self.wanted_routes()
        for item in sorted(self.routes - want_routes, key=str):
            await self._route("del", *item)
            self.routes.discard(item)
        for item in sorted(want_routes - self.routes, key=str):
            if await self._route("replace", *item):
                self.routes.add(item)

    async def _addr(self, op: str, ifname: str, addr, plen: int) -> bool:
        kw = {"index": self.ifaces[ifname].index, "address": str(addr), "prefixlen": plen}
        if addr.version == 4:
            net = ipaddress.ip_network((addr, plen), strict=False)
            if plen < 31:
                kw["broadcast"] = str(net.broadcast_address)
        elif op == "add":
            kw["flags"] = IFA_F_NODAD
        try:
            await self.ipr.addr(op, **kw)
        except Exception as exc:
            if op == "del" or getattr(exc, "code", None) != 17:     # EEXIST: already there
                self.log.warning("realizer: addr %s %s/%d on %s: %s", op, addr, plen, ifname, exc)
                return op == "del"
        self.log.info("realizer: %s %s/%d on %s", op, addr, plen, ifname)
        return True

    async def _route(self, op: str, net, gateway, dev) -> bool:
        kw = {"dst": str(net), "gateway": str(gateway)}
        if dev is not None:
            kw["oif"] = self.ifaces[dev].index
        try:
            await self.ipr.route(op, **kw)
        except Exception as exc:
            self.log.warning("realizer: route %s %s via %s: %s", op, net, gateway, exc)
            return False
        self.log.info("realizer: route %s %s via %s%s", op, net, gateway, f" dev {dev}" if dev else "")
        return True
