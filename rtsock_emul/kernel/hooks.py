"""What the kernel model wants done outside itself (docs/internals.md)."""
from __future__ import annotations


class KernelHooks:
    """Every method is a no-op; the agent/platform/tests override what they need."""

    def rts(self, msg, af: int, rtsq: int, origin=None) -> None:
        """A routing message to queue to routing sockets (rts_queue_input, R30-R41).
        `rtsq` is resolved (never RTSQ_DEFAULT); `origin` is the requesting
        socket or None for kernel-generated messages."""

    def dad_start(self, phyint: str, af: int, addr, probes: int, interval: float, first: float) -> None:
        """DAD (re)starts for `addr`, probing out of `phyint`: `probes` probes `interval`
        seconds apart, the first after `first` seconds (0: at once; R99-R101)."""

    def dad_probe(self, phyint: str, af: int, addr, probe_no: int) -> None:
        """Send DAD probe `probe_no` (1-based) for `addr` out of `phyint`:
        ARP probe (v4) or NS from :: (v6)."""

    def announce(self, phyint: str, af: int, addr) -> None:
        """Gratuitous ARP / unsolicited NA for `addr` on `phyint`."""

    def claims_changed(self) -> None:
        """The addresses a DAD claim on some interface must name to concern us
        (Kernel.claimed) changed; the first DAD probe may go before this call."""

    def changed(self) -> None:
        """Realized state (addresses, routes, bindings) changed: reconcile."""
