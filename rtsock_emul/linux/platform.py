"""The Linux platform: one Mininet host's veths under the kernel model.

start(ctx): discover the lab's datalinks (netN) with netlink, watch carrier
on the link multicast group, open the ARP/NDP sockets, boot the host
(`platform.boot`: lo0, then the datalinks the topology plumbs, with their
addresses), add the topology's routes, and return once they are realised on
Linux (READY means usable). The kernel hooks
`changed`, `announce`, `dad_probe` drive the realizer and the packet sockets.
"""
from __future__ import annotations

import asyncio
import ipaddress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rtsock_emul.platform import LinkInfo, PlatformError, boot, plumbed
from rtsock_emul.wire.constants import AF_INET, AF_INET6, RTF_GATEWAY, RTF_STATIC, RTF_UP

from . import netlink, packets
from .prober import LinuxProber
from .realizer import Realizer

AF_OF = {4: AF_INET, 6: AF_INET6}
SETTLE_TIMEOUT = 10.0          # seconds start() waits for the topology addresses (DAD)
# per lab interface; the lab sets the same as namespace defaults
IF_SYSCTLS = {"ipv4/conf/{}/arp_ignore": "1", "ipv4/conf/{}/arp_announce": "2",
              "ipv4/conf/{}/promote_secondaries": "1", "ipv6/conf/{}/accept_dad": "0"}
NS_SYSCTLS = {"ipv4/icmp_echo_ignore_broadcasts": "0"}


@dataclass
class Iface:
    name: str
    index: int
    mac: bytes
    mtu: int
    flags: int


def _sysctl(key: str, value: str, log) -> None:
    path = Path("/proc/sys/net") / key
    try:
        path.write_text(value)
    except OSError as exc:
        log.warning("linux: cannot set %s=%s: %s", key, value, exc)


