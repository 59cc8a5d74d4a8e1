"""Probe-based failure detection (spec §6.2, §6.3; R111-R113, R115, R116, R131).

A mixin of `Mpathd`: needs self.kernel, self.clock, self.prober, self.config,
self.random, self.phyints, self.records and the failure/repair checks.
"""
from __future__ import annotations

import ipaddress
import logging

from ..wire.constants import (AF_INET, AF_INET6, IFF_DEPRECATED, IFF_NOFAILOVER,
                              IFF_NOLOCAL, IFF_NOXMIT, IFF_UP)
from . import kview
from .config import MAX_PROBE_TARGETS, MAX_RANDOM_FACTOR, MIN_RANDOM_FACTOR
from .prober import PROBE_MULTI, PROBE_UNI, probe_payload
from .state import PhyintInst, ProbeRecord, Target

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
        host targets; v6 only link-local next hops."""
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
            if [t.addr for t in inst.targets] != routers:
                inst.targets = [Target(a, True) for a in routers]
                inst.next_target = 0
        elif any(t.is_router for t in inst.targets):
            inst.targets = []           # routers gone: rediscover hosts

    # ---- timers ---------------------------------------------------------------
    def _schedule_probing(self, pi, inst: PhyintInst, *, next_period: bool = False) -> None:
        from .state import PiState
        wanted = (inst.probing and self.prober is not None and self._running
                  and pi.state != PiState.PI_OFFLINE)
        if not wanted:
            self._stop_inst(inst)
            return
        if inst.timer is None:
            if not next_period:
                inst.period_start = self.clock.now()
            self._arm(pi, inst)

    def _stop_inst(self, inst: PhyintInst) -> None:
        if inst.timer is not None:
            self.clock.cancel(inst.timer)
            inst.timer = None

    def _arm(self, pi, inst: PhyintInst) -> None:
        """R111: the probe of each period goes out at a random 50-100% point."""
        interval = self.config.probe_interval
        when = inst.period_start + interval * self.random.uniform(MIN_RANDOM_FACTOR,
                                                                   MAX_RANDOM_FACTOR)
        inst.timer = self.clock.call_later(max(0.0, when - self.clock.now()),
                                           lambda: self._probe_tick(pi, inst))

    def _probe_tick(self, pi, inst: PhyintInst) -> None:
        inst.timer = None
        if self.phyints.get(pi.name) is not pi or pi.insts.get(inst.af) is not inst:
            return
        # phyint_inst_timer: judge the recorded losses on every tick, so losses
        # seen during the quiet period count as soon as it is over (R131).
        if inst.nlost and self.clock.now() >= inst.quiet_until:
            self._check_probe_failure(pi)
        if self.phyints.get(pi.name) is not pi or pi.insts.get(inst.af) is not inst:
            return
        self._send_probe(pi, inst)
        inst.period_start += self.config.probe_interval
        self._schedule_probing(pi, inst, next_period=True)

    def _send_probe(self, pi, inst: PhyintInst) -> None:
        inst.seq = (inst.seq + 1) & 0xFFFF
        seq, now = inst.seq, self.clock.now()
        if not inst.targets:
            # PI_NOTARGETS: find host targets with an all-hosts echo (not counted).
            inst.multi_seqs.add(seq)
            self.prober.discover_targets(pi.name, inst.af, inst.test_addr, seq,
                                         probe_payload(int(now * 1e9), PROBE_MULTI))
            return
        target = inst.targets[inst.next_target % len(inst.targets)]
        inst.next_target = (inst.next_target + 1) % len(inst.targets)
        rec = ProbeRecord(seq=seq, ifname=pi.name, af=inst.af, target=target.addr, sent=now)
        inst.outstanding[seq] = rec
        self.records.append(rec)
        # A probe is lost when unanswered within one probe interval.
        self.clock.call_later(self.config.probe_interval,
                              lambda: self._probe_timeout(pi, inst, rec))
        self.prober.send_probe(pi.name, inst.af, inst.test_addr, target.addr, seq,
                               probe_payload(int(now * 1e9), PROBE_UNI))

    def _probe_timeout(self, pi, inst: PhyintInst, rec: ProbeRecord) -> None:
        if inst.outstanding.pop(rec.seq, None) is not rec:
            return
        rec.state = "lost"
        if inst.nlost == 0:
            inst.tff = self.clock.now()     # time of first failure of this run
        inst.nlost += 1
        inst.nok = 0
        if self.clock.now() < inst.quiet_until:
            return      # R131: kept in the history, judged once the quiet period ends
        self._check_probe_failure(pi)

    def _on_reply(self, ifname: str, af: int, target, seq: int) -> None:
        pi = self.phyints.get(ifname)
        inst = pi.insts.get(af) if pi is not None else None
        if inst is None or not inst.probing:
            return
        target = ipaddress.ip_address(str(target))
        if seq in inst.multi_seqs:
            self._add_host_target(pi, inst, target)
            return
        rec = inst.outstanding.pop(seq, None)
        if rec is None or rec.target != target:
            return
        rec.state, rec.acked = "acked", self.clock.now()
        inst.quiet_until = 0.0          # R131: the first ack ends the quiet period
        inst.nok += 1
        inst.nlost = 0
        inst.tff, inst.tls = None, rec.acked
        self._check_probe_repair(pi)

    def _add_host_target(self, pi, inst: PhyintInst, addr) -> None:
        if any(t.is_router for t in inst.targets) or addr in self._own_addrs():
            return
        if inst.test_net is not None and addr not in inst.test_net:
            return
        if addr in [t.addr for t in inst.targets] or len(inst.targets) >= MAX_PROBE_TARGETS:
            return
        inst.targets.append(Target(addr, False))
        self._targets_changed(pi)

    def _own_addrs(self) -> set:
        return {row.addr for row in kview.lifs(self.kernel)}

    def probe_records(self) -> list[ProbeRecord]:
        """ipmpstat -p: a snapshot of the recent acked/lost probes."""
        return [r for r in self.records if r.state in ("acked", "lost")]


__all__ = ["ProbingMixin", "select_test_addr", "AF_INET"]
