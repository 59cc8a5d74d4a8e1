"""The kernel's objects: phyint (shared by v4/v6), ill (per family), ipif.

Flag bits are stored where illumos stores them (if.h, ip_if.h); SIOCGLIFFLAGS is
the union (`Ipif.flags`).
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rtsock_emul.wire import constants as C

if TYPE_CHECKING:
    from .dad import Dad
    from .ipmp import Group


AF_INET, AF_INET6 = C.AF_INET, C.AF_INET6

# where ip_if.h keeps each flag: ipif, ill or phyint
PHYINT_FLAGS = (C.IFF_LOOPBACK | C.IFF_RUNNING | C.IFF_PROMISC | C.IFF_ALLMULTI
                | C.IFF_INTELLIGENT | C.IFF_MULTI_BCAST | C.IFF_FAILED | C.IFF_STANDBY
                | C.IFF_INACTIVE | C.IFF_OFFLINE | C.IFF_VIRTUAL | C.IFF_IPMP | C.IFF_L3PROTECT)
ILL_FLAGS = (C.IFF_DEBUG | C.IFF_NOTRAILERS | C.IFF_NOARP | C.IFF_MULTICAST | C.IFF_ROUTER
             | C.IFF_NONUD | C.IFF_NORTEXCH | C.IFF_IPV4 | C.IFF_IPV6 | C.IFF_NOACCEPT
             | C.IFF_COS_ENABLED | C.IFF_FIXEDMTU | C.IFF_VRRP | C.IFF_NOLINKLOCAL)
IPIF_FLAGS = (C.IFF_UP | C.IFF_BROADCAST | C.IFF_POINTOPOINT | C.IFF_UNNUMBERED
              | C.IFF_DHCPRUNNING | C.IFF_PRIVATE | C.IFF_NOXMIT | C.IFF_NOLOCAL
              | C.IFF_DEPRECATED | C.IFF_ADDRCONF | C.IFF_ANYCAST | C.IFF_NOFAILOVER
              | C.IFF_PREFERRED | C.IFF_TEMPORARY | C.IFF_DUPLICATE)

Addr = ipaddress.IPv4Address | ipaddress.IPv6Address
UNSPEC: dict[int, Addr] = {AF_INET: ipaddress.IPv4Address(0), AF_INET6: ipaddress.IPv6Address(0)}
MAXPLEN = {AF_INET: 32, AF_INET6: 128}


_ADDR_TYPES = (ipaddress.IPv4Address, ipaddress.IPv6Address)


def addr_of(af: int, value) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """Parse `value` as an address of family `af` (illumos AF numbers). An address
    object is kept (ipaddress would rebuild it from its text: most of a request's cost)."""
    a = value if type(value) in _ADDR_TYPES else ipaddress.ip_address(value)
    if (af == AF_INET) != (a.version == 4):
        raise ValueError(f"{value} is not an address of family {C.name_of(C.AF_NAMES, af)}")
    return a


def network_of(addr: Addr, prefixlen: int) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    """ip_network((addr, prefixlen), strict=False) of an address object, built from its
    integer: ipaddress would parse the address's text again."""
    if addr.version == 4:
        return ipaddress.IPv4Network((int(addr), prefixlen), strict=False)
    return ipaddress.IPv6Network((int(addr), prefixlen), strict=False)


def mask_of(af: int, prefixlen: int):
    net = ipaddress.IPv4Network if af == AF_INET else ipaddress.IPv6Network
    return net((0, prefixlen)).netmask


def split_lifname(lifname: str) -> tuple[str, int]:
    """'net0:2' -> ('net0', 2); 'net0' -> ('net0', 0)."""
    name, _, unit = lifname.partition(":")
    return name, int(unit) if unit else 0


@dataclass(eq=False)
class Phyint:
    name: str
    ifindex: int
    mac: bytes
    flags: int = 0
    link_notes: bool = True
    ills: dict = field(default_factory=dict)      # af -> Ill
    group: "Group | None" = None                # ipmp.Group (IPMP phyint: its own group)

    def __repr__(self) -> str:
        return f"<Phyint {self.name} index {self.ifindex} flags {self.flags:#x}>"

    @property
    def ipmp_group(self) -> Group:
        """The group of a phyint that is in one (the IPMP interface, or one under it)."""
        assert self.group is not None, f"{self.name} is in no IPMP group"
        return self.group

    @property
    def is_ipmp(self) -> bool:
        return bool(self.flags & C.IFF_IPMP)

    @property
    def running(self) -> bool:
        return bool(self.flags & C.IFF_RUNNING)


@dataclass(eq=False)
class Ill:
    phyint: Phyint
    af: int
    flags: int
    type: int
    mtu: int
    metric: int = 0
    phys_addr_len: int = 6
    ipifs: dict = field(default_factory=dict)     # unit -> Ipif
    active: bool = False                          # IPMP: in the illgrp's active list
    bound: list = field(default_factory=list)     # IPMP: data ipifs bound to this ill

    def __repr__(self) -> str:
        return f"<Ill {self.name} af {self.af} flags {self.flags:#x}>"

    @property
    def name(self) -> str:
        return self.phyint.name

    @property
    def ipif0(self) -> "Ipif":
        return self.ipifs[0]

    @property
    def under_ipmp(self) -> bool:
        """IS_UNDER_IPMP: in a group and not the IPMP meta-interface."""
        return self.phyint.group is not None and not self.phyint.is_ipmp

    def up_count(self) -> int:
        return sum(1 for i in self.ipifs.values() if i.ipif_flags & C.IFF_UP)

    def free_unit(self) -> int:
        unit = 1
        while unit in self.ipifs:
            unit += 1
        return unit


@dataclass(eq=False)
class Ipif:
    ill: Ill
    unit: int
    addr: Addr
    prefixlen: int = 0
    pp_dst: Addr | None = None
    ipif_flags: int = 0
    ready: bool = False          # ipif_addr_ready: DAD done, notified
    bound_ill: Ill | None = None  # IPMP data address: its inbound member
    dad: Dad | None = None       # while probing or waiting
    recovery: Any = None              # clock handle of the R106 timer
    defenses: list = field(default_factory=list)  # times of R108 defenses

    def __repr__(self) -> str:
        return (f"<Ipif {self.name} af {self.af} {self.addr}/{self.prefixlen} "
                f"flags {self.flags:#x}{' ready' if self.ready else ''}>")

    @property
    def af(self) -> int:
        return self.ill.af

    @property
    def name(self) -> str:
        return self.ill.name if self.unit == 0 else f"{self.ill.name}:{self.unit}"

    @property
    def flags(self) -> int:
        """SIOCGLIFFLAGS: ipif | ill | phyint flags."""
        return self.ipif_flags | self.ill.flags | self.ill.phyint.flags

    @property
    def up(self) -> bool:
        return bool(self.ipif_flags & C.IFF_UP)

    @property
    def netmask(self):
        return mask_of(self.af, self.prefixlen)

    @property
    def unspecified(self) -> bool:
        return self.addr == UNSPEC[self.af]

    @property
    def is_data(self) -> bool:
        """A data address: not a test address, non-zero, not a v6 link-local (R70)."""
        return not (self.ipif_flags & C.IFF_NOFAILOVER or self.unspecified
                    or (self.af == AF_INET6 and self.addr.is_link_local))

    @property
    def kind(self) -> str:
        if self.ipif_flags & C.IFF_NOFAILOVER:
            return "test"
        return "data" if self.ill.phyint.is_ipmp else "normal"
