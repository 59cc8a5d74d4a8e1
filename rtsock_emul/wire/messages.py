"""Routing messages as dataclasses with C field names; encode/decode by table.

A message is a header (rt_msghdr, if_msghdr or ifa_msghdr, chosen by rtm_type
through MESSAGE_TYPES) followed by the sockaddrs of `sockaddrs` (RTA_ bit ->
sockaddr) back to back in increasing bit order, with no rounding (R5). The
`*_msglen` and `*_addrs` header fields are computed on encode; decode is strict
and raises WireError with a reproducer. Decoding is lossless except for the
struct pads (Layout.pads), which are ignored as the kernel ignores them.
"""
import struct
from dataclasses import dataclass, field

from .constants import (
    AF_INET,
    AF_INET6,
    AF_UNSPEC,
    IFM_FLAGS_MASK,
    RTA_ALL,
    RTA_NAMES,
    RTAX_MAX,
    RTM_ADD,
    RTM_CHGADDR,
    RTM_DELADDR,
    RTM_FREEADDR,
    RTM_IFINFO,
    RTM_NAMES,
    RTM_NEWADDR,
    RTM_VERSION,
)
from .errors import WireError
from .sockaddrs import SOCKADDR_TYPES, decode_sockaddr
from .structs import IF_MSGHDR, IFA_MSGHDR, RT_MSGHDR


@dataclass
class RtMetrics:
    """struct rt_metrics (40 bytes)."""
    rmx_locks: int = 0
    rmx_mtu: int = 0
    rmx_hopcount: int = 0
    rmx_expire: int = 0
    rmx_recvpipe: int = 0
    rmx_sendpipe: int = 0
    rmx_ssthresh: int = 0
    rmx_rtt: int = 0
    rmx_rttvar: int = 0
    rmx_pksent: int = 0


@dataclass
class Timeval32:
    """struct timeval32 (ifi_lastchange)."""
    tv_sec: int = 0
    tv_usec: int = 0


@dataclass
class IfData:
    """struct if_data (68 bytes on LP64)."""
    ifi_type: int = 0
    ifi_addrlen: int = 0
    ifi_hdrlen: int = 0
    ifi_mtu: int = 0
    ifi_metric: int = 0
    ifi_baudrate: int = 0
    ifi_ipackets: int = 0
    ifi_ierrors: int = 0
    ifi_opackets: int = 0
    ifi_oerrors: int = 0
    ifi_collisions: int = 0
    ifi_ibytes: int = 0
    ifi_obytes: int = 0
    ifi_imcasts: int = 0
    ifi_omcasts: int = 0
    ifi_iqdrops: int = 0
    ifi_noproto: int = 0
    ifi_lastchange: Timeval32 = field(default_factory=Timeval32)


FACTORIES = {"rt_metrics": RtMetrics, "timeval32": Timeval32, "if_data": IfData}


class _Message:
    """Shared behaviour; subclasses set LAYOUT, PREFIX and HAS_TRAILER."""

    def family(self):
        """The AF of delivery: `af` when the builder set it (IFINFO cannot carry
        it), else the family of the first AF_INET/AF_INET6 sockaddr, else AF_UNSPEC."""
        if self.af is not None:
            return self.af
        for bit in sorted(self.sockaddrs):
            family = self.sockaddrs[bit].family
            if family in (AF_INET, AF_INET6):
                return family
        return AF_UNSPEC

    @property
    def type(self):
        return getattr(self, self.PREFIX + "type")

    @property
    def type_name(self):
        return RTM_NAMES.get(self.type, hex(self.type))

    def addrs(self):
        """The *_addrs bits computed from `sockaddrs`."""
        bits = 0
        for bit in self.sockaddrs:
            bits |= bit
        return bits

    def encode(self):
        return encode(self)


@dataclass
class RtMsghdr(_Message):
    """struct rt_msghdr (76 bytes) + sockaddrs + optional trailer (rtm_ext_t)."""
    rtm_type: int = RTM_ADD
    rtm_index: int = 0
    rtm_flags: int = 0
    rtm_pid: int = 0
    rtm_seq: int = 0
    rtm_errno: int = 0
    rtm_use: int = 0
    rtm_inits: int = 0
    rtm_rmx: RtMetrics = field(default_factory=RtMetrics)
    sockaddrs: dict = field(default_factory=dict)
    rtm_version: int = RTM_VERSION
    trailer: bytes = b""
    af: int | None = field(default=None, compare=False)
    LAYOUT = RT_MSGHDR
    PREFIX = "rtm_"
    HAS_TRAILER = True


@dataclass
class IfMsghdr(_Message):
    """struct if_msghdr (84 bytes) + sockaddrs. ifm_flags keeps only the low
    32 bits of the 64-bit IFF_ flags (R45); higher bits are dropped here."""
    ifm_type: int = RTM_IFINFO
    ifm_flags: int = 0
    ifm_index: int = 0
    ifm_data: IfData = field(default_factory=IfData)
    sockaddrs: dict = field(default_factory=dict)
    ifm_version: int = RTM_VERSION
    af: int | None = field(default=None, compare=False)
    LAYOUT = IF_MSGHDR
    PREFIX = "ifm_"
    HAS_TRAILER = False

    def __post_init__(self):
        self.ifm_flags &= IFM_FLAGS_MASK


