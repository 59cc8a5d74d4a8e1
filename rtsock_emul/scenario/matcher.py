"""Compare what a subscriber received with an expectation: exact, ordered, unordered, absent."""
from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rtsock_emul.wire import constants as C

from .patterns import IF_TYPES

if TYPE_CHECKING:
    from .streams import Record

MODES = ("exact", "ordered", "unordered")


@dataclass
class MsgView:
    """The fields patterns talk about, whatever the header struct."""
    type: int
    index: int = 0
    flags: int = 0
    pid: int = 0
    seq: int = 0
    errno: str = "0"
    addrs: dict = field(default_factory=dict)   # RTA_ bit -> sockaddr object
    msglen: int = 0       # bytes read (the *_msglen the reader saw)
    inits: int | None = None     # rtm_inits (rt_msghdr only)
    metric: int | None = None    # ifam_metric or ifi_metric
    mtu: int | None = None       # ifi_mtu or rmx_mtu


def view(msg: Any, raw: bytes | None = None) -> MsgView:
    """raw: the bytes read, for `len`; without them the message is re-encoded."""
    prefix = next((p for p in ("rtm_", "ifm_", "ifam_") if hasattr(msg, p + "type")), None)
    if prefix is None:
        raise TypeError(f"not a routing message: {msg!r}")

    def get(name: str) -> int:
        return getattr(msg, prefix + name, 0)
    v = MsgView(type=get("type"), index=get("index"), flags=get("flags"),
                pid=get("pid"), seq=get("seq"),
                errno=C.from_wire_errno(get("errno")),
                addrs=dict(getattr(msg, "sockaddrs", {}) or {}))
    v.msglen = len(raw) if raw else len(msg.encode())
    if prefix == "rtm_":
        v.inits, v.mtu = msg.rtm_inits, msg.rtm_rmx.rmx_mtu
    elif prefix == "ifm_":
        v.metric, v.mtu = msg.ifm_data.ifi_metric, msg.ifm_data.ifi_mtu
    else:
        v.metric = msg.ifam_metric
    return v


