"""Oracle checks that compare a message with the kernel state when it was queued
(truth.Entry.state from the delivery journal): M17, M18, M23, R45; and the
message classifiers the oracle shares (family, addr_route, about_index)."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rtsock_emul.wire import constants as C

from .matcher import sa_addr

if TYPE_CHECKING:
    from .truth import HostJournal, State

ADDR_TYPES = (C.RTM_NEWADDR, C.RTM_DELADDR, C.RTM_CHGADDR, C.RTM_FREEADDR)
# phyint flags (R45 check): the same on every ill of an interface and shown by ifconfig
PHYINT_BITS = C.IFF_RUNNING | C.IFF_FAILED | C.IFF_STANDBY | C.IFF_INACTIVE | C.IFF_OFFLINE


def family(msg: Any) -> int:
    """The delivery af of a message: IFINFO's from IFF_IPV4/IPV6, else its sockaddrs'."""
    if msg.PREFIX == "ifm_":
        flags = msg.ifm_flags
        return C.AF_INET if flags & C.IFF_IPV4 else C.AF_INET6 if flags & C.IFF_IPV6 else C.AF_UNSPEC
    return msg.family()


def addr_route(msg: Any) -> bool:
    """An address-derived RTM_ADD/RTM_DELETE (kernel, DST|NETMASK only)."""
    return (msg.type in (C.RTM_ADD, C.RTM_DELETE) and msg.rtm_pid == 0
            and set(msg.sockaddrs) == {C.RTA_DST, C.RTA_NETMASK})


def about_index(msg: Any) -> int | None:
    """The ifindex a message is about, or None (request echoes, MISS, REDIRECT, ...)."""
    if msg.PREFIX in ("ifm_", "ifam_") or addr_route(msg):
        return getattr(msg, msg.PREFIX + "index", 0)     # not view(): that re-encodes the message
    return None


def changes(journal, name: str):
    """[(seq, IPMP interface before, after)] for each change of name's membership.
    Kept on the journal per name and length: every subscriber's checks ask again."""
    cache = journal.__dict__.setdefault("_changes", {})
    key = (name, len(journal.entries))
    if key not in cache:
        cache[key] = _changes(journal, name)
    return cache[key]


def _changes(journal, name: str):
    out, prev = [], journal.base.under.get(name)
    for e in journal.entries:
        if e.kind == "state" and e.state.under.get(name) != prev:
            out.append((e.seq, prev, e.state.under.get(name)))
            prev = e.state.under.get(name)
    return out


def held_back(ctx: Any, sub: Any, r: Any, m: Any, e: Any) -> None:
    """M23: the up notification's RTM_NEWADDR (ipif_up_notify) is not queued while its
    address is still in DAD. The M18/R72 re-announcement when an interface leaves its
    group is another sender: ipmp.c ipmp_ill_rtsaddrmsg queues RTM_NEWADDR for every
    IFF_UP address, ready or not, with RTSQ_NORMAL, which nothing else uses."""
    if m.type != C.RTM_NEWADDR or m.PREFIX != "ifam_" or e.rtsq == C.RTSQ_NORMAL:
        return
    ifa = sa_addr(m.sockaddrs.get(C.RTA_IFA))
    ctx.judge("M23")
    if ifa is not None and str(ifa) in e.state.tentative:
        ctx.add("M23", sub.name, f"RTM_NEWADDR {ifa} was queued while {ifa} was still tentative "
                                 f"(DAD running; journal entry {e.seq})", r)


def ifinfo_flags(ctx, sub, r, m, e) -> None:
    """R45: an IFINFO's phyint bits are the interface's phyint flags when it was queued."""
    if m.PREFIX != "ifm_":
        return
    name = e.state.name(m.ifm_index)
    flags = e.state.flags.get((name, family(m))) if name else None
    if flags is None:
        return
    ctx.judge("R45")
    got, want = m.ifm_flags & PHYINT_BITS, flags & PHYINT_BITS
    if got != want:
        ctx.add("R45", sub.name, f"RTM_IFINFO {name} has phyint flags <{_names(got)}>, but {name} had "
                                 f"<{_names(want)}> when the kernel queued it (journal entry {e.seq})", r)


def _names(bits: int) -> str:
    return ",".join(C.flag_names(C.IFF_NAMES, bits, "IFF_"))


def _about(m: Any, state: State) -> str | None:
    idx = about_index(m)
    return state.name(idx) if idx is not None else None


def joins(journal: HostJournal, since: int = 0) -> list:
    """[(seq, name, IPMP interface)] for each interface that joined a group at seq >= since."""
    assert journal.base is not None, "the journal has no base state yet"
    out: list = []
    prev = journal.base.under
    for e in journal.entries:
        if e.kind != "state":
            continue
        now = e.state.under
        out.extend((e.seq, n, g) for n, g in now.items() if prev.get(n) != g and e.seq >= since)
        prev = now
    return out


def join_silence(ctx, sub, placed, journal) -> None:
    """M17: X's join is announced to a normal socket by RTM_DELADDRs and an RTM_IFINFO
    per ill saying X is down; between that IFINFO and the join, no RTM_NEWADDR about X
    of that family. Judged once per join seen after the subscriber opened, over the
    messages since X's previous membership change."""
    if sub.aware:
        return
    changed: dict = {}                 # name -> changes(journal, name), once per name
    for seq, name, group in joins(journal, journal.marks.get("open", journal.start)):
        ctx.judge("M17")
        if name not in changed:
            changed[name] = changes(journal, name)
        since = max((s for s, _, _ in changed[name] if s < seq), default=-1)
        down = {}                  # family -> seq of the last IFINFO about name (None: it said UP)
        for r, e in placed:
            if e.seq >= seq:
                break
            m = r.msg
            if e.seq <= since or _about(m, e.state) != name:
                continue           # only since name's previous membership change
            if m.PREFIX == "ifm_":
                down[family(m)] = None if m.ifm_flags & C.IFF_UP else e.seq
            elif m.type == C.RTM_NEWADDR and m.PREFIX == "ifam_" and down.get(family(m)) is not None:
                down_seq = down[family(m)]
                ctx.add("M17", sub.name, f"RTM_NEWADDR about {name} (journal entry {e.seq}) reached a normal "
                                         f"socket after the RTM_IFINFO saying {name} is down (entry {down_seq}) "
                                         f"and before {name} joined {group} (entry {seq})", r)


def leave_order(ctx, sub, placed, journal) -> None:
    """M18: after X leaves its group, a normal socket hears RTM_IFINFO X with UP before
    any RTM_NEWADDR about X."""
    if sub.aware:
        return
    up_since = {}                              # name -> seq of its last IFINFO with UP
    for r, e in placed:
        m, name = r.msg, _about(r.msg, e.state)
        if not name or e.state.under.get(name):
            continue
        if m.PREFIX == "ifm_" and m.ifm_flags & C.IFF_UP:
            up_since[name] = e.seq
            continue
        if m.type != C.RTM_NEWADDR or m.PREFIX != "ifam_":
            continue
        before = [(seq, old, new) for seq, old, new in changes(journal, name) if seq < e.seq]
        if not before or not before[-1][1]:
            continue                           # its last change was no leave
        ctx.judge("M18")
        left = before[-1][0]
        if up_since.get(name, -1) < left:
            ctx.add("M18", sub.name, f"RTM_NEWADDR about {name}, which left {before[-1][1]} at journal "
                                     f"entry {left}, came before an RTM_IFINFO {name} with UP", r)
