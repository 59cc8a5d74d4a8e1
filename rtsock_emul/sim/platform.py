"""The sim platform: the kernel's link layer with no system calls (no root, no netns).

Datalinks come from the agent config (`interfaces: [{name, mac, mtu, addresses,
ip, link, conflicts, targets, loss}]`); the host boots as `platform.boot` says;
links, loss and DAD conflicts are switched
with the admin verbs `rtsock sim link|loss|conflict|show` (`admin`).
"""
from __future__ import annotations

import ipaddress
import random
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from rtsock_emul.mpathd.prober import FakeProber
from rtsock_emul.platform import LinkInfo, boot
from rtsock_emul.wire.constants import AF_INET, AF_INET6

from .verbs import SimConfigError, parse_mac, run_sim_verb

DEFAULT_MTU = 1500
_AF = {4: AF_INET, 6: AF_INET6}
_EVENTS_KEPT = 256
_REPLY_DELAY = 0.001  # seconds; replies come later, as from a wire, never inside send_probe


@dataclass
class SimLink:
    """One simulated interface's wire: carrier, loss, who else is on it."""

    name: str
    mac: bytes
    mtu: int = DEFAULT_MTU
    addresses: list = field(default_factory=list)     # ip_interface objects
    up: bool = True
    loss: int = 0                                      # percent of probes lost
    conflicts: dict = field(default_factory=dict)     # address -> MAC of the other owner


def _links(config: dict) -> list[SimLink]:
    links = []
    for i, entry in enumerate(config.get("interfaces", ())):
        try:
            name = entry["name"]
        except (KeyError, TypeError):
            raise SimConfigError(f"interfaces[{i}] needs a name: {entry!r}") from None
        mac = parse_mac(entry["mac"]) if entry.get("mac") else bytes([2, 0, 0, 0, 0, i + 1])
        link = SimLink(name, mac, int(entry.get("mtu", DEFAULT_MTU)),
                       [ipaddress.ip_interface(a) for a in entry.get("addresses", ())],
                       entry.get("link", "up") == "up", int(entry.get("loss", 0)))
        for addr in entry.get("conflicts", ()):
            link.conflicts[ipaddress.ip_address(addr)] = bytes([2, 0xde, 0xad, 0, 0, i + 1])
        links.append(link)
    return links


class SimProber(FakeProber):
    """in.mpathd's probes on simulated wires: targets answer while the link is up,
    minus `loss` percent."""

    def __init__(self, platform: "SimPlatform", clock, seed: int = 0) -> None:
        super().__init__(clock, _REPLY_DELAY)
        self.sent = deque(maxlen=_EVENTS_KEPT)  # type: ignore[assignment]  # recent probes only: the agent runs for long
        self.platform = platform
        self._random = random.Random(seed)

    def _passes(self, ifname: str) -> bool:
        link = self.platform.links.get(ifname)
        if link is None or not link.up:
            return False
        return link.loss <= 0 or (link.loss < 100 and self._random.random() * 100 >= link.loss)

    def _reply(self, ifname: str, af, target, seq) -> None:
        if self._passes(ifname):
            super()._reply(ifname, af, target, seq)


class SimPlatform:
    """Platform protocol (rtsock_emul/platform.py) with no system calls."""

    def __init__(self, config: dict, log) -> None:
        self.config, self.log = config, log
        self.links = {link.name: link for link in _links(config)}
        self.ctx: Any = None          # the agent's context, from start()
        self.prober: SimProber | None = None
        self.events: deque = deque(maxlen=_EVENTS_KEPT)  # recent (kind, ...) of announce/changed

    # -- lifecycle -----------------------------------------------------------
    def start(self, ctx) -> None:
        self.ctx = ctx
        prober = self.prober = SimProber(self, ctx.clock)
        for entry, link in zip(self.config.get("interfaces", ()), self.links.values()):
            for target in entry.get("targets", ()):
                addr = ipaddress.ip_address(target)
                key = (link.name, _AF[addr.version])
                prober.responders.setdefault(key, set()).add(addr)
                prober.multicast.setdefault(key, []).append(addr)
        boot(ctx.kernel, self, self.config.get("interfaces", ()))
        self.log.info("sim: %d datalinks: %s", len(self.links), ", ".join(self.links))

    def link_info(self, name: str) -> LinkInfo | None:
        link = self.links.get(name)
        return None if link is None else LinkInfo(link.name, link.mac, link.mtu, link.up)

    def datalinks(self) -> list[LinkInfo]:
        return [info for info in map(self.link_info, self.links) if info is not None]

    def stop(self) -> None:
        if self.prober is not None:
            self.prober.close()

    # -- kernel hooks -------------------------------------------------------------
    def dad_probe(self, phyint, af, addr, probe_no) -> None:
        link = self.links.get(phyint)
        if link is None or not link.up:
            return
        owner = link.conflicts.get(ipaddress.ip_address(addr))
        if owner is not None:  # the other owner answers the probe
            self.log.info("sim: DAD probe %d for %s on %s answered by %s",
                          probe_no, addr, phyint, owner.hex(":"))
            self.ctx.loop.call_soon(self.ctx.kernel.dad_conflict, phyint, af, addr, owner)

    def announce(self, phyint, af, addr) -> None:
        self.events.append(("announce", phyint, af, str(addr)))
        self.log.info("sim: announce %s on %s", addr, phyint)

    def claims_changed(self) -> None:
        """Nothing to filter: the sim's conflicts come from its config, not a wire."""

    def changed(self) -> None:
        # recorded, not logged: a line per route request was ~8% of a busy sim agent's CPU
        self.events.append(("changed",))

    # -- admin verbs: rtsock sim ... ---------------------------------------------
    def admin(self, argv: list[str], uid: int):
        return run_sim_verb(self, argv, uid)


def make_platform(config: dict, log) -> SimPlatform:
    return SimPlatform(config, log)
