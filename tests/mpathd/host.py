"""One host as the agent wires it, for in.mpathd tests: the real kernel model on a
ManualClock, its routing messages through the real RtsHub, in.mpathd, and a
FakeProber (who answers probes is a table).

The hub defers in-agent deliveries as the agent's `loop.call_soon` does, here
with a zero-delay clock timer: in.mpathd hears a kernel operation's messages
after the operation, in the next "loop turn". `settle()` runs those turns.
Configuration goes through the kernel's ioctl-level calls (plumb,
SIOCSLIFGROUPNAME, SIOCLIFADDIF, SIOCSLIFFLAGS, SIOCADDRT, carrier).
"""
from __future__ import annotations

import ipaddress
import logging
import random
from types import SimpleNamespace
from typing import Any, Callable

from rtsock_emul.context import AgentContext
from rtsock_emul.kernel import Kernel, KernelHooks, ManualClock, Tunables
from rtsock_emul.mpathd import FakeProber, Mpathd
from rtsock_emul.rtsock.hub import RtsHub
from rtsock_emul.wire.constants import (
    AF_INET,
    AF_INET6,
    IFF_DEPRECATED,
    IFF_NOFAILOVER,
    IFF_STANDBY,
    IFF_UP,
    RTF_GATEWAY,
)

# DAD off: addresses are ready at once, so in.mpathd's clock starts at 0.
NO_DAD = Tunables.fast(arp_probe_count=0, arp_fastprobe_count=0, ndp_probe_count=0)
TEST_FLAGS = IFF_UP | IFF_NOFAILOVER | IFF_DEPRECATED


class ToHub(KernelHooks):
    def __init__(self, hub: RtsHub):
        self.hub = hub

    def rts(self, msg: Any, af: int, rtsq: int, origin: Any = None) -> None:
        self.hub.queue(msg, af, rtsq, origin)


class Host:
    def __init__(self, config: dict | None = None, *, seed: int = 1):
        self.clock = ManualClock()
        self.hub = RtsHub(defer=self._soon)
        self.kernel = Kernel(self.clock, ToHub(self.hub), NO_DAD)
        self.prober = FakeProber(self.clock)
        self.ctx = AgentContext(kernel=self.kernel, hub=self.hub, mpathd=None,
                                platform=SimpleNamespace(prober=self.prober), clock=self.clock,
                                config={"mpathd": dict(config or {})},
                                log=logging.getLogger("tests.mpathd"))
        self.md = Mpathd(self.ctx, rng=random.Random(seed))
        self.ctx.mpathd = self.md
        self._macs = 0
        self.kernel.plumb("lo0", AF_INET, loopback=True)       # ifindex 1, as a host boots
        self.kernel.set_addr("lo0", AF_INET, "127.0.0.1", 8)
        self.kernel.set_flags("lo0", AF_INET, set=IFF_UP)

    def _soon(self, fn: Callable[..., None], *args: Any) -> None:
        self.clock.call_later(0.0, lambda: fn(*args))

    def settle(self) -> None:
        """Run the loop turns due now: message deliveries and what they cause."""
        self.clock.advance(0.0)

    def start(self) -> None:
        self.settle()
        self.md.start()
        self.settle()

    # ---- configuration, as ifconfig/ipadm would do it ----------------------
    def add_if(self, name: str, group: str = "", afs: tuple[int, ...] = (AF_INET,),
               running: bool = True, ipmp: bool = False, standby: bool = False,
               up: bool = True) -> None:
        """Plumb `name` for `afs`; join `group`; STANDBY sets INACTIVE too (R95)."""
        self._macs += 1
        mac = bytes([2, 0, 0, 0, 0x0a, self._macs])
        for af in afs:
            self.kernel.plumb(name, af, mac=b"" if ipmp else mac, ipmp=ipmp, running=running)
            if group and not ipmp:
                self.kernel.set_groupname(name, af, group)
        if standby:
            self.kernel.set_flags(name, afs[0], set=IFF_STANDBY)
        if up:
            for af in afs:
                self.kernel.set_flags(name, af, set=IFF_UP)
        self.settle()

    def add_addr(self, ifname: str, af: int, addr: str, plen: int, flags: int = IFF_UP) -> str:
        """SIOCLIFADDIF + SIOCSLIFFLAGS; returns the new logical interface's name."""
        lifname = self.kernel.addif(ifname, af, addr, plen)
        if flags:
            lifname = self.kernel.set_flags(lifname, af, set=flags)
        self.settle()
        return lifname

    def add_test(self, ifname: str, af: int, addr: str, plen: int = 24,
                 flags: int = TEST_FLAGS) -> str:
        """A test address (-failover, R94 makes it DEPRECATED)."""
        return self.add_addr(ifname, af, addr, plen, flags)

    def add_route(self, dst: str, plen: int, gw: str, af: int = AF_INET) -> None:
        """A gateway route; the gateway must be on a connected subnet (R21), e.g.
        the IPMP interface's data subnet. v4: SIOCADDRT (RTM_OLDADD, R84); v6:
        ip_rt_add on the link of the link-local next hop (no message)."""
        if af == AF_INET:
            self.kernel.ioctl_addrt(dst, gw, mask=plen)
        else:
            gwa = ipaddress.ip_address(gw)
            ifindex = next(r.ifindex for r in self.kernel.routes(af)
                           if r.ipif is not None and not r.local and not r.test_hidden
                           and gwa in r.network)
            self.kernel.route_add(af, dst, plen, gw, RTF_GATEWAY, ifindex=ifindex)
        self.settle()

    def link(self, name: str, up: bool) -> None:
        """Carrier change from the datalink (E8/E9), then the loop turns it causes."""
        self.kernel.link_change(name, up)
        self.settle()

    def flags_of(self, name: str) -> int:
        """SIOCGLIFFLAGS of ipif 0 (phyint flags included)."""
        afs = [af for af in (AF_INET, AF_INET6) if af in self.kernel.phyint(name).ills]
        return self.kernel.flags(name, afs[0])


def make(config: dict | None = None, *, seed: int = 1) -> tuple[Any, Host, FakeProber, Mpathd, ManualClock]:
    """(ctx, host, prober, mpathd, clock), the shape the tests unpack."""
    host = Host(config, seed=seed)
    return host.ctx, host, host.prober, host.md, host.clock


def ipmp_group(host: Host, *members: str, standby: tuple[str, ...] = (),
               afs: tuple[int, ...] = (AF_INET,), data: bool = True) -> None:
    """ipmp0 (with data address 192.0.2.100/24 and, for v6, fe80::100/10, so gateway
    routes on the test subnet resolve, R21) and `members` in group ipmp0."""
    host.add_if("ipmp0", ipmp=True, afs=afs, up=False)
    if data:
        if AF_INET in afs:
            host.kernel.set_addr("ipmp0", AF_INET, "192.0.2.100", 24)
        if AF_INET6 in afs:
            host.kernel.set_addr("ipmp0", AF_INET6, "fe80::100", 10)
        for af in afs:
            host.kernel.set_flags("ipmp0", af, set=IFF_UP)
    for m in members:
        host.add_if(m, group="ipmp0", afs=afs, standby=m in standby)
    host.settle()
