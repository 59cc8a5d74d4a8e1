"""The platform protocol: what owns the link layer of one host (docs/internals.md "Platforms").

A platform module (`rtsock_emul.sim`, `rtsock_emul.linux`) exposes
`make_platform(config: dict, log: logging.Logger) -> Platform`. The agent builds
it before the kernel, hands it to the kernel as the `dad_probe`/`announce`/
`changed` hooks (through `PlatformHooks`), then calls `start(ctx)`.
"""
from __future__ import annotations

import importlib
from typing import Protocol

from rtsock_emul.kernel.hooks import KernelHooks

# Platform name -> module; imported only when chosen (linux pulls in pyroute2/scapy).
PLATFORMS = {"sim": "rtsock_emul.sim", "linux": "rtsock_emul.linux"}


class PlatformError(RuntimeError):
    """The platform could not be loaded or started; the text says what to do."""


class Platform(Protocol):
    """One host's link layer.

    - `start(ctx)`: plumb the host's interfaces into `ctx.kernel` (v4 and v6,
      with MAC, MTU and link state) and bring up their configured addresses.
      May return an awaitable; the agent prints READY only after it completes.
    - `stop()`: release what start made (idempotent).
    - `dad_probe(phyint, af, addr, probe_no)`, `announce(phyint, af, addr)`,
      `changed()`: the kernel hooks of the same names (kernel/hooks.py).
    - `prober`: in.mpathd's probe transport, or None (no probe-based detection).
    - `admin(argv) -> (rc, out, err)` (optional): platform verbs, reached as
      `rtsock sim ...` / `rtsock linux ...` on the admin channel.
    """

    prober: object

    def start(self, ctx): ...
    def stop(self) -> None: ...
    def dad_probe(self, phyint: str, af: int, addr, probe_no: int) -> None: ...
    def announce(self, phyint: str, af: int, addr) -> None: ...
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

    def __init__(self, hub, platform: Platform):
        self.hub, self.platform = hub, platform

    def rts(self, msg, af, rtsq, origin=None):
        self.hub.queue(msg, af, rtsq, origin)

    def dad_probe(self, phyint, af, addr, probe_no):
        self.platform.dad_probe(phyint, af, addr, probe_no)

    def announce(self, phyint, af, addr):
        self.platform.announce(phyint, af, addr)

    def changed(self):
        self.platform.changed()
