"""The platform protocol: what owns the link layer of one host (docs/internals.md "Platforms").

A platform module (`rtsock_emul.sim`, `rtsock_emul.linux`) exposes
`make_platform(config: dict, log: logging.Logger) -> Platform`. The agent builds
it before the kernel, hands it to the kernel as the `dad_probe`/`announce`/
`changed` hooks (through `PlatformHooks`), then calls `start(ctx)`.
"""
from __future__ import annotations

import errno
import importlib
import ipaddress
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from rtsock_emul.kernel.errors import KernelError
from rtsock_emul.kernel.hooks import KernelHooks
from rtsock_emul.wire.constants import AF_INET, AF_INET6, IFF_UP

if TYPE_CHECKING:
    from rtsock_emul.mpathd.prober import Prober
    from rtsock_emul.rtsock.hub import RtsHub

# Platform name -> module; imported only when chosen (linux opens netlink and packet sockets).
PLATFORMS = {"sim": "rtsock_emul.sim", "linux": "rtsock_emul.linux"}


class PlatformError(RuntimeError):
    """The platform could not be loaded or started; the text says what to do."""


@dataclass(frozen=True)
class LinkInfo:
    """A datalink as dladm/DLPI see it: what an IP interface is plumbed on."""

    name: str
    mac: bytes
    mtu: int
    running: bool                 # carrier
    cls: str = "phys"             # dladm CLASS


class NoDatalink(KernelError):
    """Plumbing a name that is not a datalink (libipadm IPADM_DLPI_FAILURE)."""

    def __init__(self, name: str) -> None:
        super().__init__(errno.ENXIO, f"{name}: no such datalink")


class Platform(Protocol):
    """One host's link layer.

    - `start(ctx)`: boot the host (`boot` below): lo0, then the datalinks the
      topology configures as IP interfaces, with their addresses up; the
      other datalinks stay unplumbed until an admin verb plumbs them.
      May return an awaitable; the agent prints READY only after it completes.
    - `link_info(name) -> LinkInfo | None`: the datalink called `name` (MAC,
      MTU, carrier now), or None when there is none. `datalinks()`: all of them,
      in the order of the topology.
    - `stop()`: release what start made (idempotent).
    - `dad_probe(phyint, af, addr, probe_no)`, `announce(phyint, af, addr)`,
      `changed()`: the kernel hooks of the same names (kernel/hooks.py).
    - `prober`: in.mpathd's probe transport, or None (no probe-based detection).
    - `admin(argv) -> (rc, out, err)` (optional): platform verbs, reached as
      `rtsock sim ...` / `rtsock linux ...` on the admin channel.
    """

    @property
    def prober(self) -> Prober | None: ...     # read-only here: each platform keeps its own kind

    def start(self, ctx: Any) -> Awaitable[None] | None: ...
    def link_info(self, name: str) -> LinkInfo | None: ...
    def datalinks(self) -> list[LinkInfo]: ...
    def stop(self) -> None: ...
    def dad_probe(self, phyint: str, af: int, addr, probe_no: int) -> None: ...
    def announce(self, phyint: str, af: int, addr) -> None: ...
    def claims_changed(self) -> None: ...
    def changed(self) -> None: ...


def load(name: str, config: dict, log) -> Platform:
    """The platform called `name` ("sim" or "linux"), built from the agent config."""
    try:
        module_name = PLATFORMS[name]
    except KeyError:
        raise PlatformError(f"unknown platform {name!r}; choose one of {', '.join(PLATFORMS)}") from None
    module = importlib.import_module(module_name)
    make = getattr(module, "make_platform", None)
    if make is None:
        raise PlatformError(f"{module_name} has no make_platform(config, log); "
                            "see docs/internals.md 'Platforms'")
    return make(config, log)


class PlatformHooks(KernelHooks):
    """The kernel's hooks: routing messages to the hub, link-layer work to the platform."""

    def __init__(self, hub: RtsHub, platform: Platform) -> None:
        self.hub, self.platform = hub, platform

    def rts(self, msg, af, rtsq, origin=None) -> None:
        self.hub.queue(msg, af, rtsq, origin)

    def dad_start(self, phyint: str, af: int, addr: Any, probes: int, interval: float, first: float) -> None:
        journal = self.hub.journal
        if journal is not None:       # the anchor of the packets step's `first` (R100)
            journal.dad_start(phyint, af, addr, probes, interval, first)

    def dad_probe(self, phyint: str, af: int, addr: Any, probe_no: int) -> None:
        self.platform.dad_probe(phyint, af, addr, probe_no)

    def announce(self, phyint, af, addr) -> None:
        self.platform.announce(phyint, af, addr)

    def claims_changed(self) -> None:
        self.platform.claims_changed()

    def changed(self) -> None:
        self.platform.changed()


LOOPBACK = "lo0"
LOOPBACK_ADDRS = ((AF_INET, "127.0.0.1", 8), (AF_INET6, "::1", 128))


def plumbed(kernel, name: str) -> bool:
    try:
        kernel.phyint(name)
    except KernelError:
        return False
    return True


def plumb_link(kernel, platform: Platform, name: str, af: int) -> None:
    """ipadm create-ip / ifconfig plumb of one family on a datalink: with the
    link's real MAC, MTU and carrier; no datalink is NoDatalink. As in
    ipadm_create_if, a plumbed family is EEXIST before any DLPI open, and lo0
    is the loopback, not a datalink."""
    if plumbed(kernel, name) and af in kernel.phyint(name).ills:
        raise KernelError(errno.EEXIST, f"{name} is already plumbed")
    if name == LOOPBACK:
        kernel.plumb(name, af, loopback=True)
        return
    info = platform.link_info(name)
    if info is None:
        raise NoDatalink(name)
    kernel.plumb(name, af, mac=info.mac, mtu=info.mtu, running=info.running)


def bring_up(kernel, name: str, addresses) -> None:
    """Addresses (ip_interface) up on `name`: the first of a family on ipif 0."""
    used = set()
    for iface in addresses:
        iface = ipaddress.ip_interface(iface)
        af = AF_INET if iface.version == 4 else AF_INET6
        if af not in used:
            used.add(af)
            kernel.set_addr(name, af, iface.ip, iface.network.prefixlen)
            lifname = name
        else:
            lifname = kernel.addif(name, af, iface.ip, iface.network.prefixlen)
        kernel.set_flags(lifname, af, set=IFF_UP)


def boot(kernel, platform: Platform, entries) -> list[str]:
    """A freshly booted illumos host: lo0 first (ifindex 1, as
    svc:/network/loopback creates it), then, in topology order, each datalink
    whose entry has `addresses` or `ip: true` plumbed for v4 and v6 (as
    `ipadm create-ip`) with its addresses up. Returns the names plumbed."""
    for af, addr, plen in LOOPBACK_ADDRS:
        kernel.plumb(LOOPBACK, af, loopback=True)
        kernel.set_addr(LOOPBACK, af, addr, plen)
        kernel.set_flags(LOOPBACK, af, set=IFF_UP)
    names = []
    for entry in entries:
        if not entry.get("addresses") and not entry.get("ip"):
            continue
        for af in (AF_INET, AF_INET6):
            plumb_link(kernel, platform, entry["name"], af)
        bring_up(kernel, entry["name"], entry.get("addresses", ()))
        names.append(entry["name"])
    return names
