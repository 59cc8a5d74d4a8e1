"""Read-only views of the kernel model for in.mpathd and the admin verbs.

The one place that reads the kernel's query results (docs/internals.md
"kernel/": `lifs()`, `lif()`, `phyint()`, `phyints()`, `groups()`,
`binding()`, `routes()`), so the state machines and formatters work on plain
rows. Everything here is a query; nothing changes the kernel.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TypedDict, Union

from ..kernel import Kernel
from ..kernel.errors import KernelError
from ..kernel.model import Ipif, Phyint
from ..wire.constants import AF_INET, AF_INET6, IFF_IPMP, IFF_UP, RTF_GATEWAY

FAMILIES = (AF_INET, AF_INET6)

IPAddress = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]
IPNetwork = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]


@dataclass(frozen=True)
class LifRow:
    name: str          # net0, net0:1
    ifname: str        # net0
    af: int
    addr: IPAddress    # 0.0.0.0 / :: for an unset address
    prefixlen: int
    flags: int         # SIOCGLIFFLAGS: ipif | ill | phyint flags, 64-bit

    @property
    def up(self) -> bool:
        return bool(self.flags & IFF_UP)

    def network(self) -> IPNetwork:
        return ipaddress.ip_network(f"{self.addr}/{self.prefixlen}", strict=False)


class GroupInfo(TypedDict):
    ipmp: str            # the group's IPMP interface ("" while it has none)
    members: list[str]   # underlying interfaces, in join order


def _row(ipif: Ipif) -> LifRow:
    return LifRow(name=ipif.name, ifname=ipif.ill.name, af=ipif.af,
                  addr=ipif.addr, prefixlen=ipif.prefixlen, flags=ipif.flags)


def lifs(kernel: Kernel, af: int | None = None) -> list[LifRow]:
    """Every logical interface, underlying ones included (LIFC_UNDER_IPMP)."""
    return [_row(ipif) for ipif in kernel.lifs(af=af, under_ipmp=True)]


def lif(kernel: Kernel, lifname: str, af: int) -> LifRow | None:
    try:
        return _row(kernel.lif(lifname, af))
    except KernelError:
        return None
    except ValueError:          # "net0:x": no such logical interface either
        return None


def phyint(kernel: Kernel, ifname: str) -> Phyint | None:
    try:
        return kernel.phyint(ifname)
    except KernelError:
        return None


def interfaces(kernel: Kernel) -> list[str]:
    """Interface names in SIOCGLIFCONF order (by ifindex)."""
    return [phy.name for phy in kernel.phyints() if phy.ills]


def families(kernel: Kernel, ifname: str) -> list[int]:
    """The families `ifname` is plumbed for."""
    return [af for af in FAMILIES if lif(kernel, ifname, af) is not None]


def flags(kernel: Kernel, ifname: str) -> int:
    """SIOCGLIFFLAGS of ipif 0 (v4 first), which carries the phyint flags."""
    for af in FAMILIES:
        row = lif(kernel, ifname, af)
        if row is not None:
            return row.flags
    return 0


def has_up_addr(kernel: Kernel, ifname: str) -> bool:
    """Any UP logical interface on `ifname`, of either family."""
    phy = phyint(kernel, ifname)
    return phy is not None and any(ill.up_count() for ill in phy.ills.values())


def group(kernel: Kernel, ifname: str) -> str:
    """SIOCGLIFGROUPNAME: the group name or ""."""
    try:
        return kernel.group_of(ifname)
    except KernelError:
        return ""


def is_ipmp(kernel: Kernel, ifname: str) -> bool:
    return bool(flags(kernel, ifname) & IFF_IPMP)


def ifindex(kernel: Kernel, ifname: str) -> int:
    phy = phyint(kernel, ifname)
    return phy.ifindex if phy is not None else 0


def groups(kernel: Kernel) -> dict[str, GroupInfo]:
    """group name -> its IPMP interface and underlying members; groups and
    members in SIOCGLIFCONF (ifindex) order, as ipmpstat lists them."""
    out: dict[str, GroupInfo] = {}
    for grp in sorted(kernel.groups(), key=lambda g: g.ipmp.ifindex):
        members = sorted((p for p in grp.members if p.ills), key=lambda p: p.ifindex)
        out[grp.name] = GroupInfo(ipmp=grp.ipmp.name if grp.ipmp.ills else "",
                                  members=[p.name for p in members])
    return out


def binding(kernel: Kernel, lifname: str, af: int) -> str:
    """SIOCGLIFBINDING: the bound member's name or "" (R89)."""
    try:
        return kernel.binding(lifname, af)
    except KernelError:
        return ""


def cast_ill(kernel: Kernel, group_name: str, af: int) -> str:
    """The group's nominated multicast/broadcast member, "" for none."""
    try:
        return kernel.cast_ill(group_name, af)
    except KernelError:
        return ""


def routes(kernel: Kernel, af: int) -> list[tuple[IPNetwork, IPAddress]]:
    """(destination network, gateway address) of every gateway route of `af`
    (the off-subnet IREs of mpd_main.c ire_process_v4/v6)."""
    return [(r.network, r.gateway)
            for r in kernel.routes(af=af) if r.flags & RTF_GATEWAY]
