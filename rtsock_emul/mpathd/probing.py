"""Probe-based failure detection (mpd_probe.c; R111-R113, R115, R116, R131).

The timer of each phyint instance ticks once per user probe interval
(phyint_inst_timer). A tick sends a unicast failure-detection probe when the
group's (possibly raised) probe interval is due, else an RTT-only probe; it
first judges the last two unicast probes: lost once their target's crtt has
passed. Only unicast probes consume icmp_seq numbers (and appear in ipmpstat
-p); multicast discovery and RTT probes reuse the next one and are told apart
by pr_icmp_mtype.

A mixin of `Mpathd`: needs self.kernel, self.clock, self.prober, self.config,
self.random, self.phyints, self.records, pg() and the failure/repair checks.
"""
from __future__ import annotations

import ipaddress
import logging

from ..wire.constants import AF_INET, AF_INET6, IFF_DEPRECATED, IFF_NOFAILOVER, IFF_NOLOCAL, IFF_NOXMIT, IFF_UP
from . import kview
from .config import MAX_PROBE_TARGETS, MAX_RANDOM_FACTOR, MIN_RANDOM_FACTOR, MIN_RECOVERY_TIME
from .prober import PROBE_MULTI, PROBE_RTT, PROBE_UNI, parse_payload, probe_payload
from .state import PhyintInst, PiState, ProbeRecord, Target

log = logging.getLogger("rtsock_emul.mpathd")


def select_test_addr(rows, af):
    """R115: NOFAILOVER|UP, not NOXMIT/NOLOCAL, not unspecified, v6 link-local;
    v4 DEPRECATED ones rated best (rate_testflags). Returns a LifRow or None."""
    best, best_rate = None, -1
    for row in rows:
        f = row.flags
        if row.af != af or not (f & IFF_NOFAILOVER) or not (f & IFF_UP):
            continue
        if f & (IFF_NOXMIT | IFF_NOLOCAL) or row.addr.is_unspecified:
            continue
        if af == AF_INET6 and not row.addr.is_link_local:
            continue
        rate = 1 if f & IFF_DEPRECATED else 0
        if rate > best_rate:
            best, best_rate = row, rate
    return best


