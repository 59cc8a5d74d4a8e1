"""The if_mpadm side of in.mpathd (R121, R122) and STANDBY toggling
([mpd_tables.c] phyint_offline / phyint_undo_offline,
[mpd_probe.c] phyint_standby_refresh_inactive).

A mixin of `Mpathd`: needs _run, refresh, _members, usable, functioning,
_flags, _set_flags, _chstate, _activate_another, _transition_to_running,
_stop_inst, _schedule_probing, _refresh_groups.
"""
from __future__ import annotations

from ..wire.constants import IFF_FAILED, IFF_INACTIVE, IFF_OFFLINE, IFF_STANDBY
from .base import MpathdBase
from .state import IPMP_EBADSTATE, IPMP_EMINRED, IPMP_EUNKIF, MpathdError, PgState, PiState


class AdminMixin(MpathdBase):
    # ---- if_mpadm (R121, R122) ------------------------------------------------------
    def offline(self, ifname: str) -> None:
        """phyint_offline(pi, minred=1); if_mpadm then downs the addresses."""
        self._run(self._offline, ifname)

    def _offline(self, ifname: str) -> None:
        self.refresh()
        pi = self.phyints.get(ifname)
        if pi is None or not pi.group:
            raise MpathdError("IPMP_EUNKIF", IPMP_EUNKIF)
        others = [p for p in self._members(pi) if p is not pi and self.usable(p)]
        if not others and self.group_state.get(pi.group) != PgState.PG_FAILED:
            raise MpathdError("IPMP_EMINRED", IPMP_EMINRED)
        was_active = self.functioning(pi) and not self._flags(pi) & IFF_INACTIVE
        self._chstate(pi, PiState.PI_OFFLINE)
        for inst in pi.insts.values():
            self._stop_inst(inst)
            inst.reset_counts()
        self._set_flags(pi, set=IFF_OFFLINE, clear=IFF_INACTIVE)
        if was_active:
            self._activate_another(pi)
        self._refresh_groups()

    def undo_offline(self, ifname: str) -> None:
        self._run(self._undo_offline, ifname)

    def _undo_offline(self, ifname: str) -> None:
        self.refresh()
        pi = self.phyints.get(ifname)
        if pi is None or not pi.group:
            raise MpathdError("IPMP_EUNKIF", IPMP_EUNKIF)
        if pi.state != PiState.PI_OFFLINE:
            raise MpathdError("IPMP_EBADSTATE", IPMP_EBADSTATE)
        self._set_flags(pi, clear=IFF_OFFLINE)
        if self._flags(pi) & IFF_FAILED or not pi.link_up:
            self._chstate(pi, PiState.PI_FAILED)
        else:
            self._transition_to_running(pi)
        for inst in pi.insts.values():
            self._schedule_probing(pi, inst)
        self._refresh_groups()

    def on_standby_changed(self, ifname: str) -> None:
        self._run(self.standby_refresh_inactive, ifname)

    def standby_refresh_inactive(self, ifname: str) -> None:
        """phyint_standby_refresh_inactive: run when STANDBY is toggled."""
        pi = self.phyints.get(ifname)
        if pi is None or not pi.group or not self.functioning(pi):
            return
        members = self._members(pi)
        nnonstandby = sum(1 for p in members if not self._flags(p) & IFF_STANDBY)
        nactive = sum(1 for p in members if p is not pi and self.functioning(p)
                      and not self._flags(p) & IFF_INACTIVE)
        if nactive == 0 or nactive < nnonstandby:
            self._set_flags(pi, clear=IFF_INACTIVE)
        elif nactive > nnonstandby:
            self._set_flags(pi, set=IFF_INACTIVE)
        self._refresh_groups()

