"""route(8)'s argument parser, as route.c's args_to_rtcmd, getaddr, in_getaddr,
in6_getaddr, in_getprefixlen and inet_makenetandmask read a command line.

The lab has no name service, so only numeric addresses are accepted (a name
gets route.c's "bad value" / "bad address" refusal). A syntax error raises
RouteSyntax with route.c's text; route.c exits 1 after printing it.
"""
from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field

from ..wire import constants as C

NO_PREFIX = -2
IN_CLASSA_NET, IN_CLASSB_NET, IN_CLASSC_NET = 0xFF000000, 0xFFFF0000, 0xFFFFFF00
HOST_MASK = 0xFFFFFFFF

# keywords that set a flag (route.c keywords[] and args_to_rtcmd's switch)
FLAG_KEYS = {"reject": C.RTF_REJECT, "blackhole": C.RTF_BLACKHOLE, "proto1": C.RTF_PROTO1,
             "proto2": C.RTF_PROTO2, "cloning": C.RTF_CLONING, "xresolve": C.RTF_XRESOLVE,
             "static": C.RTF_STATIC, "private": C.RTF_PRIVATE, "multirt": C.RTF_MULTIRT,
             "indirect": C.RTF_INDIRECT}
# keywords that take an address: which RTA_ it fills
ADDR_KEYS = {"ifa": C.RTA_IFA, "ifp": C.RTA_IFP, "gateway": C.RTA_GATEWAY, "dst": C.RTA_DST,
             "netmask": C.RTA_NETMASK, "setsrc": C.RTA_SRC}
# set_metric: keyword -> (RTV_ bit, rt_metrics field)
METRIC_KEYS = {"mtu": (C.RTV_MTU, "rmx_mtu"), "hopcount": (C.RTV_HOPCOUNT, "rmx_hopcount"),
               "expire": (C.RTV_EXPIRE, "rmx_expire"), "recvpipe": (C.RTV_RPIPE, "rmx_recvpipe"),
               "sendpipe": (C.RTV_SPIPE, "rmx_sendpipe"),
               "ssthresh": (C.RTV_SSTHRESH, "rmx_ssthresh"), "rtt": (C.RTV_RTT, "rmx_rtt"),
               "rttvar": (C.RTV_RTTVAR, "rmx_rttvar")}
OTHER_KEYS = {"host", "net", "inet", "inet6", "link", "sa", "iface", "interface", "nostatic",
              "lock", "lockrest", "secattr"}
COMMANDS = {"add": C.RTM_ADD, "change": C.RTM_CHANGE, "delete": C.RTM_DELETE, "get": C.RTM_GET}


class RouteSyntax(Exception):
    """route.c's syntax_error: the text (with its newline) goes to stderr, exit 1."""


@dataclass
class RtCmd:
    """route.c's rtcmd_irep_t: the digested command line."""
    cmd: int
    af: int = C.AF_INET
    flags: int = C.RTF_STATIC
    addrs: dict = field(default_factory=dict)      # RTA_ bit -> ipaddress object, or None (unspecified)
    dest_str: str | None = None
    gate_str: str | None = None
    ifp_str: str | None = None
    metrics: dict = field(default_factory=dict)
    inits: int = 0
    locks: int = 0


def _prefixlen(text: str, max_plen: int) -> int:
    """in_getprefixlen: NO_PREFIX, or the number after '/' (trailing junk ignored, as strtoul)."""
    slash = text.find("/")
    if slash == 0:
        raise RouteSyntax(f"route: {text}: unexpected '/'\n")
    if slash < 0:
        return NO_PREFIX
    tail = text[slash + 1:]
    digits = len(tail) - len(tail.lstrip("0123456789"))
    if digits == 0:
        raise RouteSyntax(f"route: bad prefix length {tail}\n")
    if int(tail[:digits]) > max_plen:
        raise RouteSyntax(f"route: prefix length {tail} out of range\n")
    return int(tail[:digits])


def _inet_addr(text: str) -> int | None:
    """inet_addr(3C): a.b.c.d and its short forms (a.b.c, a.b, a; hex, octal); None if not numeric."""
    try:
        return int.from_bytes(socket.inet_aton(text), "big") if text.strip() == text else None
    except OSError:
        return None


