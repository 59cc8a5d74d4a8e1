"""in.mpathd: link- and probe-based failure detection, failover, failback,
standby and offline for IPMP groups (R110-R122, R131).

It learns interface state from RTM_IFINFO/RTM_*ADDR/route messages on two
internal aware subscribers (one per family, like mpd_main.c setup_rtsock) and
changes kernel flags only with `kernel.set_flags` (SIOCSLIFFLAGS), so the
kernel emits the routing messages. All timers come from ctx.clock.
"""
from __future__ import annotations

import collections
import logging
import random as _random

from ..kernel.errors import KernelError
from ..wire.constants import (
    AF_INET,
    AF_INET6,
    IFF_FAILED,
    IFF_INACTIVE,
    IFF_LOOPBACK,
    IFF_OFFLINE,
    IFF_RUNNING,
    IFF_STANDBY,
    RTAW_UNDER_IPMP,
)
from . import kview
from .adaptive import AdaptiveFdtMixin
from .admin import AdminMixin
from .config import LINK_UP_PERMIN, LINK_UP_WINDOW, NUM_PROBE_FAILS, NUM_PROBE_REPAIRS, MpathdConfig
from .failure import FailureMixin
from .failure import log_to as _log_to
from .probing import ProbingMixin
from .state import PROBE_RECORDS_KEPT, PgState, Phyint, PhyintInst, PiState

log = logging.getLogger("rtsock_emul.mpathd")


def _cfg_mapping(config) -> dict:
    if config is None:
        return {}
    if isinstance(config, dict):
        return config.get("mpathd", {}) or {}
    return getattr(config, "mpathd", {}) or {}


