"""Human and JSON views of routing messages.

`render` prints like illumos `route -n monitor` (print_rtmsg, pmsg_common,
pmsg_addrs and bprintf in [route.c]), including its flag spellings (PTP,
IPv4, MASK_PRESENT, ...). It adds nothing the tool would not print except the
optional " on DATE" of BSD's monitor (with_date=True).
"""
from __future__ import annotations

import time
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from .constants import AF_INET, AF_INET6, RTA_NAMES, RTM_NAMES, RTM_VERSION, from_wire_errno
from .messages import FACTORIES, IfaMsghdr, IfMsghdr, Message, decode, encode
from .sockaddrs import Sockaddr, SockaddrDl, SockaddrUnspec

# route.c msgtypes[]
MONITOR_TITLES = MappingProxyType({
    1: "Add Route", 2: "Delete Route", 3: "Change Metrics or flags", 4: "Report Metrics",
    5: "Kernel Suspects Partitioning", 6: "Told to use different route",
    7: "Lookup failed on this address", 8: "fix specified metrics", 9: "caused by SIOCADDRT",
    10: "caused by SIOCDELRT", 11: "Route created by cloning",
    12: "address being brought up on iface", 13: "address being brought down on iface",
    14: "iface status change", 15: "address being changed on iface",
    16: "address being removed from iface"})


def _bits(*names: str | None) -> Mapping[int, str]:
    """bit value -> route.c spelling, for names listed from bit 0 upward (None skips)."""
    return MappingProxyType({1 << i: n for i, n in enumerate(names) if n})


# route.c routeflags[], ifnetflags[], metricnames[], addrnames[]
MONITOR_RTF = _bits("UP", "GATEWAY", "HOST", "REJECT", "DYNAMIC", "MODIFIED", "DONE",
                    "MASK_PRESENT", "CLONING", "XRESOLVE", "LLINFO", "STATIC", "BLACKHOLE",
                    "PRIVATE", "PROTO2", "PROTO1", "MULTIRT", "SETSRC", "INDIRECT")
MONITOR_IFF = _bits("UP", "BROADCAST", "DEBUG", "LOOPBACK", "PTP", "NOTRAILERS", "RUNNING",
                    "NOARP", "PPROMISC", "ALLMULTI", "INTELLIGENT", "MULTICAST", "MULTI_BCAST",
                    "UNNUMBERED", "DHCP", "PRIVATE", "NOXMIT", "NOLOCAL", "DEPRECATED",
                    "ADDRCONF", "ROUTER", "NONUD", "ANYCAST", "NORTEXCH", "IPv4", "IPv6", None,
                    "NOFAILOVER", "FAILED", "STANDBY", "INACTIVE", "OFFLINE")
# metricnames[] lists the high bits first, so bprintf prints them in that order
MONITOR_RTV = MappingProxyType(dict(reversed(list(_bits(
    "mtu", "hopcount", "expire", "recvpipe", "sendpipe", "ssthresh", "rtt", "rttvar",
    "pksent").items()))))
MONITOR_RTA = _bits("DST", "GATEWAY", "NETMASK", "GENMASK", "IFP", "IFA", "AUTHOR", "BRD", "SRC")


def bprintf(value: int, names: Mapping[int, str]) -> str:
    """route.c bprintf: "<A,B>" for the set bits of a C int, "" when none."""
    value &= 0xFFFFFFFF
    set_names = [n for bit, n in names.items() if value & bit]
    return f"<{','.join(set_names)}>" if set_names else ""


def link_ntoa(sdl: SockaddrDl) -> str:
    """route.c link_ntoa: "net0:2.0.c.0.0.1" (hex bytes without leading zeros)."""
    text = sdl.name
    if sdl.name and sdl.lladdr:
        text += ":"
    return text + ".".join(f"{b:x}" for b in sdl.lladdr)


def routename(sa: Sockaddr) -> str:
    """How `route -n` prints one sockaddr (routename: INADDR_ANY and :: are "default")."""
    if sa.family in (AF_INET, AF_INET6):
        text = sa.text()
        return "default" if text in ("0.0.0.0", "::") else text
    if isinstance(sa, SockaddrDl):     # AF_LINK
        return link_ntoa(sa)
    data = sa.encode()[2:16]
    return f"af {sa.family}:" + "".join(
        f" {int.from_bytes(data[i:i + 2], 'little'):x}" for i in range(0, len(data), 2))


