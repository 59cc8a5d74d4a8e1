"""Routing messages as dataclasses with C field names; encode/decode by table.

A message is a header (rt_msghdr, if_msghdr or ifa_msghdr, chosen by rtm_type
through MESSAGE_TYPES) followed by the sockaddrs of `sockaddrs` (RTA_ bit ->
sockaddr) back to back in increasing bit order, with no rounding (R5). The
`*_msglen` and `*_addrs` header fields are computed on encode; decode is strict
and raises WireError with a reproducer. Decoding is lossless except for the
struct pads (Layout.pads), which are ignored as the kernel ignores them.

The dataclass fields are generated from the structs.py tables (`from_layout`,
`header_of`), as scapy builds its packet classes from `fields_desc`: a field is
declared once, in its table. Static checkers see those fields as Any.
"""
from __future__ import annotations

import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

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
from .sockaddrs import SOCKADDR_TYPES, Sockaddr, decode_sockaddr
from .structs import IF_DATA, IF_MSGHDR, IFA_MSGHDR, RT_METRICS, RT_MSGHDR, TIMEVAL32, Layout

T = TypeVar("T")
M = TypeVar("M", bound="Message")
FACTORIES: dict[str, type] = {}
"""Layout name -> the dataclass of a nested struct (Layout.unpack's factories)."""


class _Struct:
    """A dataclass whose fields come from a Layout at import time."""
    LAYOUT: ClassVar[Layout]
    if TYPE_CHECKING:   # the generated __init__ and fields, as checkers see them
        def __init__(self, *args: Any, **kwargs: Any) -> None: ...

        def __getattr__(self, name: str) -> Any: ...

        def __setattr__(self, name: str, value: Any) -> None: ...


def _default(code: str | Layout) -> Any:
    """The zero value of one table field: 0, zero bytes, or the nested struct."""
    if isinstance(code, Layout):
        return field(default_factory=FACTORIES[code.name])
    return b"" if code.endswith("s") else 0


def _python_type(code: str | Layout) -> type:
    if isinstance(code, Layout):
        return FACTORIES[code.name]
    return bytes if code.endswith("s") else int


def _generate(cls: type[T], layout: Layout, skip: tuple[str, ...] = (),
              defaults: Mapping[str, Any] | None = None, after: Mapping[str, Any] | None = None) -> type[T]:
    """cls as a dataclass: layout's fields in table order (pads and `skip` left
    out; `defaults` override the zeros), then `after` (name -> default), then
    the fields cls itself declares."""
    annotations: dict[str, Any] = {}
    for name, code in layout.fields:
        if name in skip or (isinstance(code, str) and code.endswith("x")):
            continue
        annotations[name] = _python_type(code)
        setattr(cls, name, (defaults or {}).get(name, _default(code)))
    for name, default in (after or {}).items():
        annotations[name] = type(default) if not isinstance(default, dict) else dict
        setattr(cls, name, field(default_factory=dict) if isinstance(default, dict) else default)
    annotations.update(cls.__dict__.get("__annotations__", {}))
    cls.__annotations__ = annotations
    cls.LAYOUT = layout     # type: ignore[attr-defined]
    return dataclass(cls)


def from_layout(layout: Layout) -> Callable[[type[T]], type[T]]:
    """Class decorator: a nested struct's dataclass, every field from the table."""
    def wrap(cls: type[T]) -> type[T]:
        out = _generate(cls, layout)
        FACTORIES[layout.name] = out
        return out
    return wrap


def header_of(layout: Layout, prefix: str, type_default: int) -> Callable[[type[T]], type[T]]:
    """Class decorator: a message header's dataclass. `*_msglen` and `*_addrs`
    are computed on encode, so they are no fields; `sockaddrs` and
    `*_version` follow the table's other fields (positional calls stop at
    sockaddrs), then the fields the class declares (trailer, af)."""
    computed = (prefix + "msglen", prefix + "addrs", prefix + "version")
    def wrap(cls: type[T]) -> type[T]:  # noqa: E306
        return _generate(cls, layout, skip=computed, defaults={prefix + "type": type_default},
                         after={"sockaddrs": {}, prefix + "version": RTM_VERSION})
    return wrap


@from_layout(RT_METRICS)
class RtMetrics(_Struct):
    """struct rt_metrics (40 bytes)."""


@from_layout(TIMEVAL32)
class Timeval32(_Struct):
    """struct timeval32 (ifi_lastchange)."""


@from_layout(IF_DATA)
class IfData(_Struct):
    """struct if_data (68 bytes on LP64)."""


