"""Read-only views of the kernel model for in.mpathd and the admin verbs.

One place that knows the shape of the kernel's query results
(docs/internals.md "kernel/": `lifs()`, `lif()`, `phyint()`, `binding()`,
`routes()`), so the state machines and formatters work on plain rows.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from ..kernel.errors import KernelError
from ..wire.constants import AF_INET, AF_INET6, IFF_IPMP, IFF_UP

FAMILIES = (AF_INET, AF_INET6)


def _get(obj, *names, default=None):
    """First present attribute (or mapping key) of `names` on `obj`."""
    for name in names:
        if isinstance(obj, dict):
            if name in obj:
                return obj[name]
        elif hasattr(obj, name):
            return getattr(obj, name)
    return default


@dataclass(frozen=True)
class LifRow:
    name: str          # net0, net0:1
    ifname: str        # net0
    af: int
    addr: object       # ipaddress object (0.0.0.0 / :: for an unset address)
    prefixlen: int
    flags: int         # SIOCGLIFFLAGS: ipif | ill | phyint flags, 64-bit

    @property
    def up(self) -> bool:
        return bool(self.flags & IFF_UP)

    def network(self):
        return ipaddress.ip_network(f"{self.addr}/{self.prefixlen}", strict=False)


def _row(lif, af_default=None) -> LifRow:
    name = _get(lif, "name", "lifname")
    af = _get(lif, "af", "family", default=af_default)
    addr = _get(lif, "addr", "address")
    if addr is None:
        addr = ipaddress.ip_address("0.0.0.0" if af == AF_INET else "::")
    elif not isinstance(addr, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        addr = ipaddress.ip_address(str(addr))
    plen = _get(lif, "prefixlen", "plen")
    if plen is None:
        plen = 0 if addr.is_unspecified else addr.max_prefixlen
    return LifRow(name=name, ifname=name.split(":")[0], af=af, addr=addr,
                  prefixlen=int(plen), flags=int(_get(lif, "flags", default=0)))


def lifs(kernel, af=None) -> list[LifRow]:
    """Every logical interface, underlying ones included (LIFC_UNDER_IPMP)."""
    rows = [_row(lif, af) for lif in kernel.lifs(af=af, under_ipmp=True)]
    return rows


def lif(kernel, lifname: str, af: int) -> LifRow | None:
    try:
        found = kernel.lif(lifname, af)
    except (KernelError, KeyError, LookupError, ValueError):  # ValueError: "net0:x"
        return None
    return None if found is None else _row(found, af)


def interfaces(kernel) -> list[str]:
    """Interface names in first-seen order of their lifs."""
    names: list[str] = []
    for row in lifs(kernel):
        if row.ifname not in names:
            names.append(row.ifname)
    return names


def families(kernel, ifname: str) -> list[int]:
    return [af for af in FAMILIES if lif(kernel, ifname, af) is not None]


def phyint(kernel, ifname: str):
    try:
        return kernel.phyint(ifname)
    except (KernelError, KeyError, LookupError):
        return None


def flags(kernel, ifname: str) -> int:
    """SIOCGLIFFLAGS of ipif 0 (v4 first), which carries the phyint flags."""
    for af in FAMILIES:
        row = lif(kernel, ifname, af)
        if row is not None:
            return row.flags
    return 0


def group(kernel, ifname: str) -> str:
    pi = phyint(kernel, ifname)
    grp = _get(pi, "group", "groupname", "grname") if pi is not None else None
    if grp is None or isinstance(grp, str):
        return grp or ""
    return _get(grp, "name", "grname", default="") or ""   # the kernel's Group object


def is_ipmp(kernel, ifname: str) -> bool:
    return bool(flags(kernel, ifname) & IFF_IPMP)


def ifindex(kernel, ifname: str) -> int:
    pi = phyint(kernel, ifname)
    return int(_get(pi, "ifindex", "index", default=0) or 0) if pi is not None else 0


def groups(kernel) -> dict[str, dict]:
    """group name -> {"ipmp": IPMP ifname, "members": [underlying ifnames]}."""
    out: dict[str, dict] = {}
    names = interfaces(kernel)
    for name in names:
        if is_ipmp(kernel, name):
            out.setdefault(group(kernel, name) or name, {"ipmp": name, "members": []})["ipmp"] = name
    for name in names:
        grp = group(kernel, name)
        if grp and not is_ipmp(kernel, name):
            out.setdefault(grp, {"ipmp": "", "members": []})["members"].append(name)
    return out


def binding(kernel, lifname: str, af: int) -> str:
    try:
        return kernel.binding(lifname, af) or ""
    except (KernelError, KeyError, LookupError):
        return ""


def routes(kernel, af: int) -> list[tuple]:
    """(destination network, gateway address) of every gateway route of `af`."""
    fn = getattr(kernel, "routes", None)
    if fn is None:
        return []
    out = []
    for r in fn(af=af) if _accepts_af(fn) else fn():
        gw = _get(r, "gateway", "gw")
        dst = _get(r, "dst", "destination")
        if gw is None or dst is None:
            continue
        gw = ipaddress.ip_address(str(gw))
        if (gw.version == 4) != (af == AF_INET):
            continue
        plen = _get(r, "prefixlen", "plen")
        if plen is None:
            mask = _get(r, "netmask", "mask")
            net = ipaddress.ip_network(f"{dst}/{mask}" if mask is not None else str(dst), strict=False)
        else:
            net = ipaddress.ip_network(f"{dst}/{plen}", strict=False)
        out.append((net, gw))
    return out


def _accepts_af(fn) -> bool:
    import inspect
    try:
        return "af" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