class ProbingMixin:
    # ---- test addresses and targets ---------------------------------------
    def _update_inst(self, pi, inst: PhyintInst, rows, own: set, taken: set) -> None:
        row = select_test_addr(rows, inst.af)
        addr = row.addr if row is not None else None
        if addr is not None and addr in taken:
            log.error("Test address %s is not unique in group; disabling probe-based "
                      "failure detection on %s", addr, pi.name)
            addr = None
        if addr != inst.test_addr:
            self._forget_test_addr(pi.name, inst)
            inst.test_addr = addr
            inst.test_net = row.network() if addr is not None else None
            inst.targets = []
            inst.reset_counts()
        if addr is not None:
            taken.add(addr)
            self._update_router_targets(inst, own)
        self._schedule_probing(pi, inst)

    def _update_router_targets(self, inst: PhyintInst, own: set) -> None:
        """R116: next hops of gateway routes on the test subnet; routers replace
        host targets; v6 only link-local next hops. Known routers keep their rtt."""
        routers = []
        for _net, gw in kview.routes(self.kernel, inst.af):
            if gw in own or gw not in inst.test_net:
                continue
            if inst.af == AF_INET6 and not gw.is_link_local:
                continue
            if gw not in routers:
                routers.append(gw)
        routers = routers[:MAX_PROBE_TARGETS]
        if routers:
            if [(t.addr, t.is_router) for t in inst.targets] != [(a, True) for a in routers]:
                old = {t.addr: t for t in inst.targets if t.is_router}
                inst.targets = [old.get(a) or Target(a, True) for a in routers]
                inst.next_target = inst.rtt_next = 0
        elif any(t.is_router for t in inst.targets):
            inst.targets = []           # routers gone: rediscover hosts

    # ---- timers (phyint_inst_timer) -----------------------------------------------
    def _schedule_probing(self, pi, inst: PhyintInst, *, next_period: bool = False) -> None:
        wanted = (inst.probing and self.prober is not None and self._running
                  and pi.state != PiState.PI_OFFLINE)
        if not wanted:
            self._stop_inst(inst)
            return
        if inst.timer is None:
            if not next_period:
                inst.period_start = inst.fd_base = self.clock.now()
                inst.next_when = None
            self._arm(pi, inst)

    def _forget_test_addr(self, name: str, inst: PhyintInst) -> None:
        """The platform closes the probe socket bound to the old test address."""
        if inst.test_addr is not None and self.prober is not None:
            self.prober.forget(name, inst.af, inst.test_addr)

    def _stop_inst(self, inst: PhyintInst) -> None:
        if inst.timer is not None:
            self.clock.cancel(inst.timer)
            inst.timer = None

    def _random_when(self, base: float) -> float:
        """R111: each tick at a random 50-100% point of its period."""
        return base + self.config.probe_interval * self.random.uniform(MIN_RANDOM_FACTOR,
                                                                       MAX_RANDOM_FACTOR)

    def _arm(self, pi, inst: PhyintInst) -> None:
        when = inst.next_when if inst.next_when is not None else self._random_when(inst.period_start)
        inst.next_when = None
        inst.timer = self.clock.call_later(max(0.0, when - self.clock.now()),
                                           lambda: self._probe_tick(pi, inst))

    def _current(self, pi, inst) -> bool:
        return self.phyints.get(pi.name) is pi and pi.insts.get(inst.af) is inst

    def _probe_tick(self, pi, inst: PhyintInst) -> None:
        inst.timer = None
        if not self._current(pi, inst):
            return
        now, pg = self.clock.now(), self.pg(pi.group)
        inst.period_start += self.config.probe_interval
        inst.next_when = self._random_when(inst.period_start)
        if not inst.targets:
            inst.fd_base = inst.period_start
            self._send_multi(pi, inst)
        elif pg.probeint != self.config.probe_interval_ms and inst.next_when < inst.fd_base:
            self._send_rtt(pi, inst)        # the failure-detection probe is not due yet
        else:
            self._fd_tick(pi, inst, now, pg)
        if self._current(pi, inst):
            self._schedule_probing(pi, inst, next_period=True)

    def _fd_tick(self, pi, inst: PhyintInst, now: float, pg) -> None:
        if pg.probeint == self.config.probe_interval_ms:
            inst.fd_base = inst.period_start
        else:
            step = pg.probeint / 1000.0
            inst.fd_base += step
            if now > inst.fd_base:
                inst.fd_base += (int((now - inst.fd_base) / step) + 1) * step
        self._judge_losses(inst, now, pg)
        # Losses seen during the quiet period count as soon as it is over (R131).
        if inst.nlost and now >= inst.quiet_until:
            self._check_probe_failure(pi)
        if not self._current(pi, inst):
            return
        if inst.targets:
            self._send_uni(pi, inst)
            # One host target gives no resilience: keep looking for more.
            if not any(t.is_router for t in inst.targets) and len(inst.active_targets) == 1:
                self._send_multi(pi, inst)
        else:                           # flushed by a group failure just now
            self._send_multi(pi, inst)

    def _judge_losses(self, inst: PhyintInst, now: float, pg) -> None:
        """The last two unicast probes: lost once start + crtt (the group probe
        interval while crtt is 0) has passed; the older one is lost regardless."""
        for i, rec in enumerate(list(inst.probes)[-2:][::-1]):
            if rec.state != "sent":
                continue
            crtt = rec.tg.crtt if rec.tg is not None else 0
            timeout = rec.sent + (crtt or pg.probeint) / 1000.0
            if timeout < now:
                self._mark_lost(inst, rec, timeout)
            elif i == 1:
                self._mark_lost(inst, rec, now)

    def _mark_lost(self, inst: PhyintInst, rec: ProbeRecord, when: float) -> None:
        rec.state, rec.lost = "lost", when
        if inst.nlost == 0:
            inst.tff = when             # time of first failure of this run
        inst.nlost += 1
        inst.nok = 0

    # ---- sending (probe) ----------------------------------------------------------------
    def _next_active(self, inst: PhyintInst, attr: str):
        now = self.clock.now()
        for t in inst.targets:          # TG_SLOW routers come back after a while
            if t.slow_since is not None and (now - t.slow_since > MIN_RECOVERY_TIME
                                             or not inst.active_targets):
                t.slow_since = None
        active = inst.active_targets
        idx = getattr(inst, attr) % len(active)
        setattr(inst, attr, (idx + 1) % len(active))
        return active[idx]

    def _payload(self, mtype: int) -> bytes:
        return probe_payload(int(self.clock.now() * 1e9), mtype)

    def _send_uni(self, pi, inst: PhyintInst) -> None:
        tg = self._next_active(inst, "next_target")
        inst.rtt_next = inst.next_target
        seq, inst.snxt = inst.snxt, (inst.snxt + 1) & 0xFFFF
        rec = ProbeRecord(seq=seq, ifname=pi.name, af=inst.af, target=tg.addr,
                          sent=self.clock.now(), tg=tg)
        inst.probes.append(rec)
        self.records.append(rec)
        self.prober.send_probe(pi.name, inst.af, inst.test_addr, tg.addr, seq,
                               self._payload(PROBE_UNI))

    def _send_rtt(self, pi, inst: PhyintInst) -> None:
        tg = self._next_active(inst, "rtt_next")
        self.prober.send_probe(pi.name, inst.af, inst.test_addr, tg.addr, inst.snxt,
                               self._payload(PROBE_RTT))

    def _send_multi(self, pi, inst: PhyintInst) -> None:
        self.prober.discover_targets(pi.name, inst.af, inst.test_addr, inst.snxt,
                                     self._payload(PROBE_MULTI))

    # ---- replies (in_data / in6_data) -----------------------------------------------------
    def _on_reply(self, ifname: str, af: int, target, seq: int, payload=None) -> None:
        pi = self.phyints.get(ifname)
        inst = pi.insts.get(af) if pi is not None else None
        if inst is None or not inst.probing or not pi.link_up:
            return
        target = ipaddress.ip_address(str(target))
        parsed = parse_payload(payload)
        mtype = parsed[1] if parsed is not None else None   # None: prober gives no payload
        if mtype in (PROBE_UNI, None):
            rec = inst.probe(seq)
            if rec is not None and rec.target == target:
                self._echo_reply(pi, inst, rec)
                return
            if mtype == PROBE_UNI:
                return                  # out of window, or a fake reply
        if mtype == PROBE_RTT:
            self._rtt_reply(pi, inst, target, int(self.clock.now() * 1e9) - parsed[0])
        elif mtype in (PROBE_MULTI, None):
            self._mcast_reply(pi, inst, target)

    def _echo_reply(self, pi, inst: PhyintInst, rec: ProbeRecord) -> None:
        """incoming_echo_reply: an ack, even one judged lost already."""
        if rec.state == "acked":
            return                      # duplicate
        now = self.clock.now()
        self._echo_rtt(pi, inst, rec, int(round((now - rec.sent) * 1e9)))
        rec.state, rec.acked = "acked", now
        inst.quiet_until = 0.0          # R131: the first ack ends the quiet period
        inst.recount()
        self._check_probe_repair(pi)

    def _mcast_reply(self, pi, inst: PhyintInst, addr) -> None:
        """incoming_mcast_reply: a responder becomes a host target of every
        member of a named group (only of this one in the anonymous group)."""
        if any(t.is_router for t in inst.targets) or len(inst.targets) >= MAX_PROBE_TARGETS:
            return
        if addr.is_unspecified or addr in self._own_addrs():
            return
        for p in (self._members(pi) if pi.group else [pi]):
            other = p.insts.get(inst.af)
            if other is not None:
                self._target_create(p, other, addr)

    def _target_create(self, pi, inst: PhyintInst, addr) -> None:
        if inst.test_net is None or addr not in inst.test_net:
            return                      # not on this test address's subnet
        if any(t.is_router for t in inst.targets) or len(inst.targets) >= MAX_PROBE_TARGETS:
            return
        if addr in [t.addr for t in inst.targets]:
            return
        inst.targets.append(Target(addr, False))
        self._targets_changed(pi)

    def _own_addrs(self) -> set:
        return {row.addr for row in kview.lifs(self.kernel)}

    def probe_records(self) -> list[ProbeRecord]:
        """ipmpstat -p: a snapshot of the recent acked/lost probes."""
        return [r for r in self.records if r.state in ("acked", "lost")]


__all__ = ["ProbingMixin", "select_test_addr", "AF_INET"]