def _addr_lines(msg: Message) -> list[str]:
    if not msg.sockaddrs:
        return []
    addrs = bprintf(msg.addrs(), MONITOR_RTA)
    return [f"sockaddrs: {addrs}",
            "".join(f" {routename(msg.sockaddrs[bit])}" for bit in sorted(msg.sockaddrs))]


def render(msg: Message | bytes | bytearray, with_date: bool = False, size: int | None = None) -> str:
    """The `route -n monitor` text of msg (a message object or bytes), no final newline.

    size: the bytes read, if different from the encoded length.
    """
    if isinstance(msg, (bytes, bytearray)):
        msg = decode(msg)
    msglen = len(encode(msg)) if size is None else size
    first = f"got message of size {msglen}"
    if with_date:
        first += " on " + time.ctime()
    lines = [first]
    if msg.type not in MONITOR_TITLES:
        return "\n".join(lines + [f"routing message type {msg.type} not understood"])
    if getattr(msg, msg.PREFIX + "version") != RTM_VERSION:
        version = getattr(msg, msg.PREFIX + "version")
        return "\n".join(lines + [f"routing message version {version} not understood"])
    head = f"{RTM_NAMES[msg.type]}: {MONITOR_TITLES[msg.type]}: len {msglen}, "
    if isinstance(msg, IfMsghdr):
        lines.append(head + f"if# {msg.ifm_index}, flags:{bprintf(msg.ifm_flags, MONITOR_IFF)}")
    elif isinstance(msg, IfaMsghdr):
        lines.append(head + f"metric {msg.ifam_metric}, flags:{bprintf(msg.ifam_flags, MONITOR_RTF)}")
    else:
        lines.append(head + f"pid: {msg.rtm_pid}, seq {msg.rtm_seq}, errno {msg.rtm_errno}, "
                            f"flags:{bprintf(msg.rtm_flags, MONITOR_RTF)}")
        lines.append(f"locks: {bprintf(msg.rtm_rmx.rmx_locks, MONITOR_RTV)} "
                     f"inits: {bprintf(msg.rtm_inits, MONITOR_RTV)}")
    return "\n".join(lines + _addr_lines(msg))


def sockaddr_json(sa: Sockaddr) -> str | dict[str, Any]:
    """Address text; a sockaddr_dl as {"index", "type", "name", "lladdr"}."""
    if isinstance(sa, SockaddrDl):
        return {"index": sa.sdl_index, "type": sa.sdl_type, "name": sa.name,
                "lladdr": ":".join(f"{b:02x}" for b in sa.lladdr)}
    if isinstance(sa, SockaddrUnspec):
        return {"family": "AF_UNSPEC", "data": sa.data.hex()}
    return sa.text()


def to_json(msg: Message) -> dict[str, Any]:
    """A JSON-ready dict: header fields under C names (numbers, msglen and
    addrs included), "type" as the RTM_ name, "sockaddrs" keyed by RTA_ name."""
    layout, prefix = msg.LAYOUT, msg.PREFIX
    out: dict[str, Any] = {"type": RTM_NAMES.get(msg.type, hex(msg.type))}
    encoded = encode(msg)
    for name in layout.names:
        if name in (prefix + "msglen", prefix + "addrs"):
            out[name] = len(encoded) if name.endswith("msglen") else msg.addrs()
        else:
            value = getattr(msg, name)
            out[name] = _nested(value)
    if prefix == "rtm_":
        out["errno"] = from_wire_errno(msg.rtm_errno)
    out["sockaddrs"] = {RTA_NAMES[bit]: sockaddr_json(msg.sockaddrs[bit]) for bit in sorted(msg.sockaddrs)}
    if getattr(msg, "trailer", b""):
        out["trailer"] = msg.trailer.hex()
    if msg.af is not None:  # set by builders only; not on the wire
        out["af"] = msg.af
    return out


def _nested(value: Any) -> Any:
    if type(value) in FACTORIES.values():
        return {k: _nested(v) for k, v in vars(value).items()}
    return value
