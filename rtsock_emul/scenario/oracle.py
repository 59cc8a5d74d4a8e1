"""The rule oracle: every recorded stream is checked against the manpage (M*) and
delivery/format (R*) rules a stream can show, whatever the scenario expects.

Ground truth: each host's delivery journal (truth.py). Every message a
subscriber read is placed at the journal entry the hub queued it as, and judged
against the kernel state at that moment (IPMP membership, ifindex names, ipif 0
flags, addresses in DAD), so reading order, scheduler delays and step
boundaries change no verdict, and a join or leave in flight is judged like any
other moment. `res.judged` counts, per rule, the messages it judged.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rtsock_emul.rtsock.journal import digest
from rtsock_emul.wire import constants as C

from .matcher import sa_addr
from .oracle_state import (
    ADDR_TYPES,
    about_index,
    addr_route,
    family,
    held_back,
    ifinfo_flags,
    join_silence,
    leave_order,
)
from .truth import TruthFailure

if TYPE_CHECKING:
    from .runner import RunResult, SendRecord
    from .streams import Record
    from .truth import State

RULES = {
    "M10": "Every message sent to the kernel is returned, and copies go to every interested listener.",
    "M11": "The protocol argument filters by the family of the message's sockaddrs: AF_INET or AF_INET6 "
           "filter, and AF_UNSPEC receives all.",
    "M13": "rtm_errno is also returned through the ordinary errno, even if the reply message is lost.",
    "M14": "A process that turns off SO_USELOOPBACK does not receive replies to its own messages.",
    "M15": "shutdown() for input makes a process ignore all routing-socket messages.",
    "M16": "By default, underlying interfaces in an IPMP group are not visible to routing sockets, "
           "and no events about them are delivered.",
    "M17": "When an interface is placed into an IPMP group, the kernel generates RTM_DELADDR for each "
           "IFF_UP address that is not migrated and an RTM_IFINFO saying the interface is down "
           "(so a normal socket hears no RTM_NEWADDR about it once it joined).",
    "M23": "The RTM_IFINFO, RTM_NEWADDR and RTM_ADD messages for configuring an interface are held "
           "back until Duplicate Address Detection finishes.",
    "M18": "When an underlying interface leaves its group, the kernel sends an RTM_IFINFO saying the "
           "interface is up again. It then generates RTM_NEWADDR for each IFF_UP address on it.",
    "M19": "RTAW_UNDER_IPMP makes underlying IPMP interfaces stay visible, and their events keep being delivered.",
    "M21": "Every request other than RTM_ADD and RTM_GET fails when it is issued on an underlying interface.",
    "R2": "RTM_VERSION is 3, and every kernel-built message carries version 3.",
    "R31": "SO_USELOOPBACK is on by default; getsockopt returns 0x40 when on and 0 when off.",
    "R36": "setsockopt(SOL_ROUTE, RT_AWARE, v) stores v without checking it; getsockopt returns v.",
    "R38": "An aware socket receives only RTSQ_UNDER_IPMP messages; a normal socket receives only "
           "RTSQ_NORMAL messages (sockets alike in protocol and awareness get the same messages).",
    "R40": "IFINFO and address messages about IPMP interfaces and non-IPMP interfaces reach both aware "
           "and normal sockets.",
    "R42": "Every read returns exactly one whole routing message.",
    "R43": "RTM_IFINFO is sent only for ipif 0; logical units never produce IFINFO.",
    "R44": "RTM_IFINFO: ifm_addrs=RTA_IFP; length 336; all if_data fields but type, mtu, metric are 0.",
    "R45": "ifm_flags is the low 32 bits of (ipif|ill|phyint flags).",
    "R46": "In every RTA_IFP sockaddr_dl, sdl_index is the IPMP interface's ifindex when the ill is "
           "underlying, and the ill's own ifindex otherwise.",
    "R52": "ifam_index is the ifindex of the ill that owns the address.",
    "R53": "RTM_CHGADDR and RTM_FREEADDR are not sent for 0.0.0.0 or ::.",
    "R54": "Address-derived RTM_ADD/RTM_DELETE: addrs = DST|NETMASK; flags RTF_UP|RTF_DONE for ADD and "
           "RTF_DONE for DELETE; pid = seq = 0; length 108 (v4) or 140 (v6).",
    "R55": "An address coming up sends RTM_NEWADDR then RTM_ADD; an address going down sends RTM_DELETE "
           "then RTM_DELADDR.",
}
IF_DATA_ZERO = ("ifi_addrlen", "ifi_hdrlen", "ifi_baudrate", "ifi_ipackets", "ifi_ierrors",
                "ifi_opackets", "ifi_oerrors", "ifi_collisions", "ifi_ibytes", "ifi_obytes",
                "ifi_imcasts", "ifi_omcasts", "ifi_iqdrops", "ifi_noproto")
UNDEFINED_AF_ERRORS = ("EINVAL", "EPROTONOSUPPORT", "EPERM")   # early errors of ip_rts_request_common: af undefined


@dataclass
class Violation:
    rule: str
    sub: str
    what: str
    record: Record | None = None

    @property
    def text(self) -> str:
        return RULES.get(self.rule, "")


def is_echo(msg: Any, sent: frozenset | set = frozenset()) -> bool:
    """A request's echo or RTM_GET reply: an rt_msghdr (whatever its rtm_type: the echo
    of an RTM_NEWADDR request is the caller's rt_msghdr) with the sender's pid, or the
    (type, seq) of a request of this run (`sent`)."""
    if msg.PREFIX != "rtm_":
        return False
    return msg.rtm_pid != 0 or (msg.rtm_seq != 0 and (msg.type, msg.rtm_seq) in sent)


class _Ctx:
    def __init__(self, res) -> None:
        self.res, self.sc = res, res.scenario
        self.out: list[Violation] = []
        self.judged: Counter[str] = Counter()
        self.sent = frozenset((s.type, s.seq) for s in res.sends if s.seq)   # per run
        self.placed: dict[str, list] = {}          # subscriber -> [(Record, truth.Entry)] in reading order

    def is_echo(self, msg: Any) -> bool:
        return is_echo(msg, self.sent)

    def add(self, rule, sub, what, rec=None) -> None:
        self.out.append(Violation(rule, sub, what, rec))

    def judge(self, rule, n=1) -> None:
        self.judged[rule] += n

    def journal(self, host: str):
        j = self.res.journals.get(host)
        if j is None or j.start is None:
            raise TruthFailure(host, "the run has no delivery journal of this host")
        return j


def check(res: RunResult) -> list[Violation]:
    """Every Violation found in res (a runner.RunResult); res.judged gets how many
    messages each rule judged. Raises truth.TruthFailure when a read message
    cannot be placed in its host's journal."""
    ctx = _Ctx(res)
    for rule in RULES:
        ctx.judged[rule] = 0
    subs = ctx.sc.subscribers.values()      # R31/R36 are checked per socket when it opens
    ctx.judge("R31", len(subs))
    ctx.judge("R36", sum(1 for s in subs if s.rt_aware is not None))
    for rule, what in res.open_checks:
        ctx.add(rule, what.split(":")[0], what)
    for name, sub in ctx.sc.subscribers.items():
        ctx.placed[name] = place(ctx, name, sub)
    for name, sub in ctx.sc.subscribers.items():
        _per_stream(ctx, sub, ctx.placed[name])
    _echoes(ctx)
    for host in sorted({s.host for s in ctx.sc.subscribers.values()}):
        selection(ctx, host)
    res.judged = dict(ctx.judged)
    return ctx.out


