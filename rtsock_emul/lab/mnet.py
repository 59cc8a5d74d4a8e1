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
from collections.abc import Iterator
from pathlib import Path

from mininet.link import Link
from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.node import Host, Switch

from . import naming
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
        shell = getattr(node, "shell", None)
        if shell is not None and shell.poll() is None:
            shell.kill()
            shell.wait()
        raise


class LabHost(Host):
    """A Mininet host whose shell pid is in the cleanup registry."""

    def __init__(self, name: str, registry=None, **params) -> None:
        self._registry = registry
        super().__init__(name, **params)

    def startShell(self, mnopts=None) -> None:
        with _unrecorded_killed(self):
            super().startShell(mnopts)
            if self._registry is not None:
                self.registry_entry = self._registry.process(self.pid, "host", host=self.name)


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
        # the root namespace must not take part in lab traffic: no ARP answers, no IPv6
        quiet = [f"net.ipv6.conf.{d}.disable_ipv6=1" for d in [self.dev, *ports]]
        quiet.append(f"net.ipv4.conf.{self.dev}.arp_ignore={ARP_IGNORE_ALL}")
        cmds = [f"sysctl -q -w {' '.join(quiet)}"]
        cmds += [f"ip link set {p} master {self.dev} up" for p in ports] + [f"ip link set {self.dev} up"]
        out = self.cmd(" && ".join(cmds) + " && echo ok")
        if "ok" not in out:
            raise LabError(f"cannot attach ports to bridge {self.dev}: {out.strip()}")

    def stop(self, deleteIntfs=True) -> None:
        self.cmd(f"ip link del dev {self.dev}")
        super().stop(deleteIntfs)

    def connected(self) -> bool:
        return True


def _sysctl_line(settings: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in settings.items())


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
    for host in topology.hosts.values():
        net.addHost(host.name, ip=None, registry=registry)
    for host in topology.hosts.values():      # all hosts at once, then collect: no lock-step
        settings = dict(HOST_SYSCTLS)
        if host.options.get("forwarding"):
            settings.update({"net.ipv4.ip_forward": 1, "net.ipv6.conf.all.forwarding": 1})
        net[host.name].sendCmd(f"sysctl -q -w {_sysctl_line(settings)} && echo ok")
    for host in topology.hosts.values():
        out = net[host.name].waitOutput()
        if "ok" not in out:
            raise LabError(f"host {host.name}: sysctl failed: {out.strip()}")
    for sw in topology.switches:
        net.addSwitch(sw, dev=naming.bridge_name(run_id, sw), registry=registry)
    for hname, intf in topology.links():
        port = naming.port_name(run_id, hname, intf.name)
        registry.add("link", name=port, host=hname, ifname=intf.name)
        net.addLink(intf.switch, hname, intfName1=port, intfName2=intf.name,
                    addr2=intf.mac or net.randMac())
    net.start()
    for hname, intf in topology.links():      # Mininet brought them up; only MTUs remain
        if intf.mtu:
            out = net[hname].cmd(f"ip link set {intf.name} mtu {intf.mtu} && echo ok")
            if "ok" not in out:
                raise LabError(f"host {hname} interface {intf.name}: mtu {intf.mtu}: {out.strip()}")
    bridge_netfilter_off()
    return net