class Message(_Struct):
    """Shared behaviour; subclasses set PREFIX and HAS_TRAILER."""
    PREFIX: ClassVar[str]
    HAS_TRAILER: ClassVar[bool]
    sockaddrs: dict[int, Sockaddr]
    af: int | None

    def family(self) -> int:
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
    def type(self) -> int:
        value: int = getattr(self, self.PREFIX + "type")
        return value

    @property
    def type_name(self) -> str:
        return RTM_NAMES.get(self.type, hex(self.type))

    def addrs(self) -> int:
        """The *_addrs bits computed from `sockaddrs`."""
        bits = 0
        for bit in self.sockaddrs:
            bits |= bit
        return bits

    def encode(self) -> bytes:
        return encode(self)


@header_of(RT_MSGHDR, "rtm_", RTM_ADD)
class RtMsghdr(Message):
    """struct rt_msghdr (76 bytes) + sockaddrs + optional trailer (rtm_ext_t)."""
    trailer: bytes = b""
    af: int | None = field(default=None, compare=False)
    PREFIX = "rtm_"
    HAS_TRAILER = True


@header_of(IF_MSGHDR, "ifm_", RTM_IFINFO)
class IfMsghdr(Message):
    """struct if_msghdr (84 bytes) + sockaddrs. ifm_flags keeps only the low
    32 bits of the 64-bit IFF_ flags (R45); higher bits are dropped here, once."""
    af: int | None = field(default=None, compare=False)
    PREFIX = "ifm_"
    HAS_TRAILER = False

    def __post_init__(self) -> None:
        self.ifm_flags &= IFM_FLAGS_MASK


@header_of(IFA_MSGHDR, "ifam_", RTM_NEWADDR)
class IfaMsghdr(Message):
    """struct ifa_msghdr (20 bytes) + sockaddrs."""
    af: int | None = field(default=None, compare=False)
    PREFIX = "ifam_"
    HAS_TRAILER = False


# rtm_type -> message class: one table, loud on a missing entry.
MESSAGE_TYPES: dict[int, type[Message]] = {t: RtMsghdr for t in RTM_NAMES} | {
    RTM_IFINFO: IfMsghdr, RTM_NEWADDR: IfaMsghdr, RTM_DELADDR: IfaMsghdr,
    RTM_CHGADDR: IfaMsghdr, RTM_FREEADDR: IfaMsghdr}

_SLOTS = tuple((1 << i, i) for i in range(RTAX_MAX))
_COMMON = struct.Struct("<HBB")  # msglen, version, type: the same in all three headers


def encode_sockaddrs(sockaddrs: Mapping[int, Sockaddr]) -> tuple[bytes, int]:
    """(bytes, addrs) of the sockaddrs in increasing RTA bit order, unpadded (R5)."""
    unknown = [bit for bit in sockaddrs if not isinstance(bit, int) or bit & ~RTA_ALL
               or bit & (bit - 1) or bit == 0]
    if unknown:
        raise WireError("sockaddrs", None, f"keys {unknown!r} are not single RTA_ bits; "
                                           f"use {', '.join(RTA_NAMES.values())}")
    parts: list[bytes] = []
    addrs = 0
    for bit, slot in _SLOTS:
        sa = sockaddrs.get(bit)
        if sa is not None:
            if not isinstance(sa, tuple(SOCKADDR_TYPES.values())):
                raise WireError(f"sockaddrs[{RTA_NAMES[bit]}]", None,
                                f"{sa!r} is not a sockaddr object; build one with to_sockaddr()")
            parts.append(sa.encode(slot))
            addrs |= bit
    return b"".join(parts), addrs


def encode(msg: Message) -> bytes:
    """The illumos bytes of msg; *_msglen and *_addrs computed (R5)."""
    layout, prefix = msg.LAYOUT, msg.PREFIX
    body, addrs = encode_sockaddrs(msg.sockaddrs)
    trailer = msg.trailer if msg.HAS_TRAILER else b""
    values = {name: getattr(msg, name, None) for name in layout.names}
    values[prefix + "msglen"] = layout.size + len(body) + len(trailer)
    values[prefix + "addrs"] = addrs
    try:
        return layout.pack(values) + body + trailer
    except (struct.error, TypeError, AttributeError) as exc:
        bad = [n for n in layout.names if not _fits(layout, n, values[n])]
        raise WireError(f"{layout.name}.{','.join(bad) or '?'}", None,
                        f"cannot encode: {exc}") from None


def _fits(layout: Layout, name: str, value: Any) -> bool:
    code = dict(layout.fields)[name]
    if not isinstance(code, str):
        return True
    try:
        struct.pack("<" + code, value)
        return True
    except (struct.error, TypeError):
        return False


def decode(buf: bytes | bytearray | memoryview) -> Message:
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


def decode_request(buf: bytes | bytearray | memoryview) -> RtMsghdr:
    """buf as an rt_msghdr whatever its rtm_type, as the kernel reads every request."""
    return decode_as(RtMsghdr, bytes(buf))


def decode_as(cls: type[M], buf: bytes) -> M:
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
    sockaddrs: dict[int, Sockaddr] = {}
    offset = layout.size
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