def place(ctx, name: str, sub):
    """Tie each message `name` read to the journal entry the hub queued it as: the
    k-th message read is the k-th entry delivered to its socket. A read whose bytes
    differ from the entry is an R42 finding; more reads than deliveries is a
    TruthFailure (the journal cannot account for them)."""
    journal, ident = ctx.journal(sub.host), ctx.res.idents.get(name)
    if ident is None:
        raise TruthFailure(sub.host, f"subscriber {name}'s socket has no journal ident")
    entries = [e for e in journal.messages() if ident in e.to]
    recs = [r for r in ctx.res.streams.snapshot(name) if r.raw]
    if len(recs) > len(entries):
        raise TruthFailure(sub.host, f"subscriber {name} read {len(recs)} message(s), but the journal "
                                     f"delivered {len(entries)} to its socket {ident}")
    placed = []
    for r, e in zip(recs, entries):
        ctx.judge("R42")
        if digest(r.raw) != e.digest or len(r.raw) != e.length:
            ctx.add("R42", sub.name, f"read {len(r.raw)} bytes that are not the {e.length}-byte "
                                     f"{C.name_of(C.RTM_NAMES, e.type)} the kernel queued as "
                                     f"journal entry {e.seq}", r)
            break
        placed.append((r, e))
    return placed


