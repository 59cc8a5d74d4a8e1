"""Random and mutated inputs, drawn from a `random.Random` (reproducible by seed).

- `request(rng)`: bytes for one routing-socket write: a well-formed request
  mutated 0-4 times, header fields patched, sockaddr families and sdl lengths
  bent, or plain random bytes.
- `admin_record(rng)`, `control_record(rng)`: one SEQPACKET record for the admin
  channel or a routing socket's control channel: verbs with odd arguments,
  wrong JSON types, non-JSON, deep nesting, huge numbers.
"""
from __future__ import annotations

import json
import random

from rtsock_emul.wire import RtMsg
from rtsock_emul.wire import constants as C
from rtsock_emul.wire.structs import RT_MSGHDR, SOCKADDR_DL

HDR = RT_MSGHDR.size
MAX_WRITE = 1200  # bytes; longer writes only repeat what shorter ones test

_FAMILIES = (C.AF_UNSPEC, C.AF_INET, C.AF_INET6, C.AF_LINK, C.AF_ROUTE, 1, 3, 255, 0xffff)
_TYPES = (C.RTM_ADD, C.RTM_DELETE, C.RTM_CHANGE, C.RTM_GET, C.RTM_RESOLVE, C.RTM_LOSING,
          C.RTM_NEWADDR, 0, 0x7f, 0xff)
_HEADER_FIELDS = {"rtm_msglen": 16, "rtm_version": 8, "rtm_type": 8, "rtm_addrs": 32,
                  "rtm_flags": 32, "rtm_inits": 32, "rtm_index": 16, "rtm_seq": 32}


def _seeds() -> list:
    """Well-formed requests of every kind the rules talk about."""
    up_gw = ["UP", "GATEWAY", "STATIC"]
    return [
        RtMsg("RTM_ADD", dst="198.51.100.0/24", gateway="192.0.2.1", flags=up_gw),
        RtMsg("RTM_ADD", dst="2001:db8:9::/48", gateway="2001:db8:1::1", flags=up_gw),
        RtMsg("RTM_ADD", dst="198.51.100.7", gateway="192.0.2.1", flags=up_gw + ["SETSRC"],
              src="192.0.2.10"),
        RtMsg("RTM_ADD", dst="203.0.113.128/25", gateway="203.0.113.1", ifp=(2, "net1"), flags=up_gw,
              inits=C.RTV_MTU, rmx={"rmx_mtu": 1400}),
        RtMsg("RTM_DELETE", dst="198.51.100.0/24", gateway="192.0.2.1"),
        RtMsg("RTM_CHANGE", dst="198.51.100.0/24", gateway="192.0.2.2"),
        RtMsg("RTM_GET", dst="192.0.2.1"),
        RtMsg("RTM_GET", dst="2001:db8:1::1", ifp=(1, "net0"), ifa="::"),
        RtMsg("RTM_GET", dst="198.51.100.1", netmask="255.255.0.255"),
        RtMsg("RTM_RESOLVE", dst="192.0.2.1"),
    ]


SEEDS = [m.encode() for m in _seeds()]


def _put(data: bytearray, name: str, value: int, size: int) -> None:
    """Raw little-endian bytes at the field's offset (any bit pattern, signed or not)."""
    off = RT_MSGHDR.offsets[name]
    data[off:off + size] = value.to_bytes(size, "little")


def _get(data: bytearray, name: str, size: int) -> int:
    off = RT_MSGHDR.offsets[name]
    return int.from_bytes(data[off:off + size], "little")


def _fix_length(data: bytearray) -> None:
    if len(data) >= HDR:
        _put(data, "rtm_msglen", min(len(data), 0xffff), 2)


