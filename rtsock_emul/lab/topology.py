"""Topology files (docs/scenario-language.md "Topology files"): pure description, loaded with
YAML line numbers so every error reads `topologies/x.yaml:7: host h1 ...`.

Every interface is a datalink at boot; one with `addresses` boots plumbed with
them up, one with `ip: true` boots plumbed (v4 and v6) with no address, as a
host with a persistent ipadm configuration does.

    name: ipmp-pair
    switches: [s1]
    hosts:
      h1: {interfaces: {net0: s1, net1: {switch: s1, ip: true}}}
      h2: {interfaces: {net0: {switch: s1, addresses: [192.0.2.1/24]}},
           routes: ["default via 192.0.2.254"], mpathd: {...}, options: {...}}
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..util.textfile import read_text, yaml_compose
from . import naming
from .errors import TopologyError

TOPOLOGY_DIR = Path(__file__).resolve().parents[2] / "topologies"
TOP_KEYS = {"name", "description", "switches", "hosts"}
HOST_KEYS = {"interfaces", "mpathd", "options", "routes"}
IF_KEYS = {"switch", "addresses", "ip", "mac", "mtu"}
# agent config keys a host may set (docs/internals.md "Agent")
MPATHD_KEYS = {"failure_detection_time", "failback", "quiet_period",
               "track_interfaces_only_with_groups"}
SWITCH_KEYS = ("r56a_reup_prefix", "group_recovery_renotify")     # agent config "switches"
OPTION_KEYS = {"dad_profile": ("fast", "illumos"), "forwarding": (True, False),
               **{k: (True, False) for k in SWITCH_KEYS}}
MTU_RANGE = (68, 65535)
_MAC = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")
_ROUTE = re.compile(r"^(?P<dst>\S+)\s+via\s+(?P<gw>\S+)$")


@dataclass(frozen=True)
class Interface:
    host: str
    name: str                       # illumos name inside the host: net0
    switch: str
    addresses: tuple = ()           # ipaddress.IPv4Interface / IPv6Interface
    mac: str | None = None
    mtu: int | None = None
    ip: bool = False                # boots as an IP interface (addresses imply it)

    def to_config(self) -> dict:
        """The agent's view (config `interfaces`)."""
        cfg: dict[str, object] = {"name": self.name, "addresses": [str(a) for a in self.addresses]}
        if self.ip:
            cfg["ip"] = True
        cfg.update({k: v for k, v in (("mac", self.mac), ("mtu", self.mtu)) if v is not None})
        return cfg


@dataclass(frozen=True)
class Route:
    dst: str                        # "default" or a prefix
    gateway: str


@dataclass
class Host:
    name: str
    interfaces: dict = field(default_factory=dict)   # name -> Interface
    mpathd: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    routes: tuple = ()


@dataclass
class Topology:
    name: str
    description: str
    switches: tuple
    hosts: dict                      # name -> Host
    source: str = "<mapping>"

    def links(self) -> Iterator[tuple[str, Interface]]:
        """Every (host, Interface), in file order."""
        for host in self.hosts.values():
            yield from ((host.name, i) for i in host.interfaces.values())


def load(spec) -> Topology:
    """A topology from a name under topologies/, a path, or a mapping."""
    if isinstance(spec, Topology):
        return spec
    if isinstance(spec, dict):
        return _Loader("<mapping>").topology(_PlainNode.wrap(spec))
    path = Path(spec)
    if not path.suffix and not path.exists():
        path = TOPOLOGY_DIR / f"{spec}.yaml"
    if not path.exists():
        known = ", ".join(sorted(p.stem for p in TOPOLOGY_DIR.glob("*.yaml")))
        raise TopologyError(str(spec), f"no such topology file (topologies are: {known})")
    where = _display(path)
    text = read_text(path, "topology", lambda line, what, hint: TopologyError(
        f"{where}:{line}" if line else where, f"{what}; {hint}"))
    try:
        node = yaml_compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f"{where}:{mark.line + 1}" if mark else where
        context, cmark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        started = f" ({context.removeprefix('while ')} that starts at line {cmark.line + 1})" \
            if context and cmark and mark and cmark.line != mark.line else ""
        raise TopologyError(line, f"not valid YAML: {getattr(exc, 'problem', exc)}{started}") from None
    if node is None:
        raise TopologyError(f"{where}:1", "empty topology file")
    return _Loader(where).topology(node)


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class _PlainNode:
    """Adapts a plain Python value to the yaml node shape (no line numbers)."""

    def __init__(self, value) -> None:
        self.value, self.start_mark = value, None

    @classmethod
    def wrap(cls, value: object) -> _PlainMapping | _PlainSequence | _PlainScalar:
        if isinstance(value, dict):
            return _PlainMapping([(cls.wrap(k), cls.wrap(v)) for k, v in value.items()])
        if isinstance(value, (list, tuple)):
            return _PlainSequence([cls.wrap(v) for v in value])
        return _PlainScalar(value)


