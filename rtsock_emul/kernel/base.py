"""Shared plumbing of the Kernel mixins: lookups, message queueing, and the
operation wrapper that runs deferred work and reports `changed()`."""
from __future__ import annotations

import errno
import functools
import random
from typing import TYPE_CHECKING, Any

from rtsock_emul.wire import constants as C

from . import messages as M
from .errors import KernelError
from .model import AF_INET, AF_INET6, Ill, Ipif, Phyint, addr_of, split_lifname

if TYPE_CHECKING:
    from .hooks import KernelHooks
    from .ipmp import Group
    from .routes import Route
    from .tunables import Tunables

AF_WORD = {AF_INET: "inet", AF_INET6: "inet6"}


def operation(fn):
    """Public operations (and timer callbacks) run deferred work at the outermost
    level (e.g. the IPMP interface's link message, queued after the ioctl as on
    illumos) and then call hooks.claims_changed() if what a DAD claim must name to
    concern us moved, and hooks.changed() if the realized state moved. Both are
    compared with their values at the end of the previous operation (kept: the state
    changes only inside operations), so each is computed once per operation."""
    @functools.wraps(fn)
    def wrapper(self, *args, **kwargs):
        outer = self._depth == 0
        if outer:
            if self._signatures is None:
                self._signatures = self._signature(), self._claims_signature()
            before, claims = self._signatures
        self._depth += 1
        try:
            return fn(self, *args, **kwargs)
        finally:
            self._depth -= 1
            if outer:
                self._depth += 1
                try:
                    while self._deferred:
                        self._deferred.pop(0)()
                finally:
                    self._depth -= 1
                self._signatures = after = self._signature(), self._claims_signature()
                if after[1] != claims:
                    self.hooks.claims_changed()
                if after[0] != before:
                    self.hooks.changed()
    return wrapper


class Base:
    # the Kernel's state (core.py), declared here for the mixins that share it
    clock: Any
    hooks: KernelHooks
    tunables: Tunables
    rng: random.Random
    _phyints: dict[str, Phyint]
    _ill_index: int
    _groups: dict[str, Group]
    _routes: dict[int, list[Route]]
    _condemned: list[Route]
    _deferred: list
    _depth: int
    _signatures: tuple | None    # (_signature(), _claims_signature()) after the last operation

    if TYPE_CHECKING:   # what one mixin calls of another
        def _signature(self) -> Any: ...
        def _claims_signature(self) -> tuple: ...
        def _ipif_up(self, ipif: Ipif) -> Ipif: ...
        def _ipif_down(self, ipif: Ipif) -> None: ...
        def _dad_start(self, ipif: Ipif) -> None: ...
        def _dad_cancel(self, ipif: Ipif) -> None: ...
        def _dup_cancel(self, ipif: Ipif) -> None: ...
        def _dup_recover(self, ipif: Ipif) -> None: ...
        def lifs(self, af: int | None = None, under_ipmp: bool = True) -> list[Ipif]: ...
        def ill_of_index(self, ifindex: int, af: int) -> Ill | None: ...
        def _routes_ipif_up(self, ipif: Ipif) -> None: ...
        def _routes_ipif_down(self, ipif: Ipif) -> None: ...
        def _ipmp_refresh(self, phy: Phyint) -> None: ...
        def _ipmp_unbind(self, ipif: Ipif) -> None: ...
        def _ipmp_migrate(self, ipif: Ipif) -> Ipif: ...
        def _ipmp_join_ill(self, group: Group, ill: Ill) -> None: ...
        def _ipmp_leave_ill(self, group: Group, ill: Ill) -> None: ...
        def _ipmp_ill_plumbed(self, ill: Ill) -> None: ...
        def _ipmp_forget_phyint(self, phy: Phyint) -> None: ...
        def _ipmp_fix_empty(self, group: Group, af: int) -> None: ...
        def _ipmp_create_group(self, phy: Phyint) -> None: ...
        def _ipmp_bind_new(self, ipif: Ipif) -> None: ...
        def _forward_set(self, ill: Ill, on: bool) -> None: ...
        @staticmethod
        def _ills_v4_v6(phy: Phyint) -> list[Ill]: ...

    def _check_af(self, af: int) -> None:
        if af not in (AF_INET, AF_INET6):
            raise KernelError(errno.EAFNOSUPPORT, f"address family {af}: use AF_INET (2) or AF_INET6 (26)")

    def _addr(self, af: int, value):
        self._check_af(af)
        try:
            return addr_of(af, value)
        except ValueError as e:
            raise KernelError(errno.EINVAL, str(e)) from None

    def _phy(self, name: str) -> Phyint:
        phy = self._phyints.get(name)
        if phy is None:
            raise KernelError(errno.ENXIO, f"no interface {name!r}: plumb it first")
        return phy

    def _ill(self, name: str, af: int) -> Ill:
        self._check_af(af)
        ill = self._phy(name).ills.get(af)
        if ill is None:
            raise KernelError(errno.ENXIO, f"{name} is not plumbed for {AF_WORD[af]}")
        return ill

    def _ipif(self, lifname: str, af: int) -> Ipif:
        name, unit = split_lifname(lifname)
        ipif = self._ill(name, af).ipifs.get(unit)
        if ipif is None:
            raise KernelError(errno.ENXIO, f"no logical interface {lifname} ({AF_WORD[af]})")
        return ipif

    def _send(self, msg, ill: Ill | None, rtsq: int = C.RTSQ_DEFAULT) -> None:
        self.hooks.rts(msg, msg.af, M.rtsq_for(ill, rtsq), None)

    def _defer(self, fn) -> None:
        self._deferred.append(fn)

    # the messages of the configuration events (docs/internals.md)
    def _send_ifinfo(self, ipif_or_ill, *, set_: int = 0, clear: int = 0, rtsq=C.RTSQ_DEFAULT):
        """ip_rts_ifmsg: only for ipif 0 (R43)."""
        if isinstance(ipif_or_ill, Ipif):
            if ipif_or_ill.unit != 0:
                return
            ipif_or_ill = ipif_or_ill.ill
        self._send(M.ifinfo(ipif_or_ill, set_, clear), ipif_or_ill, rtsq)

    def _send_newaddr(self, cmd: int, ipif: Ipif, rtsq=C.RTSQ_DEFAULT) -> None:
        """ip_rts_newaddrmsg: NEWADDR=>ADD, DELETE=>DELADDR; CHG/FREEADDR alone,
        suppressed for the unspecified address (R53, R55)."""
        ill = ipif.ill
        if cmd == C.RTM_ADD:
            self._send(M.addrmsg(C.RTM_NEWADDR, ipif), ill, rtsq)
            self._send(M.addr_route(C.RTM_ADD, ipif), ill, rtsq)
        elif cmd == C.RTM_DELETE:
            self._send(M.addr_route(C.RTM_DELETE, ipif), ill, rtsq)
            self._send(M.addrmsg(C.RTM_DELADDR, ipif), ill, rtsq)
        elif not ipif.unspecified:
            self._send(M.addrmsg(cmd, ipif), ill, rtsq)

    def _up_notify(self, ipif: Ipif) -> None:
        """ipif_up_notify: IFINFO (ipif 0) => NEWADDR => ADD (E1, R56)."""
        ipif.ready = True
        self._send_ifinfo(ipif)
        self._send_newaddr(C.RTM_ADD, ipif)
