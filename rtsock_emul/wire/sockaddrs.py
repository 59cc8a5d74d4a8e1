"""Sockaddrs as they follow an illumos routing header (R3, R5; rts_getaddrs).

Sizes are fixed by family (AF_INET and AF_UNSPEC 16, AF_INET6 32, AF_LINK 252)
and the RTA_IFP slot always takes 252 bytes. Objects are lossless: every byte
of a decoded sockaddr is kept, so encode(decode(b)) == b.
"""
from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address
from typing import Any, ClassVar, Self, Union

from .constants import AF_INET, AF_INET6, AF_LINK, AF_NAMES, AF_UNSPEC, RTAX_IFP, RTAX_NAMES
from .errors import WireError
from .structs import SDL_DATA_LEN, SOCKADDR, SOCKADDR_DL, SOCKADDR_IN, SOCKADDR_IN6, Buffer

SDL_SIZE = SOCKADDR_DL.size


def _set(obj: object, **values: Any) -> None:
    for name, value in values.items():
        object.__setattr__(obj, name, value)


@dataclass(frozen=True)
class SockaddrIn:
    """struct sockaddr_in: 16 bytes; `port` is the host value of the network-order sin_port."""
    addr: IPv4Address
    port: int = 0
    zero: bytes = bytes(8)
    family: ClassVar[int] = AF_INET

    def __post_init__(self) -> None:
        if type(self.addr) is not IPv4Address:     # IPv4Address(an IPv4Address) parses its text
            _set(self, addr=IPv4Address(self.addr))

    def size(self, slot: int | None = None) -> int:
        return SOCKADDR_IN.size

    def encode(self, slot: int | None = None) -> bytes:
        return SOCKADDR_IN.pack({"sin_family": AF_INET, "sin_port": self.port.to_bytes(2, "big"),
                                 "sin_addr": self.addr.packed, "sin_zero": self.zero})

    @classmethod
    def from_bytes(cls, buf: Buffer, offset: int, size: int) -> Self:
        v = SOCKADDR_IN.unpack(buf, offset)
        return cls(IPv4Address(v["sin_addr"]), int.from_bytes(v["sin_port"], "big"), v["sin_zero"])

    def text(self) -> str:
        return str(self.addr)

    def __repr__(self) -> str:
        extra = "".join(f", {k}={getattr(self, k)!r}" for k in ("port", "zero")
                        if getattr(self, k) != type(self).__dataclass_fields__[k].default)
        return f"SockaddrIn('{self.addr}'{extra})"


@dataclass(frozen=True)
class SockaddrIn6:
    """struct sockaddr_in6: 32 bytes (with illumos' __sin6_src_id as src_id)."""
    addr: IPv6Address
    scope_id: int = 0
    port: int = 0
    flowinfo: int = 0
    src_id: int = 0
    family: ClassVar[int] = AF_INET6

    def __post_init__(self) -> None:
        if type(self.addr) is not IPv6Address:
            _set(self, addr=IPv6Address(self.addr))

    def size(self, slot: int | None = None) -> int:
        return SOCKADDR_IN6.size

    def encode(self, slot: int | None = None) -> bytes:
        return SOCKADDR_IN6.pack({
            "sin6_family": AF_INET6, "sin6_port": self.port.to_bytes(2, "big"),
            "sin6_flowinfo": self.flowinfo, "sin6_addr": self.addr.packed,
            "sin6_scope_id": self.scope_id, "__sin6_src_id": self.src_id})

    @classmethod
    def from_bytes(cls, buf: Buffer, offset: int, size: int) -> Self:
        v = SOCKADDR_IN6.unpack(buf, offset)
        return cls(IPv6Address(v["sin6_addr"]), v["sin6_scope_id"],
                   int.from_bytes(v["sin6_port"], "big"), v["sin6_flowinfo"], v["__sin6_src_id"])

    def text(self) -> str:
        return str(self.addr) + (f"%{self.scope_id}" if self.scope_id else "")

    def __repr__(self) -> str:
        extra = "".join(f", {k}={getattr(self, k)!r}" for k in ("scope_id", "port", "flowinfo", "src_id")
                        if getattr(self, k))
        return f"SockaddrIn6('{self.addr}'{extra})"


