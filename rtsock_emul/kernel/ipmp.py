"""IPMP groups in the kernel (R66-R98; ipmp.c): join/leave/rename, data-address
migration, the active set, binding and rebalancing, the IPMP interface's link
state, MTU and IFF_ROUTER propagation (R66-R74, R85-R98, R133-R135)."""
from __future__ import annotations

import errno
from dataclasses import dataclass, field

from rtsock_emul.wire import constants as C

from .base import AF_WORD, Base, operation
from .errors import KernelError
from .model import AF_INET, AF_INET6, UNSPEC, Ill, Ipif, Phyint

INACTIVE_FLAGS = C.IFF_OFFLINE | C.IFF_INACTIVE | C.IFF_FAILED


@dataclass(eq=False)
class Group:
    name: str
    ipmp: Phyint
    members: list = field(default_factory=list)                      # Phyints, join order
    active: dict = field(default_factory=lambda: {AF_INET: [], AF_INET6: []})   # af -> [Ill]
    cast: dict = field(default_factory=lambda: {AF_INET: None, AF_INET6: None})

    def member_ills(self, af: int) -> list[Ill]:
        return [p.ills[af] for p in self.members if af in p.ills]


class Ipmp(Base):
    # ---- group objects -------------------------------------------------------
    def _ipmp_create_group(self, phy: Phyint) -> None:
        """ipmp_grp_create: the group is named after the interface (R92)."""
        group = Group(phy.name, phy)
        phy.group = group
        self._groups[group.name] = group

    def _ipmp_ill_plumbed(self, ill: Ill) -> None:
        members = ill.phyint.ipmp_group.member_ills(ill.af)
        if members:
            self._ipmp_inherit(ill, members[0])
            self._ipmp_refresh_mtu(ill.phyint.ipmp_group, ill.af)

    @staticmethod
    def _ipmp_inherit(ipmp_ill: Ill, member: Ill) -> None:
        ipmp_ill.type, ipmp_ill.phys_addr_len = member.type, member.phys_addr_len   # R47

    def _ipmp_forget_phyint(self, phy: Phyint) -> None:
        group = phy.ipmp_group
        if phy.is_ipmp:
            del self._groups[group.name]
        elif phy in group.members:
            group.members.remove(phy)
        phy.group = None

    def _ipmp_refresh_mtu(self, group: Group, af: int) -> None:
        """R135: the IPMP ill's MTU is its members' minimum."""
        ipmp_ill = group.ipmp.ills.get(af)
        mtus = [m.mtu for m in group.member_ills(af)]
        if ipmp_ill is not None and mtus:
            ipmp_ill.mtu = min(mtus)

    # ---- SIOCSLIFGROUPNAME ----------------------------------------------------
    @operation
    def set_groupname(self, ifname: str, af: int, group: str) -> None:
        """Join (R66-R68), leave (R72, R73) or, on an IPMP interface, rename (R74)."""
        name, _, unit = ifname.partition(":")
        self._ill(name, af)
        phy = self._phy(name)
        if unit and unit != "0":
            raise KernelError(errno.EINVAL, f"{ifname}: groups are set on the physical interface, not a logical one")
        if phy.flags & C.IFF_VIRTUAL:
            raise KernelError(errno.EINVAL, f"{name} is VIRTUAL and cannot be in an IPMP group")
        if len(group) >= C.LIFGRNAMSIZ:
            raise KernelError(errno.EINVAL, f"group name {group!r} is longer than {C.LIFGRNAMSIZ - 1} characters")
        if phy.is_ipmp:
            return self._ipmp_rename(phy.group, group)
        if not group:
            if phy.group is not None:
                self._ipmp_leave(phy)
            return None
        if phy.group is not None:
            if phy.group.name == group:
                return None
            raise KernelError(errno.EALREADY, f"{name} is already in group {phy.group.name}: leave it first")
        target = self._groups.get(group)
        if target is None:
            raise KernelError(errno.ENOENT, f"no IPMP group {group!r}: create its IPMP interface first")
        self._ipmp_vet(phy, target)
        self._ipmp_join(phy, target)
        return None

    def _ipmp_rename(self, group, new: str) -> None:
        if new == group.name:
            return
        if not new:
            raise KernelError(errno.EINVAL, "an IPMP group name cannot be empty (R74)")
        if new in self._groups:
            raise KernelError(errno.EEXIST, f"IPMP group {new!r} already exists (R74)")
        del self._groups[group.name]
        group.name = new
        self._groups[new] = group

    def _ipmp_vet(self, phy: Phyint, group: Group) -> None:
        """ipmp_grp_vet_phyint / ipmp_grp_vet_ill, errors in order (R66, R67)."""
        ills = self._ills_v4_v6(phy)
        for ill in ills:
            if ill.af not in group.ipmp.ills:
                raise KernelError(errno.EAFNOSUPPORT, f"group {group.name} has no {AF_WORD[ill.af]} "
                                  f"IPMP interface; plumb {group.ipmp.name} for {AF_WORD[ill.af]}")
        for ill in ills:
            if any(i.ipif_flags & (C.IFF_UP | C.IFF_DUPLICATE) for i in ill.ipifs.values()):
                raise KernelError(errno.EADDRINUSE, f"{phy.name} has UP or DUPLICATE addresses: "
                                  "bring them down before joining (R66)")
        for ill in ills:
            if any(i.ipif_flags & (C.IFF_DHCPRUNNING | C.IFF_ADDRCONF) and not
                   i.ipif_flags & C.IFF_NOFAILOVER for i in ill.ipifs.values()):
                raise KernelError(errno.EADDRNOTAVAIL, f"{phy.name} has DHCP/ADDRCONF addresses")
        for ill in ills:
            if any(i.ipif_flags & C.IFF_POINTOPOINT for i in ill.ipifs.values()):
                raise KernelError(errno.EINVAL, f"{phy.name} has point-to-point addresses")
        for ill in ills:
            if not ill.flags & C.IFF_MULTICAST or ill.flags & (C.IFF_NOARP | C.IFF_NONUD):
                raise KernelError(errno.ENOTSUP, f"{phy.name} needs MULTICAST and no NOARP/NONUD")
        for ill in ills:
            members = group.member_ills(ill.af)
            if members and members[0].type != ill.type:
                raise KernelError(errno.EINVAL, f"{phy.name}'s link type differs from group {group.name}'s")

    def _ipmp_join(self, phy: Phyint, group: Group) -> None:
        """ipmp_phyint_join_grp: no routing messages (R68)."""
        phy.group = group
        group.members.append(phy)
        for ill in self._ills_v4_v6(phy):
            self._ipmp_join_ill(group, ill)

    def _ipmp_join_ill(self, group: Group, ill: Ill) -> None:
        """ipmp_ill_join_illgrp: ROUTER follows the IPMP ill (R134), the first
        member sets the IPMP sdl type/length (R47), MTU min (R135)."""
        ipmp_ill = group.ipmp.ills[ill.af]
        ill.flags = (ill.flags & ~C.IFF_ROUTER) | (ipmp_ill.flags & C.IFF_ROUTER)
        if len(group.member_ills(ill.af)) == 1:
            self._ipmp_inherit(ipmp_ill, ill)
        self._ipmp_refresh_mtu(group, ill.af)
        self._ipmp_refresh(ill.phyint)

    def _ipmp_leave(self, phy: Phyint) -> None:
        """ipmp_phyint_leave_grp; then, for v4 and v6, normal sockets see
        IFINFO (+UP) => NEWADDR => ADD per UP address (R72)."""
        group = phy.ipmp_group
        for ill in self._ills_v4_v6(phy):
            self._ipmp_leave_ill(group, ill)
        group.members.remove(phy)
        phy.group = None
        for ill in self._ills_v4_v6(phy):
            self._ipmp_fix_empty(group, ill.af)
            up = sorted((i for i in ill.ipifs.values() if i.up), key=lambda i: i.unit)
            if not up:
                continue
            self._send_ifinfo(ill, set_=C.IFF_UP, rtsq=C.RTSQ_NORMAL)
            for ipif in up:
                self._send_newaddr(C.RTM_ADD, ipif, rtsq=C.RTSQ_NORMAL)

    def _ipmp_leave_ill(self, group: Group, ill: Ill) -> None:
        if ill.active:
            self._ipmp_deactivate(group, ill)

    def _ipmp_fix_empty(self, group: Group, af: int) -> None:
        """ipmp_ill_leave_illgrp: an empty group's IPMP ill is IFT_OTHER, alen 0 (R47)."""
        ipmp_ill = group.ipmp.ills.get(af)
        if ipmp_ill is None:
            return
        if not group.member_ills(af):
            ipmp_ill.type, ipmp_ill.phys_addr_len = C.IFT_OTHER, 0
        self._ipmp_refresh_mtu(group, af)

    # ---- migration and binding -----------------------------------------------
    def _ipmp_migrate(self, ipif: Ipif) -> Ipif:
        """R70: a data address moves to the IPMP ill, into a stub ipif 0 or the
        lowest free unit; leaving ipif 0 leaves an UP 0.0.0.0/:: stub behind."""
        ipmp_ill = ipif.ill.phyint.ipmp_group.ipmp.ills[ipif.af]
        stub = ipmp_ill.ipif0
        if stub.unspecified and not stub.up:
            target = stub
        else:
            target = Ipif(ipmp_ill, ipmp_ill.free_unit(), UNSPEC[ipif.af])
            ipmp_ill.ipifs[target.unit] = target
        target.addr, target.prefixlen, target.pp_dst = ipif.addr, ipif.prefixlen, ipif.pp_dst
        target.ipif_flags = ipif.ipif_flags & ~(C.IFF_UP | C.IFF_DUPLICATE)
        ill = ipif.ill
        if ipif.unit == 0:
            ipif.addr, ipif.pp_dst = UNSPEC[ipif.af], None
            self._ipif_up(ipif)
        else:
            del ill.ipifs[ipif.unit]
        return target

    def _least_loaded(self, group: Group, af: int) -> Ill | None:
        active = group.active[af]
        return min(active, key=lambda i: len(i.bound)) if active else None

    def _bind(self, ipif: Ipif, ill: Ill) -> None:
        ipif.bound_ill = ill
        ill.bound.append(ipif)

    def _ipmp_bind_new(self, ipif: Ipif) -> None:
        """ipmp_illgrp_add_ipif: bind to the least-loaded active member."""
        ill = self._least_loaded(ipif.ill.phyint.ipmp_group, ipif.af)
        if ill is not None:
            self._bind(ipif, ill)

    def _ipmp_unbind(self, ipif: Ipif) -> None:
        """ipmp_illgrp_del_ipif: unbind, then even out onto that member."""
        ill = ipif.bound_ill
        assert ill is not None, f"{ipif} is bound to no member"
        ill.bound.remove(ipif)
        ipif.bound_ill = None
        group = ipif.ill.phyint.group
        if not ill.active or group is None:
            return
        busiest = max(group.active[ipif.af], key=lambda i: len(i.bound))
        if len(busiest.bound) > len(ill.bound) + 1:
            self._rebind(busiest.bound[-1], ill)

    def _rebind(self, ipif: Ipif, ill: Ill) -> None:
        """Res_act_rebind: gratuitous ARP / unsolicited NA, no DAD, no messages (R88)."""
        if ipif.bound_ill is not None:
            ipif.bound_ill.bound.remove(ipif)
        self._bind(ipif, ill)
        self.hooks.announce(ill.name, ipif.af, ipif.addr)

    # ---- active set ------------------------------------------------------------
    def _ipmp_refresh(self, phy: Phyint) -> None:
        """ipmp_phyint_refresh_active: active iff >= 1 UP address and none of
        FAILED/INACTIVE/OFFLINE; RUNNING is ignored (R85)."""
        group = phy.group
        if group is None or phy.is_ipmp:
            return
        for ill in self._ills_v4_v6(phy):
            want = ill.up_count() > 0 and not phy.flags & INACTIVE_FLAGS
            if want and not ill.active:
                self._ipmp_activate(group, ill)
            elif ill.active and not want:
                self._ipmp_deactivate(group, ill)

    def _ipmp_activate(self, group: Group, ill: Ill) -> None:
        """R86 first active: cast ill, every UP data address bound here (fresh
        bind, DAD via the IPMP link-up); else R87 rebalancing."""
        active = group.active[ill.af]
        ill.active = True
        first = not active
        active.append(ill)
        ipmp_ill = group.ipmp.ills.get(ill.af)
        if first:
            group.cast[ill.af] = ill
            if ipmp_ill is not None:
                for ipif in sorted(ipmp_ill.ipifs.values(), key=lambda i: i.unit):
                    if ipif.up and ipif.is_data and ipif.bound_ill is None:
                        self._bind(ipif, ill)
                        if group.ipmp.running:                 # no link-up to restart DAD
                            self._dad_start(ipif)
            self._defer(lambda: self._ipmp_link(group))
            return
        while True:
            busiest = max((i for i in active if i is not ill), key=lambda i: len(i.bound))
            if len(ill.bound) + 1 >= len(busiest.bound):
                break
            self._rebind(busiest.bound[-1], ill)

    def _ipmp_deactivate(self, group: Group, ill: Ill) -> None:
        """R88, R89: rebind each bound data address to the least-loaded active
        member, or leave it unbound; the cast ill moves to the list head."""
        active = group.active[ill.af]
        active.remove(ill)
        ill.active = False
        if group.cast[ill.af] is ill:
            group.cast[ill.af] = active[0] if active else None
        moving, ill.bound = ill.bound, []
        for ipif in moving:
            ipif.bound_ill = None
            target = self._least_loaded(group, ill.af)
            if target is not None:
                self._rebind(ipif, target)
        if not active:
            self._defer(lambda: self._ipmp_link(group))

    def _ipmp_link(self, group: Group) -> None:
        """DL_NOTE_LINK_UP/DOWN on the IPMP interface (R90): RUNNING iff some
        member is active, FAILED otherwise; E8/E9 there, seen by all sockets."""
        phy = group.ipmp
        if self._groups.get(group.name) is not group:
            return
        up = any(group.active.values())
        if up == phy.running:
            return
        phy.flags = (phy.flags | C.IFF_RUNNING) & ~C.IFF_FAILED if up else \
            (phy.flags | C.IFF_FAILED) & ~C.IFF_RUNNING
        renotify = self.tunables.group_recovery_renotify
        for ill in self._ills_v4_v6(phy):
            if not up:
                if renotify:
                    for ipif in ill.ipifs.values():
                        ipif.ready = False
                self._send_ifinfo(ill)
                continue
            ipif0 = ill.ipif0
            if not renotify or not ipif0.up or ipif0.ready:
                self._send_ifinfo(ill)       # no notify will follow: report RUNNING now
            for ipif in sorted(ill.ipifs.values(), key=lambda i: i.unit):
                if ipif.up and (renotify or not ipif.ready):
                    self._dad_start(ipif)
                elif ipif.up and ipif.bound_ill is not None:   # fresh bind, no DAD: update peers
                    self.hooks.announce(ipif.bound_ill.name, ipif.af, ipif.addr)

    # ---- IFF_ROUTER -------------------------------------------------------------
    def _forward_set(self, ill: Ill, on: bool) -> None:
        """ill_forward_set (E11, R133): the whole group follows; IFINFO per changed ill."""
        group = ill.phyint.group
        ills = [ill] if group is None else \
            [i for i in [group.ipmp.ills.get(ill.af)] + group.member_ills(ill.af) if i is not None]
        for other in ills:
            new = (other.flags | C.IFF_ROUTER) if on else (other.flags & ~C.IFF_ROUTER)
            if new != other.flags:
                other.flags = new
                self._send_ifinfo(other)

    # ---- queries (ipmpstat) ---------------------------------------------------
    def groups(self) -> list[Group]:
        return sorted(self._groups.values(), key=lambda g: g.name)

    def group(self, name: str) -> Group:
        try:
            return self._groups[name]
        except KeyError:
            raise KernelError(errno.ENOENT, f"no IPMP group {name!r}") from None

    def group_of(self, ifname: str) -> str:
        """SIOCGLIFGROUPNAME: the group name or ""."""
        phy = self._phy(ifname)
        return phy.group.name if phy.group is not None else ""

    def members(self, group: str) -> list[str]:
        return [p.name for p in self.group(group).members]

    def active(self, group: str, af: int) -> list[str]:
        return [i.name for i in self.group(group).active[af]]

    def cast_ill(self, group: str, af: int) -> str:
        ill = self.group(group).cast[af]
        return ill.name if ill is not None else ""

    def binding(self, lifname: str, af: int) -> str:
        """SIOCGLIFBINDING: the bound member's name or "" (R89)."""
        ipif = self._ipif(lifname, af)
        return ipif.bound_ill.name if ipif.bound_ill is not None else ""

    def bound_member(self, af: int, addr) -> str:
        addr = self._addr(af, addr)
        for ipif in self.lifs(af):
            if ipif.addr == addr and ipif.ill.phyint.is_ipmp:
                return ipif.bound_ill.name if ipif.bound_ill is not None else ""
        return ""

    def is_active(self, ifname: str, af: int) -> bool:
        return self._ill(ifname, af).active