class _PlainMapping(_PlainNode):
    pass


class _PlainSequence(_PlainNode):
    pass


class _PlainScalar(_PlainNode):
    pass


class _Loader:
    def __init__(self, where: str) -> None:
        self.where = where
        self._yaml = yaml.SafeLoader("")  # only to construct scalars with their tags

    # --- node helpers ------------------------------------------------------
    def err(self, node, text: str):
        mark = getattr(node, "start_mark", None)
        return TopologyError(f"{self.where}:{mark.line + 1}" if mark else self.where, text)

    def mapping(self, node: Any, what: str) -> list[tuple[str, Any, Any]]:
        if isinstance(node, (yaml.MappingNode, _PlainMapping)):
            pairs, seen = [], set()
            for knode, vnode in node.value:
                key = self.scalar(knode, f"a key of {what}")
                if key in seen:
                    raise self.err(knode, f"{what}: {key} appears twice")
                seen.add(key)
                pairs.append((str(key), knode, vnode))
            return pairs
        raise self.err(node, f"{what} must be a mapping")

    def sequence(self, node: Any, what: str) -> list:
        if isinstance(node, (yaml.SequenceNode, _PlainSequence)):
            return list(node.value)
        raise self.err(node, f"{what} must be a list")

    def scalar(self, node: Any, what: str) -> Any:
        if isinstance(node, _PlainScalar):
            return node.value
        if isinstance(node, yaml.ScalarNode):
            return self._yaml.construct_object(node)
        raise self.err(node, f"{what} must be a single value")

    def keys(self, pairs: list[tuple[str, Any, Any]], allowed: set[str], what: str, node: Any) -> dict[str, Any]:
        for key, knode, _ in pairs:
            if key not in allowed:
                raise self.err(knode, f"{what}: unknown key {key} (keys are: {', '.join(sorted(allowed))})")
        return {k: v for k, _, v in pairs}

    # --- the schema --------------------------------------------------------
    def topology(self, node) -> Topology:
        top = self.keys(self.mapping(node, "the topology"), TOP_KEYS, "topology", node)
        for required in ("name", "switches", "hosts"):
            if required not in top:
                raise self.err(node, f"topology: missing key {required}")
        name = str(self.scalar(top["name"], "name"))
        desc = str(self.scalar(top["description"], "description")) if "description" in top else ""
        switches = []
        for snode in self.sequence(top["switches"], "switches"):
            sw = str(self.scalar(snode, "a switch name"))
            self.node_name(snode, "switch", sw, naming.bridge_suffix(sw))
            if sw in switches:
                raise self.err(snode, f"switch {sw} is listed twice")
            switches.append(sw)
        hosts = {}
        for hname, knode, hnode in self.mapping(top["hosts"], "hosts"):
            if hname in switches:
                raise self.err(knode, f"host {hname}: a switch has the same name")
            hosts[hname] = self.host(hname, knode, hnode, switches)
        if not hosts:
            raise self.err(top["hosts"], "hosts: a topology needs at least one host")
        return Topology(name, desc, tuple(switches), hosts, self.where)

    def node_name(self, node, kind, name: str, suffix: str):
        if not naming.NODE_NAME.match(name):
            raise self.err(node, f"{kind} name {name!r}: use letters, digits and _ (starting with a letter)")
        over = naming.too_long(suffix)
        if over:
            raise self.err(node, f"{kind} {name}: the lab's Linux name {'ipl0000' + suffix} would be "
                                 f"{naming.PREFIX_LEN + len(suffix)} bytes, {over} over Linux's "
                                 f"{naming.MAX_IFNAME}; shorten the {kind} name")

    def host(self, hname: str, knode, hnode, switches) -> Host:
        self.node_name(knode, "host", hname, hname)
        fields = self.keys(self.mapping(hnode, f"host {hname}"), HOST_KEYS, f"host {hname}", hnode)
        host = Host(hname)
        if "interfaces" not in fields:
            raise self.err(hnode, f"host {hname}: missing key interfaces")
        for ifname, ifknode, ifnode in self.mapping(fields["interfaces"], f"host {hname} interfaces"):
            host.interfaces[ifname] = self.interface(hname, ifname, ifknode, ifnode, switches)
        if "mpathd" in fields:
            host.mpathd = self.options(fields["mpathd"], f"host {hname} mpathd", MPATHD_KEYS)
        if "options" in fields:
            host.options = self.options(fields["options"], f"host {hname} options", OPTION_KEYS)
        if "routes" in fields:
            host.routes = tuple(self.route(hname, r) for r in self.sequence(fields["routes"], f"host {hname} routes"))
        return host

    def interface(self, hname: str, ifname: str, knode, node, switches) -> Interface:
        what = f"host {hname} interface {ifname}"
        if not re.match(r"^[a-z][a-z0-9_]*\d$", ifname) or len(ifname) > naming.MAX_IFNAME:
            raise self.err(knode, f"{what}: an interface name is letters then a unit number, at most "
                                  f"{naming.MAX_IFNAME} bytes (net0, e1000g1)")
        over = naming.too_long(naming.port_suffix(hname, ifname))
        if over:
            raise self.err(knode, f"{what}: the switch-side veth name "
                                  f"{'ipl0000' + naming.port_suffix(hname, ifname)} would be {over} bytes "
                                  f"over Linux's {naming.MAX_IFNAME}; shorten the host or interface name")
        if isinstance(node, (yaml.ScalarNode, _PlainScalar)):
            fields, swnode = {}, node
        else:
            fields = self.keys(self.mapping(node, what), IF_KEYS, what, node)
            if "switch" not in fields:
                raise self.err(node, f"{what}: missing key switch")
            swnode = fields["switch"]
        sw = str(self.scalar(swnode, f"{what} switch"))
        if sw not in switches:
            raise self.err(swnode, f"{what}: unknown switch {sw} (switches are: {', '.join(switches) or 'none'})")
        addrs = []
        for anode in self.sequence(fields["addresses"], f"{what} addresses") if "addresses" in fields else ():
            text = str(self.scalar(anode, "an address"))
            try:
                if "/" not in text:
                    raise ValueError("needs a prefix length")
                addrs.append(ipaddress.ip_interface(text))
            except ValueError as exc:
                raise self.err(anode, f"{what}: bad address {text!r} ({exc}); write ADDR/PREFIXLEN, "
                                      f"e.g. 192.0.2.1/24 or \"2001:db8::1/64\"") from None
        mac = None
        if "mac" in fields:
            mac = str(self.scalar(fields["mac"], "mac"))
            if not _MAC.match(mac) or int(mac[:2], 16) & 1:
                raise self.err(fields["mac"], f"{what}: bad mac {mac!r}; write a unicast xx:xx:xx:xx:xx:xx")
        mtu = None
        if "mtu" in fields:
            mtu = self.scalar(fields["mtu"], "mtu")
            if not isinstance(mtu, int) or not MTU_RANGE[0] <= mtu <= MTU_RANGE[1]:
                raise self.err(fields["mtu"], f"{what}: mtu {mtu!r} must be an integer in {MTU_RANGE[0]}..{MTU_RANGE[1]}")
        ip = False
        if "ip" in fields:
            ip = self.scalar(fields["ip"], "ip")
            if not isinstance(ip, bool):
                raise self.err(fields["ip"], f"{what}: ip {ip!r} must be true or false (true: the "
                                             "interface boots plumbed for IPv4 and IPv6 with no address)")
        return Interface(hname, ifname, sw, tuple(addrs), mac, mtu, ip)

    def options(self, node, what, allowed) -> dict:
        out = {}
        for key, knode, vnode in self.mapping(node, what):
            if key not in allowed:
                raise self.err(knode, f"{what}: unknown key {key} (keys are: {', '.join(sorted(allowed))})")
            value = self.scalar(vnode, f"{what} {key}")
            choices = allowed[key] if isinstance(allowed, dict) else None
            if choices and value not in choices:
                raise self.err(vnode, f"{what} {key}: {value!r} is not one of {', '.join(map(str, choices))}")
            out[key] = value
        return out

    def route(self, hname: str, node) -> Route:
        text = str(self.scalar(node, "a route"))
        m = _ROUTE.match(text.strip())
        try:
            if not m:
                raise ValueError("write 'DST via GATEWAY'")
            dst = m.group("dst")
            if dst != "default":
                ipaddress.ip_network(dst)
            ipaddress.ip_address(m.group("gw"))
        except ValueError as exc:
            raise self.err(node, f"host {hname} route {text!r}: {exc} (e.g. 'default via 192.0.2.254')") from None
        return Route(dst, m.group("gw"))