def _per_stream(ctx, sub, placed) -> None:
    recs = ctx.res.streams.snapshot(sub.name)
    if sub.shutdown in (C.SHUT_RD, C.SHUT_RDWR):
        ctx.judge("M15", len(recs) or 1)
        if recs:
            ctx.add("M15", sub.name, f"received {len(recs)} message(s) after shutdown(SHUT_RD)", recs[0])
    for r in recs:
        if r.msg is None and not r.overflow and r.raw:
            ctx.add("R42", sub.name, f"undecodable message: {r.error} ({r.raw.hex()})", r)
    msgs = [(r, e) for r, e in placed if r.msg is not None]
    for i, (r, e) in enumerate(msgs):
        m = r.msg
        echo = ctx.is_echo(m)
        if not echo:                   # an echo is the caller's bytes
            ctx.judge("R2")
            if getattr(m, m.PREFIX + "version") != C.RTM_VERSION:
                ctx.add("R2", sub.name, f"version {getattr(m, m.PREFIX + 'version')}", r)
        fam = family(m)
        if sub.protocol and fam in (C.AF_INET, C.AF_INET6):
            ctx.judge("M11")
            if fam != sub.protocol:
                ctx.add("M11", sub.name, f"a {C.AF_NAMES[fam]} {m.type_name} reached a "
                                         f"{C.AF_NAMES.get(sub.protocol)} socket", r)
        if echo:      # the caller's bytes: no kernel format or membership rule applies
            continue
        _format(ctx, sub, r, m, e.state)
        _membership(ctx, sub, r, m, e)
        held_back(ctx, sub, r, m, e)
        ifinfo_flags(ctx, sub, r, m, e)
        if i + 1 < len(msgs):
            _pairs(ctx, sub, r, m, msgs[i + 1][0].msg)
    kernel = [(r, e) for r, e in msgs if not ctx.is_echo(r.msg)]
    leave_order(ctx, sub, kernel, ctx.journal(sub.host))
    join_silence(ctx, sub, kernel, ctx.journal(sub.host))


def _format(ctx, sub, r, m, state) -> None:
    if m.type == C.RTM_IFINFO:
        ctx.judge("R44")
        ctx.judge("R43")
        sdl = m.sockaddrs.get(C.RTA_IFP)
        if set(m.sockaddrs) != {C.RTA_IFP} or len(r.raw) != 336:
            ctx.add("R44", sub.name, f"RTM_IFINFO with addrs {m.addrs():#x}, length {len(r.raw)}", r)
        elif any(getattr(m.ifm_data, f) for f in IF_DATA_ZERO):
            ctx.add("R44", sub.name, "RTM_IFINFO with non-zero if_data counters", r)
        if sdl is not None and ":" in getattr(sdl, "name", ""):
            ctx.add("R43", sub.name, f"RTM_IFINFO for logical unit {sdl.name}", r)
    elif m.type in (C.RTM_CHGADDR, C.RTM_FREEADDR):
        ctx.judge("R53")
        ifa = sa_addr(m.sockaddrs.get(C.RTA_IFA))
        if ifa is not None and ifa.is_unspecified:
            ctx.add("R53", sub.name, f"{m.type_name} for {ifa}", r)
    elif addr_route(m):
        ctx.judge("R54")
        want = C.RTF_UP | C.RTF_DONE if m.type == C.RTM_ADD else C.RTF_DONE
        size = 108 if family(m) == C.AF_INET else 140
        if m.rtm_flags != want or m.rtm_seq != 0 or len(r.raw) != size:
            ctx.add("R54", sub.name, f"{m.type_name} flags {m.rtm_flags:#x} seq {m.rtm_seq} "
                                     f"length {len(r.raw)} (expected {want:#x}, 0, {size})", r)
    if m.type in ADDR_TYPES:
        sdl = m.sockaddrs.get(C.RTA_IFP)
        owner = state.name(m.ifam_index)
        if sdl is not None and owner and sdl.name:
            ctx.judge("R52")
        if sdl is not None and owner and sdl.name and sdl.name.split(":")[0] != owner:
            ctx.add("R52", sub.name, f"{m.type_name} ifam_index {m.ifam_index} is {owner}, "
                                     f"but the address belongs to {sdl.name}", r)


