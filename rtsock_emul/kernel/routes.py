"""The forwarding table per family (M4-M7, M22; R17-R25, R75-R77, R82-R84,
R130, R132): ip_rt_add / ip_rt_delete / lookups and kernel-generated route
messages."""
from __future__ import annotations

import errno
import ipaddress
from dataclasses import dataclass, field

from rtsock_emul.wire import constants as C

from . import messages as M
from .base import Base, operation
from .errors import KernelError
from .model import AF_INET, AF_INET6, MAXPLEN, UNSPEC, Addr, Ill, Ipif, mask_of, network_of

# rts_setmetrics: what RTM_ADD/RTM_CHANGE may set (RTT/RTTVAR stored in ms)
SETTABLE_METRICS = (C.RTV_MTU | C.RTV_RTT | C.RTV_SSTHRESH | C.RTV_RTTVAR
                    | C.RTV_SPIPE | C.RTV_RPIPE)
MS_METRICS = C.RTV_RTT | C.RTV_RTTVAR


@dataclass(eq=False)
class Route:
    """One IRE. `ill` is the outgoing ill (None: resolved through the gateway)."""
    af: int
    dst: Addr
    prefixlen: int
    gateway: Addr
    flags: int
    ill: Ill | None = None
    src: Addr | None = None
    metrics: dict = field(default_factory=dict)   # RTV_ bit -> value (RTT/RTTVAR in ms)
    ipif: Ipif | None = None                      # set on RTF_KERNEL routes of an address
    local: bool = False                           # IRE_LOCAL (the address itself)
    refcnt: int = 0
    condemned: bool = False

    def __repr__(self) -> str:
        via = self.ill.name if self.ill is not None else "-"
        return f"<Route {self.dst}/{self.prefixlen} gw {self.gateway} flags {self.flags:#x} {via}>"

    @property
    def netmask(self):
        return mask_of(self.af, self.prefixlen)

    @property
    def network(self):
        return network_of(self.dst, self.prefixlen)

    @property
    def ifindex(self) -> int:
        return self.ill.phyint.ifindex if self.ill is not None else 0

    @property
    def test_hidden(self) -> bool:
        """IREs of underlying ills are hidden from ordinary lookups (ipmp.c; R77)."""
        return self.ill is not None and self.ill.under_ipmp

    def rmx(self) -> tuple[int, dict]:
        """(rtm_inits, {RTV_ bit: wire value}) with RTT/RTTVAR back in µs (R80)."""
        inits = C.RTV_RTT | C.RTV_SSTHRESH | C.RTV_RTTVAR | C.RTV_SPIPE | C.RTV_RPIPE
        mtu = self.metrics.get(C.RTV_MTU) or (self.ill.mtu if self.ill is not None else 0)
        values = {bit: v * 1000 if bit & MS_METRICS else v for bit, v in self.metrics.items()}
        if mtu:
            inits |= C.RTV_MTU
            values[C.RTV_MTU] = mtu
        return inits, values


def prefixlen_of(af: int, mask) -> int:
    """Mask -> prefix length; None is a host mask. Non-contiguous: ENOTSUP (R22)."""
    if mask is None:
        return MAXPLEN[af]
    if isinstance(mask, int):
        return mask
    bits = int(mask if isinstance(mask, (ipaddress.IPv4Address, ipaddress.IPv6Address)) else ipaddress.ip_address(mask))
    width = MAXPLEN[af]
    plen = bin(bits).count("1")
    if bits != ((1 << width) - 1) ^ ((1 << (width - plen)) - 1):
        if af == AF_INET:       # ip_rt_add: ENOTSUP, not EOPNOTSUPP (R22)
            raise KernelError(errno.ENOTSUP, f"netmask {mask} is not contiguous", name="ENOTSUP")
        raise KernelError(errno.EINVAL, f"netmask {mask} is not contiguous")
    return plen


def _match_plen(af: int, mask, flags: int) -> int | None:
    """The prefix length a lookup compares; None for a non-contiguous mask, which no
    route has: ip_rt_delete and the RTM_GET/CHANGE lookups match masks (ESRCH),
    only ip_rt_add refuses them (ENOTSUP, R22)."""
    if flags & C.RTF_HOST:
        return MAXPLEN[af]
    try:
        return prefixlen_of(af, mask)
    except KernelError:
        return None


