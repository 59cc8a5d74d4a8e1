"""An in-process agent context: the real kernel model, a hub with a recording
internal subscriber, in.mpathd with a fake prober, ManualClock time."""

import logging

from rtsock_emul.admin.dispatch import run_verb
from rtsock_emul.context import AgentContext
from rtsock_emul.kernel import Kernel, ManualClock, Tunables
from rtsock_emul.kernel.hooks import KernelHooks
from rtsock_emul.mpathd import FakeProber, Mpathd
from rtsock_emul.platform import LinkInfo, boot
from rtsock_emul.rtsock.hub import RtsHub
from rtsock_emul.wire.constants import AF_INET, AF_INET6, RTAW_DEFAULT, RTAW_UNDER_IPMP

MACS = {"net0": b"\x02\x00\x00\x00\x00\x01", "net1": b"\x02\x00\x00\x00\x00\x02",
        "net2": b"\x02\x00\x00\x00\x00\x03"}


class Hooks(KernelHooks):
    def __init__(self, hub):
        self.hub = hub

    def rts(self, msg, af, rtsq, origin=None):
        self.hub.queue(msg, af, rtsq, origin)


class Datalinks:
    """The platform's link_info/datalinks for the MACS datalinks (MTU 1500, carrier up)."""

    def __init__(self, prober):
        self.prober = prober
        self.carrier = {name: True for name in MACS}

    def link_info(self, name):
        if name not in MACS:
            return None
        return LinkInfo(name, MACS[name], 1500, self.carrier[name])

    def datalinks(self):
        return [self.link_info(name) for name in MACS]


class Lab:
    """`fresh=True`: a freshly booted host (lo0 only, every MACS entry a bare
    datalink); otherwise every datalink is plumbed for v4 and v6 (no lo0)."""

    def __init__(self, mpathd_config=None, fresh=False):
        self.clock = ManualClock()
        self.hub = RtsHub(encode=lambda m: b"")
        self.kernel = Kernel(self.clock, Hooks(self.hub), Tunables.fast())
        self.normal, self.aware = [], []
        self.hub.add_internal(lambda m, af: self.normal.append(m), rt_aware=RTAW_DEFAULT)
        self.hub.add_internal(lambda m, af: self.aware.append(m), rt_aware=RTAW_UNDER_IPMP)
        self.prober = FakeProber(self.clock)
        self.platform = Datalinks(self.prober)
        if fresh:
            boot(self.kernel, self.platform, [])
        else:
            for name, mac in MACS.items():
                for af in (AF_INET, AF_INET6):
                    self.kernel.plumb(name, af, mac=mac)
        self.ctx = AgentContext(kernel=self.kernel, hub=self.hub, clock=self.clock,
                                platform=self.platform, config={"mpathd": dict(mpathd_config or {})},
                                log=logging.getLogger("test.admin"))
        self.ctx.mpathd = Mpathd(self.ctx)
        self.ctx.mpathd.start()
        self.settle()
        self.normal.clear()
        self.aware.clear()

    def settle(self, seconds=2.0):
        self.clock.advance(seconds)

    def run(self, line, uid=0, ok=True):
        import shlex
        rc, out, err = run_verb(self.ctx, shlex.split(line), uid)
        if ok:
            assert rc == 0, f"{line!r} failed: rc={rc} err={err!r}"
        return rc, out, err

    def out(self, line, uid=0):
        return self.run(line, uid)[1]
