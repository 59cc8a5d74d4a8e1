"""The Mininet side of a lab: hosts (namespaces), Linux bridges, veths.

No controller, no Open vSwitch: each switch is a Linux bridge made with
iproute2 in the root namespace under the run's prefixed name, and each
host-side veth end is created directly inside its host under its illumos
name (`net0`). Everything is recorded in the cleanup registry before it is
made.
"""
from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

from mininet.link import Link
from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.node import Host, Switch

from . import naming
from .cleanup import proc_starttime
from .errors import LabError

# Inside every host (per-namespace sysctls). Lab interfaces inherit `default`.
HOST_SYSCTLS = {
    "net.ipv4.icmp_echo_ignore_broadcasts": 0,   # illumos answers all-hosts echo (mpathd targets)
    "net.ipv4.conf.all.arp_ignore": 1,           # answer ARP only on the interface with the address
    "net.ipv4.conf.all.arp_announce": 2,
    "net.ipv4.conf.all.rp_filter": 0,            # data addresses move between members
    "net.ipv4.conf.default.rp_filter": 0,
    "net.ipv4.conf.all.promote_secondaries": 1,  # removing a moved address must not take others
    "net.ipv4.conf.default.promote_secondaries": 1,
    "net.ipv6.conf.default.accept_dad": 0,       # the agent does DAD itself (illumos rules)
    "net.ipv6.conf.all.accept_dad": 0,
    "net.ipv6.conf.default.accept_ra": 0,
    "net.ipv6.conf.default.autoconf": 0,
    "net.ipv6.conf.default.dad_transmits": 0,
}
PROMPT = chr(127)      # Mininet's shell prompt
ARP_IGNORE_ALL = 8     # arp_ignore: answer no ARP request at all
# Root namespace, only when the module is loaded: bridged frames must not hit iptables.
BRIDGE_NF = ("bridge-nf-call-iptables", "bridge-nf-call-ip6tables", "bridge-nf-call-arptables")


@contextlib.contextmanager
def _unrecorded_killed(node: Host) -> Iterator[None]:
    """A shell started but interrupted (Ctrl-C, SIGTERM) before the registry recorded it
    is killed here: the lab's teardown only knows what the registry holds."""
    try:
        yield
    except BaseException:
        _kill_shells([node])
        raise


def _kill_shells(hosts) -> None:
    for node in hosts:
        shell = getattr(node, "shell", None)
        if shell is not None and shell.poll() is None:
            shell.kill()
            shell.wait()


class LabHost(Host):
    """A Mininet host whose shell is started without waiting for the prompt; build()
    waits for every host's at once (finish_shell), so N shells start in about the
    time of one, and records their pids in the cleanup registry in one write."""

    registry_entry: dict

    def startShell(self, mnopts=None) -> None:
        with _unrecorded_killed(self):
            # Mininet's startShell reads until the prompt, then runs one command: both
            # are stood in for here and done by finish_shell
            self.read, self.cmd = (lambda _size: PROMPT), (lambda *_a, **_k: "")
            try:
                super().startShell(mnopts)
            finally:
                del self.read, self.cmd

    def finish_shell(self) -> None:
        """Wait for the prompt, then send Mininet's shell set-up (collect with waitOutput)."""
        with _unrecorded_killed(self):
            while True:
                data = self.read(1024)
                if data and data[-1] == PROMPT:
                    break
                self.pollOut.poll()
            self.sendCmd("unset HISTFILE; stty -echo; set +m")


class LabLink(Link):
    """A Mininet link over a veth pair build() already made (all pairs in one batch)."""

    @classmethod
    def makeIntfPair(cls, *_args, **_kwargs):
        pass

    def stop(self):
        """Nothing per link: the bridge deletes its ports in one batch (LabBridge.stop)."""


class LabBridge(Switch):
    """A Linux bridge named `dev` (prefixed); the Mininet node keeps the topology name (s1)."""

    def __init__(self, name: str, dev=None, registry=None, **params) -> None:
        self.dev, self._registry = dev, registry
        super().__init__(name, dpid="%016x" % 1, **params)

    def startShell(self, mnopts=None) -> None:
        with _unrecorded_killed(self):
            super().startShell(mnopts)
            if self._registry is not None:
                self._registry.process(self.pid, "host", switch=self.name)

    def start(self, _controllers: list) -> None:
        self._registry.add("bridge", name=self.dev)
        out = self.cmd(f"ip link add name {self.dev} type bridge forward_delay 0 ageing_time 30000 "
                       f"mcast_snooping 0 && echo ok")
        if "ok" not in out:
            raise LabError(f"cannot create bridge {self.dev}: {out.strip()}")
        ports = [i.name for i in self.intfList() if i.name != "lo"]
        # the root namespace must not take part in lab traffic: no ARP answers, no IPv6.
        # Written here and batched (not one shell line: a tty line holds ~4 KB, 64 ports)
        conf = Path("/proc/sys/net")
        try:
            for dev in [self.dev, *ports]:
                (conf / "ipv6/conf" / dev / "disable_ipv6").write_text("1\n")
            (conf / "ipv4/conf" / self.dev / "arp_ignore").write_text(f"{ARP_IGNORE_ALL}\n")
        except OSError as exc:
            raise LabError(f"cannot quieten bridge {self.dev} and its ports: {exc}") from None
        _ip_batch([f"link set {p} master {self.dev} up" for p in ports] + [f"link set {self.dev} up"],
                  f"attach ports to bridge {self.dev}")

    def stop(self, deleteIntfs=True) -> None:
        # deleting a veth's root end deletes the pair; -force: go on past ones already gone
        ports = [i.name for i in self.intfList() if i.name != "lo"] if deleteIntfs else []
        subprocess.run(["ip", "-force", "-batch", "-"], capture_output=True, text=True,
                       input="".join(f"link del dev {p}\n" for p in [*ports, self.dev]))
        super().stop(deleteIntfs=False)

    def connected(self) -> bool:
        return True