class LinuxPlatform:
    def __init__(self, config: dict, log) -> None:
        self.config, self.log = config, log
        self.ctx: Any = None          # the agent's context, from start()
        self.ifaces: dict[str, Iface] = {}
        self.prober: LinuxProber | None = None
        self.watcher: netlink.LinkWatcher | None = None
        self.realizer: Realizer | None = None
        self._socks: list[packets.LinkSocket] = []
        self._by_if: dict[str, packets.LinkSocket] = {}
        self._our_macs: set[bytes] = set()
        self._carrier_now: dict[str, bool] = {}

    # --- lifecycle ------------------------------------------------------------
    async def start(self, ctx) -> None:
        self.ctx, loop = ctx, ctx.loop
        wanted = [i["name"] for i in self.config.get("interfaces", ())]
        # watch before reading, so no change between the dump and the watch is lost
        self.watcher = netlink.LinkWatcher(loop, wanted or (), self._carrier, self.log)
        by_name = {link.ifname: link for link in netlink.dump_links()}
        names = wanted or [n for n in by_name if n != "lo"]
        missing = [n for n in names if n not in by_name]
        if missing:
            raise PlatformError(f"interfaces {', '.join(missing)} are not in this network namespace "
                                f"(it has: {', '.join(sorted(by_name))}); is the agent in the right host?")
        self.watcher.names = set(names)
        for key, value in NS_SYSCTLS.items():
            _sysctl(key, value, self.log)
        for name in names:
            link = by_name[name]
            self.ifaces[name] = Iface(name, link.ifi_index, link.address, link.mtu, link.ifi_flags)
            self._our_macs.add(link.address)
            for key, value in IF_SYSCTLS.items():
                _sysctl(key.format(name), value, self.log)
        self.realizer = Realizer(ctx, self.ifaces, self.log, self._send_announce)
        self.prober = LinuxProber(loop, self.log, lambda n: self.ifaces[n].index)
        for iface in self.ifaces.values():
            self._open_link_sockets(iface)
            up = netlink.running(iface.flags)
            self._carrier_now[iface.name] = up
            self.watcher.seed(iface.name, up)
        boot(ctx.kernel, self, self.config.get("interfaces", ()))
        await self._settle()
        self._add_routes()
        if self.config.get("routes"):
            await self._settle()
        self.log.info("linux: %d interfaces: %s", len(self.ifaces), ", ".join(self.ifaces))

    def _open_link_sockets(self, iface: Iface) -> None:
        for proto in (packets.ETH_P_ARP, packets.ETH_P_IPV6):
            sock = packets.LinkSocket(iface.name, proto)
            self._socks.append(sock)
            self.ctx.loop.add_reader(sock.fileno(), self._frames, sock)
            if proto == packets.ETH_P_ARP:
                self._by_if[iface.name] = sock

    def _claim_filters(self) -> None:
        """Each link socket lets through claims of the addresses we hold there only."""
        kernel = self.ctx.kernel
        for sock in self._socks:
            try:
                sock.claim(addr for _af, addr in kernel.claimed(sock.ifname))
            except OSError as exc:     # the socket passes every frame then: slower, same verdicts
                self.log.warning("linux: claim filter on %s: %s", sock.ifname, exc)

    def link_info(self, name: str) -> LinkInfo | None:
        iface = self.ifaces.get(name)
        if iface is None:
            return None
        return LinkInfo(name, iface.mac, iface.mtu, self._carrier_now.get(name, False))

    def datalinks(self) -> list[LinkInfo]:
        return [info for info in map(self.link_info, self.ifaces) if info is not None]

    def _add_routes(self) -> None:
        for route in self.config.get("routes", ()):
            gw = ipaddress.ip_address(route["gateway"])
            af = AF_OF[gw.version]
            net = ipaddress.ip_network("0.0.0.0/0" if gw.version == 4 else "::/0") \
                if route["dst"] == "default" else ipaddress.ip_network(route["dst"])
            try:
                self.ctx.kernel.route_add(af, net.network_address, net.netmask, gw,
                                          RTF_UP | RTF_GATEWAY | RTF_STATIC)
            except Exception as exc:
                self.log.warning("linux: topology route %s via %s: %s", route["dst"], gw, exc)

    async def _settle(self) -> None:
        realizer = self.realizer
        assert realizer is not None, "start() makes the realizer first"
        """Wait until the topology addresses passed DAD and the realizer applied them."""
        want = {(e["name"], ipaddress.ip_interface(a).ip) for e in self.config.get("interfaces", ())
                for a in e.get("addresses", ())}

        def done():
            have = {(ifname, addr) for ifname, addr, _ in realizer.addrs}
            return want <= have and realizer.settled.is_set()

        loop = self.ctx.loop
        deadline = loop.time() + SETTLE_TIMEOUT
        realizer.request()
        while not done():
            left = deadline - loop.time()
            if left <= 0:
                self.log.warning("linux: topology addresses not all up after %gs", SETTLE_TIMEOUT)
                return
            try:   # woken by every realizer pass (driven by kernel changes), never a fixed sleep
                await asyncio.wait_for(realizer.settled.wait(), left)
            except asyncio.TimeoutError:
                continue
            if not done():
                realizer.settled.clear()

    def stop(self) -> None:
        if self.watcher:
            self.watcher.close()
        if self.prober:
            self.prober.close()
        for sock in self._socks:
            if self.ctx and sock.sock.fileno() >= 0:
                self.ctx.loop.remove_reader(sock.fileno())
            sock.close()
        self._socks.clear()
        if self.realizer is not None:
            self.realizer.close()

    # --- events from Linux -------------------------------------------------------
    def _carrier(self, ifname: str, running: bool) -> None:
        self._carrier_now[ifname] = running
        if not plumbed(self.ctx.kernel, ifname):
            return                    # a bare datalink: nothing in IP to tell
        try:
            self.ctx.kernel.link_change(ifname, running)
        except Exception as exc:
            self.log.warning("linux: link_change %s %s: %s", ifname, running, exc)

    def _frames(self, sock: packets.LinkSocket) -> None:
        for frame in sock.recv_all():
            claim = packets.parse_claim(frame)
            if claim is None or claim[2] in self._our_macs:
                continue
            version, addr, mac = claim
            if not self.ctx.kernel.claims(sock.ifname, AF_OF[version], addr):
                continue              # another host's address: most frames on a shared LAN
            try:
                result = self.ctx.kernel.dad_conflict(sock.ifname, AF_OF[version], addr, mac)
            except Exception as exc:
                self.log.warning("linux: dad_conflict %s %s: %s", sock.ifname, addr, exc)
                continue
            if result:
                self.log.info("linux: %s claimed by %s on %s: %s (%s)", addr, mac.hex(":"), sock.ifname, result, frame[:64].hex())

    # --- kernel hooks --------------------------------------------------------------
    def claims_changed(self) -> None:
        self._claim_filters()

    def changed(self) -> None:
        if self.realizer is not None:   # the end of a kernel operation: addresses move now
            self.realizer.sync()

    def dad_probe(self, phyint: str, af: int, addr, probe_no: int) -> None:
        iface = self.ifaces.get(phyint)
        if iface is None:
            return
        addr = ipaddress.ip_address(addr)
        frame = packets.arp_probe(iface.mac, addr) if af == AF_INET else packets.ns_dad(iface.mac, addr)
        self._claim_filters()    # the first probe goes inside the operation, before claims_changed
        self._send(phyint, frame)

    def announce(self, phyint: str, af: int, addr) -> None:
        if phyint in self.ifaces and self.realizer is not None:
            self.realizer.announce(phyint, af, addr)   # sent once the address is on Linux

    def _send_announce(self, phyint: str, af: int, addr) -> None:
        iface = self.ifaces[phyint]
        addr = ipaddress.ip_address(addr)
        frame = packets.arp_announce(iface.mac, addr) if af == AF_INET else packets.na_unsolicited(iface.mac, addr)
        self._send(phyint, frame)

    def _send(self, phyint: str, frame: bytes) -> None:
        try:
            self._by_if[phyint].send(frame)
        except OSError as exc:    # no carrier: the frame is lost, as on a real wire
            self.log.debug("linux: send on %s: %s", phyint, exc)