@dataclass(frozen=True)
class SockaddrDl:
    """struct sockaddr_dl: 252 bytes; sdl_data = name (no NUL), LL address, then `extra`.

    `sdl_alen` larger than len(lladdr) pads the address with zeros (an IPMP
    interface's sdl: alen 6, zero bytes, R47); after construction lladdr always
    holds sdl_alen bytes and sdl_alen is None. `extra` keeps any non-zero bytes
    after the address (the selector of sdl_slen) so decoding is lossless.
    """
    sdl_index: int = 0
    sdl_type: int = 0
    name: str = ""
    lladdr: bytes = b""
    sdl_alen: int | None = None
    sdl_slen: int = 0
    extra: bytes = b""
    family: ClassVar[int] = AF_LINK

    def __post_init__(self) -> None:
        lladdr = bytes(self.lladdr)
        if self.sdl_alen is not None:
            if self.sdl_alen < len(lladdr):
                raise WireError("sockaddr_dl.sdl_alen", None,
                                f"sdl_alen {self.sdl_alen} is shorter than lladdr ({len(lladdr)} bytes)")
            lladdr = lladdr.ljust(self.sdl_alen, b"\0")
        try:
            self.name.encode("latin-1")
        except UnicodeEncodeError:
            raise WireError("sockaddr_dl.sdl_data", None,
                            f"interface name {self.name!r} is not single-byte text") from None
        extra = bytes(self.extra).rstrip(b"\0")
        used = len(self.name) + len(lladdr) + len(extra)
        if used > SDL_DATA_LEN:
            raise WireError("sockaddr_dl.sdl_data", None,
                            f"name, lladdr and extra take {used} bytes; sdl_data has {SDL_DATA_LEN}")
        _set(self, lladdr=lladdr, sdl_alen=None, extra=extra)

    def size(self, slot: int | None = None) -> int:
        return SDL_SIZE

    def encode(self, slot: int | None = None) -> bytes:
        name = self.name.encode("latin-1")
        return SOCKADDR_DL.pack({
            "sdl_family": AF_LINK, "sdl_index": self.sdl_index, "sdl_type": self.sdl_type,
            "sdl_nlen": len(name), "sdl_alen": len(self.lladdr), "sdl_slen": self.sdl_slen,
            "sdl_data": name + self.lladdr + self.extra})

    @classmethod
    def from_bytes(cls, buf: Buffer, offset: int, size: int) -> Self:
        v = SOCKADDR_DL.unpack(buf, offset)
        nlen, alen, data = v["sdl_nlen"], v["sdl_alen"], v["sdl_data"]
        if nlen + alen > SDL_DATA_LEN:
            raise WireError("sockaddr_dl.sdl_nlen", offset + SOCKADDR_DL.offsets["sdl_nlen"],
                            f"sdl_nlen {nlen} + sdl_alen {alen} exceed sdl_data[{SDL_DATA_LEN}]")
        return cls(v["sdl_index"], v["sdl_type"], data[:nlen].decode("latin-1"),
                   data[nlen:nlen + alen], None, v["sdl_slen"], data[nlen + alen:])

    def text(self) -> str:
        return f"{self.name or '?'} index {self.sdl_index} {lladdr_text(self.lladdr)}".rstrip()

    def __repr__(self) -> str:
        extra = "".join(f", {k}={getattr(self, k)!r}" for k in ("sdl_slen", "extra") if getattr(self, k))
        return (f"SockaddrDl(sdl_index={self.sdl_index}, sdl_type={self.sdl_type}, "
                f"name={self.name!r}, lladdr={self.lladdr!r}{extra})")


@dataclass(frozen=True)
class SockaddrUnspec:
    """AF_UNSPEC: family 0 then data; 16 bytes, or 252 in the RTA_IFP slot.
    `data` is kept without trailing zeros."""
    data: bytes = b""
    family: ClassVar[int] = AF_UNSPEC

    def __post_init__(self) -> None:
        _set(self, data=bytes(self.data).rstrip(b"\0"))

    def size(self, slot: int | None = None) -> int:
        return SDL_SIZE if slot == RTAX_IFP else SOCKADDR.size

    def encode(self, slot: int | None = None) -> bytes:
        size = self.size(slot)
        if len(self.data) > size - 2:
            raise WireError("sockaddr.sa_data", None, f"{len(self.data)} bytes do not fit in {size - 2}")
        return AF_UNSPEC.to_bytes(2, "little") + self.data.ljust(size - 2, b"\0")

    @classmethod
    def from_bytes(cls, buf: Buffer, offset: int, size: int) -> Self:
        return cls(bytes(buf[offset + 2:offset + size]))

    def text(self) -> str:
        return "(unspec)" + (f" {self.data.hex()}" if self.data else "")

    def __repr__(self) -> str:
        return f"SockaddrUnspec({self.data!r})" if self.data else "SockaddrUnspec()"


