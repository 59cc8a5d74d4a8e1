"""Adaptive failure detection time per group ([mpd_probe.c]
incoming_echo_reply, incoming_rtt_reply, check_pg_crtt_improved,
check_exception_target).

Each group (and the anonymous group "") has its own FDT and probe interval,
starting at the configured values. A target whose crtt passes the group probe
interval either is an exception (slower than its peers: dropped) or raises the
group interval to crtt x NEXT_FDT_MULTIPLE and the FDT to 7 intervals. Once
every target's crtt is below interval / LOWER_FDT_TRIGGER, and MIN_SETTLING_TIME
has passed since the last raise, the FDT halves, never below the configured one.

A mixin of `Mpathd`: needs self.clock, self.config, self.phyints, _group_failed.
"""
from __future__ import annotations

import logging

from ..wire.constants import AF_INET
from .config import (
    EXCEPTION_FACTOR,
    LOWER_FDT_TRIGGER,
    MIN_PROBE_TARGETS,
    MIN_SETTLING_TIME,
    NEXT_FDT_MULTIPLE,
    NUM_PROBE_FAILS,
    PROBE_STATS_COUNT,
)
from .rtt import ns2ms, set_crtt
from .state import GroupTiming, PiState

log = logging.getLogger("rtsock_emul.mpathd")


def af_str(af: int) -> str:
    return "inet" if af == AF_INET else "inet6"


class AdaptiveFdtMixin:
    last_fdt_bumpup: float | None = None    # global in in.mpathd, not per group

    def pg(self, group: str) -> GroupTiming:
        """The group's timing (phyint_group_create starts at the user values)."""
        timing = self.pgs.get(group)
        if timing is None:
            timing = self.pgs[group] = GroupTiming(self.config.failure_detection_time,
                                                   self.config.probe_interval_ms)
        return timing

    def group_fdt(self, group: str) -> int:
        """ipmpstat -g FDT, in ms."""
        return self.pg(group).fdt

    def _group_members(self, group: str) -> list:
        return [p for p in self.phyints.values() if p.group == group]

    def _rtt_usable(self, pi) -> bool:
        # Replies right after a repair may carry ARP/NDP queueing delay.
        return pi.state == PiState.PI_RUNNING and not self._group_failed(pi)

    def _echo_rtt(self, pi, inst, rec, m: int) -> None:
        """incoming_echo_reply: update the target's crtt and adapt the FDT."""
        pg, tg = self.pg(pi.group), rec.tg
        if m < 0 or ns2ms(m) > PROBE_STATS_COUNT * pg.probeint:
            return                  # we were scheduled too late to measure
        if tg is None or not self._rtt_usable(pi) or not self._highest_ack(inst, rec):
            return
        set_crtt(tg, m, True, pg.probeint)
        if tg.crtt > pg.probeint:
            if self._exception_target(pi, inst, tg):
                self._drop_slow_target(pi, inst, tg)
                return
            pg.probeint = tg.crtt * NEXT_FDT_MULTIPLE
            pg.fdt = pg.probeint * (NUM_PROBE_FAILS + 2)
            self.last_fdt_bumpup = self.clock.now()
            if pi.group:
                log.info('Cannot meet requested failure detection time of %d ms on (%s %s) '
                         'new failure detection time for group "%s" is %d ms',
                         self.config.failure_detection_time, af_str(inst.af), pi.name,
                         pi.group, pg.fdt)
        else:
            self._maybe_improve(pi, inst, tg)

    def _rtt_reply(self, pi, inst, addr, m: int) -> None:
        """incoming_rtt_reply: PROBE_RTT samples only ever lower a crtt."""
        tg = next((t for t in inst.targets if t.addr == addr), None)
        if tg is None or m < 0 or not self._rtt_usable(pi):
            return
        set_crtt(tg, m, False, self.pg(pi.group).probeint)
        self._maybe_improve(pi, inst, tg)

    def _maybe_improve(self, pi, inst, tg) -> None:
        pg, user = self.pg(pi.group), self.config.failure_detection_time
        settled = (self.last_fdt_bumpup is None
                   or self.last_fdt_bumpup + MIN_SETTLING_TIME < self.clock.now())
        if not (tg.crtt < pg.probeint // LOWER_FDT_TRIGGER and user < pg.fdt and settled):
            return
        if not self._pg_crtt_improved(pi.group):
            return
        pg.fdt = max(pg.fdt // NEXT_FDT_MULTIPLE, user)
        pg.probeint = pg.fdt // (NUM_PROBE_FAILS + 2)
        if pi.group:
            log.info('Improved failure detection time %d ms on (%s %s) for group "%s"',
                     pg.fdt, af_str(inst.af), pi.name, pi.group)
        if pg.fdt == user:
            pg.probeint = self.config.probe_interval_ms    # no rounding drift
            for p in self.phyints.values():                # reset_snxt_basetimes
                for i in p.insts.values():
                    i.fd_base = i.period_start + self.config.probe_interval

    def _pg_crtt_improved(self, group: str) -> bool:
        """check_pg_crtt_improved: every active target of every probing,
        non-failed member is below probeint / LOWER_FDT_TRIGGER."""
        limit = self.pg(group).probeint // LOWER_FDT_TRIGGER
        for p in self._group_members(group):
            if p.state == PiState.PI_FAILED:
                continue
            for inst in p.insts.values():
                if inst.probing and any(t.crtt > limit for t in inst.active_targets):
                    return False
        return True

    def _highest_ack(self, inst, rec) -> bool:
        """highest_ack_tg: no later probe to this target has been acked."""
        for r in reversed(inst.probes):     # most recent first
            if r is rec:
                return True
            if r.tg is rec.tg and r.state == "acked":
                return False
        return True

    def _exception_target(self, pi, inst, tg) -> bool:
        """check_exception_target: with MIN_PROBE_TARGETS+1 active targets,
        this one is an exception if all others are below probeint / 2."""
        active = inst.active_targets
        if len(active) < MIN_PROBE_TARGETS + 1:
            return False
        limit = self.pg(pi.group).probeint // EXCEPTION_FACTOR
        return all(t.crtt <= limit for t in active if t is not tg)

    def _drop_slow_target(self, pi, inst, tg) -> None:
        """A slow router is set aside (TG_SLOW) for MIN_RECOVERY_TIME; a slow
        host is deleted and a multicast probe looks for a faster one."""
        if tg.is_router:
            tg.slow_since = self.clock.now()
            tg.reset_rtt()
        else:
            inst.targets.remove(tg)
            self._send_multi(pi, inst)

    def reset_crtt_all(self, pi) -> None:
        for inst in pi.insts.values():
            for tg in inst.targets:
                tg.reset_rtt()