class Routes(Base):
    def _table(self, af: int) -> list[Route]:
        self._check_af(af)
        return self._routes[af]

    def _same_lan(self, ill: Ill | None, want: Ill) -> bool:
        """MATCH_IRE_ILL: the same ill, or any ill of its IPMP group (R77)."""
        if ill is want:
            return True
        grp = want.phyint.group
        return grp is not None and ill is not None and ill.phyint.group is grp

    # ---- address (RTF_KERNEL) routes -------------------------------------
    def _routes_ipif_up(self, ipif: Ipif) -> None:
        if ipif.unspecified:
            return
        table = self._routes[ipif.af]
        flags = C.RTF_UP | C.RTF_KERNEL
        if not ipif.ipif_flags & C.IFF_NOLOCAL:
            table.append(Route(ipif.af, ipif.addr, MAXPLEN[ipif.af], ipif.addr,
                               flags | C.RTF_HOST, ipif.ill, ipif=ipif, local=True))
        if ipif.ipif_flags & C.IFF_POINTOPOINT and ipif.pp_dst is not None:
            table.append(Route(ipif.af, ipif.pp_dst, MAXPLEN[ipif.af], ipif.addr,
                               flags | C.RTF_HOST, ipif.ill, ipif=ipif))
        elif ipif.prefixlen < MAXPLEN[ipif.af] and not ipif.flags & C.IFF_LOOPBACK:
            # ipif_add_ires_v4/v6: a loopback address gets its IRE_LOOPBACK only
            net = network_of(ipif.addr, ipif.prefixlen)
            table.append(Route(ipif.af, net.network_address, ipif.prefixlen, ipif.addr,
                               flags, ipif.ill, ipif=ipif))

    def _routes_ipif_down(self, ipif: Ipif) -> None:
        for route in [r for r in self._routes[ipif.af] if r.ipif is ipif]:
            self._unlink(route)

    def _unlink(self, route: Route) -> None:
        self._routes[route.af].remove(route)
        route.flags &= ~C.RTF_UP                  # M22: marked down, whoever still holds it
        if route.refcnt > 0:                      # M22: freed when released
            route.condemned = True
            self._condemned.append(route)

    def _local_ipif(self, af: int, addr) -> Ipif | None:
        for ipif in self.lifs(af):
            if ipif.up and ipif.addr == addr and not ipif.unspecified:
                return ipif
        return None

    # ---- ip_rt_add / ip_rt_delete / change -------------------------------
    @operation
    def route_add(self, af: int, dst, mask, gateway, flags: int, ifindex: int | None = None,
                  src=None, metrics: dict | None = None) -> Route:
        """ip_rt_add. `mask` None (or RTF_HOST) is a host route; `metrics` maps
        RTV_ bits to wire values (RTT/RTTVAR in µs)."""
        dst, gateway = self._addr(af, dst), self._addr(af, gateway)
        plen = MAXPLEN[af] if flags & C.RTF_HOST else prefixlen_of(af, mask)
        dst = network_of(dst, plen).network_address
        want = self._want_ill(af, ifindex)
        local = self._local_ipif(af, gateway)
        ill: Ill | None
        if local is not None and not flags & C.RTF_GATEWAY:
            ill = local.ill                                   # interface route (route add -interface)
        else:
            if gateway == UNSPEC[af] or local is not None:
                raise KernelError(errno.ENETUNREACH, f"gateway {gateway} is unspecified or local (R21)")
            iface = self._onlink(af, gateway, want)
            if iface is None:
                raise KernelError(errno.ENETUNREACH,
                                  f"gateway {gateway} is not on a connected subnet (R21)")
            ill = iface.ill
        for r in self._routes[af]:
            if (r.dst, r.prefixlen, r.gateway) == (dst, plen, gateway) and not r.local \
                    and (want is None or r.ill is None or self._same_lan(r.ill, want)):
                raise KernelError(errno.EEXIST, f"route {dst}/{plen} via {gateway} exists (R20)")
        if plen == MAXPLEN[af]:
            flags |= C.RTF_HOST
        route = Route(af, dst, plen, gateway, (flags | C.RTF_UP) & ~C.RTF_DONE, ill,
                      src=None if src is None else self._addr(af, src))
        self._set_metrics(route, metrics)
        self._routes[af].append(route)
        return route

    def _want_ill(self, af: int, ifindex: int | None) -> Ill | None:
        if not ifindex:
            return None
        ill = self.ill_of_index(ifindex, af)
        if ill is None:
            raise KernelError(errno.EINVAL, f"no interface with index {ifindex} (R16)")
        return ill

    def _onlink(self, af: int, gateway, want: Ill | None) -> Route | None:
        for r in self._routes[af]:
            if r.ipif is not None and not r.local and not r.test_hidden \
                    and gateway in r.network and (want is None or self._same_lan(r.ill, want)):
                return r
        return None

    @staticmethod
    def _set_metrics(route: Route, metrics: dict | None) -> None:
        """rts_setmetrics: RTT and RTTVAR arrive in µs and are stored /1000."""
        for bit, value in (metrics or {}).items():
            if bit & SETTABLE_METRICS:
                route.metrics[bit] = value // 1000 if bit & MS_METRICS else value

    @operation
    def route_delete(self, af: int, dst, mask, gateway, flags: int = 0,
                     ifindex: int | None = None) -> Route:
        """ip_rt_delete: ESRCH if not found; RTF_KERNEL routes never match (R23)."""
        dst, gateway = self._addr(af, dst), self._addr(af, gateway)
        plen = _match_plen(af, mask, flags)
        if plen is None:
            raise KernelError(errno.ESRCH, f"no route {dst} with netmask {mask} (R23)")
        dst = network_of(dst, plen).network_address
        want = self._want_ill(af, ifindex)
        for r in self._routes[af]:
            if r.flags & C.RTF_KERNEL or (r.dst, r.prefixlen) != (dst, plen):
                continue
            if r.gateway == gateway and (want is None or self._same_lan(r.ill, want)):
                self._unlink(r)
                return r
        raise KernelError(errno.ESRCH, f"no route {dst}/{plen} via {gateway} (R23)")

    def route_get(self, af: int, dst, mask=None, gateway=None, ifindex: int | None = None,
                  flags: int = 0) -> Route:
        """RTM_GET lookup: a host mask means longest match (local entries first);
        another mask is an exact prefix match; RTA_GATEWAY and RTA_IFP narrow it
        (R24, R77)."""
        dst = self._addr(af, dst)
        gateway = None if gateway is None else self._addr(af, gateway)
        plen = _match_plen(af, mask, flags)
        if plen is None:
            raise KernelError(errno.ESRCH, f"no route to {dst} with netmask {mask} (R24)")
        want = self._want_ill(af, ifindex)
        best = None
        for r in self._routes[af]:
            if r.test_hidden:                                 # no MATCH_IRE_TESTHIDDEN
                continue
            if gateway is not None and r.gateway != gateway:
                continue
            if want is not None and (r.ill is None or not self._same_lan(r.ill, want)):
                continue
            if plen == MAXPLEN[af]:
                if dst not in r.network:
                    continue
            elif (r.prefixlen, r.dst) != (plen, network_of(dst, plen).network_address):
                continue
            if best is None or (r.local, r.prefixlen) > (best.local, best.prefixlen):
                best = r
        if best is None:
            raise KernelError(errno.ESRCH, f"no route to {dst} (R24)")
        return best

    @operation
    def route_change(self, af: int, dst, mask, gateway=None, flags: int = 0,
                     ifindex: int | None = None, src=None, metrics: dict | None = None) -> Route:
        """RTM_CHANGE: new gateway, setsrc and metrics; flipping MULTIRT is EINVAL."""
        route = self.route_get(af, dst, mask, None, ifindex, flags)
        if (route.flags ^ flags) & C.RTF_MULTIRT:
            raise KernelError(errno.EINVAL, "RTM_CHANGE cannot flip RTF_MULTIRT")
        if gateway is not None:
            gateway = self._addr(af, gateway)
            if gateway != route.gateway:
                iface = self._onlink(af, gateway, None)
                if iface is None or gateway == UNSPEC[af]:
                    raise KernelError(errno.ENETUNREACH, f"gateway {gateway} is not on a connected subnet")
                route.gateway, route.ill = gateway, iface.ill
        if flags & C.RTF_SETSRC and src is not None:
            route.src = self._addr(af, src)
        self._set_metrics(route, metrics)
        return route

    def lookup(self, dst) -> Route | None:
        """Forwarding lookup (M6, M7): longest prefix, test-hidden routes excluded."""
        a = ipaddress.ip_address(dst)
        af = AF_INET if a.version == 4 else AF_INET6
        try:
            return self.route_get(af, a)
        except KernelError:
            return None

    def routes(self, af: int | None = None) -> list[Route]:
        afs = (AF_INET, AF_INET6) if af is None else (af,)
        return [r for f in afs for r in self._routes[f]]

    # ---- M22 references ----------------------------------------------------
    def route_ref(self, route: Route) -> None:
        route.refcnt += 1

    def route_unref(self, route: Route) -> None:
        route.refcnt -= 1
        if route.refcnt <= 0 and route.condemned:
            self._condemned.remove(route)

    def condemned_routes(self) -> list[Route]:
        """Deleted but still referenced (M22): gone from lookups, not yet freed."""
        return list(self._condemned)

    # ---- kernel-generated route messages (lab triggers) -------------------
    def _af_of(self, addr) -> tuple[int, object]:
        a = ipaddress.ip_address(addr)
        return (AF_INET if a.version == 4 else AF_INET6), a

    def emit_miss(self, dst) -> None:
        """RTM_MISS (R82): addrs DST, flags RTF_DONE, to all."""
        af, dst = self._af_of(dst)
        self._send(M.rtmsg(C.RTM_MISS, af, C.RTF_DONE, dst=dst), None, C.RTSQ_ALL)

    def emit_redirect(self, dst, gateway, author) -> None:
        """RTM_REDIRECT (R83); IPv6's RTA_AUTHOR is all zeros (R130)."""
        af, dst = self._af_of(dst)
        author = UNSPEC[af] if af == AF_INET6 else self._addr(af, author)
        flags = C.RTF_DYNAMIC | C.RTF_GATEWAY | C.RTF_HOST | C.RTF_DONE
        self._send(M.rtmsg(C.RTM_REDIRECT, af, flags, dst=dst, gateway=self._addr(af, gateway),
                           netmask=mask_of(af, MAXPLEN[af]), author=author), None, C.RTSQ_ALL)

    def emit_losing(self, dst, gateway) -> None:
        """RTM_LOSING (R132): IPv4 only, RTA_IFA 0.0.0.0."""
        af, dst = self._af_of(dst)
        if af != AF_INET:
            raise KernelError(errno.EAFNOSUPPORT, "RTM_LOSING is IPv4 only (R132)")
        route = self.lookup(dst)
        mask = route.netmask if route is not None else mask_of(af, 32)
        self._send(M.rtmsg(C.RTM_LOSING, af, C.RTF_DONE, dst=dst, gateway=self._addr(af, gateway),
                           netmask=mask, ifa=UNSPEC[af]), None, C.RTSQ_ALL)

    @operation
    def ioctl_addrt(self, dst, gateway, mask=None, flags: int = C.RTF_GATEWAY) -> Route:
        """SIOCADDRT: ip_rt_add, then RTM_OLDADD to all (R84)."""
        af, dst = self._af_of(dst)
        route = self.route_add(af, dst, mask, gateway, flags | (0 if mask is not None else C.RTF_HOST))
        self._send_rtmsg(C.RTM_OLDADD, route)
        return route

    @operation
    def ioctl_delrt(self, dst, gateway, mask=None, flags: int = C.RTF_GATEWAY) -> Route:
        """SIOCDELRT: ip_rt_delete, then RTM_OLDDEL to all (R84)."""
        af, dst = self._af_of(dst)
        route = self.route_delete(af, dst, mask, gateway, flags | (0 if mask is not None else C.RTF_HOST))
        self._send_rtmsg(C.RTM_OLDDEL, route)
        return route

    def _send_rtmsg(self, cmd: int, route: Route) -> None:
        """ip_rts_rtmsg: DST|GATEWAY|NETMASK (+SRC with RTF_SETSRC), flags|RTF_DONE."""
        src = route.src if route.flags & C.RTF_SETSRC else None
        self._send(M.rtmsg(cmd, route.af, route.flags | C.RTF_DONE, dst=route.dst,
                           gateway=route.gateway, netmask=route.netmask, src=src), None, C.RTSQ_ALL)