def _membership(ctx, sub, r, m, e) -> None:
    """M16 and R46, against the membership when the message was queued."""
    state = e.state
    idx = about_index(m)
    if idx is None:
        return
    name = state.name(idx)
    upper = state.under.get(name) if name else None
    if not sub.aware and name:
        ctx.judge("M16")
        if upper:
            ctx.add("M16", sub.name, f"{m.type_name} about {name}, which was under {upper} when the "
                                     f"kernel queued it (journal entry {e.seq}), reached a normal socket", r)
    sdl = m.sockaddrs.get(C.RTA_IFP)
    own = getattr(sdl, "name", "") if m.type == C.RTM_IFINFO or m.type in ADDR_TYPES else ""
    if own:
        base = own.split(":")[0]
        want_name = state.under.get(base) or base
        want = state.ifindex(want_name)
        if want is not None:
            ctx.judge("R46")
            if sdl.sdl_index != want:
                ctx.add("R46", sub.name, f"RTA_IFP of {own} has sdl_index {sdl.sdl_index}, "
                                         f"expected {want} ({want_name})", r)


def _pairs(ctx, sub, r, m, nxt) -> None:
    if m.type == C.RTM_NEWADDR:
        ctx.judge("R55")
        ifa = sa_addr(m.sockaddrs.get(C.RTA_IFA))
        if not (nxt.type == C.RTM_ADD and sa_addr(nxt.sockaddrs.get(C.RTA_DST)) == ifa):
            ctx.add("R55", sub.name, f"RTM_NEWADDR {ifa} is followed by {nxt.type_name}, not RTM_ADD {ifa}", r)
    elif m.type == C.RTM_DELETE and addr_route(m):
        ctx.judge("R55")
        dst = sa_addr(m.sockaddrs.get(C.RTA_DST))
        if not (nxt.type == C.RTM_DELADDR and sa_addr(nxt.sockaddrs.get(C.RTA_IFA)) == dst):
            ctx.add("R55", sub.name, f"RTM_DELETE {dst} is followed by {nxt.type_name}, not RTM_DELADDR {dst}", r)


def _echoes(ctx) -> None:
    subs, res = ctx.sc.subscribers, ctx.res
    overflowed = {n for n in subs if any(r.overflow for r in res.streams.snapshot(n))}
    for send in res.sends:
        key = (send.type, send.seq)
        twins = [s for s in res.sends if (s.type, s.seq) == key and s is not send]
        for name, sub in subs.items():
            echoes = [r for r in res.streams.snapshot(name)
                      if r.msg is not None and ctx.is_echo(r.msg) and (r.msg.type, r.msg.rtm_seq) == key]
            for r in echoes:
                got = C.from_wire_errno(r.msg.rtm_errno)
                if not twins:
                    ctx.judge("M13")
                    if got != send.errno:
                        ctx.add("M13", name, f"the echo of {C.name_of(C.RTM_NAMES, send.type or 0)} seq {send.seq} "
                                             f"has rtm_errno {got}, but the write returned {send.errno}", r)
            if twins:
                continue
            if name == send.sub and sub.useloopback is False:
                ctx.judge("M14")
                if echoes:
                    ctx.add("M14", name, f"received the echo of its own request seq {send.seq} "
                                         f"with SO_USELOOPBACK off", echoes[0])
            interested = (sub.shutdown not in (C.SHUT_RD, C.SHUT_RDWR)
                          and not (name == send.sub and sub.useloopback is False)
                          and (sub.protocol == C.AF_UNSPEC or sub.protocol == send.family)
                          and sub.host == subs[send.sub].host)
            if interested and not send.raw and send.errno not in UNDEFINED_AF_ERRORS and name not in overflowed:
                ctx.judge("M10")
                if not echoes:
                    ctx.add("M10", name, f"no echo of {C.name_of(C.RTM_NAMES, send.type or 0)} seq {send.seq} "
                                         f"written by {send.sub}")
        if not send.raw and send.type in (C.RTM_DELETE, C.RTM_CHANGE) and send.ifp and send.errno == "0":
            state = _state_at_request(ctx, send)
            ctx.judge("M21")
            if state is not None and state.under.get(send.ifp.split(":")[0]):
                ctx.add("M21", send.sub, f"{C.name_of(C.RTM_NAMES, send.type or 0)} naming underlying "
                                         f"{send.ifp} succeeded")


