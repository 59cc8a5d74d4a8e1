"""The delivery journal: what the kernel state was when each message was queued,
and which routing sockets got it (docs/internals.md "Delivery journal").

The rule oracle judges every message a subscriber read against the state at
the moment the hub queued it, not against what a later query shows, so reading
order and scheduler delays change no verdict. Entries, in hub order:

- `{"seq": N, "t": T, "kind": "state", "state": {...}}` — the state changed
  since the previous entry (see `state_of`);
- `{"seq": N, "t": T, "kind": "msg", "type": rtm_type, "af": af, "rtsq": rtsq,
  "index": its *_index, "addrs": bitmask, "pid": rtm_pid or 0,
  "len": bytes, "digest": hex, "origin": ident or None, "to": [ident, ...],
  "dropped": [ident, ...], "shut": [ident, ...]}` — one `RtsHub.queue`;
- `{"seq": N, "t": T, "kind": "dad", "wall": W, "ifname": name, "af": af,
  "addr": text, "probes": n, "interval": s, "first": s}` — DAD (re)started for
  `addr`, probing out of `ifname`, the first probe planned `first` seconds on
  (0: at once; R99-R101). `wall` is time.time(), the clock of packet captures:
  the anchor of the packets step's `first` (docs/scenario-language.md).

`seq` counts every entry; the journal keeps the last `maxlen` and says how
many it forgot (`lost`), so a reader can tell a gap from silence.
"""
from __future__ import annotations

import hashlib
import json
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rtsock_emul.kernel import Kernel

DEFAULT_MAXLEN = 20000
PAGE = 100             # entries per `kernel journal` reply: well under one admin datagram (~50 KB)


def digest(data: bytes) -> str:
    """A short fingerprint of a message's bytes, to tie a read to its entry."""
    return hashlib.blake2b(data, digest_size=8).hexdigest()


def state_key(kernel) -> tuple:
    """A cheap, comparable digest of what `state_of` reports (called on every queue)."""
    key = []
    for phy in kernel.phyints():
        group = phy.group
        ills = []
        for af, ill in phy.ills.items():
            ipifs = ill.ipifs
            ipif0 = ipifs.get(0)
            ills.append((af, ipif0.ipif_flags | ill.flags | phy.flags if ipif0 is not None else None,
                         tuple(i.addr for i in ipifs.values() if i.up and not i.ready)))
        key.append((phy.ifindex, phy.name, phy.flags, group.ipmp.name if group is not None else None,
                    tuple(ills)))
    return tuple(key)


def state_of(kernel) -> dict:
    """What the rules need of the kernel now, as plain JSON data:
    `index` {ifindex: name}, `under` {name: IPMP interface}, `ipmp` [names],
    `flags` {"name af": ipif 0 flags (ipif|ill|phyint, 64-bit)},
    `tentative` [addresses UP whose DAD has not finished (M23)]."""
    index: dict = {}
    under: dict = {}
    ipmp: list = []
    flags: dict = {}
    tentative: list = []
    for phy in kernel.phyints():
        index[str(phy.ifindex)] = phy.name
        if phy.is_ipmp:
            ipmp.append(phy.name)
        group = getattr(phy, "group", None)
        if group is not None and not phy.is_ipmp:
            under[phy.name] = group.ipmp.name
        for af, ill in sorted(phy.ills.items()):
            if 0 in ill.ipifs:
                flags[f"{phy.name} {af}"] = ill.ipif0.flags
            # the unspecified address does no DAD (nothing to defend), as `ipadm show-addr` shows
            tentative.extend(str(i.addr) for i in ill.ipifs.values()
                             if i.up and not i.ready and not i.unspecified)
    return {"index": index, "under": under, "ipmp": sorted(ipmp), "flags": flags,
            "tentative": sorted(tentative)}


def kernel_state(kernel: Kernel) -> tuple[Callable[[], object], Callable[[], dict]]:
    """The (key, state) pair a Journal needs: state_key to notice a change cheaply,
    state_of to write it."""
    return lambda: state_key(kernel), lambda: state_of(kernel)


MSG_FIELDS = ("type", "af", "rtsq", "index", "addrs", "pid", "len", "digest", "origin", "to", "dropped", "shut")
SOCKET_LISTS = ("to", "dropped", "shut")
INTERNED = 1024        # distinct state parts and socket lists shared before the cache starts over
_as_json = json.JSONEncoder(sort_keys=True, separators=(",", ":")).encode   # one encoder, not one per dumps()