def _lnaof(addr: int) -> int:
    """inet_lnaof: the host part of a classful address."""
    if not addr & 0x80000000:
        return addr & ~IN_CLASSA_NET & HOST_MASK
    if addr & 0xC0000000 == 0x80000000:
        return addr & ~IN_CLASSB_NET & HOST_MASK
    return addr & ~IN_CLASSC_NET & HOST_MASK


def classful_mask(addr: int) -> int:
    if not addr & 0x80000000:
        return IN_CLASSA_NET
    if addr & 0xC0000000 == 0x80000000:
        return IN_CLASSB_NET
    if addr & 0xE0000000 == 0xC0000000:
        return IN_CLASSC_NET
    return HOST_MASK


def makenetandmask(net: int, subnetmask) -> tuple[int, int]:
    """inet_makenetandmask: (address, mask) of a network number given without a mask;
    subnetmask(addr, mask) is inet_makesubnetmask (the mask of a local subnet, if any)."""
    if net == 0:
        addr = mask = 0
    elif net < 128:
        addr, mask = net << 24, IN_CLASSA_NET
    elif net < 65536:
        addr, mask = net << 16, IN_CLASSB_NET
    elif net < 16777216:
        addr, mask = net << 8, IN_CLASSC_NET
    else:
        addr = net
        if not addr & ~IN_CLASSA_NET & HOST_MASK:
            mask = IN_CLASSA_NET
        elif not addr & ~IN_CLASSB_NET & HOST_MASK:
            mask = IN_CLASSB_NET
        elif not addr & ~IN_CLASSC_NET & HOST_MASK:
            mask = IN_CLASSC_NET
        else:
            mask = subnetmask(addr, classful_mask(addr))
    if addr & 0xF0000000 == 0xF0000000:        # class E: /32
        mask = HOST_MASK
    return addr, mask


