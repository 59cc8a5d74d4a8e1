"""Synthetic runs for the rule oracle: a scenario, what each subscriber read (and
when), the hosts' delivery journals, and the per-step interface snapshots an
observer taking `ifconfig -a` around each step would have seen. The oracle is
pure (RunResult in, violations out), so a test can lay out exactly the timing
a loaded machine produces."""
from types import SimpleNamespace

from rtsock_emul.rtsock.journal import digest
from rtsock_emul.scenario.loader import load_text
from rtsock_emul.scenario.matcher import IfNames
from rtsock_emul.scenario.runner import RunResult
from rtsock_emul.scenario.schema import parse_scenario
from rtsock_emul.scenario.streams import Record, Streams
from rtsock_emul.scenario.truth import HostJournal
from rtsock_emul.wire import constants as C
from rtsock_emul.wire.messages import IfData, IfMsghdr, decode, encode
from rtsock_emul.wire.sockaddrs import SockaddrDl

BASE = C.IFF_UP | C.IFF_BROADCAST | C.IFF_RUNNING | C.IFF_MULTICAST | C.IFF_IPV4
INDEX = {1: "lo0", 2: "net0", 3: "net1", 4: "ipmp0"}
IFT_ETHER = 6


def ifinfo(name, flags, upper=None):
    """The bytes and decoded form of an RTM_IFINFO about `name` (AF_INET); `upper`: the
    IPMP interface it is under (its RTA_IFP then carries that index, R46)."""
    index = next(i for i, n in INDEX.items() if n == name)
    sdl_index = next(i for i, n in INDEX.items() if n == upper) if upper else index
    ipmp = name.startswith("ipmp")
    msg = IfMsghdr(ifm_type=C.RTM_IFINFO, ifm_flags=flags & 0xFFFFFFFF, ifm_index=index,
                   ifm_data=IfData(ifi_type=IFT_ETHER, ifi_mtu=1500),
                   sockaddrs={C.RTA_IFP: SockaddrDl(sdl_index=sdl_index, sdl_type=IFT_ETHER, name=name,
                                                    lladdr=b"" if ipmp else bytes([2, 0, 0, 0, 0, index]),
                                                    sdl_alen=6)},
                   af=C.AF_INET)
    raw = encode(msg)
    return raw, decode(raw)


def newaddr(name, addr, prefixlen=24):
    """The bytes and decoded form of an RTM_NEWADDR of addr on `name`."""
    import ipaddress

    from rtsock_emul.wire.messages import IfaMsghdr
    from rtsock_emul.wire.sockaddrs import SockaddrIn
    index = next(i for i, n in INDEX.items() if n == name)
    mask = ipaddress.IPv4Network(f"0.0.0.0/{prefixlen}").netmask
    msg = IfaMsghdr(ifam_type=C.RTM_NEWADDR, ifam_flags=C.RTF_UP, ifam_index=index,
                    sockaddrs={C.RTA_NETMASK: SockaddrIn(mask),
                               C.RTA_IFP: SockaddrDl(sdl_index=index, sdl_type=IFT_ETHER, name=name,
                                                     lladdr=bytes([2, 0, 0, 0, 0, index]), sdl_alen=6),
                               C.RTA_IFA: SockaddrIn(ipaddress.IPv4Address(addr)),
                               C.RTA_BRD: SockaddrIn(ipaddress.IPv4Address(0))}, af=C.AF_INET)
    raw = encode(msg)
    return raw, decode(raw)


class SyntheticRun:
    """Build a RunResult by hand. Subscribers get journal idents 1, 2, ... in file order."""

    def __init__(self, text, host="h1"):
        self.sc = parse_scenario(load_text(text, "synthetic.scenario.yaml"), "synthetic.scenario.yaml")
        self.host = host
        self.res = RunResult(self.sc, "sim")
        self.res.streams = Streams(self.sc.subscribers, t0=0.0)
        self.res.idents = {n: i + 1 for i, n in enumerate(self.sc.subscribers)}
        self.res.names = {host: IfNames(INDEX)}
        self.res.snapshots = []          # what a per-step `ifconfig -a` observer saw
        self.entries, self.seq = [], 0
        self.flags = {"net0": BASE, "net1": BASE, "ipmp0": BASE | C.IFF_IPMP}
        self.under = {}
        self.base = self._state()

    def _state(self):
        return {"index": {str(i): n for i, n in INDEX.items()}, "under": dict(self.under),
                "ipmp": ["ipmp0"], "flags": {f"{n} {C.AF_INET}": f for n, f in self.flags.items()},
                "tentative": []}

    def _add(self, entry):
        entry["seq"], entry["t"] = self.seq, float(self.seq)
        self.seq += 1
        self.entries.append(entry)

    def set(self, name, flags=None, under=...):
        """The kernel changes name's flags or membership (a state entry)."""
        if flags is not None:
            self.flags[name] = flags
        if under is not ...:
            if under:
                self.under[name] = under
            else:
                self.under.pop(name, None)
        self._add({"kind": "state", "state": self._state()})

    def queue(self, raw, to, rtsq=C.RTSQ_ALL):
        """The hub queues raw and delivers it to the subscribers named in `to`."""
        kind = raw[3]
        self._add({"kind": "msg", "type": kind, "af": C.AF_INET, "rtsq": rtsq, "index": raw[12],
                   "addrs": decode(raw).addrs(), "pid": 0, "len": len(raw), "digest": digest(raw), "origin": None,
                   "to": [self.res.idents[s] for s in to], "dropped": [], "shut": []})

    def read(self, sub, raw_msg, t, step):
        raw, msg = raw_msg
        self.res.streams.by_sub[sub].append(Record(t, sub, raw, msg, "", step))

    def snapshot(self, step, t):
        """What `ifconfig -a` showed after `step` (the model the old oracle used)."""
        truth = SimpleNamespace(ok=True, index=dict(INDEX), under=dict(self.under), ipmp={"ipmp0"},
                                flags={(n, C.AF_INET): f for n, f in self.flags.items()}, tentative=set())
        self.res.snapshots.append(SimpleNamespace(t=t, step=step, hosts={self.host: truth}))

    def result(self):
        journal = HostJournal(self.host)
        journal.add_page({"first": 0, "next": 0, "end": 0, "lost": 0, "entries": [], "state": self.base})
        journal.add_page({"first": 0, "next": self.seq, "end": self.seq, "lost": 0,
                          "entries": self.entries, "state": self._state()})
        journal.marks["open"] = 0
        self.res.journals = {self.host: journal}
        return self.res
