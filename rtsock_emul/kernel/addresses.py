"""Bringing addresses up and down, and SIOCSLIFFLAGS (configuration events
E1, E2, E6, E7, E11 of docs/internals.md; flag rules R94-R98, data-address migration R70)."""
from __future__ import annotations

import errno

from rtsock_emul.wire import constants as C

from .base import Base, operation
from .errors import KernelError
from .model import ILL_FLAGS, IPIF_FLAGS, PHYINT_FLAGS, Ipif

# E7: changing these on an UP address takes it down and up again
DOWN_UP_FLAGS = (C.IFF_DEPRECATED | C.IFF_NOXMIT | C.IFF_NOLOCAL | C.IFF_NOARP | C.IFF_NONUD
                 | C.IFF_PRIVATE | C.IFF_ANYCAST | C.IFF_PREFERRED | C.IFF_NOFAILOVER)
IPMP_STATE_FLAGS = C.IFF_FAILED | C.IFF_INACTIVE | C.IFF_OFFLINE | C.IFF_STANDBY


class Addresses(Base):
    def _ipif_up(self, ipif: Ipif) -> Ipif:
        """ipif_up: migrate a data address off an underlying ill (R70), install
        the interface routes, bind (IPMP), then DAD or an immediate notify (E1).
        Returns the ipif that came up (the migrated one)."""
        if ipif.up:
            raise KernelError(errno.EALREADY, f"{ipif.name} is already up")
        if ipif.ill.under_ipmp and ipif.is_data:
            ipif = self._ipmp_migrate(ipif)
        ill = ipif.ill
        ipif.ipif_flags = (ipif.ipif_flags | C.IFF_UP) & ~C.IFF_DUPLICATE
        ipif.ready = False
        self._routes_ipif_up(ipif)
        if ill.phyint.is_ipmp and ipif.is_data:
            self._ipmp_bind_new(ipif)
        if ill.under_ipmp:
            self._ipmp_refresh(ill.phyint)
        self._dad_start(ipif)
        return ipif

    def _ipif_down(self, ipif: Ipif) -> None:
        """ipif_down + ipif_down_tail, E2 (R57): IFINFO (ipif 0) => DELETE => DELADDR."""
        ipif.ipif_flags &= ~C.IFF_UP
        ipif.ready = False
        self._dad_cancel(ipif)
        self._routes_ipif_down(ipif)
        self._send_ifinfo(ipif)
        self._send_newaddr(C.RTM_DELETE, ipif)
        if ipif.bound_ill is not None:
            self._ipmp_unbind(ipif)
        if ipif.ill.under_ipmp:
            self._ipmp_refresh(ipif.ill.phyint)

    @operation
    def ipif_up(self, lifname: str, af: int) -> str:
        """Direct ipif_up (no R56a prefix), EALREADY if up. Returns the lifname
        that came up (a migrated data address has a new one)."""
        return self._ipif_up(self._ipif(lifname, af)).name

    @operation
    def set_flags(self, lifname: str, af: int, set: int = 0, clear: int = 0) -> str:
        """SIOCSLIFFLAGS. Returns the ipif's lifname afterwards (a data address
        brought up on an underlying interface migrates, R70)."""
        ipif = self._ipif(lifname, af)
        ill, phy = ipif.ill, ipif.ill.phyint
        cur = ipif.flags
        set_, clear = set & ~C.IFF_CANTCHANGE, clear & ~C.IFF_CANTCHANGE
        turn_on, turn_off = set_ & ~cur, clear & cur & ~set_
        if phy.is_ipmp:
            if (turn_on | turn_off) & C.IFF_IPMP_INVALID:
                raise KernelError(errno.EINVAL, f"{lifname} is an IPMP interface: "
                                  "STANDBY/INACTIVE/OFFLINE/NOFAILOVER/NOARP/NONUD/NOACCEPT are invalid (R97)")
            turn_on &= ~C.IFF_IPMP_CANTCHANGE
            turn_off &= ~C.IFF_IPMP_CANTCHANGE
        turn_on, turn_off = self._flag_rules(ipif, cur, turn_on, turn_off)
        # an already-down DUPLICATE address set down: recovery ends (ifconfig.1m)
        if clear & C.IFF_UP and not ipif.up and ipif.ipif_flags & C.IFF_DUPLICATE:
            self._dup_cancel(ipif)
            ipif.ipif_flags &= ~C.IFF_DUPLICATE
        if not turn_on and not turn_off:
            return ipif.name

        was_up = ipif.up
        need_down = was_up and (turn_off & C.IFF_UP or (turn_on | turn_off) & DOWN_UP_FLAGS)
        if need_down:
            self._ipif_down(ipif)
        router = (turn_on | turn_off) & C.IFF_ROUTER
        turn_on, turn_off = turn_on & ~(C.IFF_ROUTER | C.IFF_UP), turn_off & ~(C.IFF_ROUTER | C.IFF_UP)
        old_phy = phy.flags
        ipif.ipif_flags = (ipif.ipif_flags | (turn_on & IPIF_FLAGS)) & ~(turn_off & IPIF_FLAGS)
        ill.flags = (ill.flags | (turn_on & ILL_FLAGS)) & ~(turn_off & ILL_FLAGS)
        phy.flags = (phy.flags | (turn_on & PHYINT_FLAGS)) & ~(turn_off & PHYINT_FLAGS)
        phy_changed = old_phy != phy.flags

        if router:
            self._forward_set(ill, bool(set_ & C.IFF_ROUTER))
        if set_ & C.IFF_UP and not was_up:
            if self.tunables.r56a_reup_prefix:
                self._send_ifinfo(ipif, clear=C.IFF_UP)      # R56a, code-derived
                self._send_newaddr(C.RTM_DELETE, ipif)
            self._dup_cancel(ipif)
            ipif = self._ipif_up(ipif)
        elif need_down and not clear & cur & C.IFF_UP:      # E7: back up after the change
            ipif = self._ipif_up(ipif)
        elif phy_changed:
            for other in self._ills_v4_v6(phy):               # E6, R60, R93
                self._send_ifinfo(other)
        elif was_up and not need_down and (turn_on | turn_off):
            self._send_ifinfo(ipif)                           # E6: ipif 0 only
        if phy_changed and phy.group is not None and not phy.is_ipmp \
                and (old_phy ^ phy.flags) & IPMP_STATE_FLAGS:
            self._ipmp_refresh(phy)
        return ipif.name

    def _flag_rules(self, ipif: Ipif, cur: int, turn_on: int, turn_off: int) -> tuple[int, int]:
        """ip_sioctl_flags checks, in order (R94-R98)."""
        under = ipif.ill.under_ipmp
        if turn_on & C.IFF_NOFAILOVER:
            turn_on |= C.IFF_DEPRECATED & ~cur                # R94
            turn_off &= ~C.IFF_DEPRECATED
        new = (cur | turn_on) & ~turn_off
        if under and turn_on & (C.IFF_DHCPRUNNING | C.IFF_ADDRCONF) and not new & C.IFF_NOFAILOVER:
            raise KernelError(errno.EINVAL, "on an underlying interface only test (-failover) "
                              "addresses may be DHCP/ADDRCONF (R98)")
        if under and turn_off & C.IFF_NOFAILOVER and cur & (
                C.IFF_UP | C.IFF_DUPLICATE | C.IFF_DHCPRUNNING | C.IFF_ADDRCONF):
            raise KernelError(errno.EINVAL, "bring the test address down before clearing "
                              "NOFAILOVER (R98)")
        if turn_off & C.IFF_DEPRECATED and new & C.IFF_NOFAILOVER:
            raise KernelError(errno.EINVAL, "a NOFAILOVER (test) address must stay DEPRECATED (R94)")
        if turn_on & C.IFF_STANDBY:
            if cur & C.IFF_INACTIVE:
                raise KernelError(errno.EINVAL, "STANDBY while INACTIVE is already set (R95)")
            if not new & C.IFF_FAILED:
                turn_on |= C.IFF_INACTIVE                     # R95
                turn_off &= ~C.IFF_INACTIVE
        if turn_off & C.IFF_STANDBY:
            turn_off |= C.IFF_INACTIVE & cur
            turn_on &= ~C.IFF_INACTIVE
        new = (cur | turn_on) & ~turn_off
        if new & C.IFF_FAILED and new & C.IFF_INACTIVE:
            raise KernelError(errno.EINVAL, "FAILED and INACTIVE together (R96)")
        return turn_on, turn_off