class Mpathd(ProbingMixin, AdaptiveFdtMixin, FailureMixin, AdminMixin):
    def __init__(self, ctx, *, rng: _random.Random | None = None):
        self.ctx = ctx
        self.kernel, self.clock, self.hub = ctx.kernel, ctx.clock, getattr(ctx, "hub", None)
        platform = getattr(ctx, "platform", None)
        self.prober = getattr(platform, "prober", None) if platform is not None else None
        self.config = MpathdConfig.from_mapping(_cfg_mapping(getattr(ctx, "config", None)))
        self.random = rng or _random.Random()
        self.phyints: dict[str, Phyint] = {}
        self.group_state: dict[str, PgState] = {}
        self.pgs: dict = {}             # group name ("" anonymous) -> GroupTiming
        self.records = collections.deque(maxlen=PROBE_RECORDS_KEPT)
        self._subs: list = []
        self._running = False
        self._busy = False
        self._dirty = False
        self.started_at = self.clock.now()

    # ---- lifecycle -------------------------------------------------------------
    def start(self) -> None:
        self._running = True
        self.started_at = self.clock.now()      # ipmpstat -p TIME origin
        _log_to(getattr(self.ctx, "log", None))
        if self.hub is not None:
            for af in (AF_INET, AF_INET6):      # setup_rtsock: one aware socket per family
                self._subs.append(self.hub.add_internal(self._on_rtmsg, proto=af,
                                                        rt_aware=RTAW_UNDER_IPMP))
        if self.prober is not None:
            handler = lambda *a: self._run(self._on_reply, *a)     # noqa: E731
            try:        # echoed payloads carry pr_icmp_mtype (prober.py)
                self.prober.set_reply_handler(handler, with_payload=True)
            except TypeError:
                self.prober.set_reply_handler(handler)
        self._run(self.refresh)

    def stop(self) -> None:
        self._running = False
        remove = getattr(self.hub, "remove_internal", None)
        for sub in self._subs:
            if remove is not None:
                remove(sub)
        self._subs.clear()
        for pi in self.phyints.values():
            self._stop_phyint(pi)
        if self.prober is not None:
            self.prober.set_reply_handler(lambda *a: None)

    def _run(self, fn, *args):
        """Run an entry point; messages our own set_flags causes only mark the
        tables dirty, and the refresh runs once the operation is done."""
        if self._busy:
            self._dirty = True
            return None
        self._busy = True
        try:
            result = fn(*args)
            while self._dirty:
                self._dirty = False
                self.refresh()
            return result
        finally:
            self._busy = False

    def _on_rtmsg(self, msg, af) -> None:
        self._run(self.refresh)

    # ---- tracking (phyint_inst_init_from_k / update_from_k) ----------------------
    def _tracked(self) -> dict[str, str]:
        """ifname -> group name of every interface in.mpathd tracks (mpd_main.c)."""
        out = {}
        for name in kview.interfaces(self.kernel):
            flags = kview.flags(self.kernel, name)
            if kview.is_ipmp(self.kernel, name) or flags & IFF_LOOPBACK:
                continue
            grp = kview.group(self.kernel, name)
            if grp or not self.config.track_interfaces_only_with_groups:
                out[name] = grp
        return out

    def refresh(self) -> None:
        tracked = self._tracked()
        for name in [n for n in self.phyints if n not in tracked]:
            self._stop_phyint(self.phyints.pop(name))
        for grp in [g for g in self.pgs if g and g not in tracked.values()]:
            del self.pgs[grp]           # phyint_group_delete: a new group starts afresh
        rows = kview.lifs(self.kernel)
        own = {r.addr for r in rows}
        taken: dict[str, set] = {}
        for name, grp in tracked.items():
            pi = self.phyints.get(name)
            fresh = pi is None or pi.group != grp
            if fresh:
                if pi is not None:
                    self._stop_phyint(pi)
                pi = self.phyints[name] = Phyint(name=name, group=grp)
            mine = [r for r in rows if r.ifname == name]
            for af in kview.FAMILIES:
                if not any(r.af == af for r in mine):
                    inst = pi.insts.pop(af, None)
                    if inst is not None:
                        self._forget_test_addr(name, inst)
                        self._stop_inst(inst)
                    continue
                if af not in pi.insts:      # phyint_inst_create: quiet period (R131)
                    pi.insts[af] = PhyintInst(
                        af=af, quiet_until=self.clock.now() + self.config.quiet_period / 1000.0)
                self._update_inst(pi, pi.insts[af], mine,
                                  own, taken.setdefault(grp, set()) if grp else set())
            if fresh:
                self._init_state(pi)
            else:
                self._check_link(pi)
        self._refresh_groups()

    def _stop_phyint(self, pi: Phyint) -> None:
        for inst in pi.insts.values():
            self._forget_test_addr(pi.name, inst)
            self._stop_inst(inst)
        if pi.repair_timer is not None:
            self.clock.cancel(pi.repair_timer)
            pi.repair_timer = None

    def _flags(self, pi: Phyint) -> int:
        return kview.flags(self.kernel, pi.name)

    def _init_state(self, pi: Phyint) -> None:
        flags = self._flags(pi)
        pi.link_up = bool(flags & IFF_RUNNING)
        if flags & IFF_OFFLINE:
            self._chstate(pi, PiState.PI_OFFLINE)
        elif not pi.link_up or (flags & IFF_FAILED and pi.probing):
            self._fail(pi)
        else:
            if flags & IFF_FAILED:
                self._set_flags(pi, clear=IFF_FAILED)
            self._transition_to_running(pi)

    def _targets_changed(self, pi: Phyint) -> None:
        if pi.state == PiState.PI_NOTARGETS and self._flags(pi) & IFF_FAILED:
            if pi.has_targets:          # flushed by a group failure: repair by probes
                self._chstate(pi, PiState.PI_FAILED)
        elif pi.state in (PiState.PI_RUNNING, PiState.PI_NOTARGETS):
            self._chstate(pi, self._ok_state(pi))
        self._refresh_groups()

    # ---- link-based detection (R114) -----------------------------------------
    def _check_link(self, pi: Phyint) -> None:
        running = bool(self._flags(pi) & IFF_RUNNING)
        if running == pi.link_up:
            return
        pi.link_up = running
        if not running:
            log.error("The link has gone down on %s", pi.name)
            for inst in pi.insts.values():      # clear_pii_probe_stats
                inst.reset_counts()
            if pi.state == PiState.PI_RUNNING or (
                    pi.state != PiState.PI_FAILED and not self._group_failed(pi)):
                self._failure(pi, None)
            return
        log.info("The link has come up on %s", pi.name)
        pi.linkups.append(self.clock.now())
        self._check_repair(pi)

    def _link_flapping(self, pi: Phyint) -> bool:
        now = self.clock.now()
        return sum(1 for t in pi.linkups if now - t < LINK_UP_WINDOW) > LINK_UP_PERMIN

    def _check_repair(self, pi: Phyint) -> None:
        """phyint_check_for_repair / phyint_repaired."""
        if pi.state != PiState.PI_FAILED or not pi.link_up:
            return
        if pi.probing:
            if not any(inst.nok >= NUM_PROBE_REPAIRS for inst in pi.insts.values()):
                return                  # R113: needs 10 good probes as well
        elif self._link_flapping(pi):
            log.error("The link has come up on %s more than %d times in the last minute; "
                      "disabling repair until it stabilizes", pi.name, LINK_UP_PERMIN)
            oldest = [t for t in pi.linkups if self.clock.now() - t < LINK_UP_WINDOW][0]
            if pi.repair_timer is not None:
                self.clock.cancel(pi.repair_timer)
            pi.repair_timer = self.clock.call_later(
                oldest + LINK_UP_WINDOW - self.clock.now(),
                lambda: self._run(self._repair_timer, pi))
            return
        self._repair(pi)

    def _repair_timer(self, pi: Phyint) -> None:
        pi.repair_timer = None
        if self.phyints.get(pi.name) is pi:
            self._check_repair(pi)

    # ---- probe verdicts (R112, R113) -----------------------------------------------
    def _check_probe_failure(self, pi: Phyint) -> None:
        """phyint_inst_probe_failure_state: 5 losses on every capable family (R112)."""
        capable = [i for i in pi.insts.values() if i.probing and i.targets]
        if not capable or pi.state != PiState.PI_RUNNING or not pi.link_up:
            return
        if all(i.nlost >= NUM_PROBE_FAILS for i in capable):
            self._failure(pi, min(i.tff for i in capable if i.tff is not None))

    # ---- state changes (R117-R119) -------------------------------------------------
    def _set_flags(self, pi: Phyint, set: int = 0, clear: int = 0) -> None:
        """SIOCSLIFFLAGS on ipif 0 of a plumbed family: phyint flags are shared."""
        afs = kview.families(self.kernel, pi.name)
        if not afs:
            return
        try:
            self.kernel.set_flags(pi.name, afs[0], set=set, clear=clear)
        except KernelError as exc:
            log.error("cannot change flags on %s (set %#x clear %#x): %s", pi.name, set, clear, exc)

    def _chstate(self, pi: Phyint, state: PiState) -> None:
        pi.state = state

    def _ok_state(self, pi: Phyint) -> PiState:
        if pi.probing and not pi.has_targets:
            return PiState.PI_NOTARGETS
        return PiState.PI_RUNNING

    def _members(self, pi: Phyint) -> list[Phyint]:
        return [p for p in self.phyints.values() if p.group == pi.group] if pi.group else [pi]

    def functioning(self, pi: Phyint) -> bool:
        """phyint_is_functioning: PI_RUNNING, or PI_NOTARGETS with FAILED clear."""
        return pi.state == PiState.PI_RUNNING or (
            pi.state == PiState.PI_NOTARGETS and not self._flags(pi) & IFF_FAILED)

    def has_up_addr(self, name: str) -> bool:
        return any(r.up for r in kview.lifs(self.kernel) if r.ifname == name)

    def usable(self, pi: Phyint) -> bool:
        """phyint_is_usable (R120)."""
        return self.functioning(pi) and self.has_up_addr(pi.name)

    def _fail(self, pi: Phyint) -> None:
        """R117: set FAILED, clear INACTIVE; replace it if it was active."""
        was_active = self.functioning(pi) and not self._flags(pi) & IFF_INACTIVE
        if pi.state != PiState.PI_OFFLINE:      # offline: noted when it comes back
            self._chstate(pi, PiState.PI_FAILED)
            self.reset_crtt_all(pi)
        self._set_flags(pi, set=IFF_FAILED, clear=IFF_INACTIVE)
        if was_active and pi.group:
            self._activate_another(pi)
        self._refresh_groups()

    def _activate_another(self, pi: Phyint) -> None:
        """phyint_activate_another: a functioning INACTIVE member, STANDBY first."""
        spares = [p for p in self._members(pi) if p is not pi and self.functioning(p)
                  and self._flags(p) & IFF_INACTIVE]
        spares.sort(key=lambda p: not self._flags(p) & IFF_STANDBY)
        if spares:
            self._set_flags(spares[0], clear=IFF_INACTIVE)

    def _repair(self, pi: Phyint) -> None:
        log.error("%s has been repaired", pi.name)
        flags = self._flags(pi)
        if flags & IFF_OFFLINE:
            self._set_flags(pi, clear=IFF_FAILED)
            return
        for inst in pi.insts.values():
            inst.nlost = 0
        self._set_flags(pi, clear=IFF_FAILED)
        self._transition_to_running(pi)

    def _transition_to_running(self, pi: Phyint) -> None:
        """phyint_transition_to_running (mpd_probe.c; R118, R119)."""
        onlining = pi.state == PiState.PI_OFFLINE
        initial = pi.state == PiState.PI_INIT
        members = self._members(pi)
        nnonstandby = sum(1 for p in members if not self._flags(p) & IFF_STANDBY)
        nactive = sum(1 for p in members if p is not pi and self.functioning(p)
                      and not self._flags(p) & IFF_INACTIVE)
        group_failed = self.group_state.get(pi.group) == PgState.PG_FAILED
        self._chstate(pi, self._ok_state(pi))
        if not pi.group:
            self._refresh_groups()
            return
        flags = self._flags(pi)
        if flags & IFF_STANDBY:
            if nactive >= nnonstandby:
                self._set_flags(pi, set=IFF_INACTIVE)
            else:
                self._set_flags(pi, clear=IFF_INACTIVE)
        elif onlining or self.config.failback or initial:
            self._set_flags(pi, clear=IFF_INACTIVE)
            if nactive >= nnonstandby:
                for p in members:
                    pf = self._flags(p)
                    if p is not pi and pf & IFF_STANDBY and not pf & IFF_INACTIVE \
                            and self.functioning(p):
                        self._set_flags(p, set=IFF_INACTIVE)
                        break
        elif not group_failed:
            self._set_flags(pi, set=IFF_INACTIVE)       # R118: FAILBACK=no
        else:
            self._set_flags(pi, clear=IFF_INACTIVE)
        self._refresh_groups()

    def _refresh_groups(self) -> None:
        """phyint_group_refresh_state (R120); empty groups are failed."""
        for grp, info in kview.groups(self.kernel).items():
            members = [self.phyints[m] for m in info["members"] if m in self.phyints]
            nusable = sum(1 for p in members if self.usable(p))
            state = (PgState.PG_FAILED if nusable == 0 else
                     PgState.PG_OK if nusable == len(members) else PgState.PG_DEGRADED)
            old = self.group_state.get(grp)
            self.group_state[grp] = state
            if state == PgState.PG_FAILED and old not in (None, PgState.PG_FAILED):
                log.error("All IP interfaces in group %s are now unusable", grp)
                self._flush_host_targets(members)
            elif old == PgState.PG_FAILED and state != PgState.PG_FAILED:
                log.error("At least 1 IP interface in group %s is now usable", grp)

    def sync(self) -> None:
        """Re-read the kernel now (admin verbs call this after changing it)."""
        self._run(self.refresh)
