"""Phyints, ills and logical interfaces: plumb/unplumb, addif/removeif,
set_addr, link state and index changes (configuration events E3-E5, E8-E10 of docs/internals.md)."""
from __future__ import annotations

import errno
import ipaddress

from rtsock_emul.wire import constants as C

from .base import AF_WORD, Base, operation
from .errors import KernelError
from .model import AF_INET, AF_INET6, MAXPLEN, UNSPEC, Ill, Ipif, Phyint

V6_LINKLOCAL_PLEN = 10   # illumos shows fe80::x/10 on ipif 0
LOOPBACK_MTU = {AF_INET: 8232, AF_INET6: 8252}   # lo0 as ifconfig shows it on illumos


def eui64_linklocal(mac: bytes) -> ipaddress.IPv6Address:
    """fe80::/64 + modified EUI-64 of a 6-byte MAC."""
    if len(mac) != 6:
        raise KernelError(errno.EINVAL, f"need a 6-byte MAC for an IPv6 link-local, got {mac.hex()}")
    eui = bytes([mac[0] ^ 0x02]) + mac[1:3] + b"\xff\xfe" + mac[3:]
    return ipaddress.IPv6Address(b"\xfe\x80" + bytes(6) + eui)


def default_prefixlen(af: int, addr) -> int:
    """ip_net_mask: classful for v4 (A /8, B /16, C /24); /64 for v6."""
    if af == AF_INET6:
        return 64
    first = addr.packed[0]
    return 8 if first < 128 else 16 if first < 192 else 24 if first < 224 else 32


