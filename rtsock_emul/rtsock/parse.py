"""Lenient request parsing: the header fields and `rts_getaddrs` (the first checks of `ip_rts_request_common`).

Unlike `wire.messages.decode` (strict, for what the kernel emits), this reads
what a user may write: bits are walked while the cursor is inside rtm_msglen,
a set bit with no bytes left is "not found", and GENMASK, BRD, an unknown
family or a v4-mapped IPv6 address abort the walk (nothing found -> EINVAL).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address
from typing import Any

from rtsock_emul.wire.constants import (
    AF_INET6,
    AF_LINK,
    AF_UNSPEC,
    RTA_AUTHOR,
    RTA_BRD,
    RTA_DST,
    RTA_GATEWAY,
    RTA_GENMASK,
    RTA_IFA,
    RTA_IFP,
    RTA_NETMASK,
    RTA_NUMBITS,
    RTA_SRC,
)
from rtsock_emul.wire.sockaddrs import SOCKADDR_TYPES, SockaddrUnspec, decode_sockaddr, sockaddr_size
from rtsock_emul.wire.structs import RT_MSGHDR, SOCKADDR_DL

HDR_SIZE = RT_MSGHDR.size  # 76 (R3)
_FAMILY_SIZE = 2            # sa_family_t
_REJECTED = (RTA_GENMASK, RTA_BRD)  # R13: not accepted in a request
IFP_FAMILIES = (AF_LINK, AF_UNSPEC)  # R15


@dataclass
class Addrs:
    """What rts_getaddrs found: addresses (ipaddress objects) of the working family."""

    found: int = 0                 # RTA_ bits found
    af: int = AF_UNSPEC            # from RTA_DST (or RTA_SRC)
    dst: object | None = None
    gateway: object | None = None
    netmask: object | None = None
    ifa: object | None = None
    author: object | None = None
    src: object | None = None
    ifindex: int = 0               # RTA_IFP sdl_index; the name is never decoded (R15)
    aborted: str = ""              # why the walk stopped, for the log
    raw: dict = field(default_factory=dict)  # decoded sockaddrs, RTA_IFP excepted


_SLOT_ATTR = {RTA_DST: "dst", RTA_GATEWAY: "gateway", RTA_NETMASK: "netmask",
              RTA_IFA: "ifa", RTA_AUTHOR: "author", RTA_SRC: "src"}


def header(data: bytes) -> dict:
    """The rt_msghdr fields of a request at least HDR_SIZE long."""
    return RT_MSGHDR.unpack(data)


def _address(sa: Any, af: int) -> tuple[Any, str | None]:
    """The in6_addr-style value of one sockaddr, or a reason to abort."""
    if isinstance(sa, SockaddrUnspec):
        # Parsed as a 16-byte sockaddr_in (rts_getaddrs): sin_addr is bytes 2..6 of sa_data.
        raw = sa.data[2:6].ljust(4, b"\0")
        v4 = IPv4Address(raw)
        if af == AF_INET6:
            return (IPv6Address(0), None) if not int(v4) else (None, "AF_UNSPEC non-zero in IPv6 request")
        return v4, None
    if sa.family == AF_INET6 and sa.addr.ipv4_mapped is not None:
        return None, "v4-mapped IPv6 address (R14)"
    return sa.addr, None


def getaddrs(data: bytes, rtm_addrs: int) -> Addrs:
    """rts_getaddrs over data (whose length is rtm_msglen)."""
    out = Addrs()
    cursor = HDR_SIZE
    for bit_no in range(RTA_NUMBITS):
        if cursor + _FAMILY_SIZE > len(data):
            break
        bit = 1 << bit_no
        if not rtm_addrs & bit:
            continue
        if bit in _REJECTED:
            return _abort(out, f"RTA bit {bit:#x} is not accepted in a request (R13)")
        family = int.from_bytes(data[cursor:cursor + _FAMILY_SIZE], "little")
        if family not in SOCKADDR_TYPES:
            return _abort(out, f"unknown address family {family} in RTA bit {bit:#x}")
        if bit == RTA_IFP and family not in IFP_FAMILIES:
            return _abort(out, f"RTA_IFP family {family} is not AF_LINK or AF_UNSPEC (R15)")
        if cursor + sockaddr_size(family, bit_no) > len(data):
            break  # truncated: not found, and nothing after it either
        if bit == RTA_IFP:  # R15: sdl_index only; sdl_nlen/sdl_alen are never read
            if family == AF_LINK:
                out.ifindex = SOCKADDR_DL.unpack(data, cursor)["sdl_index"]
            cursor += sockaddr_size(family, bit_no)
            out.found |= bit
            continue
        sa, size = decode_sockaddr(data, cursor, slot=bit_no)
        cursor += size
        out.raw[bit] = sa
        if sa.family == AF_LINK:
            return _abort(out, f"AF_LINK sockaddr in RTA bit {bit:#x}")
        if bit in (RTA_DST, RTA_SRC):
            if bit == RTA_DST or out.af == AF_UNSPEC:
                out.af = sa.family
        elif sa.family not in (out.af, AF_UNSPEC):
            return _abort(out, f"RTA bit {bit:#x} family {sa.family} differs from RTA_DST's {out.af} (R12)")
        addr, why = _address(sa, out.af if out.af != AF_UNSPEC else sa.family)
        if why:
            return _abort(out, why)
        setattr(out, _SLOT_ATTR[bit], addr)
        out.found |= bit
    return out


def _abort(out: Addrs, why: str) -> Addrs:
    out.found, out.aborted = 0, why
    return out
