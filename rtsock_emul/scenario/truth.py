"""Ground truth the oracle needs, asked from the agents around every step.

Per host: ifindex -> name, and which interfaces are under IPMP (member of a
group, not the IPMP interface) with their IPMP interface; the flags of each
interface's ipif 0 per family, and the addresses `ipadm show-addr` calls
tentative (DAD not finished, M23). Parsed from the
Solaris-style `ifconfig -a` (header `NAME: flags=HEX<...> mtu N index I`,
indented `groupname G`); `ipmpstat -i -P -o INTERFACE,GROUP` is the fallback
for membership when ifconfig is not available.
"""
import ipaddress
import re
from dataclasses import dataclass, field

_HEADER = re.compile(r"^(?P<name>[^\s:]+)(?::(?P<unit>\d+))?:\s+flags=(?P<flags>[0-9a-fA-F]+)<(?P<names>[^>]*)>"
                     r"(?:.*?\bindex\s+(?P<index>\d+))?")
_GROUP = re.compile(r"^\s+groupname\s+(?P<group>\S+)")


@dataclass
class HostTruth:
    ok: bool = False                          # False: the agent could not tell us
    index: dict = field(default_factory=dict)     # ifindex -> name
    under: dict = field(default_factory=dict)     # underlying name -> IPMP interface name
    ipmp: set = field(default_factory=set)        # IPMP interface names
    flags: dict = field(default_factory=dict)     # (name, af) -> flags of ipif 0 (64-bit)
    tentative: set = field(default_factory=set)   # ip_address objects DAD has not finished
    error: str = ""


def parse_ifconfig(text):
    truth, groups, current = HostTruth(ok=True), {}, None
    for line in text.splitlines():
        m = _HEADER.match(line)
        if m:
            current = m.group("name")
            if m.group("index") and not m.group("unit"):
                truth.index[int(m.group("index"))] = current
            if not m.group("unit"):
                names = m.group("names").split(",")
                af = 2 if "IPv4" in names else 26 if "IPv6" in names else 0
                truth.flags[(current, af)] = int(m.group("flags"), 16)
            if "IPMP" in m.group("names").split(","):
                truth.ipmp.add(current)
            continue
        g = _GROUP.match(line)
        if g and current:
            groups[current] = g.group("group")
    by_group = {groups.get(i, i): i for i in truth.ipmp}
    for name, group in groups.items():
        if name not in truth.ipmp and group:
            truth.under[name] = by_group.get(group, group)
    return truth


def parse_ipmpstat(text):
    truth = HostTruth(ok=True)
    for line in text.splitlines():
        parts = re.split(r"(?<!\\):", line.strip())
        if len(parts) >= 2 and parts[0] and parts[1]:
            truth.under[parts[0]] = parts[1]
            truth.ipmp.add(parts[1])
    return truth


def parse_tentative(text):
    """Addresses in STATE tentative of `ipadm show-addr` (ADDROBJ TYPE STATE ADDR)."""
    found = set()
    for line in text.splitlines()[1:]:
        parts = line.split()
        if len(parts) >= 4 and parts[2] == "tentative":
            try:
                found.add(ipaddress.ip_interface(parts[3]).ip)
            except ValueError:
                pass
    return found


def query(admin, host):
    """HostTruth of one host; admin(host, command) -> (rc, out, err)."""
    try:
        rc, out, err = admin(host, "ifconfig -a")
        if rc == 0 and _HEADER.search(out.splitlines()[0] if out else ""):
            truth = parse_ifconfig(out)
            rc, out, _ = admin(host, "ipadm show-addr")
            truth.tentative = parse_tentative(out) if rc == 0 else None   # None: unknown
            return truth
        rc, out2, err2 = admin(host, "ipmpstat -i -P -o INTERFACE,GROUP")
        if rc == 0:
            return parse_ipmpstat(out2)
        return HostTruth(error=(err or err2 or out).strip()[:200])
    except Exception as exc:  # an agent that is gone: the oracle skips membership rules
        return HostTruth(error=f"{type(exc).__name__}: {exc}")


@dataclass
class Snapshot:
    t: float
    step: int          # taken after this step (0 = before the first step)
    hosts: dict        # host -> HostTruth
