"""Per-target round-trip estimates of in.mpathd (mpd_probe.c): the conservative
RTT (crtt) of Jacobson/Karels, as [mpd_probe.c] compute_crtt / pi_set_crtt.

sa is 8 x the smoothed RTT and sv 4 x the mean deviation, both in ns;
crtt = sa/8 + sv, kept in ms (truncated, ns2ms). A probe is lost once its
target's crtt has passed with no reply (or the group probe interval while the
crtt is 0, e.g. after a failure reset it).
"""
from __future__ import annotations

from .config import MAXDEFERREDRTT
from .state import Target

NS_PER_MS = 1_000_000


def ns2ms(ns: int) -> int:
    return int(ns // NS_PER_MS)


def compute_crtt(sa: int, sv: int, m: int) -> tuple[int, int, int]:
    """One measurement m (ns) into (sa, sv); returns (sa, sv, crtt_ns)."""
    if sa != -1:
        m -= sa >> 3                # m is now the error of the estimate
        sa += m
        if sa < 0:
            sa = 0                  # the smoothed average never goes negative
        m = abs(m)
        m -= sv >> 2
        sv += m
    else:                           # first response
        sa, sv = m << 3, m << 1
    return sa, sv, (sa >> 3) + sv


def set_crtt(tg: Target, m: int, is_probe_uni: bool, probeint_ms: int) -> None:
    """pi_set_crtt: a unicast rtt that alone would push crtt over the group
    probe interval is suspect and deferred; MAXDEFERREDRTT+1 suspects in a row
    all count. An RTT-probe sample only ever lowers the crtt."""
    sa, sv, crtt_ns = compute_crtt(tg.rtt_sa, tg.rtt_sd, m)
    new_crtt = ns2ms(crtt_ns)
    if new_crtt > probeint_ms and is_probe_uni:
        tg.deferred.append(m)
        if len(tg.deferred) > MAXDEFERREDRTT:   # the link really slowed down
            for sample in tg.deferred:
                tg.rtt_sa, tg.rtt_sd, crtt_ns = compute_crtt(tg.rtt_sa, tg.rtt_sd, sample)
                tg.crtt = ns2ms(crtt_ns)
            tg.deferred.clear()
        return
    if is_probe_uni or new_crtt < tg.crtt:
        tg.rtt_sa, tg.rtt_sd, tg.crtt = sa, sv, new_crtt
        if is_probe_uni:
            tg.deferred.clear()
