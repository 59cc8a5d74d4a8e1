"""The rule oracle: every recorded stream is checked against the manpage (M*) and
delivery/format (R*) rules a stream can show, whatever the scenario expects.

Ground truth: truth.Snapshot per step (IPMP membership, ifindex names, ipif 0
flags, tentative addresses). A
membership rule is applied to a message only when the interface's state was
the same in the snapshots around the step it was read in ("stable"), so a
join or leave in flight never gives a false finding.
"""
from collections import Counter
from dataclasses import dataclass

from rtsock_emul.wire import constants as C

from .matcher import sa_addr
from .oracle_state import ADDR_TYPES, about_index, addr_route, family, held_back, ifinfo_flags, join_silence

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
END_SLACK = 0.2   # a copy read this close to the end may lack its twin in another stream


@dataclass
class Violation:
    rule: str
    sub: str
    what: str
    record: object = None

    @property
    def text(self):
        return RULES.get(self.rule, "")


def is_echo(msg, sent=frozenset()):
    """A request's echo or RTM_GET reply: an rt_msghdr (whatever its rtm_type: the echo
    of an RTM_NEWADDR request is the caller's rt_msghdr) with the sender's pid, or the
    (type, seq) of a request of this run (`sent`)."""
    if msg.PREFIX != "rtm_":
        return False
    return msg.rtm_pid != 0 or (msg.rtm_seq != 0 and (msg.type, msg.rtm_seq) in sent)


class _Ctx:
    def __init__(self, res):
        self.res, self.sc = res, res.scenario
        self.snaps = {s.step: s for s in res.snapshots}
        self.out = []
        self.end = max((r.t for r in res.streams.all_records()), default=0.0)
        self.sent = frozenset((s.type, s.seq) for s in res.sends if s.seq)   # per run

    def is_echo(self, msg):
        return is_echo(msg, self.sent)

    def add(self, rule, sub, what, rec=None):
        self.out.append(Violation(rule, sub, what, rec))

    def host_truths(self, host):
        return [s.hosts.get(host) for s in self.res.snapshots]

    def name(self, host, index):
        names = self.res.names.get(host)
        return names.name(index) if names else None

    def stable(self, host, step):
        """Truths of the snapshots around a read during `step`, or None if any is unknown."""
        truths = [self.snaps[k].hosts.get(host) for k in range(max(0, step - 2), step + 1) if k in self.snaps]
        return truths if truths and all(t and t.ok for t in truths) else None

    def under(self, host, step, name):
        """True/False when name's membership was stable around step; None if it changed or is unknown."""
        truths = self.stable(host, step)
        if truths is None or name is None:
            return None
        states = {t.under.get(name.split(":")[0]) for t in truths}
        return None if len(states) != 1 else states.pop()   # the IPMP interface name, or None

    def ever_under(self, host, name):
        return any(t and name in t.under for t in self.host_truths(host)) or any(
            not (t and t.ok) for t in self.host_truths(host))


def check(res):
    """Every Violation found in res (a runner.RunResult)."""
    ctx = _Ctx(res)
    for rule, what in res.open_checks:
        ctx.add(rule, what.split(":")[0], what)
    for name, sub in ctx.sc.subscribers.items():
        recs = res.streams.snapshot(name)
        _per_stream(ctx, sub, recs)
    _echoes(ctx)
    _classes(ctx)
    _aware_vs_normal(ctx)
    return ctx.out


def _per_stream(ctx, sub, recs):
    host = sub.host
    if sub.shutdown in (C.SHUT_RD, C.SHUT_RDWR) and recs:
        ctx.add("M15", sub.name, f"received {len(recs)} message(s) after shutdown(SHUT_RD)", recs[0])
    msgs = [r for r in recs if r.msg is not None]
    for r in recs:
        if r.msg is None and not r.overflow:
            ctx.add("R42", sub.name, f"undecodable message: {r.error} ({r.raw.hex()})", r)
    for i, r in enumerate(msgs):
        m = r.msg
        echo = ctx.is_echo(m)
        if getattr(m, m.PREFIX + "version") != C.RTM_VERSION and not echo:   # an echo is the caller's bytes
            ctx.add("R2", sub.name, f"version {getattr(m, m.PREFIX + 'version')}", r)
        fam = family(m)
        if sub.protocol and fam in (C.AF_INET, C.AF_INET6) and fam != sub.protocol:
            ctx.add("M11", sub.name, f"a {C.AF_NAMES[fam]} {m.type_name} reached a "
                                     f"{C.AF_NAMES.get(sub.protocol)} socket", r)
        if echo:      # the caller's bytes: no kernel format or membership rule applies
            continue
        _format(ctx, sub, r, m)
        _membership(ctx, sub, r, m)
        held_back(ctx, sub, r, m)
        ifinfo_flags(ctx, sub, r, m)
        nxt = msgs[i + 1].msg if i + 1 < len(msgs) else None
        if nxt is not None:
            _pairs(ctx, sub, r, m, nxt)
    _leave_order(ctx, sub, msgs)
    join_silence(ctx, sub, msgs)