def sa_addr(sa: Any) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The IP address of a sockaddr object, or None (AF_UNSPEC, AF_LINK, missing)."""
    addr = getattr(sa, "addr", None)
    return addr if isinstance(addr, (ipaddress.IPv4Address, ipaddress.IPv6Address)) else None


def mask_plen(sa: Any) -> int | None:
    addr = sa_addr(sa)
    if addr is None:
        return 0 if sa is not None else None
    bits = bin(int(addr)).count("1")
    return bits


class IfNames:
    """ifindex -> interface name for one host: from the agent and from RTA_IFP names seen."""

    def __init__(self, table=None) -> None:
        self.table = dict(table or {})

    def learn(self, msg) -> None:
        v = view(msg)
        sdl = v.addrs.get(C.RTA_IFP)
        name = getattr(sdl, "name", "")
        if v.type in IF_TYPES or v.type in (C.RTM_NEWADDR, C.RTM_DELADDR, C.RTM_CHGADDR, C.RTM_FREEADDR):
            if name and v.index and v.index not in self.table:
                self.table[v.index] = name.split(":")[0]

    def name(self, index: int) -> str | None:
        return self.table.get(index)

    def index(self, name: str):
        for idx, known in self.table.items():
            if known == name:
                return idx
        return None


def mismatch(pat, msg, names: IfNames, raw=None):
    """None if msg matches pat, else a short reason naming the first field that differs."""
    v = view(msg, raw)
    if v.type != pat.type:
        return f"type is {C.name_of(C.RTM_NAMES, v.type)}, expected {C.name_of(C.RTM_NAMES, pat.type)}"
    if pat.ifname is not None:
        got = names.name(v.index)
        if got != pat.ifname:
            return f"about {got or f'index {v.index}'}, expected {pat.ifname}"
    for key, want in pat.fields.items():
        why = _field_mismatch(key, want, v, names)
        if why:
            return why
    flags = v.flags & C.IFM_FLAGS_MASK if v.type in IF_TYPES else v.flags
    table = C.IFF_NAMES if v.type in IF_TYPES else C.RTF_NAMES
    strip = pat.flag_prefix
    for bit in _bits(pat.set_flags):
        if not flags & bit:
            return f"{C.name_of(table, bit)[len(strip):]} is clear, expected set"
    for bit in _bits(pat.clear_flags):
        if flags & bit:
            return f"{C.name_of(table, bit)[len(strip):]} is set, expected clear"
    return None


_ADDR_SLOTS = {"gateway": C.RTA_GATEWAY, "author": C.RTA_AUTHOR, "brd": C.RTA_BRD}


def _names(table: Mapping[int, str], word: int) -> str:
    return ",".join(n.split("_", 1)[1] if n.startswith("RT") else n for n in C.flag_names(table, word)) or "none"


def _bits(mask: int) -> list[int]:
    return [1 << i for i in range(mask.bit_length()) if mask >> i & 1]


def _field_mismatch(key, want, v, names: IfNames):
    if key in ("dst", "ifa"):
        bit = C.RTA_DST if key == "dst" else C.RTA_IFA
        addr, plen = want
        got = sa_addr(v.addrs.get(bit))
        if got != addr:
            return f"{key} is {got}, expected {addr}"
        if plen is not None:
            mask = v.addrs.get(C.RTA_NETMASK)
            got_plen = mask_plen(mask) if mask is not None else addr.max_prefixlen
            if got_plen != plen:
                return f"{key} prefix length is {got_plen}, expected {plen}"
        return None
    if key in _ADDR_SLOTS:
        got = sa_addr(v.addrs.get(_ADDR_SLOTS[key]))
        return None if got == want else f"{key} is {got}, expected {want}"
    if key in ("addrs", "inits"):
        table, got = (C.RTA_NAMES, sum(v.addrs)) if key == "addrs" else (C.RTV_NAMES, v.inits)
        return None if got == want else f"{key} is {_names(table, got)}, expected {_names(table, want)}"
    if key in ("len", "metric", "mtu"):
        got = v.msglen if key == "len" else getattr(v, key)
        return None if got == want else f"{key} is {got}, expected {want}"
    if key == "netmask":
        mask = v.addrs.get(C.RTA_NETMASK)
        got_mask = mask_plen(mask) if isinstance(want, int) else sa_addr(mask)
        return None if got_mask == want else f"netmask is {got_mask}, expected {want}"
    if key == "ifp":
        sdl = v.addrs.get(C.RTA_IFP)
        got = getattr(sdl, "sdl_index" if isinstance(want, int) else "name", None)
        return None if got == want else f"RTA_IFP is {got}, expected {want}"
    if key == "index":
        ok = v.index == want if isinstance(want, int) else names.name(v.index) == want
        return None if ok else f"index is {v.index} ({names.name(v.index)}), expected {want}"
    if key in ("seq", "pid"):
        got = getattr(v, key)
        return None if got == want else f"{key} is {got}, expected {want}"
    if key == "errno":
        return None if v.errno == want else f"errno is {v.errno}, expected {want}"
    if key == "flags":
        got = v.flags & C.IFM_FLAGS_MASK if v.type in IF_TYPES else v.flags
        return None if got == want else f"flags are {got:#x}, expected {want:#x}"
    raise KeyError(key)


@dataclass
class Expectation:
    sub: str
    mode: str = "exact"
    messages: list = field(default_factory=list)   # Patterns
    absent: list = field(default_factory=list)     # Patterns
    line: int = 0
    overflow: bool | None = None    # True/False: a read reported ENOBUFS since the previous expect


@dataclass
class Diff:
    """Why an expectation failed: the first difference, as indexes into both lists."""
    exp: Expectation
    observed: list              # Records
    reason: str
    exp_index: int | None = None       # first expected pattern that is wrong/missing
    obs_index: int | None = None       # first observed record that is wrong/extra/forbidden


def _messages(records: list[Record]) -> list[Record]:
    return [r for r in records if r.msg is not None]


def satisfied(exp, records, names: IfNames):
    """True once waiting longer cannot help (the quiet window follows)."""
    msgs = _messages(records)
    if exp.mode == "exact":
        return len(msgs) >= len(exp.messages)
    return compare(Expectation(exp.sub, exp.mode, exp.messages), records, names) is None


def compare(exp, records, names: IfNames):
    """None if records meet exp, else a Diff with the first difference."""
    bad = [r for r in records if r.msg is None and not r.overflow]
    if bad:
        return Diff(exp, records, f"undecodable message: {bad[0].error}", obs_index=records.index(bad[0]))
    msgs = _messages(records)
    if exp.overflow is not None and exp.overflow != any(r.overflow for r in records):
        return Diff(exp, records, "no read reported ENOBUFS since the previous expect, expected an overflow"
                    if exp.overflow else "a read reported ENOBUFS (messages were dropped), expected none")
    diff = {"exact": _exact, "ordered": _ordered, "unordered": _unordered}[exp.mode](exp, msgs, names)
    if diff is None:
        for i, rec in enumerate(msgs):
            for pat in exp.absent:
                if mismatch(pat, rec.msg, names, rec.raw) is None:
                    return Diff(exp, msgs, f"received a message listed as absent: {pat}", obs_index=i)
    return diff


def _exact(exp, msgs, names: IfNames):
    for i in range(max(len(exp.messages), len(msgs))):
        if i >= len(msgs):
            return Diff(exp, msgs, f"missing: {exp.messages[i]}", exp_index=i, obs_index=i)
        if i >= len(exp.messages):
            return Diff(exp, msgs, "unexpected extra message" + (" (expected nothing)" if not exp.messages else ""),
                        exp_index=i, obs_index=i)
        why = mismatch(exp.messages[i], msgs[i].msg, names, msgs[i].raw)
        if why:
            return Diff(exp, msgs, f"{exp.messages[i]}: {why}", exp_index=i, obs_index=i)
    return None


def _ordered(exp, msgs, names: IfNames):
    pos = 0
    for j, pat in enumerate(exp.messages):
        while pos < len(msgs) and mismatch(pat, msgs[pos].msg, names, msgs[pos].raw):
            pos += 1
        if pos >= len(msgs):
            return Diff(exp, msgs, f"not found in order: {pat}", exp_index=j, obs_index=None)
        pos += 1
    return None


def _unordered(exp, msgs, names: IfNames):
    fits = [[i for i, r in enumerate(msgs) if mismatch(p, r.msg, names, r.raw) is None] for p in exp.messages]
    owner: dict = {}

    def place(j, seen) -> bool:
        for i in fits[j]:
            if i not in seen:
                seen.add(i)
                if i not in owner or place(owner[i], seen):
                    owner[i] = j
                    return True
        return False

    for j in range(len(exp.messages)):
        if not place(j, set()):
            return Diff(exp, msgs, f"not found: {exp.messages[j]}", exp_index=j)
    return None
