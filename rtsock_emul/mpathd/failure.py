"""Failure verdicts of in.mpathd: one interface or the whole group
(failure_state / phyint_inst_check_for_failure in [mpd_probe.c]; R117-R120),
and the agent-log forwarding of in.mpathd's messages.

A mixin of `Mpathd`: needs self.clock, self.group_state, _members, _flags,
_set_flags, _chstate, _fail, _refresh_groups.
"""
from __future__ import annotations

import logging

from ..wire.constants import IFF_FAILED, IFF_INACTIVE, IFF_RUNNING
from .base import MpathdBase
from .state import PgState, Phyint, PiState

log = logging.getLogger("rtsock_emul.mpathd")


def log_to(agent_log: logging.Logger) -> None:
    """Send in.mpathd's messages (its syslog) to the agent's log file too."""
    handlers = agent_log.handlers
    if not handlers or agent_log is log:
        return
    for handler in list(log.handlers):
        if isinstance(handler, _Forward):
            log.removeHandler(handler)
    for handler in handlers:
        proxy = _Forward(handler)
        log.addHandler(proxy)
    log.setLevel(min(log.getEffectiveLevel(), agent_log.getEffectiveLevel()))


class _Forward(logging.Handler):
    def __init__(self, target: logging.Handler):
        super().__init__()
        self.target = target

    def emit(self, record: logging.LogRecord) -> None:
        self.target.handle(record)


class FailureMixin(MpathdBase):
    def _failure(self, pi: Phyint, tff: float | None) -> None:
        """phyint_inst_check_for_failure: one interface, or the whole group."""
        if self._failure_state(pi, tff) == "phyint":
            log.error("IP interface failure detected on %s%s", pi.name,
                      f" of group {pi.group}" if pi.group else "")
            self._fail(pi)
        else:
            self._group_fail(pi)

    def _failure_state(self, pi: Phyint, tff: float | None) -> str:
        """failure_state ([mpd_probe.c]): a group failure unless another member
        still works: for a link failure (tff None), a RUNNING member with its link
        up; for a probe failure, a member with its link up that either does not
        probe or had a success after our first failure (tls > tff)."""
        if not pi.group:
            return "phyint"
        group_failed = self._group_failed(pi)
        for p in self._members(pi):
            if p is pi:
                continue
            running = bool(self._flags(p) & IFF_RUNNING)
            if tff is None:
                if p.state == PiState.PI_RUNNING and not group_failed and running:
                    return "phyint"
                continue
            if not running:
                continue
            if not p.probing:
                return "phyint"
            if any(i.tls is not None and i.tls > tff for i in p.insts.values()) \
                    and p.state == PiState.PI_RUNNING and not group_failed:
                return "phyint"
        return "group"

    def _group_failed(self, pi: Phyint) -> bool:
        return bool(pi.group) and self.group_state.get(pi.group) == PgState.PG_FAILED

    def _group_fail(self, pi: Phyint) -> None:
        """GROUP_FAILURE: FAILED set and INACTIVE cleared on every member; RUNNING
        members go PI_FAILED (host targets are then flushed, _refresh_groups)."""
        log.error("All IP interfaces in group %s have failed", pi.group)
        for p in self._members(pi):
            self._set_flags(p, set=IFF_FAILED, clear=IFF_INACTIVE)
            if p.state != PiState.PI_OFFLINE:
                self.reset_crtt_all(p)
            if p.state == PiState.PI_RUNNING:
                self._chstate(p, PiState.PI_FAILED)
        self._refresh_groups()

    def _check_probe_repair(self, pi: Phyint) -> None:
        if pi.state == PiState.PI_FAILED:
            self._check_repair(pi)
        elif pi.state in (PiState.PI_INIT, PiState.PI_NOTARGETS):
            self._chstate(pi, self._ok_state(pi))
            self._refresh_groups()

    def _flush_host_targets(self, members: list[Phyint]) -> None:
        """phyint_group_chstate(PG_FAILED) -> target_flush_hosts: host targets may
        all have gone; rediscover them by multicast (members go PI_NOTARGETS)."""
        for p in members:
            flushed = False
            for inst in p.insts.values():
                if inst.targets and not any(t.is_router for t in inst.targets):
                    inst.targets = []
                    inst.reset_counts()
                    flushed = True
            if flushed and not p.has_targets and p.state in (PiState.PI_RUNNING,
                                                             PiState.PI_FAILED):
                self._chstate(p, PiState.PI_NOTARGETS)
