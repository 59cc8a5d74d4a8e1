"""Friendly builders: routing messages from names and address text.

    RtMsg("RTM_ADD", dst="198.51.100.0/24", gateway="192.0.2.1",
          flags=["UP", "GATEWAY", "STATIC"], seq=42)

A prefix on `dst` yields RTA_NETMASK; a plain address with no netmask is a host
route, so RTF_HOST is added (as route(1M) does).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from ipaddress import IPv4Address, IPv6Address, ip_interface
from typing import NoReturn, Union

from .constants import (
    AF_INET,
    RTA_AUTHOR,
    RTA_BRD,
    RTA_DST,
    RTA_GATEWAY,
    RTA_GENMASK,
    RTA_IFA,
    RTA_IFP,
    RTA_NETMASK,
    RTA_SRC,
    RTF_HOST,
    RTM_IFINFO,
    RTM_VERSION,
    parse_flags,
    to_wire_errno,
    value_of,
)
from .messages import IfaMsghdr, IfData, IfMsghdr, RtMetrics, RtMsghdr
from .sockaddrs import Sockaddr, SockaddrDl, to_sockaddr

Address = Union[str, IPv4Address, IPv6Address, Sockaddr]
Ifp = Union[int, tuple[int, str], SockaddrDl]
Mask = Union[int, str, IPv4Address, IPv6Address, Sockaddr]
Flags = Union[int, str, Iterable[str]]


def _prefix_mask(prefixlen: int, version: int) -> IPv4Address | IPv6Address:
    bits = 32 if version == 4 else 128
    if not 0 <= prefixlen <= bits:
        _bad("netmask", prefixlen, f"a prefix length 0..{bits}")
    return ip_interface(f"{'0.0.0.0' if version == 4 else '::'}/{prefixlen}").netmask


def _bad(what: str, value: object, expected: str) -> NoReturn:
    raise ValueError(f"{what}={value!r}: expected {expected}")


def _ifp(ifp: Ifp) -> SockaddrDl:
    """RTA_IFP from an index, (index, name) or a SockaddrDl; only sdl_index matters (R15)."""
    if isinstance(ifp, SockaddrDl):
        return ifp
    if isinstance(ifp, int):
        return SockaddrDl(sdl_index=ifp)
    if isinstance(ifp, tuple) and len(ifp) == 2:
        return SockaddrDl(sdl_index=ifp[0], name=ifp[1])
    return _bad("ifp", ifp, "an ifindex, (ifindex, name) or SockaddrDl; "
                            "resolve interface names to indexes first")


def _dst(dst: Address, netmask: Mask | None) -> tuple[Sockaddr, Sockaddr | None, bool]:
    """(dst sockaddr, netmask sockaddr or None, is_host)."""
    if dst == "default":  # route(1M)'s word for 0.0.0.0/0
        dst = "0.0.0.0/0"
    if isinstance(dst, str) and "/" in dst:
        net = ip_interface(dst)
        mask = netmask if netmask is not None else net.netmask
        return to_sockaddr(net.ip), _mask(mask, net.version), False
    sa = to_sockaddr(dst)
    version = 4 if sa.family == AF_INET else 6
    return sa, (None if netmask is None else _mask(netmask, version)), netmask is None


def _mask(mask: Mask, version: int) -> Sockaddr:
    if isinstance(mask, int):
        return to_sockaddr(_prefix_mask(mask, version))
    if isinstance(mask, str) and mask.startswith("/"):
        return to_sockaddr(_prefix_mask(int(mask[1:]), version))
    return to_sockaddr(mask)


def RtMsg(type: str | int = "RTM_ADD", dst: Address | None = None,  # noqa: N802
          gateway: Address | None = None, netmask: Mask | None = None, ifp: Ifp | None = None,
          ifa: Address | None = None, flags: Flags = 0, seq: int = 0, pid: int = 0, inits: int = 0,
          rmx: RtMetrics | Mapping[str, int] | None = None, *, index: int = 0,
          errno: int | str = 0, use: int = 0, genmask: Address | None = None,
          author: Address | None = None, brd: Address | None = None, src: Address | None = None,
          version: int = RTM_VERSION, trailer: bytes = b"") -> RtMsghdr:
    """An RtMsghdr from friendly values.

    type: "RTM_ADD", "ADD" or a number. dst: "198.51.100.0/24", "2001:db8::/48",
    "default" (0.0.0.0/0) or a plain address (a host route). gateway/ifa/...: address text
    ("2001:db8::1", "fe80::1%2"), ipaddress objects or sockaddr objects.
    netmask: address text, a prefix length or "/24". ifp: ifindex,
    (ifindex, name) or SockaddrDl. flags: int or RTF_ names ("UP" or "RTF_UP").
    errno: a name ("EEXIST") or Linux errno, stored as the illumos number.
    rmx: RtMetrics or a dict of rmx_ fields.
    """
    sockaddrs: dict[int, Sockaddr] = {}
    rtm_flags = parse_flags("RTF_", flags)
    if dst is not None:
        sockaddrs[RTA_DST], mask, host = _dst(dst, netmask)
        if mask is not None:
            sockaddrs[RTA_NETMASK] = mask
        if host:
            rtm_flags |= RTF_HOST
    elif netmask is not None:
        sockaddrs[RTA_NETMASK] = _mask(netmask, 4)
    for bit, value in ((RTA_GATEWAY, gateway), (RTA_GENMASK, genmask), (RTA_IFA, ifa),
                       (RTA_AUTHOR, author), (RTA_BRD, brd), (RTA_SRC, src)):
        if value is not None:
            sockaddrs[bit] = to_sockaddr(value)
    if ifp is not None:
        sockaddrs[RTA_IFP] = _ifp(ifp)
    if isinstance(rmx, Mapping):
        rmx = RtMetrics(**rmx)
    return RtMsghdr(value_of("RTM_", type), rtm_index=index, rtm_flags=rtm_flags, rtm_pid=pid,
                    rtm_seq=seq, rtm_errno=to_wire_errno(errno), rtm_use=use, rtm_inits=inits,
                    rtm_rmx=rmx or RtMetrics(), sockaddrs=sockaddrs, rtm_version=version,
                    trailer=trailer)


def IfaMsg(type: str | int, index: int, ifa: Address, netmask: Mask, ifp: Ifp,  # noqa: N802
           brd: Address | None = None, flags: Flags = 0, metric: int = 0,
           af: int | None = None) -> IfaMsghdr:
    """An address message (NEWADDR/DELADDR/CHGADDR/FREEADDR) with NETMASK, IFP, IFA, BRD.

    netmask may be a prefix length; brd defaults to the unspecified address of
    ifa's family (R51: it is the point-to-point destination, 0 on broadcast links).
    """
    ifa_sa = to_sockaddr(ifa)
    version = 4 if ifa_sa.family == AF_INET else 6
    brd = brd if brd is not None else ("0.0.0.0" if version == 4 else "::")
    return IfaMsghdr(value_of("RTM_", type), parse_flags("RTF_", flags), index, metric,
                     {RTA_NETMASK: _mask(netmask, version), RTA_IFP: _ifp(ifp),
                      RTA_IFA: ifa_sa, RTA_BRD: to_sockaddr(brd)}, af=af)


def IfMsg(index: int, flags: Flags, ifp: Ifp, *, ifi_type: int = 0, mtu: int = 0,  # noqa: N802
          metric: int = 0, af: int | None = None) -> IfMsghdr:
    """An RTM_IFINFO with RTA_IFP; flags are IFF_ names or an int (low 32 bits kept)."""
    return IfMsghdr(RTM_IFINFO, parse_flags("IFF_", flags), index,
                    IfData(ifi_type=ifi_type, ifi_mtu=mtu, ifi_metric=metric),
                    {RTA_IFP: _ifp(ifp)}, af=af)