def _sysctl_line(settings: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in settings.items())


def _ip_batch(lines: list[str], what: str) -> None:
    """iproute2 commands in the root namespace, one process for all of them."""
    if not lines:
        return
    res = subprocess.run(["ip", "-batch", "-"], input="\n".join(lines) + "\n", capture_output=True, text=True)
    if res.returncode:
        raise LabError(f"cannot {what}: {res.stderr.strip()}")


def bridge_netfilter_off() -> list[str]:
    changed = []
    for name in BRIDGE_NF:
        path = Path("/proc/sys/net/bridge") / name
        if path.exists() and path.read_text().strip() != "0":
            path.write_text("0\n")
            changed.append(name)
    return changed


def build(topology, run_id: str, registry, run_dir: Path) -> Mininet:
    """Make the network of `topology` and return the started Mininet object."""
    if os.geteuid() != 0:
        raise LabError("mininet mode needs root (network namespaces, veths); use sudo, or mode='sim'")
    setLogLevel(os.environ.get("RTSOCK_LAB_MNLOG", "warning"))
    net = Mininet(topo=None, controller=None, switch=LabBridge, host=LabHost, link=Link,
                  build=False, autoSetMacs=False, autoStaticArp=False, waitConnected=False,
                  inNamespace=False)
    started: list[LabHost] = []
    try:
        for host in topology.hosts.values():
            started.append(net.addHost(host.name, ip=None))
    except BaseException:         # the registry does not know them yet
        _kill_shells(started)
        raise
    # one registry write for all (a write per host costs ~2 ms, N of them)
    entries = registry.add_many("host", [{"pid": h.pid, "starttime": proc_starttime(h.pid), "host": h.name}
                                         for h in started])
    for h, entry in zip(started, entries):
        h.registry_entry = entry
    for host in topology.hosts.values():      # all shells started: now wait for them
        net[host.name].finish_shell()
    for host in topology.hosts.values():
        net[host.name].waitOutput()
    links = [(hname, intf, naming.port_name(run_id, hname, intf.name), net.randMac(),
              intf.mac or net.randMac()) for hname, intf in topology.links()]
    registry.add_many("link", [{"name": port, "host": hname, "ifname": intf.name}
                               for hname, intf, port, _, _ in links])
    _ip_batch([f"link add name {port} address {mac1} type veth peer name {intf.name} address {mac2} "
               f"netns {net[hname].pid}" for hname, intf, port, mac1, mac2 in links], "create veth pairs")
    for sw in topology.switches:
        net.addSwitch(sw, dev=naming.bridge_name(run_id, sw), registry=registry)
    for hname, intf, port, mac1, mac2 in links:    # Mininet's bookkeeping; the pairs exist
        net.addLink(intf.switch, hname, intfName1=port, intfName2=intf.name, addr1=mac1, addr2=mac2,
                    cls=LabLink, up=None)
    for host in topology.hosts.values():      # every host at once, then collect: no lock-step
        settings = dict(HOST_SYSCTLS)
        if host.options.get("forwarding"):
            settings.update({"net.ipv4.ip_forward": 1, "net.ipv6.conf.all.forwarding": 1})
        ups = ["ip link set lo up"] + [f"ip link set {i.name}{f' mtu {i.mtu}' if i.mtu else ''} up"
                                       for i in host.interfaces.values()]
        net[host.name].sendCmd(f"sysctl -q -w {_sysctl_line(settings)} && {' && '.join(ups)} && echo ok")
    for host in topology.hosts.values():
        out = net[host.name].waitOutput()
        if "ok" not in out:
            raise LabError(f"host {host.name}: sysctl or link up failed: {out.strip()}")
    net.built = True       # lo and the links are up: Mininet's per-host ifconfig round trips are not needed
    net.start()
    bridge_netfilter_off()
    return net