Sockaddr = Union[SockaddrIn, SockaddrIn6, SockaddrDl, SockaddrUnspec]
SOCKADDR_TYPES: dict[int, type[Sockaddr]] = {AF_INET: SockaddrIn, AF_INET6: SockaddrIn6, AF_LINK: SockaddrDl,
                  AF_UNSPEC: SockaddrUnspec}
SIZE_BY_FAMILY = {AF_INET: SOCKADDR_IN.size, AF_UNSPEC: SOCKADDR.size,
                  AF_INET6: SOCKADDR_IN6.size, AF_LINK: SDL_SIZE}
SLOT_FAMILIES = {RTAX_IFP: (AF_LINK, AF_UNSPEC)}  # rts_getaddrs: IFP is AF_LINK or AF_UNSPEC


def lladdr_text(lladdr: bytes) -> str:
    return ":".join(f"{b:02x}" for b in lladdr)


def sockaddr_size(family: int, slot: int | None = None) -> int:
    """The bytes a sockaddr of family takes in RTAX slot `slot` (None: by family only)."""
    if slot == RTAX_IFP:
        return SDL_SIZE
    return SIZE_BY_FAMILY[family]


def _where(slot: int | None) -> str:
    """The field name an error about the sockaddr in `slot` gives (made only on an error)."""
    return f"sockaddrs[{'sockaddr' if slot is None else RTAX_NAMES.get(slot, 'sockaddr')}]"


def decode_sockaddr(buf: Buffer, offset: int = 0, slot: int | None = None) -> tuple[Sockaddr, int]:
    """(sockaddr, size) of the sockaddr at buf[offset:] in RTAX slot `slot`.

    Raises WireError (offset relative to buf) for a truncated sockaddr, an
    unknown family, or a family the slot does not allow.
    """
    if offset + 2 > len(buf):
        raise WireError(f"{_where(slot)}.sa_family", offset,
                        f"{len(buf) - offset} bytes left, a sockaddr needs at least 2")
    family = int.from_bytes(buf[offset:offset + 2], "little")
    cls = SOCKADDR_TYPES.get(family)
    if cls is None:
        raise WireError(f"{_where(slot)}.sa_family", offset,
                        f"unknown address family {family}; expected one of "
                        + ", ".join(f"{AF_NAMES[f]} ({f})" for f in SOCKADDR_TYPES))
    allowed = None if slot is None else SLOT_FAMILIES.get(slot)
    if allowed and family not in allowed:
        raise WireError(f"{_where(slot)}.sa_family", offset,
                        f"{AF_NAMES[family]} is not allowed here; use "
                        + " or ".join(AF_NAMES[f] for f in allowed))
    size = sockaddr_size(family, slot)
    if offset + size > len(buf):
        raise WireError(_where(slot), offset, f"{AF_NAMES[family]} sockaddr needs {size} bytes, "
                                              f"only {len(buf) - offset} left")
    return cls.from_bytes(buf, offset, size), size


def to_sockaddr(value: Sockaddr | str | IPv4Address | IPv6Address) -> Sockaddr:
    """A sockaddr object from one, or from address text / an ipaddress object."""
    if isinstance(value, (SockaddrIn, SockaddrIn6, SockaddrDl, SockaddrUnspec)):
        return value
    if isinstance(value, str) and "%" in value:
        text, scope = value.split("%", 1)
        return SockaddrIn6(IPv6Address(text), int(scope))
    addr = ip_address(value)
    return SockaddrIn(addr) if isinstance(addr, IPv4Address) else SockaddrIn6(addr)


__all__ = ["Sockaddr", "SockaddrIn", "SockaddrIn6", "SockaddrDl", "SockaddrUnspec", "SOCKADDR_TYPES",
           "decode_sockaddr", "sockaddr_size", "to_sockaddr", "lladdr_text"]
