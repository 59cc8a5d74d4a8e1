"""Oracle checks that compare messages with the interface state the runner saw
(truth.Snapshot before and after each step): M17, M23, R45; and the message
classifiers the oracle shares (family, addr_route, about_index)."""
from rtsock_emul.wire import constants as C

from .matcher import sa_addr, view

ADDR_TYPES = (C.RTM_NEWADDR, C.RTM_DELADDR, C.RTM_CHGADDR, C.RTM_FREEADDR)
# phyint flags (R45 check): the same on every ill of an interface and shown by ifconfig
PHYINT_BITS = C.IFF_RUNNING | C.IFF_FAILED | C.IFF_STANDBY | C.IFF_INACTIVE | C.IFF_OFFLINE


def family(msg):
    """The delivery af of a message: IFINFO's from IFF_IPV4/IPV6, else its sockaddrs'."""
    if msg.PREFIX == "ifm_":
        flags = msg.ifm_flags
        return C.AF_INET if flags & C.IFF_IPV4 else C.AF_INET6 if flags & C.IFF_IPV6 else C.AF_UNSPEC
    return msg.family()


def addr_route(msg):
    """An address-derived RTM_ADD/RTM_DELETE (kernel, DST|NETMASK only)."""
    return (msg.type in (C.RTM_ADD, C.RTM_DELETE) and msg.rtm_pid == 0
            and set(msg.sockaddrs) == {C.RTA_DST, C.RTA_NETMASK})


def about_index(msg):
    """The ifindex a message is about, or None (request echoes, MISS, REDIRECT, ...)."""
    if msg.PREFIX in ("ifm_", "ifam_") or addr_route(msg):
        return view(msg).index
    return None


def _around(ctx, host, r):
    """(before, after) HostTruths of the step r was read in, if both are known and
    r was read between them; else None."""
    before, after = ctx.snaps.get(r.step - 1), ctx.snaps.get(r.step)
    if before is None or after is None or not before.t <= r.t <= after.t:
        return None
    tb, ta = before.hosts.get(host), after.hosts.get(host)
    return (tb, ta) if tb and ta and tb.ok and ta.ok else None


def held_back(ctx, sub, r, m):
    """M23: an RTM_NEWADDR read before a snapshot that still calls its address tentative
    (`ipadm show-addr`) was sent before DAD finished."""
    if m.type != C.RTM_NEWADDR or m.PREFIX != "ifam_":
        return
    after = ctx.snaps.get(r.step)
    truth = after.hosts.get(sub.host) if after is not None and r.t <= after.t else None
    ifa = sa_addr(m.sockaddrs.get(C.RTA_IFA))
    if truth and truth.ok and truth.tentative and ifa in truth.tentative:
        ctx.add("M23", sub.name, f"RTM_NEWADDR {ifa} was sent while DAD of {ifa} was still running "
                                 f"(ipadm show-addr says tentative after step {r.step})", r)


def ifinfo_flags(ctx, sub, r, m):
    """R45: an IFINFO's phyint bits equal what ifconfig showed, when they were the same
    before and after the step it was read in (a change in flight is not judged)."""
    if m.PREFIX != "ifm_":
        return
    around = _around(ctx, sub.host, r)
    name = ctx.name(sub.host, m.ifm_index)
    if around is None or name is None:
        return
    key = (name, family(m))
    fb, fa = (t.flags.get(key) for t in around)
    if fb is None or fa is None or (fb ^ fa) & PHYINT_BITS:
        return
    got, want = m.ifm_flags & PHYINT_BITS, fa & PHYINT_BITS
    if got != want:
        ctx.add("R45", sub.name, f"RTM_IFINFO {name} has phyint flags <{_names(got)}>, but ifconfig "
                                 f"showed <{_names(want)}> before and after the step", r)


def _names(bits):
    return ",".join(C.flag_names(C.IFF_NAMES, bits, "IFF_"))


def join_silence(ctx, sub, msgs):
    """M17: in the step where X joins a group, a normal socket gets no RTM_NEWADDR about X
    after the RTM_IFINFO saying X is down (or at all, when there was none: no UP address)."""
    if sub.aware:
        return
    down_seen = set()
    for r in msgs:
        m, around = r.msg, _around(ctx, sub.host, r)
        idx = about_index(m)
        name = ctx.name(sub.host, idx) if idx is not None and around else None
        if not name or name in around[0].under or name not in around[1].under:
            continue
        if m.PREFIX == "ifm_" and not m.ifm_flags & C.IFF_UP:
            down_seen.add((r.step, name))
        elif m.type == C.RTM_NEWADDR and m.PREFIX == "ifam_":
            had_down = any(s == r.step and n == name for s, n in down_seen) or not any(
                x.step == r.step and x.msg.PREFIX == "ifm_" and ctx.name(sub.host, x.msg.ifm_index) == name
                for x in msgs)
            if had_down:
                ctx.add("M17", sub.name, f"RTM_NEWADDR about {name}, which joined "
                                         f"{around[1].under[name]} in this step, reached a normal socket", r)