class Journal:
    """Bounded record of state changes and queued messages of one hub.

    `key()` is called before every queued message (it must be cheap); when it
    differs from the last one, `state()` is written as a state entry. Without
    `key`, `state()` itself is compared.

    Kept compact (full, under 6 MB rather than 38 MB of dicts): an entry is one tuple
    (t, kind, fields...), its seq is its place; a state is one JSON text per key
    (`index`, `flags`, ...), and equal texts and socket lists are one shared object
    (most changes touch one key; consecutive messages go to the same sockets). The
    dicts of the docstring above are built when read (`entries`, `page`)."""

    def __init__(self, state, *, key=None, maxlen: int = DEFAULT_MAXLEN, clock=time.monotonic,
                 wall=time.time):
        self._state, self._key, self._clock, self._wall = state, key or state, clock, wall
        self._raw: deque = deque(maxlen=maxlen)     # (t, kind, *fields)
        self.next_seq = 0
        self._last_key = object()
        self._shared: dict = {}

    @property
    def lost(self) -> int:
        return self.next_seq - len(self._raw)

    @property
    def entries(self) -> list:
        first = self.next_seq - len(self._raw)
        return [_as_dict(first + i, raw) for i, raw in enumerate(self._raw)]

    def _intern(self, value):
        """The shared object equal to value."""
        if len(self._shared) >= INTERNED:
            self._shared.clear()
        return self._shared.setdefault(value, value)

    def _append(self, kind: str, *fields) -> None:
        self._raw.append((self._clock(), kind, *fields))
        self.next_seq += 1

    def note_state(self) -> None:
        key = self._key()
        if key != self._last_key:
            self._last_key = key
            state = self._state()   # kept as JSON texts, one per key, each shared while it repeats
            names = self._intern(tuple(sorted(state)))
            self._append("state", names, tuple(self._intern(_as_json(state[k])) for k in names))

    def message(self, msg, data, af, rtsq, origin, to, dropped, shut) -> None:
        self.note_state()
        mtype = data[3] if data and len(data) > 3 else getattr(msg, "type", None)
        prefix = getattr(msg, "PREFIX", "")
        self._append("msg", mtype, af, rtsq,
                     getattr(msg, prefix + "index", 0) if msg is not None else 0,
                     msg.addrs() if msg is not None else 0,
                     getattr(msg, "rtm_pid", 0) if msg is not None else 0,
                     len(data) if data else 0, digest(data) if data else "", origin,
                     self._intern(tuple(to)), self._intern(tuple(dropped)), self._intern(tuple(shut)))

    def dad_start(self, ifname, af, addr, probes, interval, first) -> None:
        self._append("dad", {"wall": self._wall(), "ifname": ifname, "af": af, "addr": str(addr),
                             "probes": probes, "interval": interval, "first": first})

    def page(self, since=0, limit: int = PAGE) -> dict:
        """Entries with seq >= since (at most limit): `{"first", "next", "end",
        "lost", "entries", "state"}`; `first` is the oldest seq still kept, `end`
        the next seq to be written, `state` the state now. since=None: from now."""
        first = self.next_seq - len(self._raw)
        since = self.next_seq if since is None else since
        start = max(since, first) - first
        out = [_as_dict(first + i, self._raw[i]) for i in range(start, min(start + limit, len(self._raw)))]
        nxt = out[-1]["seq"] + 1 if out else max(since, first)
        return {"first": first, "next": nxt, "end": self.next_seq, "lost": self.lost,
                "entries": out, "state": self._state()}


def _as_dict(seq, raw) -> dict:
    t, kind, *fields = raw
    if kind == "state":
        names, texts = fields
        return {"seq": seq, "t": t, "kind": kind, "state": {k: json.loads(v) for k, v in zip(names, texts)}}
    if kind == "msg":
        entry = dict(zip(MSG_FIELDS, fields))
        for name in SOCKET_LISTS:
            entry[name] = list(entry[name])
        return {"seq": seq, "t": t, "kind": kind, **entry}
    return {"seq": seq, "t": t, "kind": kind, **fields[0]}
