"""Duplicate Address Detection per ipif, driven by the Clock (R99-R109; ip_ndp.c,
R99-R109). Probes go out through hooks.dad_probe; a data address on an IPMP
interface probes through its bound member."""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

from rtsock_emul.wire import constants as C

from .base import Base, operation
from .model import AF_INET, Ipif, addr_of

LINK_LOCAL_V4 = ipaddress.IPv4Network("169.254.0.0/16")
MIN_JITTER = 0.002


@dataclass(eq=False)
class Dad:
    ipif: Ipif
    count: int
    interval: float
    jitter: bool
    sent: int = 0
    handle: object = None
    waiting: bool = False        # probes done but link not RUNNING (R102)


class DadMixin(Base):
    def _dad_exempt(self, ipif: Ipif) -> bool:
        """R103: NOARP, loopback, unspecified, arp_no_defense, or an IPMP data
        address with no member to probe from."""
        if ipif.flags & (C.IFF_NOARP | C.IFF_LOOPBACK) or ipif.unspecified:
            return True
        if ipif.af == AF_INET and self.tunables.arp_no_defense:
            return True
        return ipif.ill.phyint.is_ipmp and ipif.bound_ill is None

    def _probe_phyint(self, ipif: Ipif):
        return ipif.bound_ill.phyint if ipif.bound_ill is not None else ipif.ill.phyint

    def _dad_start(self, ipif: Ipif) -> None:
        """(Re)start DAD; an exempt address is ready at once (E1, R56, R103)."""
        self._dad_cancel(ipif)
        if self._dad_exempt(ipif):
            self._up_notify(ipif)
            return
        t = self.tunables
        fast = self._probe_phyint(ipif).link_notes
        if ipif.af == AF_INET:
            fast = fast and ipif.addr not in LINK_LOCAL_V4
            count = t.arp_fastprobe_count if fast else t.arp_probe_count
            interval = t.arp_fastprobe_interval if fast else t.arp_probe_interval
            delay = t.arp_probe_delay if fast else t.arp_fastprobe_delay   # inverted, as illumos
            dad = ipif.dad = Dad(ipif, count, interval, jitter=True)
            first = self.rng.uniform(0.001, interval) if delay and count else 0.0   # R100
            self.hooks.dad_start(self._probe_phyint(ipif).name, ipif.af, ipif.addr, count, interval, first)
            if first:
                dad.handle = self.clock.call_later(first, lambda: self._dad_tick(dad))
            else:
                self._dad_tick(dad)
        else:
            interval = t.ndp_fastprobe_interval if fast else t.ndp_probe_interval
            dad = ipif.dad = Dad(ipif, t.ndp_probe_count, interval, jitter=False)
            self.hooks.dad_start(self._probe_phyint(ipif).name, ipif.af, ipif.addr,
                                 t.ndp_probe_count, interval, 0.0)
            self._dad_tick(dad)                                        # R101: first NS at once

    def _dad_cancel(self, ipif: Ipif) -> None:
        if ipif.dad is not None:
            self.clock.cancel(ipif.dad.handle)
            ipif.dad = None

    def _dad_tick(self, dad: Dad) -> None:
        if dad.ipif.dad is not dad:
            return
        self._dad_step(dad)

    @operation
    def _dad_step(self, dad: Dad) -> None:
        ipif = dad.ipif
        if dad.sent < dad.count:
            dad.sent += 1
            self.hooks.dad_probe(self._probe_phyint(ipif).name, ipif.af, ipif.addr, dad.sent)
            delay = dad.interval
            if dad.jitter:                                             # ±20%, at least ±2 ms
                spread = max(dad.interval * 0.2, MIN_JITTER)
                delay = max(0.001, dad.interval + self.rng.uniform(-spread, spread))
            dad.handle = self.clock.call_later(delay, lambda: self._dad_tick(dad))
            return
        if not ipif.ill.phyint.running:                                # R102
            dad.waiting, dad.handle = True, None
            return
        ipif.dad = None
        if ipif.up and not ipif.ready:
            self._up_notify(ipif)
        self.hooks.announce(self._probe_phyint(ipif).name, ipif.af, ipif.addr)

    # ---- conflicts, defense, recovery ------------------------------------
    def claims(self, ifname: str, af: int, addr: Any) -> bool:
        """Whether a claim for `addr` seen on `ifname` could concern us: the address is
        up on that interface or on its group's IPMP interface (what dad_conflict looks
        for). A query, not an operation: on a busy LAN most NS/NA frames name other
        hosts' addresses, and this answers those without the operation's bookkeeping."""
        phy = self._phyints.get(ifname)
        if phy is None:
            return False
        try:
            addr = addr_of(af, addr)
        except ValueError:
            return False
        return self._ipif_with_addr(phy, af, addr) is not None

    def claimed(self, ifname: str) -> set:
        """(af, addr) of every address `claims` is true for on `ifname`: what a claim
        seen there must name to concern us (the platform filters the rest in its
        kernel, so the frames of other hosts' DAD never wake the agent)."""
        phy = self._phyints.get(ifname)
        if phy is None:
            return set()
        ills = list(phy.ills.values())
        if phy.group is not None and not phy.is_ipmp:
            ills += phy.group.ipmp.ills.values()
        return {(ipif.af, ipif.addr) for ill in ills for ipif in ill.ipifs.values() if ipif.up}

    def _claims_signature(self) -> tuple:
        """What every claimed() set follows from (up addresses, group membership), in
        one pass: computed around each operation."""
        return tuple((phy.name, phy.group.ipmp.name if phy.group is not None else None,
                      tuple((ipif.af, ipif.addr) for ill in phy.ills.values()
                            for ipif in ill.ipifs.values() if ipif.up))
                     for phy in self._phyints.values())

    @operation
    def dad_conflict(self, ifname: str, af: int, addr, src_mac: bytes) -> str | None:
        """A conflicting ARP/NA/NS for `addr` seen on `ifname`. Returns what the
        kernel did: "ignored" (our own or a group member's MAC, R105),
        "duplicate" (R104, R108), "defended" (R108), or None (not ours)."""
        phy = self._phy(ifname)
        addr = self._addr(af, addr)
        group = phy.group
        macs = {phy.mac}
        if group is not None:
            macs |= {m.mac for m in group.members}
        if bytes(src_mac) in macs:
            return "ignored"
        ipif = self._ipif_with_addr(phy, af, addr)
        if ipif is None:
            return None
        if not ipif.ready:
            self._mark_duplicate(ipif)
            return "duplicate"
        limit = self.tunables.max_temp_defend if ipif.ipif_flags & (
            C.IFF_DHCPRUNNING | C.IFF_TEMPORARY) else self.tunables.max_defend
        now = self.clock.now()
        ipif.defenses = [t for t in ipif.defenses if now - t < self.tunables.defend_interval]
        if len(ipif.defenses) < limit:
            ipif.defenses.append(now)
            self.hooks.announce(self._probe_phyint(ipif).name, af, addr)
            return "defended"
        self._mark_duplicate(ipif)
        return "duplicate"

    def _ipif_with_addr(self, phy, af: int, addr) -> Ipif | None:
        ills = [phy.ills.get(af)]
        if phy.group is not None and not phy.is_ipmp:
            ills.append(phy.group.ipmp.ills.get(af))
        for ill in ills:
            for ipif in (ill.ipifs.values() if ill is not None else ()):
                if ipif.addr == addr and ipif.up:
                    return ipif
        return None

    def _mark_duplicate(self, ipif: Ipif) -> None:
        """E12: DUPLICATE, then the down sequence, then the R106 timer."""
        self._ipif_down(ipif)
        ipif.ipif_flags |= C.IFF_DUPLICATE
        delay = self.tunables.dup_recovery
        if delay and not ipif.ipif_flags & (C.IFF_DHCPRUNNING | C.IFF_TEMPORARY) \
                and not ipif.ill.flags & C.IFF_NOARP:
            ipif.recovery = self.clock.call_later(delay, lambda: self._dup_timer(ipif))

    def _dup_cancel(self, ipif: Ipif) -> None:
        if ipif.recovery is not None:
            self.clock.cancel(ipif.recovery)
            ipif.recovery = None

    @operation
    def _dup_timer(self, ipif: Ipif) -> None:
        ipif.recovery = None
        if ipif.ill.phyint.running and ipif.ill.ipifs.get(ipif.unit) is ipif:
            self._dup_recover(ipif)

    def _dup_recover(self, ipif: Ipif) -> None:
        """ipif_do_recovery (R106, R107): clear DUPLICATE and bring up with full DAD."""
        if not ipif.ipif_flags & C.IFF_DUPLICATE or ipif.up:
            return
        self._dup_cancel(ipif)
        ipif.ipif_flags &= ~C.IFF_DUPLICATE
        self._ipif_up(ipif)

    # ---- queries ----------------------------------------------------------
    def tentative(self, lifname: str, af: int) -> bool:
        """ipadm 'tentative': UP and DAD not complete."""
        ipif = self._ipif(lifname, af)
        return ipif.up and not ipif.ready
