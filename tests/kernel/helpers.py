"""Fixtures for the kernel model: a ManualClock and a recording KernelHooks."""

from rtsock_emul.kernel import KernelHooks
from rtsock_emul.wire import constants as C

MAC0 = bytes.fromhex("020000000a00")
MAC1 = bytes.fromhex("020000000a01")
MAC2 = bytes.fromhex("020000000a02")
STRANGER = bytes.fromhex("0200000000ff")
V4, V6 = C.AF_INET, C.AF_INET6
RTSQ = {C.RTSQ_ALL: "all", C.RTSQ_UNDER_IPMP: "aware", C.RTSQ_NORMAL: "normal"}
SHORT = {k: v[len("RTM_"):] for k, v in C.RTM_NAMES.items()}


class Recorder(KernelHooks):
    def __init__(self):
        self.msgs, self.probes, self.announces, self.changes = [], [], [], 0

    def rts(self, msg, af, rtsq, origin=None):
        assert rtsq in RTSQ, f"unresolved rtsq {rtsq}"
        assert msg.af == af
        self.msgs.append((msg, af, rtsq))

    def dad_probe(self, phyint, af, addr, probe_no):
        self.probes.append((phyint, af, str(addr), probe_no))

    def announce(self, phyint, af, addr):
        self.announces.append((phyint, af, str(addr)))

    def changed(self):
        self.changes += 1

    def take(self):
        """Summaries of the messages since the last take: (TYPE, subject, af, rtsq)."""
        out = [summary(m, af, rtsq) for m, af, rtsq in self.msgs]
        self.msgs = []
        return out

    def take_msgs(self):
        out, self.msgs = self.msgs, []
        return out


def msg_type(msg):
    t = getattr(msg, "rtm_type", None) or getattr(msg, "ifam_type", None) or msg.ifm_type
    return SHORT[t]


def summary(msg, af, rtsq):
    """IFINFO -> ifname; address messages -> 'ifname addr'; route messages -> dst."""
    t = msg_type(msg)
    sas = msg.sockaddrs
    if t == "IFINFO":
        subject = sas[C.RTA_IFP].name
    elif C.RTA_IFA in sas and C.RTA_IFP in sas:
        subject = f"{sas[C.RTA_IFP].name} {sas[C.RTA_IFA].addr}"
    else:
        subject = str(sas[C.RTA_DST].addr)
    return (t, subject, 4 if af == V4 else 6, RTSQ[rtsq])








def up(kernel, clock, hooks, lifname, af=V4, addr=None, plen=24):
    """Set an address (if given; its CHGADDR is dropped), bring it up, let DAD
    finish; returns the lifname."""
    if addr is not None:
        kernel.set_addr(lifname, af, addr, plen)
        hooks.take()
    name = kernel.set_flags(lifname, af, set=C.IFF_UP)
    clock.advance(2)
    return name
