"""The LP64 illumos struct layouts of R3-R5, each declared once as a field table.

A field is (name, code): code is a `struct` format code, a pad ("2x") or a
nested Layout. Integers are host order, which on illumos amd64 is little-endian,
so every layout is packed '<' with explicit pads; addresses are raw bytes
("4s", "16s") already in network order. Encode and decode come from the table.
The C `int` flag and address-bit fields are read unsigned ("I"): the bits are
what matters, and a negative ifm_flags (IFF_OFFLINE is bit 31) would make
Python's `&` see every higher IFF_ bit set.
"""
from __future__ import annotations

import struct
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Union

Buffer = Union[bytes, bytearray, memoryview]


class Layout:
    """One C struct: a field table, its size and offsets, pack/unpack generated from it."""

    def __init__(self, name: str, fields: Iterable[tuple[str, str | Layout]], doc: str = ""):
        self.name, self.fields, self.__doc__ = name, tuple(fields), doc
        fmt = "<"
        self.offsets: dict[str, int] = {}
        self._slots: list[tuple[str, Layout | None]] = []
        self.pads: list[tuple[int, int]] = []
        for fname, code in self.fields:
            if isinstance(code, Layout):
                self.offsets[fname] = struct.calcsize(fmt)
                for sub, off in code.offsets.items():
                    self.offsets[f"{fname}.{sub}"] = self.offsets[fname] + off
                self.pads += [(self.offsets[fname] + off, n) for off, n in code.pads]
                fmt += code.format[1:]
                self._slots.append((fname, code))
            else:
                if code.endswith("x"):  # ignored on decode, zero on encode (as C callers may not)
                    self.pads.append((struct.calcsize(fmt), struct.calcsize("<" + code)))
                else:
                    self.offsets[fname] = struct.calcsize(fmt)
                    self._slots.append((fname, None))
                fmt += code
        self.format: str = fmt
        self.struct = struct.Struct(fmt)
        self.size = self.struct.size
        self.names = tuple(n for n, _ in self._slots)
        self._flat_only = all(sub is None for _, sub in self._slots)   # unpack: one zip, no nesting
        # patch/peek: one compiled struct per top-level scalar field (the decode of every request)
        self._scalars = {fname: struct.Struct("<" + code) for fname, code in self.fields
                         if isinstance(code, str) and fname in self.offsets}

    def __repr__(self) -> str:
        return f"<Layout {self.name} {self.size} bytes>"

    def _flat(self, values: Mapping[str, Any]) -> list[Any]:
        out: list[Any] = []
        for fname, sub in self._slots:
            value = values[fname]
            if sub is None:
                out.append(value)
            else:
                out.extend(sub._flat(value if isinstance(value, dict) else vars(value)))
        return out

    def pack(self, values: Mapping[str, Any]) -> bytes:
        """bytes of the struct; values maps every field name to its value
        (a nested struct's value is a dict or an object with those attributes)."""
        return self.struct.pack(*self._flat(values))

    def _nest(self, it: Iterator[Any], factories: Mapping[str, Callable[..., Any]]) -> Any:
        values: dict[str, Any] = {}
        for fname, sub in self._slots:
            values[fname] = next(it) if sub is None else sub._nest(it, factories)
        factory = factories.get(self.name)
        return factory(**values) if factory else values

    def unpack(self, buf: Buffer, offset: int = 0,
               factories: Mapping[str, Callable[..., Any]] | None = None) -> Any:
        """dict of field values at buf[offset:]; struct.error if buf is short.

        factories maps a layout name to a callable taking its fields as keywords
        (e.g. {"rt_metrics": RtMetrics}); nested structs and the result use it."""
        values = self.struct.unpack_from(buf, offset)
        if self._flat_only and not factories:
            return dict(zip(self.names, values))
        return self._nest(iter(values), factories or {})

    def patch(self, buf: Buffer, **values: int) -> bytes:
        """A copy of buf with the named top-level scalar fields replaced."""
        out = bytearray(buf)
        for fname, value in values.items():
            self._scalar(fname).pack_into(out, self.offsets[fname], value)
        return bytes(out)

    def peek(self, buf: Buffer, fname: str) -> Any:
        """One top-level scalar field read from buf, or None if buf ends before it
        (for looking into bytes that need not be a whole struct)."""
        code = self._scalar(fname)
        offset = self.offsets[fname]
        if len(buf) < offset + code.size:
            return None
        return code.unpack_from(buf, offset)[0]

    def _scalar(self, fname: str) -> struct.Struct:
        code = self._scalars.get(fname)
        if code is None:
            if isinstance(dict(self.fields).get(fname), Layout):
                raise TypeError(f"{self.name}.{fname} is a nested struct, not a scalar field")
            raise KeyError(fname)
        return code


RT_METRICS = Layout("rt_metrics", [
    ("rmx_locks", "I"), ("rmx_mtu", "I"), ("rmx_hopcount", "I"), ("rmx_expire", "I"),
    ("rmx_recvpipe", "I"), ("rmx_sendpipe", "I"), ("rmx_ssthresh", "I"), ("rmx_rtt", "I"),
    ("rmx_rttvar", "I"), ("rmx_pksent", "I"),
], """struct rt_metrics {          /* 40 bytes */
    uint32_t rmx_locks, rmx_mtu, rmx_hopcount, rmx_expire, rmx_recvpipe,
             rmx_sendpipe, rmx_ssthresh, rmx_rtt, rmx_rttvar, rmx_pksent;
};""")