class Interfaces(Base):
    # ---- plumbing -------------------------------------------------------
    @operation
    def plumb(self, ifname: str, af: int, *, mac: bytes = b"", mtu: int = 1500,
              ifindex: int | None = None, ipmp: bool = False, link_notes: bool = True,
              running: bool = True, loopback: bool = False) -> None:
        """ifconfig X plumb: creates the phyint (first family), the ill and ipif 0.
        IPv6 gets its EUI-64 link-local with RTM_CHGADDR (E3 note). `loopback`
        is lo0: LOOPBACK|RUNNING|VIRTUAL, no broadcast, no link-local."""
        self._check_af(af)
        if not ifname or ":" in ifname or len(ifname) >= C.LIFNAMSIZ:
            raise KernelError(errno.EINVAL, f"bad interface name {ifname!r}")
        phy = self._phyints.get(ifname)
        if phy is not None and af in phy.ills:
            raise KernelError(errno.EEXIST, f"{ifname} is already plumbed for {AF_WORD[af]}")
        if phy is not None and phy.is_ipmp != ipmp:
            raise KernelError(errno.EINVAL, f"{ifname} exists and {'is' if phy.is_ipmp else 'is not'} IPMP")
        if phy is None:
            if ipmp and ifname in self._groups:
                raise KernelError(errno.EEXIST, f"IPMP group {ifname!r} already exists")
            phy = Phyint(ifname, self._alloc_ifindex(ifindex), bytes(mac), link_notes=link_notes)
            if ipmp:
                phy.flags = C.IFF_IPMP | C.IFF_FAILED    # R91: no active member yet
                self._ipmp_create_group(phy)
            elif loopback:
                phy.flags = C.IFF_LOOPBACK | C.IFF_RUNNING | C.IFF_VIRTUAL
            elif running:
                phy.flags = C.IFF_RUNNING
            self._phyints[ifname] = phy
        elif phy.group is not None and not ipmp and af not in phy.group.ipmp.ills:
            raise KernelError(errno.EAFNOSUPPORT,
                              f"group {phy.group.name} has no {AF_WORD[af]} IPMP interface")
        fam = C.IFF_IPV4 if af == AF_INET else C.IFF_IPV6
        loop = bool(phy.flags & C.IFF_LOOPBACK)
        ill = Ill(phy, af, flags=fam | C.IFF_MULTICAST,
                  type=C.IFT_LOOP if loop else C.IFT_OTHER if ipmp else C.IFT_ETHER,
                  mtu=LOOPBACK_MTU[af] if loop else mtu,
                  phys_addr_len=0 if ipmp or loop else len(phy.mac))
        ipif0 = Ipif(ill, 0, UNSPEC[af], ipif_flags=C.IFF_BROADCAST if af == AF_INET and not loop else 0)
        ill.ipifs[0] = ipif0
        phy.ills[af] = ill
        if ipmp:
            self._ipmp_ill_plumbed(ill)
        elif phy.group is not None:
            self._ipmp_join_ill(phy.group, ill)
        if af == AF_INET6 and not ipmp and phy.mac:
            ipif0.addr, ipif0.prefixlen = eui64_linklocal(phy.mac), V6_LINKLOCAL_PLEN
            self._send_newaddr(C.RTM_CHGADDR, ipif0)

    def _alloc_ifindex(self, wanted: int | None) -> int:
        used = {p.ifindex for p in self._phyints.values()}
        if wanted is not None:
            if not 1 <= wanted <= C.IF_INDEX_MAX or wanted in used:
                raise KernelError(errno.EEXIST if wanted in used else errno.EINVAL,
                                  f"ifindex {wanted} is taken or out of range 1..{C.IF_INDEX_MAX}")
            return wanted
        # phyint_assign_ifindex: the next value of ips_ill_index, in plumb
        # order; an index freed by unplumb is reused only after the counter wraps
        index = self._ill_index
        while index in used:
            index = index % C.IF_INDEX_MAX + 1
        self._ill_index = index % C.IF_INDEX_MAX + 1
        return index

    @operation
    def unplumb(self, ifname: str, af: int) -> None:
        """E5: down messages for every ipif (IFINFO for ipif 0 only), then FREEADDR each."""
        ill = self._ill(ifname, af)
        phy = ill.phyint
        if phy.is_ipmp and phy.ipmp_group.members:
            raise KernelError(errno.EBUSY, f"IPMP group {phy.ipmp_group.name} still has members")
        ipifs = sorted(ill.ipifs.values(), key=lambda i: i.unit)
        for ipif in ipifs:
            self._dad_cancel(ipif)
            self._dup_cancel(ipif)
            if ipif.up:
                self._ipif_down(ipif)
            else:
                self._send_ifinfo(ipif)
                self._send_newaddr(C.RTM_DELETE, ipif)
        if ill.under_ipmp:
            self._ipmp_leave_ill(phy.ipmp_group, ill)
        for ipif in ipifs:
            self._send_newaddr(C.RTM_FREEADDR, ipif)
        del phy.ills[af]
        if phy.group is not None and not phy.is_ipmp:
            self._ipmp_fix_empty(phy.group, af)
        if not phy.ills:
            if phy.group is not None:
                self._ipmp_forget_phyint(phy)
            del self._phyints[ifname]

    # ---- logical interfaces --------------------------------------------
    @operation
    def addif(self, ifname: str, af: int, addr=None, prefixlen: int | None = None) -> str:
        """SIOCLIFADDIF: lowest free unit; an address given is set as by
        SIOCSLIFADDR (RTM_CHGADDR)."""
        ill = self._ill(ifname, af)
        ipif = Ipif(ill, ill.free_unit(), UNSPEC[af],
                    ipif_flags=C.IFF_BROADCAST if af == AF_INET else 0)
        ill.ipifs[ipif.unit] = ipif
        if addr is not None:
            self._set_addr(ipif, self._addr(af, addr), prefixlen)
        return ipif.name

    @operation
    def removeif(self, lifname: str, af: int) -> None:
        """E4 (R59): DELETE => DELADDR even when down, then FREEADDR; unit 0 is EBUSY."""
        ipif = self._ipif(lifname, af)
        if ipif.unit == 0:
            raise KernelError(errno.EBUSY, f"{lifname} is ipif 0: unplumb the interface instead")
        self._dad_cancel(ipif)
        self._dup_cancel(ipif)
        if ipif.up:
            self._ipif_down(ipif)
        else:
            self._send_newaddr(C.RTM_DELETE, ipif)
        del ipif.ill.ipifs[ipif.unit]
        self._send_newaddr(C.RTM_FREEADDR, ipif)

    @operation
    def set_addr(self, lifname: str, af: int, addr, prefixlen: int | None = None) -> None:
        """SIOCSLIFADDR (+netmask), E3 (R58, R109)."""
        ipif = self._ipif(lifname, af)
        self._set_addr(ipif, self._addr(af, addr), prefixlen)

    def _set_addr(self, ipif: Ipif, addr, prefixlen: int | None) -> None:
        af = ipif.af
        if prefixlen is None:
            prefixlen = ipif.prefixlen or default_prefixlen(af, addr)
        if not 0 <= prefixlen <= MAXPLEN[af]:
            raise KernelError(errno.EINVAL, f"prefix length {prefixlen} out of range for {AF_WORD[af]}")
        was_up = ipif.up
        if was_up:
            self._ipif_down(ipif)
        ipif.addr, ipif.prefixlen = addr, prefixlen
        ipif.ipif_flags &= ~C.IFF_DUPLICATE
        self._dup_cancel(ipif)
        self._send_newaddr(C.RTM_CHGADDR, ipif)
        if was_up:
            self._ipif_up(ipif)

    @operation
    def set_dstaddr(self, lifname: str, af: int, addr) -> None:
        """SIOCSLIFDSTADDR on a point-to-point ipif (carried in RTA_BRD, R51)."""
        ipif = self._ipif(lifname, af)
        ipif.pp_dst = self._addr(af, addr)

    # ---- link and index -------------------------------------------------
    @operation
    def link_change(self, ifname: str, running: bool) -> None:
        """Carrier from the platform: E8 (R63) / E9 (R64, R107)."""
        phy = self._phy(ifname)
        if phy.is_ipmp:
            raise KernelError(errno.EINVAL, f"{ifname} is IPMP: its link follows its active members")
        if phy.running == running:
            return
        phy.flags ^= C.IFF_RUNNING
        for ill in self._ills_v4_v6(phy):
            self._restart_dad(ill, running)

    def _restart_dad(self, ill: Ill, went_up: bool) -> None:
        """ill_restart_dad: down clears addr_ready and sends IFINFO; up re-runs DAD,
        retries DUPLICATE addresses, and reports a down ipif 0 at once."""
        if not went_up:
            for ipif in ill.ipifs.values():
                ipif.ready = False
            self._send_ifinfo(ill)
            return
        for ipif in sorted(ill.ipifs.values(), key=lambda i: i.unit):
            if ipif.up:
                self._dad_start(ipif)
            elif ipif.ipif_flags & C.IFF_DUPLICATE:
                self._dup_recover(ipif)
            elif ipif.unit == 0:
                self._send_ifinfo(ipif)

    @operation
    def set_ifindex(self, ifname: str, ifindex: int) -> None:
        """SIOCSLIFINDEX, E10: RTM_IFINFO on both ills."""
        phy = self._phy(ifname)
        if ifindex != phy.ifindex:
            phy.ifindex = self._alloc_ifindex(ifindex)
        for ill in self._ills_v4_v6(phy):
            self._send_ifinfo(ill)

    # ---- queries --------------------------------------------------------
    @staticmethod
    def _ills_v4_v6(phy: Phyint) -> list[Ill]:
        return [phy.ills[af] for af in (AF_INET, AF_INET6) if af in phy.ills]

    def phyint(self, name: str) -> Phyint:
        return self._phy(name)

    def phyints(self) -> list[Phyint]:
        return sorted(self._phyints.values(), key=lambda p: p.ifindex)

    def ill(self, name: str, af: int) -> Ill:
        return self._ill(name, af)

    def lif(self, lifname: str, af: int) -> Ipif:
        return self._ipif(lifname, af)

    def flags(self, lifname: str, af: int) -> int:
        """SIOCGLIFFLAGS: ipif | ill | phyint flags (64 bits)."""
        return self._ipif(lifname, af).flags

    def lifs(self, af: int | None = None, under_ipmp: bool = True) -> list[Ipif]:
        """SIOCGLIFCONF order (by ifindex, then unit); underlying interfaces only
        with under_ipmp (LIFC_UNDER_IPMP, R127)."""
        out = []
        for phy in self.phyints():
            for ill in self._ills_v4_v6(phy):
                if (af is None or ill.af == af) and (under_ipmp or not ill.under_ipmp):
                    out.extend(sorted(ill.ipifs.values(), key=lambda i: i.unit))
        return out

    def ifindex(self, name: str) -> int:
        return self._phy(name).ifindex

    def name_of_index(self, ifindex: int) -> str | None:
        for phy in self._phyints.values():
            if phy.ifindex == ifindex:
                return phy.name
        return None

    def ill_of_index(self, ifindex: int, af: int) -> Ill | None:
        name = self.name_of_index(ifindex)
        return None if name is None else self._phyints[name].ills.get(af)

    def realized_addresses(self) -> dict[str, list[tuple]]:
        """What the platform should configure on Linux: {phyint: [(af, addr,
        prefixlen, kind)]}. Only UP, DAD-complete, non-DUPLICATE, non-zero
        addresses; a data address on its bound member (nowhere when unbound)."""
        out: dict[str, list[tuple]] = {p.name: [] for p in self._phyints.values()
                                       if not p.is_ipmp and not p.flags & C.IFF_LOOPBACK}
        for ipif in self.lifs():
            if ipif.flags & C.IFF_LOOPBACK:
                continue            # lo0 is the platform's own loopback
            if not ipif.up or not ipif.ready or ipif.unspecified or ipif.ipif_flags & C.IFF_DUPLICATE:
                continue
            if ipif.ill.phyint.is_ipmp:
                if ipif.bound_ill is None:
                    continue
                where = ipif.bound_ill.name
            else:
                where = ipif.ill.name
            out[where].append((ipif.af, ipif.addr, ipif.prefixlen, ipif.kind))
        return out