def _format(ctx, sub, r, m):
    if m.type == C.RTM_IFINFO:
        sdl = m.sockaddrs.get(C.RTA_IFP)
        if set(m.sockaddrs) != {C.RTA_IFP} or len(r.raw) != 336:
            ctx.add("R44", sub.name, f"RTM_IFINFO with addrs {m.addrs():#x}, length {len(r.raw)}", r)
        elif any(getattr(m.ifm_data, f) for f in IF_DATA_ZERO):
            ctx.add("R44", sub.name, "RTM_IFINFO with non-zero if_data counters", r)
        if sdl is not None and ":" in getattr(sdl, "name", ""):
            ctx.add("R43", sub.name, f"RTM_IFINFO for logical unit {sdl.name}", r)
    elif m.type in (C.RTM_CHGADDR, C.RTM_FREEADDR):
        ifa = sa_addr(m.sockaddrs.get(C.RTA_IFA))
        if ifa is not None and ifa.is_unspecified:
            ctx.add("R53", sub.name, f"{m.type_name} for {ifa}", r)
    elif addr_route(m):
        want = C.RTF_UP | C.RTF_DONE if m.type == C.RTM_ADD else C.RTF_DONE
        size = 108 if family(m) == C.AF_INET else 140
        if m.rtm_flags != want or m.rtm_seq != 0 or len(r.raw) != size:
            ctx.add("R54", sub.name, f"{m.type_name} flags {m.rtm_flags:#x} seq {m.rtm_seq} "
                                     f"length {len(r.raw)} (expected {want:#x}, 0, {size})", r)
    if m.type in ADDR_TYPES:
        sdl = m.sockaddrs.get(C.RTA_IFP)
        owner = ctx.name(sub.host, m.ifam_index)
        if sdl is not None and owner and sdl.name and sdl.name.split(":")[0] != owner:
            ctx.add("R52", sub.name, f"{m.type_name} ifam_index {m.ifam_index} is {owner}, "
                                     f"but the address belongs to {sdl.name}", r)


def _membership(ctx, sub, r, m):
    idx = about_index(m)
    if idx is None:
        return
    name = ctx.name(sub.host, idx)
    upper = ctx.under(sub.host, r.step, name)
    if upper and not sub.aware:
        ctx.add("M16", sub.name, f"{m.type_name} about {name}, which is under {upper}, "
                                 f"reached a normal socket", r)
    sdl = m.sockaddrs.get(C.RTA_IFP)
    own = getattr(sdl, "name", "") if m.type == C.RTM_IFINFO or m.type in ADDR_TYPES else ""
    if own:
        own_upper = ctx.under(sub.host, r.step, own)
        truths = ctx.stable(sub.host, r.step)
        if truths and (own_upper is not None or own not in truths[-1].under):
            want_name = own_upper or own.split(":")[0]
            want = next((i for i, n in truths[-1].index.items() if n == want_name), None)
            if want is not None and sdl.sdl_index != want:
                ctx.add("R46", sub.name, f"RTA_IFP of {own} has sdl_index {sdl.sdl_index}, "
                                         f"expected {want} ({want_name})", r)


def _pairs(ctx, sub, r, m, nxt):
    if m.type == C.RTM_NEWADDR:
        ifa = sa_addr(m.sockaddrs.get(C.RTA_IFA))
        if not (nxt.type == C.RTM_ADD and sa_addr(nxt.sockaddrs.get(C.RTA_DST)) == ifa):
            ctx.add("R55", sub.name, f"RTM_NEWADDR {ifa} is followed by {nxt.type_name}, not RTM_ADD {ifa}", r)
    elif m.type == C.RTM_DELETE and addr_route(m):
        dst = sa_addr(m.sockaddrs.get(C.RTA_DST))
        if not (nxt.type == C.RTM_DELADDR and sa_addr(nxt.sockaddrs.get(C.RTA_IFA)) == dst):
            ctx.add("R55", sub.name, f"RTM_DELETE {dst} is followed by {nxt.type_name}, not RTM_DELADDR {dst}", r)