def _state_at_request(ctx: _Ctx, send: SendRecord) -> State | None:
    """The state when the kernel handled `send`: at its echo's journal entry (queued
    whether or not anyone reads it)."""
    sub = ctx.sc.subscribers[send.sub]
    journal, ident = ctx.journal(sub.host), ctx.res.idents.get(send.sub)
    mine = [e for e in journal.messages() if e.origin == ident and e.type == send.type]
    sends = [s for s in ctx.res.sends if s.sub == send.sub and s.type == send.type]
    k = sends.index(send)
    if k >= len(mine):
        raise TruthFailure(sub.host, f"no journal entry for the echo of {C.name_of(C.RTM_NAMES, send.type or 0)} "
                                     f"seq {send.seq} written by {send.sub}")
    return mine[k].state


def selection(ctx, host: str) -> None:
    """R38, R40, M19 per queued kernel message, from whom the delivery predicate chose
    (delivered, dropped for a full buffer or refused after shutdown alike), after all
    subscribers of the host were open and set up. R40 judges messages about
    interfaces that were never under IPMP during the run (a leave's IFINFO and
    NEWADDR go to normal sockets only, M18)."""
    journal = ctx.journal(host)
    subs = {n: s for n, s in ctx.sc.subscribers.items() if s.host == host}
    opened = journal.marks.get("open", journal.next)
    ever_under = set().union(*(set(st.under) for st in journal.states()))
    classes: dict = {}                         # (protocol, aware) -> names: the same for every message
    for n, s in subs.items():
        classes.setdefault((s.protocol, s.aware), []).append(n)
    aware = {n: s.aware for n, s in subs.items()}
    idents = {n: ctx.res.idents[n] for n in subs if n in ctx.res.idents}   # a missing one: KeyError below, as before
    for e in journal.messages():
        if e.seq < opened or e.origin is not None:
            continue
        selected = {*e.to, *e.dropped, *e.shut}        # Entry.selected, for every subscriber at once
        chosen = {n: idents[n] in selected for n in subs}
        fam_ok = {n: s.protocol in (C.AF_UNSPEC, e.af) for n, s in subs.items()}
        about = _about_name(ctx, e)
        under = e.state.under.get(about) if about else None
        for names in classes.values():
            if len(names) > 1:
                ctx.judge("R38")
                if len({chosen[n] for n in names}) > 1:
                    got = [n for n in names if chosen[n]]
                    miss = [n for n in names if not chosen[n]]
                    ctx.add("R38", miss[0], f"was not chosen for the {C.name_of(C.RTM_NAMES, e.type)} of "
                                            f"journal entry {e.seq} that {got[0]} was chosen for "
                                            f"(same protocol and awareness)")
        for a, sa in subs.items():
            if not aware[a] or not fam_ok[a]:
                continue
            if under:
                ctx.judge("M19")
                if not chosen[a]:
                    ctx.add("M19", a, f"was not chosen for the {C.name_of(C.RTM_NAMES, e.type)} about "
                                      f"{about} (under {under}) of journal entry {e.seq}")
                continue
            if about in ever_under:
                continue
            for n, sn in subs.items():
                if aware[n] or sn.protocol != sa.protocol:
                    continue
                ctx.judge("R40")
                if chosen[a] != chosen[n]:
                    got, miss = (a, n) if chosen[a] else (n, a)
                    ctx.add("R40", miss, f"was not chosen for the {C.name_of(C.RTM_NAMES, e.type)} "
                                         f"{'about ' + about if about else ''} of journal entry {e.seq} "
                                         f"that {got} was chosen for")


def _about_name(ctx: _Ctx, e: Any) -> str | None:
    """The interface a journal entry is about (about_index's rule on its header), or None."""
    if e.type in (C.RTM_IFINFO,) + ADDR_TYPES or (
            e.type in (C.RTM_ADD, C.RTM_DELETE) and e.pid == 0 and e.addrs == C.RTA_DST | C.RTA_NETMASK):
        return e.state.name(e.index)
    return None