@dataclass
class IfaMsghdr(_Message):
    """struct ifa_msghdr (20 bytes) + sockaddrs."""
    ifam_type: int = RTM_NEWADDR
    ifam_flags: int = 0
    ifam_index: int = 0
    ifam_metric: int = 0
    sockaddrs: dict = field(default_factory=dict)
    ifam_version: int = RTM_VERSION
    af: int | None = field(default=None, compare=False)
    LAYOUT = IFA_MSGHDR
    PREFIX = "ifam_"
    HAS_TRAILER = False


# rtm_type -> message class: one table, loud on a missing entry.
MESSAGE_TYPES = {t: RtMsghdr for t in RTM_NAMES} | {
    RTM_IFINFO: IfMsghdr, RTM_NEWADDR: IfaMsghdr, RTM_DELADDR: IfaMsghdr,
    RTM_CHGADDR: IfaMsghdr, RTM_FREEADDR: IfaMsghdr}

_SLOTS = tuple((1 << i, i) for i in range(RTAX_MAX))
_COMMON = struct.Struct("<HBB")  # msglen, version, type: the same in all three headers


def encode_sockaddrs(sockaddrs):
    """(bytes, addrs) of the sockaddrs in increasing RTA bit order, unpadded (R5)."""
    unknown = [bit for bit in sockaddrs if not isinstance(bit, int) or bit & ~RTA_ALL
               or bit & (bit - 1) or bit == 0]
    if unknown:
        raise WireError("sockaddrs", None, f"keys {unknown!r} are not single RTA_ bits; "
                                           f"use {', '.join(RTA_NAMES.values())}")
    parts, addrs = [], 0
    for bit, slot in _SLOTS:
        sa = sockaddrs.get(bit)
        if sa is not None:
            if not isinstance(sa, tuple(SOCKADDR_TYPES.values())):
                raise WireError(f"sockaddrs[{RTA_NAMES[bit]}]", None,
                                f"{sa!r} is not a sockaddr object; build one with to_sockaddr()")
            parts.append(sa.encode(slot))
            addrs |= bit
    return b"".join(parts), addrs


def encode(msg):
    """The illumos bytes of msg; *_msglen and *_addrs computed (R5)."""
    layout, prefix = msg.LAYOUT, msg.PREFIX
    body, addrs = encode_sockaddrs(msg.sockaddrs)
    trailer = msg.trailer if msg.HAS_TRAILER else b""
    values = {name: getattr(msg, name, None) for name in layout.names}
    values[prefix + "msglen"] = layout.size + len(body) + len(trailer)
    values[prefix + "addrs"] = addrs
    if prefix == "ifm_":
        values["ifm_flags"] &= IFM_FLAGS_MASK
    try:
        return layout.pack(values) + body + trailer
    except (struct.error, TypeError, AttributeError) as exc:
        bad = [n for n in layout.names if not _fits(layout, n, values[n])]
        raise WireError(f"{layout.name}.{','.join(bad) or '?'}", None,
                        f"cannot encode: {exc}") from None


def _fits(layout, name, value):
    code = dict(layout.fields)[name]
    if not isinstance(code, str):
        return True
    try:
        struct.pack("<" + code, value)
        return True
    except (struct.error, TypeError):
        return False


def decode(buf):
    """The message in buf, its class chosen by rtm_type (MESSAGE_TYPES). Strict."""
    buf = bytes(buf)
    if len(buf) < _COMMON.size:
        raise WireError("rtm_msglen", 0, f"message is {len(buf)} bytes; the common header "
                                         f"(msglen, version, type) needs {_COMMON.size}", buf)
    rtm_type = buf[3]
    cls = MESSAGE_TYPES.get(rtm_type)
    if cls is None:
        raise WireError("rtm_type", 3, f"unknown message type {rtm_type}; known: "
                                       f"1..{max(MESSAGE_TYPES)} ({', '.join(RTM_NAMES.values())})", buf)
    return decode_as(cls, buf)


def decode_request(buf):
    """buf as an rt_msghdr whatever its rtm_type, as the kernel reads every request."""
    return decode_as(RtMsghdr, bytes(buf))


def decode_as(cls, buf):
    """buf decoded with cls's layout; WireError on any inconsistency."""
    layout, prefix = cls.LAYOUT, cls.PREFIX
    if len(buf) < layout.size:
        raise WireError(prefix + "msglen", 0, f"{len(buf)} bytes is shorter than "
                                              f"{layout.name} ({layout.size} bytes)", buf)
    head = layout.unpack(buf, 0, FACTORIES)
    msglen, addrs = head.pop(prefix + "msglen"), head.pop(prefix + "addrs")
    if msglen != len(buf):
        raise WireError(prefix + "msglen", 0, f"says {msglen} bytes but the buffer has {len(buf)}", buf)
    if addrs & ~RTA_ALL:
        raise WireError(prefix + "addrs", layout.offsets[prefix + "addrs"],
                        f"{addrs:#x} has bits outside RTA_DST..RTA_SRC ({RTA_ALL:#x})", buf)
    sockaddrs, offset = {}, layout.size
    for bit, slot in _SLOTS:
        if addrs & bit:
            try:
                sockaddrs[bit], size = decode_sockaddr(buf, offset, slot)
            except WireError as exc:
                raise exc.with_buf(buf) from None
            offset += size
    trailer = buf[offset:]
    if trailer and not cls.HAS_TRAILER:
        raise WireError(prefix + "msglen", 0, f"{len(trailer)} bytes follow the sockaddrs "
                                              f"(at offset {offset}); {layout.name} has no trailer", buf)
    if cls.HAS_TRAILER:
        head["trailer"] = trailer
    return cls(sockaddrs=sockaddrs, **head)
