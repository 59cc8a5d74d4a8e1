"""A small stand-in for the kernel model: the query/ioctl surface in.mpathd
uses (lifs, lif, phyint, set_flags, routes), with the phyint flag rules of
R95/R96 and an RTM_IFINFO-like notification to internal subscribers."""
from __future__ import annotations

import errno
import ipaddress
from dataclasses import dataclass, field
from types import SimpleNamespace

from rtsock_emul.kernel.clock import ManualClock
from rtsock_emul.kernel.errors import KernelError
from rtsock_emul.mpathd import FakeProber, Mpathd
from rtsock_emul.wire.constants import (
    AF_INET,
    IFF_DEPRECATED,
    IFF_FAILED,
    IFF_INACTIVE,
    IFF_IPMP,
    IFF_IPV4,
    IFF_IPV6,
    IFF_MULTICAST,
    IFF_NOFAILOVER,
    IFF_RUNNING,
    IFF_STANDBY,
    IFF_UP,
    RTM_IFINFO,
)

PHYINT_BITS = IFF_RUNNING | IFF_FAILED | IFF_STANDBY | IFF_INACTIVE | IFF_IPMP | (1 << 31)


@dataclass
class FPhy:
    name: str
    ifindex: int
    flags: int
    group: str = ""


@dataclass
class FLif:
    name: str
    af: int
    addr: object
    prefixlen: int
    ipif_flags: int
    phy: FPhy = field(repr=False)

    @property
    def flags(self):
        fam = IFF_IPV4 if self.af == AF_INET else IFF_IPV6
        return self.ipif_flags | self.phy.flags | IFF_MULTICAST | fam


class FakeHub:
    def __init__(self):
        self.internal = []

    def add_internal(self, cb, *, proto=0, rt_aware=0):
        sub = (cb, proto, rt_aware)
        self.internal.append(sub)
        return sub

    def remove_internal(self, sub):
        self.internal.remove(sub)

    def notify(self, ifindex, af=AF_INET):
        msg = SimpleNamespace(ifm_type=RTM_IFINFO, ifm_index=ifindex)
        for cb, proto, _ in list(self.internal):
            if proto in (0, af):
                cb(msg, af)


class FakeKernel:
    def __init__(self, hub):
        self.hub = hub
        self.phys: dict[str, FPhy] = {}
        self.lif_list: list[FLif] = []
        self.route_list: list[SimpleNamespace] = []
        self.flag_log: list[tuple] = []

    # setup helpers
    def add_if(self, name, group="", afs=(AF_INET,), running=True, ipmp=False, standby=False,
               up=True):
        flags = (IFF_RUNNING if running else 0) | (IFF_IPMP if ipmp else 0)
        flags |= (IFF_STANDBY | IFF_INACTIVE) if standby else 0
        phy = self.phys[name] = FPhy(name, len(self.phys) + 1, flags, group)
        for af in afs:
            zero = "0.0.0.0" if af == AF_INET else "fe80::ff:%x" % phy.ifindex
            self.lif_list.append(FLif(name, af, ipaddress.ip_address(zero), 0 if af == AF_INET else 10,
                                      IFF_UP if up else 0, phy))
        return phy

    def add_test(self, ifname, af, addr, plen=24, unit=1, flags=IFF_UP | IFF_NOFAILOVER | IFF_DEPRECATED):
        lif = FLif(f"{ifname}:{unit}", af, ipaddress.ip_address(addr), plen, flags, self.phys[ifname])
        self.lif_list.append(lif)
        return lif

    def add_route(self, dst, plen, gw, af=AF_INET):
        self.route_list.append(SimpleNamespace(dst=ipaddress.ip_address(dst), prefixlen=plen,
                                               gateway=ipaddress.ip_address(gw), af=af))

    def link(self, name, up):
        phy = self.phys[name]
        phy.flags = (phy.flags | IFF_RUNNING) if up else (phy.flags & ~IFF_RUNNING)
        self.hub.notify(phy.ifindex)

    def flags_of(self, name):
        return self.phys[name].flags

    # the kernel surface in.mpathd uses
    def lifs(self, af=None, under_ipmp=True):
        return [l for l in self.lif_list if af is None or l.af == af]

    def lif(self, lifname, af):
        for l in self.lif_list:
            if l.name == lifname and l.af == af:
                return l
        raise KernelError(errno.ENXIO, lifname)

    def phyint(self, name):
        if name not in self.phys:
            raise KernelError(errno.ENXIO, name)
        return self.phys[name]

    def routes(self, af=None):
        return [r for r in self.route_list if af is None or r.af == af]

    def set_flags(self, lifname, af, set=0, clear=0):
        phy = self.phys[lifname.split(":")[0]]
        new = (phy.flags | (set & PHYINT_BITS)) & ~(clear & PHYINT_BITS)
        if set & IFF_STANDBY and not set & IFF_FAILED:
            new |= IFF_INACTIVE                      # R95
        if new & IFF_FAILED and new & IFF_INACTIVE:
            raise KernelError(errno.EINVAL, "FAILED and INACTIVE")   # R96
        self.flag_log.append((phy.name, set, clear))
        if new != phy.flags:
            phy.flags = new
            self.hub.notify(phy.ifindex)


def make(config=None, *, seed=1):
    import random
    clock = ManualClock()
    hub = FakeHub()
    kernel = FakeKernel(hub)
    prober = FakeProber(clock)
    ctx = SimpleNamespace(kernel=kernel, hub=hub, clock=clock, platform=SimpleNamespace(prober=prober),
                          config={"mpathd": dict(config or {})}, mpathd=None)
    md = Mpathd(ctx, rng=random.Random(seed))
    ctx.mpathd = md
    return ctx, kernel, prober, md, clock
