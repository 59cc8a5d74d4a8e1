"""ifconfig's display, as ifconfig.c prints it: ifstatus's `IF: flags=HEX<NAMES>
mtu N index I` line (print_flags and its if_flags_tbl order and spellings),
in_status / in6_status (`inet A netmask M broadcast B`, `inet6 A/P`, each
with its trailing space, `groupname` on the physical interface) and
print_ifether's `ether` line when no address family was named."""
from __future__ import annotations

import ipaddress

from ..mpathd import kview
from ..wire import constants as C

# ifconfig.c if_flags_tbl, in its order (the tail is not in bit order)
FLAG_TABLE = (
    (C.IFF_UP, "UP"), (C.IFF_BROADCAST, "BROADCAST"), (C.IFF_DEBUG, "DEBUG"),
    (C.IFF_LOOPBACK, "LOOPBACK"), (C.IFF_POINTOPOINT, "POINTOPOINT"),
    (C.IFF_NOTRAILERS, "NOTRAILERS"), (C.IFF_RUNNING, "RUNNING"), (C.IFF_NOARP, "NOARP"),
    (C.IFF_PROMISC, "PROMISC"), (C.IFF_ALLMULTI, "ALLMULTI"), (C.IFF_INTELLIGENT, "INTELLIGENT"),
    (C.IFF_MULTICAST, "MULTICAST"), (C.IFF_MULTI_BCAST, "MULTI_BCAST"),
    (C.IFF_UNNUMBERED, "UNNUMBERED"), (C.IFF_DHCPRUNNING, "DHCP"), (C.IFF_PRIVATE, "PRIVATE"),
    (C.IFF_NOXMIT, "NOXMIT"), (C.IFF_NOLOCAL, "NOLOCAL"), (C.IFF_DEPRECATED, "DEPRECATED"),
    (C.IFF_ADDRCONF, "ADDRCONF"), (C.IFF_ROUTER, "ROUTER"), (C.IFF_NONUD, "NONUD"),
    (C.IFF_ANYCAST, "ANYCAST"), (C.IFF_NORTEXCH, "NORTEXCH"), (C.IFF_IPV4, "IPv4"),
    (C.IFF_IPV6, "IPv6"), (C.IFF_NOFAILOVER, "NOFAILOVER"), (C.IFF_FAILED, "FAILED"),
    (C.IFF_STANDBY, "STANDBY"), (C.IFF_INACTIVE, "INACTIVE"), (C.IFF_OFFLINE, "OFFLINE"),
    (C.IFF_XRESOLV, "XRESOLV"), (C.IFF_COS_ENABLED, "CoS"), (C.IFF_PREFERRED, "PREFERRED"),
    (C.IFF_TEMPORARY, "TEMPORARY"), (C.IFF_FIXEDMTU, "FIXEDMTU"), (C.IFF_VIRTUAL, "VIRTUAL"),
    (C.IFF_DUPLICATE, "DUPLICATE"), (C.IFF_IPMP, "IPMP"), (C.IFF_VRRP, "VRRP"),
    (C.IFF_NOACCEPT, "NOACCEPT"), (C.IFF_L3PROTECT, "L3PROTECT"),
)


def flag_names(flags: int) -> str:
    """print_flags' names, comma separated, in if_flags_tbl order."""
    return ",".join(name for bit, name in FLAG_TABLE if flags & bit)


def _ill(kernel, ifname: str, af):
    fn = getattr(kernel, "ill", None)
    try:
        return fn(ifname, af) if fn else None
    except Exception:  # an unplumbed family: no ill to show
        return None


def _mac_text(mac: bytes) -> str:
    """_link_ntoa(IFT_OTHER): hex bytes without leading zeros, ':' separated."""
    return ":".join(f"{b:x}" for b in mac)


def show_lif(kernel, row, uid: int, ether: bool = False) -> str:
    """status(): ifstatus, then in_status or in6_status, then print_ifether if `ether`."""
    ill = _ill(kernel, row.ifname, row.af)
    mtu = getattr(ill, "mtu", 1500)
    idx = kview.ifindex(kernel, row.ifname)
    names = flag_names(row.flags)
    text = f"{row.name}: flags={row.flags:x}{f'<{names}>' if names else ''} mtu {mtu} index {idx}\n"
    if row.af == C.AF_INET:
        mask = int(ipaddress.IPv4Network((0, row.prefixlen)).netmask)
        text += f"\tinet {row.addr} netmask {mask:x} "
        if row.flags & C.IFF_BROADCAST and not row.addr.is_unspecified and row.prefixlen < 32:
            text += f"broadcast {row.network().broadcast_address}"
    else:
        text += f"\tinet6 {row.addr}/{row.prefixlen} "
    if ":" not in row.name:
        group = kview.group(kernel, row.ifname)
        if group:
            text += f"\n\tgroupname {group}"
    text += "\n"
    if ether and ":" not in row.name and not row.flags & (C.IFF_VIRTUAL | C.IFF_IPMP):
        phy = kview.phyint(kernel, row.ifname)
        mac = getattr(phy, "mac", b"") or b""
        if uid == 0 and mac:               # dlpi_open needs privilege
            text += f"\tether {_mac_text(mac)} \n"
    return text


def lookup(kernel, lifname: str, af: int):
    """The lif `lifname` of family af, or None (SIOCGLIFFLAGS fails with ENXIO)."""
    for row in kview.lifs(kernel, af):
        if row.name == lifname or (row.name == f"{lifname}:0"):
            return row
    return None


def show(kernel, ifname: str | None, af: int | None, uid: int, onflags: int = 0,
         offflags: int = 0) -> str:
    """`ifconfig IF [inet|inet6]` (ifname, the IPv4 lif unless inet6 is named) or
    `ifconfig -a[46ud] [inet|inet6]` (ifname None, every lif, IPv4 first);
    the ether line only when no address family was named (status: afp NULL)."""
    if ifname is not None:
        row = lookup(kernel, ifname, af or C.AF_INET)
        return show_lif(kernel, row, uid, ether=af is None) if row is not None else ""
    rows = kview.lifs(kernel)
    rows = [r for r in rows if (af is None or r.af == af) and r.flags & onflags == onflags
            and not r.flags & offflags]
    order = {name: i for i, name in enumerate(kview.interfaces(kernel))}
    rows.sort(key=lambda r: (r.af != C.AF_INET, order.get(r.ifname, 0), _unit(r.name)))
    return "".join(show_lif(kernel, r, uid, ether=af is None) for r in rows)


def _unit(lifname: str) -> int:
    return int(lifname.partition(":")[2] or 0)
