"""Ground truth for the rule oracle: each host agent's delivery journal
(rtsock/journal.py), read as JSON through `kernel journal SINCE|now`.

The runner fetches every host's journal when the subscribers open, after each
step and at the end; the oracle then places each message a subscriber read at
the journal entry the hub queued it as, and judges it against the state at
that moment. Nothing here guesses: a host whose journal cannot be read, or
that forgot entries the run needs, raises TruthFailure with the host, what
failed and the agent's last log lines.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

DAD_KEYS = ("wall", "ifname", "af", "addr", "probes", "interval", "first")
MAX_PAGES = 1000      # a journal holds at most 20000 entries, 100 per page
LOG_TAIL = 10


class TruthFailure(AssertionError):
    """The state the oracle needs could not be obtained: the scenario fails."""

    def __init__(self, host: str, what, log_tail=()) -> None:
        self.host, self.what, self.log_tail = host, what, list(log_tail)
        super().__init__(f"ground truth of {host} unavailable: {what}")

    def lines(self) -> list[str]:
        out = [f"the rule oracle cannot judge {self.host}'s subscribers: {self.what}"]
        if self.log_tail:
            out.append(f"  last {len(self.log_tail)} line(s) of {self.host}'s agent log:")
            out.extend("    " + line for line in self.log_tail)
        return out


def _tail(log_path: str | None, n: int = LOG_TAIL) -> list[str]:
    if log_path is None:
        return []
    try:
        with open(log_path, errors="replace") as fh:
            return fh.read().splitlines()[-n:]
    except (OSError, TypeError):
        return []


@dataclass
class State:
    """The kernel state (rtsock/journal.py state_of) at one point of the journal."""
    index: dict = field(default_factory=dict)       # ifindex -> name
    under: dict = field(default_factory=dict)       # underlying name -> IPMP interface
    ipmp: frozenset = frozenset()
    flags: dict = field(default_factory=dict)       # (name, af) -> ipif 0 flags
    tentative: frozenset = frozenset()              # address texts, DAD not finished

    @classmethod
    def from_json(cls, d: dict) -> State:
        flags = {}
        for key, value in d.get("flags", {}).items():
            name, af = key.rsplit(" ", 1)
            flags[(name, int(af))] = int(value)
        return cls({int(k): v for k, v in d.get("index", {}).items()}, dict(d.get("under", {})),
                   frozenset(d.get("ipmp", ())), flags, frozenset(d.get("tentative", ())))

    def name(self, index: int) -> str | None:
        return self.index.get(index)

    def ifindex(self, name: str):
        return next((i for i, n in self.index.items() if n == name), None)


@dataclass
class Entry:
    seq: int
    t: float
    kind: str                 # "msg", "state" or "dad"
    state: State | None       # in effect when the entry was written
    type: int | None = None
    af: int | None = None
    rtsq: int = 0
    index: int = 0
    addrs: int = 0
    pid: int = 0
    digest: str = ""
    length: int = 0
    origin: int | None = None
    to: tuple = ()
    dropped: tuple = ()
    shut: tuple = ()
    dad: dict | None = None   # a "dad" entry: wall, ifname, af, addr, probes, interval, first

    def selected(self, ident) -> bool:
        """The delivery predicate chose this socket (whether or not its buffer had room)."""
        return ident in self.to or ident in self.dropped or ident in self.shut


@dataclass
class HostJournal:
    """The part of one host's journal a run has seen, from the first fetch on."""
    host: str
    start: int | None = None              # seq of the first fetch ("now" when subscribers open)
    next: int | None = None
    base: State | None = None             # state at `start`
    entries: list = field(default_factory=list)
    marks: dict = field(default_factory=dict)   # label -> seq at that fetch (e.g. "open")
    last: State | None = None

    def messages(self) -> list[Entry]:
        return [e for e in self.entries if e.kind == "msg"]

    def dad_starts(self, addr: str) -> list[dict]:
        """The "dad" entries of `addr` (its text as the journal writes it), oldest first."""
        return [e for e in self.entries if e.kind == "dad" and e.dad["addr"] == addr]

    def states(self) -> list[State | None]:
        return [self.base] + [e.state for e in self.entries if e.kind == "state"]

    def add_page(self, page: dict) -> bool:
        if self.start is None:
            self.start = self.next = page["next"]
            self.base = self.last = State.from_json(page["state"])
        if page["first"] > self.next:
            raise ValueError(f"the journal forgot entries {self.next}..{page['first'] - 1} "
                             f"(it keeps the last {page['end'] - page['first']}; "
                             f"{page['lost']} lost in all)")
        for raw in page["entries"]:
            if raw["seq"] < self.next:
                continue
            if raw["kind"] == "state":
                self.last = State.from_json(raw["state"])
            self.entries.append(_entry(raw, self.last))
            self.next = raw["seq"] + 1
        return page["next"] >= page["end"]


def _entry(raw: dict, state: State | None) -> Entry:
    return Entry(raw["seq"], raw["t"], raw["kind"], state, raw.get("type"), raw.get("af"),
                 raw.get("rtsq", 0), raw.get("index", 0), raw.get("addrs", 0), raw.get("pid", 0),
                 raw.get("digest", ""), raw.get("len", 0), raw.get("origin"),
                 tuple(raw.get("to", ())), tuple(raw.get("dropped", ())), tuple(raw.get("shut", ())),
                 {k: raw[k] for k in DAD_KEYS} if raw["kind"] == "dad" else None)


def fetch(admin, host: str, journal, log_path=None):
    """Read `host`'s journal from journal.next on (from now on the first call)."""
    since = "now" if journal.start is None else str(journal.next)
    try:
        for _ in range(MAX_PAGES):
            rc, out, err = admin(host, f"kernel journal {since}")
            if rc != 0:
                raise ValueError(f"`kernel journal {since}` failed (rc {rc}): {(err or out).strip()[:300]}")
            try:
                page = json.loads(out)
            except ValueError as exc:
                raise ValueError(f"`kernel journal {since}` printed no JSON ({exc}): {out[:120]!r}") from None
            if journal.add_page(page):
                return journal
            since = str(journal.next)
        raise ValueError(f"the journal did not end within {MAX_PAGES} pages")
    except (ValueError, KeyError, TypeError, OSError, RuntimeError) as exc:
        raise TruthFailure(host, f"{type(exc).__name__}: {exc}", _tail(log_path)) from None