class Parser:
    """args_to_rtcmd over argv (the words after the command)."""

    def __init__(self, subnetmask) -> None:
        self.subnetmask = subnetmask

    def parse(self, cmd: str, argv: list[str]) -> RtCmd:
        rc = RtCmd(COMMANDS[cmd])
        atype, iflag, locknext, lockrest = "any", False, False, False
        words = iter(argv)
        for tok in words:
            dash = tok.startswith("-")
            key = tok[1:] if dash else (tok if tok in ("host", "net") else "")
            known = key in FLAG_KEYS or key in ADDR_KEYS or key in METRIC_KEYS or key in OTHER_KEYS
            if not known:
                key = ""

            def value(tok: str = tok) -> str:
                nxt = next(words, None)
                if nxt is None:
                    raise RouteSyntax(f"route: argument required following keyword {tok}\n")
                return nxt
            if key in ("host", "net"):
                if atype not in ("any", key):
                    raise RouteSyntax("route: -host and -net are mutually exclusive\n")
                atype = key
            elif key in ("inet", "inet6"):
                rc.af = C.AF_INET if key == "inet" else C.AF_INET6
            elif key in ("link", "sa"):
                raise RouteSyntax(f"route: -{key} addresses are not supported in the lab\n")
            elif key in ("iface", "interface", "nostatic"):
                iflag = iflag or key != "nostatic"
                rc.flags &= ~C.RTF_STATIC
            elif key == "lock":
                locknext = True
            elif key == "lockrest":
                lockrest = True
            elif key in FLAG_KEYS:
                rc.flags |= FLAG_KEYS[key]
            elif key in METRIC_KEYS:
                bit, name = METRIC_KEYS[key]
                rc.inits |= bit
                rc.locks |= bit if (locknext or lockrest) else 0
                rc.metrics[name] = _atoi(value()) & 0xFFFFFFFF   # a C uint
                locknext = False
            elif key == "secattr":
                value()
                raise RouteSyntax("route: system is not labeled; cannot specify security attributes.\n")
            elif key in ADDR_KEYS:
                self.getaddr(rc, ADDR_KEYS[key], value(), atype)
                if key == "netmask":
                    atype = "net"
                if key == "setsrc":
                    rc.flags |= C.RTF_SETSRC
            elif dash:
                raise RouteSyntax(f"route: botched keyword: {tok[1:]}\n")
            elif C.RTA_DST not in rc.addrs:
                self.getaddr(rc, C.RTA_DST, tok, atype)
            elif C.RTA_GATEWAY not in rc.addrs:
                self.getaddr(rc, C.RTA_GATEWAY, tok, atype)
            elif tok.isdigit() and int(tok) < 0x80000000:
                iflag = int(tok) == 0               # old syntax: a trailing metric, 0 = to if
            else:
                self.getaddr(rc, C.RTA_NETMASK, tok, atype)
        if C.RTA_DST not in rc.addrs:
            raise RouteSyntax("route: destination required\n")
        if rc.cmd in (C.RTM_ADD, C.RTM_DELETE) and C.RTA_GATEWAY not in rc.addrs:
            raise RouteSyntax("route: gateway required for add or delete command\n")
        if not iflag:
            rc.flags |= C.RTF_GATEWAY
        if atype != "net":
            mask = rc.addrs.get(C.RTA_NETMASK, "unset")
            if mask == "unset":
                rc.flags |= C.RTF_HOST
            elif mask is not None and int(mask) == (1 << mask.max_prefixlen) - 1:
                rc.flags |= C.RTF_HOST
        return rc

    def getaddr(self, rc: RtCmd, which: int, s: str, atype: str) -> None:
        if which == C.RTA_DST:
            rc.dest_str = s
        elif which == C.RTA_GATEWAY:
            rc.gate_str = s
        elif which == C.RTA_IFP:
            rc.ifp_str = s
            rc.addrs[which] = None
            return
        if s == "default":
            rc.addrs[which] = None
            if which == C.RTA_DST:
                rc.addrs[C.RTA_NETMASK] = None
            return
        if rc.af == C.AF_INET6:
            self._in6(rc, which, s)
        else:
            self._in(rc, which, s, atype)

    def _in(self, rc: RtCmd, which: int, s: str, atype: str) -> None:
        text = s
        if which == C.RTA_DST:
            plen = _prefixlen(s, 32)
            text = s.split("/", 1)[0]
        elif "/" in s:
            raise RouteSyntax(f"route: {s}: unexpected '/'\n")
        if text == "255.255.255.255":
            rc.addrs[which] = ipaddress.IPv4Address(HOST_MASK)
        else:
            val = _inet_addr(text)
            if val is None:
                raise RouteSyntax(f"{s}: bad value\n")
            rc.addrs[which] = ipaddress.IPv4Address(val)
            if which == C.RTA_DST and (atype == "net" or (atype == "any" and _lnaof(val) == 0)):
                addr, mask = makenetandmask(val, self.subnetmask)
                rc.addrs[which] = ipaddress.IPv4Address(addr)
                rc.addrs.setdefault(C.RTA_NETMASK, ipaddress.IPv4Address(mask))
        if which == C.RTA_DST and plen != NO_PREFIX:
            rc.addrs[C.RTA_NETMASK] = ipaddress.IPv4Network((0, plen)).netmask

    def _in6(self, rc: RtCmd, which: int, s: str) -> None:
        if which == C.RTA_NETMASK:
            raise RouteSyntax("route: -netmask not supported for IPv6: "
                              "use <prefix>/<prefix-length> instead\n")
        text, plen = s, NO_PREFIX
        if which == C.RTA_DST:
            plen = _prefixlen(s, 128)
            text = s.split("/", 1)[0]
        elif "/" in s:
            raise RouteSyntax(f"route: {s}: unexpected '/'\n")
        try:
            rc.addrs[which] = ipaddress.IPv6Address(text.split("%", 1)[0])
        except ValueError:
            raise RouteSyntax(f"route: {s}: bad address\n") from None
        if plen != NO_PREFIX:
            rc.addrs[C.RTA_NETMASK] = ipaddress.IPv6Network((0, plen)).netmask


def _atoi(text: str) -> int:
    """atoi: the leading digits (with a sign), 0 if none."""
    body = text.strip()
    sign = -1 if body.startswith("-") else 1
    body = body.lstrip("+-")
    digits = len(body) - len(body.lstrip("0123456789"))
    return sign * int(body[:digits]) if digits else 0


__all__ = ["Parser", "RtCmd", "RouteSyntax", "makenetandmask", "COMMANDS"]