RT_MSGHDR = Layout("rt_msghdr", [
    ("rtm_msglen", "H"), ("rtm_version", "B"), ("rtm_type", "B"), ("rtm_index", "H"),
    ("_pad", "2x"), ("rtm_flags", "I"), ("rtm_addrs", "I"), ("rtm_pid", "i"),
    ("rtm_seq", "i"), ("rtm_errno", "i"), ("rtm_use", "i"), ("rtm_inits", "I"),
    ("rtm_rmx", RT_METRICS),
], """struct rt_msghdr {            /* 76 bytes; not the man page's order (M26) */
    ushort_t rtm_msglen; uchar_t rtm_version; uchar_t rtm_type;
    ushort_t rtm_index; /* 2 bytes pad */
    int rtm_flags; int rtm_addrs; pid_t rtm_pid; int rtm_seq; int rtm_errno;
    int rtm_use; uint_t rtm_inits; struct rt_metrics rtm_rmx;
};""")

TIMEVAL32 = Layout("timeval32", [("tv_sec", "i"), ("tv_usec", "i")],
                   "struct timeval32 { int32_t tv_sec; int32_t tv_usec; };")

IF_DATA = Layout("if_data", [
    ("ifi_type", "B"), ("ifi_addrlen", "B"), ("ifi_hdrlen", "B"), ("_pad", "x"),
    ("ifi_mtu", "I"), ("ifi_metric", "I"), ("ifi_baudrate", "I"), ("ifi_ipackets", "I"),
    ("ifi_ierrors", "I"), ("ifi_opackets", "I"), ("ifi_oerrors", "I"),
    ("ifi_collisions", "I"), ("ifi_ibytes", "I"), ("ifi_obytes", "I"), ("ifi_imcasts", "I"),
    ("ifi_omcasts", "I"), ("ifi_iqdrops", "I"), ("ifi_noproto", "I"),
    ("ifi_lastchange", TIMEVAL32),
], """struct if_data {              /* 68 bytes on LP64 (timeval32) */
    uchar_t ifi_type, ifi_addrlen, ifi_hdrlen; /* 1 byte pad */
    uint_t ifi_mtu, ifi_metric, ifi_baudrate, ifi_ipackets, ifi_ierrors,
           ifi_opackets, ifi_oerrors, ifi_collisions, ifi_ibytes, ifi_obytes,
           ifi_imcasts, ifi_omcasts, ifi_iqdrops, ifi_noproto;
    struct timeval32 ifi_lastchange;
};""")

IF_MSGHDR = Layout("if_msghdr", [
    ("ifm_msglen", "H"), ("ifm_version", "B"), ("ifm_type", "B"), ("ifm_addrs", "I"),
    ("ifm_flags", "I"), ("ifm_index", "H"), ("_pad", "2x"), ("ifm_data", IF_DATA),
], """struct if_msghdr {            /* 84 bytes */
    ushort_t ifm_msglen; uchar_t ifm_version; uchar_t ifm_type;
    int ifm_addrs; int ifm_flags /* low 32 bits only */; ushort_t ifm_index;
    /* 2 bytes pad */ struct if_data ifm_data;
};""")

IFA_MSGHDR = Layout("ifa_msghdr", [
    ("ifam_msglen", "H"), ("ifam_version", "B"), ("ifam_type", "B"), ("ifam_addrs", "I"),
    ("ifam_flags", "I"), ("ifam_index", "H"), ("_pad", "2x"), ("ifam_metric", "i"),
], """struct ifa_msghdr {           /* 20 bytes */
    ushort_t ifam_msglen; uchar_t ifam_version; uchar_t ifam_type;
    int ifam_addrs; int ifam_flags; ushort_t ifam_index; /* 2 bytes pad */
    int ifam_metric;
};""")

SOCKADDR = Layout("sockaddr", [("sa_family", "H"), ("sa_data", "14s")],
                  "struct sockaddr { sa_family_t sa_family; char sa_data[14]; }; /* 16 */")

SOCKADDR_IN = Layout("sockaddr_in", [
    ("sin_family", "H"), ("sin_port", "2s"), ("sin_addr", "4s"), ("sin_zero", "8s"),
], """Ports and addresses are network order, kept as bytes here.
struct sockaddr_in {          /* 16 bytes */
    sa_family_t sin_family; in_port_t sin_port; struct in_addr sin_addr;
    char sin_zero[8];
};""")

SOCKADDR_IN6 = Layout("sockaddr_in6", [
    ("sin6_family", "H"), ("sin6_port", "2s"), ("sin6_flowinfo", "I"), ("sin6_addr", "16s"),
    ("sin6_scope_id", "I"), ("__sin6_src_id", "I"),
], """struct sockaddr_in6 {         /* 32 bytes */
    sa_family_t sin6_family; in_port_t sin6_port; uint32_t sin6_flowinfo;
    struct in6_addr sin6_addr; uint32_t sin6_scope_id; uint32_t __sin6_src_id;
};""")

SDL_DATA_LEN = 244
SOCKADDR_DL = Layout("sockaddr_dl", [
    ("sdl_family", "H"), ("sdl_index", "H"), ("sdl_type", "B"), ("sdl_nlen", "B"),
    ("sdl_alen", "B"), ("sdl_slen", "B"), ("sdl_data", f"{SDL_DATA_LEN}s"),
], """struct sockaddr_dl {          /* 252 bytes, 2-byte aligned */
    ushort_t sdl_family; ushort_t sdl_index; uchar_t sdl_type;
    uchar_t sdl_nlen /* name, not NUL-terminated */; uchar_t sdl_alen; uchar_t sdl_slen;
    char sdl_data[244] /* name then LL address: LLADDR(s) = sdl_data + sdl_nlen */;
};""")

LAYOUTS = (RT_METRICS, RT_MSGHDR, IF_DATA, IF_MSGHDR, IFA_MSGHDR, SOCKADDR, SOCKADDR_IN,
           SOCKADDR_IN6, SOCKADDR_DL)