def _mutate(rng, data: bytearray) -> bytearray:
    kind = rng.randrange(8)
    if kind == 0 and data:                                   # flip bytes
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif kind == 1 and len(data) >= HDR:                     # one header field
        name, bits = rng.choice(list(_HEADER_FIELDS.items()))
        value = rng.choice([0, 1, (1 << bits) - 1, rng.getrandbits(bits)])
        if name == "rtm_type":
            value = rng.choice(_TYPES + (value,))
        _put(data, name, value, bits // 8)
    elif kind == 2:                                          # truncate
        del data[rng.randrange(len(data) + 1):]
    elif kind == 3:                                          # extend
        data += rng.randbytes(rng.randint(1, 300))
    elif kind == 4 and len(data) > HDR + 2:                  # a sockaddr family
        pos = rng.randrange(HDR, len(data) - 1) & ~1
        data[pos:pos + 2] = rng.choice(_FAMILIES).to_bytes(2, "little")
    elif kind == 5:                                          # an RTA_IFP with hostile lengths
        data += _hostile_sdl(rng)
        if len(data) >= HDR:
            _put(data, "rtm_addrs", _get(data, "rtm_addrs", 4) | C.RTA_IFP, 4)
    elif kind == 6 and len(data) >= HDR:                     # rtm_addrs bits
        _put(data, "rtm_addrs", rng.getrandbits(9), 4)
    elif kind == 7:                                          # duplicate a slice
        if data:
            a = rng.randrange(len(data))
            data += data[a:a + rng.randint(1, 64)]
    if rng.random() < 0.7:
        _fix_length(data)
    return data


def _hostile_sdl(rng) -> bytes:
    sdl = bytearray(SOCKADDR_DL.size)
    sdl[0:2] = rng.choice([C.AF_LINK, C.AF_UNSPEC, C.AF_INET]).to_bytes(2, "little")
    sdl[2:4] = rng.choice([0, 1, 2, 3, 999, 0xffff]).to_bytes(2, "little")
    sdl[SOCKADDR_DL.offsets["sdl_nlen"]] = rng.randrange(256)
    sdl[SOCKADDR_DL.offsets["sdl_alen"]] = rng.randrange(256)
    sdl[SOCKADDR_DL.offsets["sdl_slen"]] = rng.randrange(256)
    return bytes(sdl)


def request(rng) -> bytes:
    """One routing-socket write."""
    if rng.random() < 0.15:                                  # plain random bytes
        data = bytearray(rng.randbytes(rng.choice([0, 1, 75, 76, rng.randrange(400)])))
        if rng.random() < 0.5 and len(data) >= HDR:
            _put(data, "rtm_version", C.RTM_VERSION, 1)
            _fix_length(data)
        return bytes(data)
    data = bytearray(rng.choice(SEEDS))
    _put(data, "rtm_seq", rng.getrandbits(31), 4)
    for _ in range(rng.randint(0, 4)):
        data = _mutate(rng, data)
    return bytes(data[:MAX_WRITE])


_WORDS = ["-i", "-g", "-a", "-p", "-t", "-o", "-P", "-n", "-L", "net0", "net1", "ipmp0", "lo0", "plumb",
          "unplumb", "up", "down", "group", "ipmp", "standby", "-standby", "failover", "-failover",
          "create-ip", "delete-ip", "create-ipmp", "delete-ipmp", "add-ipmp", "remove-ipmp",
          "create-addr", "delete-addr", "show-if", "show-addr", "-T", "static", "-a", "192.0.2.77/24",
          "2001:db8::77/64", "net0/v4", "ipmp0/v4", "-d", "-r", "-f", "inet6", "inet", "netmask",
          "0xffffff00", "broadcast", "+", "addif", "removeif", "all", "-", "--", "", " ", "%s%n",
          "\x00", "é", "net0:99999", "a" * 300, "9" * 50, "-o", "all,foo"]
_VERBS = ["ipadm", "ifconfig", "if_mpadm", "ipmpstat", "ifindex", "route", "kernel", "sim",
          "linux", "dladm", "", "nonsense"]


def _argv(rng) -> list[str]:
    return [rng.choice(_VERBS)] + [rng.choice(_WORDS) for _ in range(rng.randint(0, 6))]


def _deep(rng, opener=b"[", closer=b"]") -> bytes:
    n = rng.choice([100, 1000, 20000])
    return opener * n + closer * n


def _odd_value(rng: random.Random) -> object:
    return rng.choice([None, True, -1, 0, 1 << 64, 1e308, "x", [], {}, [1], "1", 3.5])


_ODD_JSON = [b"NaN", b"Infinity", b"-Infinity", b"1e999", b"\"\"", b"null", b"[]", b"{}"]


def admin_record(rng) -> bytes:
    """One admin-channel record; valid verb lines and the rest."""
    kind = rng.randrange(7)
    if kind <= 2:
        return json.dumps({"argv": _argv(rng)}).encode()
    if kind == 3:
        return json.dumps({"argv": rng.choice([_odd_value(rng), [_odd_value(rng)], "ipmpstat -g"])}).encode()
    if kind == 4:
        return rng.choice(_ODD_JSON + [b"", b"\xff\xfe", b"{\"argv\": [", _deep(rng), b"{\"argv\":" + _deep(rng)])
    if kind == 5:
        return rng.randbytes(rng.randrange(1, 200))
    return json.dumps({"argv": _argv(rng), "extra": _odd_value(rng)}).encode()


_LEVELS = [C.SOL_SOCKET, C.SOL_ROUTE, 0, -1, 1 << 40]
_NAMES = [C.SO_USELOOPBACK, C.SO_PROTOTYPE, C.SO_RCVBUF, C.RT_AWARE, 0, 0x1001, -5]


def control_record(rng) -> bytes:
    """One control-channel record (setsockopt, getsockopt, shutdown, dropped and the rest)."""
    kind = rng.randrange(6)
    if kind <= 1:
        rec = {"op": rng.choice(["setsockopt", "getsockopt"]), "level": rng.choice(_LEVELS),
               "name": rng.choice(_NAMES), "value": rng.choice([0, 1, 2, 26, 4096, 1 << 20, -1])}
        return json.dumps(rec).encode()
    if kind == 2:
        rec = {"op": rng.choice(["setsockopt", "getsockopt", "shutdown", "dropped", "hello", "", None]),
               "level": _odd_value(rng), "name": _odd_value(rng), "value": _odd_value(rng),
               "how": _odd_value(rng)}
        return json.dumps({k: v for k, v in rec.items() if rng.random() < 0.8}).encode()
    if kind == 3:
        return b'{"op": "setsockopt", "level": 65535, "name": 4098, "value": ' + rng.choice(_ODD_JSON) + b"}"
    if kind == 4:
        return rng.choice(_ODD_JSON + [b"", b"\xff", _deep(rng), b'{"op":' + _deep(rng, b"{\"a\":", b"}")])
    return rng.randbytes(rng.randrange(1, 100))
