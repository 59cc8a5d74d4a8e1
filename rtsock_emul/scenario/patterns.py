"""PATTERN syntax of docs/scenario-language.md: parse once, match decoded messages.

String form:  TYPE [IFNAME] [ADDR[/PLEN]] [+FLAG|-FLAG ...] [key=value ...]
Mapping form: {type: ..., ifname: ..., addr: ..., flags: [+RUNNING, -FAILED], key: value}
IFNAME is the interface the message is about (by its index); ADDR is RTA_DST for
route messages and RTA_IFA for address messages. +FLAG/-FLAG test one bit (IFF_
for RTM_IFINFO, RTF_ otherwise); `flags=` compares the whole word, `addrs=` the
set of RTA_ bits present, `inits=` the whole rtm_inits word (RTV_ names).
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

from rtsock_emul.wire import constants as C

ADDR_TYPES = frozenset({C.RTM_NEWADDR, C.RTM_DELADDR, C.RTM_CHGADDR, C.RTM_FREEADDR})
IF_TYPES = frozenset({C.RTM_IFINFO})
KEYS = ("dst", "gateway", "netmask", "ifa", "ifp", "index", "seq", "pid", "errno", "flags",
        "author", "brd", "addrs", "inits", "len", "metric", "mtu")
# which header carries the field: metric is ifam_metric / ifi_metric, mtu is ifi_mtu / rmx_mtu
_NO_FIELD = {"metric": "route messages (rt_msghdr has no metric)",
             "mtu": "address messages (ifa_msghdr has no MTU)",
             "inits": "RTM_IFINFO and address messages (only rt_msghdr has rtm_inits)"}
MAPPING_KEYS = ("type", "ifname", "addr") + KEYS
_IFNAME = re.compile(r"^[a-z][a-z0-9_]*[0-9]+(:[0-9]+)?$")


class PatternError(ValueError):
    """A pattern cannot be parsed; .hint says what would be right."""

    def __init__(self, what, hint="") -> None:
        self.what, self.hint = what, hint
        super().__init__(what)


@dataclass
class Pattern:
    text: str
    type: int
    ifname: object | None = None            # interface name, or None
    fields: dict = field(default_factory=dict)
    set_flags: int = 0
    clear_flags: int = 0

    @property
    def flag_prefix(self) -> str:
        return "IFF_" if self.type in IF_TYPES else "RTF_"

    def __str__(self) -> str:
        return self.text


def parse_type(text: str):
    try:
        return C.value_of("RTM_", str(text))
    except ValueError:
        raise PatternError(f"unknown message type {text!r}",
                           "one of " + ", ".join(C.RTM_NAMES.values())) from None


def parse_addr(text: str, what="address"):
    """'192.0.2.1' or '192.0.2.0/24' -> (ip_address, plen or None)."""
    text = str(text).strip()
    if text == "default":
        return ipaddress.ip_address("0.0.0.0"), 0
    addr, _, plen = text.partition("/")
    try:
        ip = ipaddress.ip_address(addr)
    except ValueError:
        raise PatternError(f"bad {what} {text!r}", "an IPv4 or IPv6 address, optionally /PLEN") from None
    if plen:
        if not plen.isdigit() or int(plen) > ip.max_prefixlen:
            raise PatternError(f"bad prefix length in {text!r}",
                               f"0..{ip.max_prefixlen} for this family")
        return ip, int(plen)
    return ip, None


def parse_errno(value: Any) -> str:
    if value in (0, "0", None):
        return "0"
    name = str(value).upper()
    if name not in C.ILLUMOS_ERRNO:
        raise PatternError(f"unknown errno {value!r}", "an errno name such as EEXIST, ESRCH, EINVAL, or 0")
    return name


def _flag(prefix: str, name: str):
    try:
        return C.value_of(prefix, name)
    except ValueError as exc:
        raise PatternError(str(exc).split(";")[0], str(exc).split("; ", 1)[-1]) from None


def _set_key(pat: Pattern, key: str, value: Any) -> None:
    if key not in KEYS:
        raise PatternError(f"unknown pattern key {key!r}", "keys: " + ", ".join(KEYS))
    if key in ("dst", "ifa"):
        pat.fields[key] = parse_addr(value, key)
    elif key in ("gateway", "author", "brd"):
        pat.fields[key] = parse_addr(value, key)[0]
    elif key == "netmask":
        text = str(value)
        if text.startswith("/") and text[1:].isdigit():
            pat.fields[key] = int(text[1:])
        else:
            pat.fields[key] = parse_addr(text, key)[0]
    elif key in ("ifp", "index"):
        text = str(value)
        pat.fields[key] = int(text) if text.isdigit() else text
    elif key in ("seq", "pid", "len", "metric", "mtu"):
        _check_header(pat, key)
        try:
            pat.fields[key] = int(value)
        except (TypeError, ValueError):
            raise PatternError(f"{key} must be a number, not {value!r}") from None
    elif key == "addrs":
        pat.fields[key] = _bit_set(value, "RTA_", key)
    elif key == "inits":
        _check_header(pat, key)
        pat.fields[key] = _bit_set(value, "RTV_", key)
    elif key == "errno":
        pat.fields[key] = parse_errno(value)
    elif key == "flags":
        _set_flags(pat, value)


def _check_header(pat: Pattern, key: str) -> None:
    if key not in _NO_FIELD:
        return
    kind = "addr" if pat.type in ADDR_TYPES else "if" if pat.type in IF_TYPES else "rt"
    absent = {"metric": "rt", "mtu": "addr"}.get(key)
    if kind == absent or (key == "inits" and kind != "rt"):
        raise PatternError(f"{key}= does not apply to {C.name_of(C.RTM_NAMES, pat.type)}",
                           f"{key} is not carried by {_NO_FIELD[key]}")


def _bit_set(value, prefix: str, key):
    """`DST,GATEWAY`, a list of names, a number, or `0`/`none` -> the whole word."""
    items = value if isinstance(value, list) else str(value).replace(",", " ").replace("|", " ").split()
    word = 0
    for item in items:
        item = str(item)
        if item.lower() == "none" or item[:1].isdigit():
            word |= 0 if item.lower() == "none" else int(item, 0)
            continue
        try:
            word |= C.value_of(prefix, item)
        except ValueError as exc:
            raise PatternError(f"bad {key} name {item!r}", str(exc).split("; ", 1)[-1]) from None
    return word


def _set_flags(pat: Pattern, value: Any) -> None:
    items = value if isinstance(value, list) else str(value).replace(",", " ").replace("|", " ").split()
    items = [str(i) for i in items]
    signed = [i for i in items if i[:1] in "+-"]
    if signed and len(signed) != len(items):
        raise PatternError(f"flags {value!r} mixes +/- bits and plain names",
                           "use +FLAG/-FLAG to test bits, or plain names for the whole flags word")
    if signed:
        for item in items:
            bit = _flag(pat.flag_prefix, item[1:])
            if pat.type in IF_TYPES and bit > C.IFM_FLAGS_MASK:
                raise PatternError(f"{item[1:]} does not fit in ifm_flags, so RTM_IFINFO never shows it (R45)",
                                   "check it with an admin command instead (ifconfig, ipadm show-addr)")
            if item[0] == "+":
                pat.set_flags |= bit
            else:
                pat.clear_flags |= bit
    else:
        word = 0
        for item in items:
            word |= int(item, 0) if item[:1].isdigit() else _flag(pat.flag_prefix, item)
        pat.fields["flags"] = word


def _set_addr(pat: Pattern, value: Any) -> None:
    if pat.type in IF_TYPES:
        raise PatternError("RTM_IFINFO carries no address", "remove the address from this pattern")
    pat.fields["ifa" if pat.type in ADDR_TYPES else "dst"] = parse_addr(value)


def _set_ifname(pat: Pattern, value: Any) -> None:
    if not _IFNAME.match(str(value)):
        raise PatternError(f"bad interface name {value!r}", "a Solaris-style name such as net0, ipmp0 or net0:1")
    pat.ifname = str(value)


def parse_pattern(spec: Any) -> Pattern:
    """A string or mapping -> Pattern; raises PatternError."""
    if isinstance(spec, str):
        return _parse_string(spec)
    if isinstance(spec, dict):
        return _parse_mapping(spec)
    raise PatternError(f"a pattern must be text or a mapping, not {spec!r}",
                       "e.g. `RTM_IFINFO net0 +FAILED` or {type: RTM_ADD, dst: 192.0.2.0/24}")


def _parse_string(text: str):
    tokens = text.split()
    if not tokens:
        raise PatternError("empty pattern", "start with a message type such as RTM_IFINFO")
    pat = Pattern(text=text, type=parse_type(tokens[0]))
    for tok in tokens[1:]:
        if tok[:1] in "+-":
            _set_flags(pat, [tok])
        elif "=" in tok:
            key, _, value = tok.partition("=")
            _set_key(pat, key, value)
        elif _looks_like_addr(tok):
            if "ifa" in pat.fields or "dst" in pat.fields:
                raise PatternError(f"second address {tok!r}", "use dst=, gateway=, ifa= for more addresses")
            _set_addr(pat, tok)
        else:
            if pat.ifname is not None:
                raise PatternError(f"second interface name {tok!r}", "use ifp=NAME for the RTA_IFP name")
            _set_ifname(pat, tok)
    return pat


def _looks_like_addr(tok: str) -> bool:
    return tok == "default" or bool(re.match(r"^[0-9a-fA-F:.]+(/\d+)?$", tok)) and ("." in tok or ":" in tok)


def _parse_mapping(spec: dict) -> Pattern:
    unknown = [k for k in spec if k not in MAPPING_KEYS]
    if unknown:
        raise PatternError(f"unknown pattern key {unknown[0]!r}", "keys: " + ", ".join(MAPPING_KEYS))
    if "type" not in spec:
        raise PatternError("a pattern mapping needs `type`", "e.g. {type: RTM_ADD, dst: 198.51.100.0/24}")
    pat = Pattern(text="", type=parse_type(spec["type"]))
    if "flags" in spec:
        _set_flags(pat, spec["flags"])
    for key, value in spec.items():
        if key == "ifname":
            _set_ifname(pat, value)
        elif key == "addr":
            _set_addr(pat, value)
        elif key not in ("type", "flags"):
            _set_key(pat, key, value)
    pat.text = "{" + ", ".join(f"{k}: {v}" for k, v in spec.items()) + "}"
    return pat
