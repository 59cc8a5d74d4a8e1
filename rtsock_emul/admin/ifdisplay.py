"""ifconfig's display: `IF: flags=HEX<NAMES> mtu N index I` then inet/inet6,
groupname and ether lines ([ifconfig.c] print_flags, print_ifether)."""
from __future__ import annotations

import ipaddress

from ..mpathd import kview
from ..wire import constants as C

# Names ifconfig prints where they differ from the IFF_ suffix.
RENAMED = {"DHCPRUNNING": "DHCP", "COS_ENABLED": "COS", "IPV4": "IPv4", "IPV6": "IPv6"}


def flag_names(flags: int) -> str:
    names = []
    bit = 1
    while bit <= flags:
        if flags & bit:
            name = C.IFF_NAMES.get(bit)
            if name:
                short = name[4:]
                names.append(RENAMED.get(short, short))
        bit <<= 1
    return ",".join(names)


def _ill(kernel, ifname, af):
    fn = getattr(kernel, "ill", None)
    try:
        return fn(ifname, af) if fn else None
    except Exception:  # an unplumbed family: no ill to show
        return None


def _mac_text(mac: bytes) -> str:
    return ":".join(f"{b:x}" for b in mac)


def show_lif(kernel, row, uid: int) -> str:
    ill = _ill(kernel, row.ifname, row.af)
    mtu = getattr(ill, "mtu", 1500)
    idx = kview.ifindex(kernel, row.ifname)
    lines = [f"{row.name}: flags={row.flags:x}<{flag_names(row.flags)}> mtu {mtu} index {idx}"]
    if row.af == C.AF_INET:
        mask = int(ipaddress.IPv4Network((0, row.prefixlen)).netmask)
        line = f"\tinet {row.addr} netmask {mask:x}"
        if row.flags & C.IFF_BROADCAST and not row.addr.is_unspecified:
            line += f" broadcast {row.network().broadcast_address}"
        lines.append(line)
    else:
        lines.append(f"\tinet6 {row.addr}/{row.prefixlen}")
    if row.name == row.ifname:
        group = kview.group(kernel, row.ifname)
        if group:
            lines.append(f"\tgroupname {group}")
        phy = kview.phyint(kernel, row.ifname)
        mac = getattr(phy, "mac", b"") or b""
        if uid == 0 and mac and any(mac):
            lines.append(f"\tether {_mac_text(mac)}")
    return "".join(line + "\n" for line in lines)


def show(kernel, ifname: str | None, af: int | None, uid: int) -> str:
    rows = kview.lifs(kernel)
    if ifname is not None:
        rows = [r for r in rows if r.name == ifname or (":" not in ifname and r.ifname == ifname
                                                         and r.name == ifname)]
    if af is not None:
        rows = [r for r in rows if r.af == af]
    order = {name: i for i, name in enumerate(kview.interfaces(kernel))}
    rows.sort(key=lambda r: (r.af != C.AF_INET, order.get(r.ifname, 0), _unit(r.name)))
    return "".join(show_lif(kernel, r, uid) for r in rows)


def _unit(lifname: str) -> int:
    return int(lifname.partition(":")[2] or 0)