def _leave_order(ctx, sub, msgs):
    """M18: in the step where X leaves its group, NEWADDR about X comes after an IFINFO X with UP."""
    if sub.aware:
        return
    up_seen = set()
    for r in msgs:
        m, before, after = r.msg, ctx.snaps.get(r.step - 1), ctx.snaps.get(r.step)
        if before is None or after is None:
            continue
        name = ctx.name(sub.host, about_index(m)) if about_index(m) is not None else None
        tb, ta = before.hosts.get(sub.host), after.hosts.get(sub.host)
        if not (name and tb and ta and tb.ok and ta.ok and name in tb.under and name not in ta.under):
            continue
        if m.type == C.RTM_IFINFO and m.ifm_flags & C.IFF_UP:
            up_seen.add((r.step, name))
        elif m.type == C.RTM_NEWADDR and (r.step, name) not in up_seen:
            ctx.add("M18", sub.name, f"RTM_NEWADDR about {name} leaving its group came before "
                                     f"an RTM_IFINFO {name} with UP", r)


def _echoes(ctx):
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
                if not twins and got != send.errno:
                    ctx.add("M13", name, f"the echo of {C.name_of(C.RTM_NAMES, send.type)} seq {send.seq} "
                                         f"has rtm_errno {got}, but the write returned {send.errno}", r)
            if twins:
                continue
            if name == send.sub and sub.useloopback is False and echoes:
                ctx.add("M14", name, f"received the echo of its own request seq {send.seq} "
                                     f"with SO_USELOOPBACK off", echoes[0])
            interested = (sub.shutdown not in (C.SHUT_RD, C.SHUT_RDWR)
                          and not (name == send.sub and sub.useloopback is False)
                          and (sub.protocol == C.AF_UNSPEC or sub.protocol == send.family)
                          and sub.host == subs[send.sub].host)
            if (interested and not send.raw and send.errno not in UNDEFINED_AF_ERRORS
                    and not echoes and name not in overflowed):
                ctx.add("M10", name, f"no echo of {C.name_of(C.RTM_NAMES, send.type)} seq {send.seq} "
                                     f"written by {send.sub}")
        if (not send.raw and send.type in (C.RTM_DELETE, C.RTM_CHANGE) and send.ifp
                and ctx.under(subs[send.sub].host, send.step, send.ifp) and send.errno == "0"):
            ctx.add("M21", send.sub, f"{C.name_of(C.RTM_NAMES, send.type)} naming underlying "
                                     f"{send.ifp} succeeded")


def _kernel_msgs(ctx, name, keep=lambda r: True):
    return [r for r in ctx.res.streams.snapshot(name) if r.msg is not None and not ctx.is_echo(r.msg) and keep(r)]


def _compare(ctx, rule, a, b, ra, rb, why):
    ca, cb = Counter(r.raw for r in ra), Counter(r.raw for r in rb)
    for raw in (ca - cb):
        rec = next(r for r in ra if r.raw == raw)
        if rec.t < ctx.end - END_SLACK:
            ctx.add(rule, b, f"did not receive {rec.msg.type_name} that {a} received ({why})", rec)
            return
    for raw in (cb - ca):
        rec = next(r for r in rb if r.raw == raw)
        if rec.t < ctx.end - END_SLACK:
            ctx.add(rule, a, f"did not receive {rec.msg.type_name} that {b} received ({why})", rec)
            return


def _live(ctx):
    res = ctx.res
    return {n: s for n, s in ctx.sc.subscribers.items()
            if s.shutdown not in (C.SHUT_RD, C.SHUT_RDWR)
            and not any(r.overflow for r in res.streams.snapshot(n))}


def _classes(ctx):
    """R38: sockets alike in host, protocol and awareness receive the same kernel messages."""
    groups = {}
    for name, sub in _live(ctx).items():
        groups.setdefault((sub.host, sub.protocol, sub.aware), []).append(name)
    for names in groups.values():
        for other in names[1:]:
            _compare(ctx, "R38", names[0], other, _kernel_msgs(ctx, names[0]), _kernel_msgs(ctx, other),
                     "same protocol and awareness")


def _aware_vs_normal(ctx):
    """R40/M19: messages about interfaces never under IPMP reach aware and normal sockets alike."""
    live = _live(ctx)
    for a, sa in live.items():
        for n, sn in live.items():
            if not sa.aware or sn.aware or sa.host != sn.host or sa.protocol != sn.protocol:
                continue

            def visible(r, host=sa.host):
                idx = about_index(r.msg)
                if idx is None:
                    return True
                name = ctx.name(host, idx)
                return name is not None and not ctx.ever_under(host, name)
            _compare(ctx, "R40", a, n, _kernel_msgs(ctx, a, visible), _kernel_msgs(ctx, n, visible),
                     "about an interface not under IPMP")
