"""Kernel: the ioctl-level facade over the pure illumos model (docs/internals.md)."""
from __future__ import annotations

import random

from .addresses import Addresses
from .base import Base
from .dad import DadMixin
from .hooks import KernelHooks
from .interfaces import Interfaces
from .ipmp import Ipmp
from .model import AF_INET, AF_INET6
from .routes import Routes
from .tunables import Tunables


class Kernel(Interfaces, Addresses, Routes, Ipmp, DadMixin, Base):
    """One host's IP kernel. `clock` gives time and timers, `hooks` receives
    everything the model wants done outside; `seed` fixes DAD jitter."""

    def __init__(self, clock, hooks: KernelHooks | None = None,
                 tunables: Tunables | None = None, *, seed: int | None = 0):
        self.clock = clock
        self.hooks = hooks if hooks is not None else KernelHooks()
        self.tunables = tunables if tunables is not None else Tunables()
        self.rng = random.Random(seed)
        self._phyints: dict = {}
        self._ill_index = 1          # ips_ill_index: the next ifindex to hand out
        self._groups: dict = {}
        self._routes: dict = {AF_INET: [], AF_INET6: []}
        self._condemned: list = []
        self._deferred: list = []
        self._depth = 0
        self._signatures = None

    def _signature(self):
        """What the platform realizes: addresses, bindings, routes."""
        routes = tuple((r.af, r.dst, r.prefixlen, r.gateway, r.ifindex, r.flags)
                       for af in (AF_INET, AF_INET6) for r in self._routes[af])
        addrs = tuple((k, tuple(v)) for k, v in sorted(self.realized_addresses().items()))
        return addrs, routes
