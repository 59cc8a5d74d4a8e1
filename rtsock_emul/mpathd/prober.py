"""The Prober protocol: how in.mpathd sends ICMP probes through a platform.

`ctx.platform.prober` (None when the platform cannot probe: probe-based
detection is then off and only link-based detection runs). Every method is
called on the agent's event-loop thread; the prober must call the reply
handler on that thread too (e.g. `loop.call_soon_threadsafe`).

- `set_reply_handler(handler, with_payload=False)`: `handler(ifname, af,
  target, seq)` for each ICMP(v6) echo reply received on `ifname` for one of
  our probes; `target` is the replying address (an `ipaddress` object), `seq`
  the icmp_seq we sent. With `with_payload=True` (in.mpathd's way) it is
  `handler(ifname, af, target, seq, payload)` with the echoed bytes after the
  ICMP header: in.mpathd tells unicast, multicast and RTT replies apart by
  pr_icmp_mtype, since only unicast probes consume icmp_seq numbers.
- `send_probe(ifname, af, src, dst, seq, payload)`: one unicast echo request
  from test address `src` out of `ifname` (never via another member), with
  icmp_seq `seq` and the bytes `payload` (see `probe_payload`) after the 8-byte
  ICMP header.
- `discover_targets(ifname, af, src, seq, payload)`: one echo request to
  224.0.0.1 / ff02::1 from `src` on `ifname`; each responder is reported
  through the reply handler with this `seq` (multicast targets, R116).
- `close()`: stop receiving.
"""
from __future__ import annotations

import struct
from typing import Callable, Iterable, Protocol

from ..kernel.clock import Clock
from .kview import IPAddress

# struct pr_icmp after the ICMP header: pr_hrtime_ns (u64, network order),
# pr_mtype (u32): struct pr_icmp of mpd_probe.c.
PR_ICMP_TAIL = struct.Struct("!QI")
PROBE_UNI, PROBE_MULTI, PROBE_RTT = 0x1234, 0x5678, 0x9ABC     # [mpd_probe.c]

# handler(ifname, af, target, seq[, payload])
ReplyHandler = Callable[..., None]


class Prober(Protocol):
    def set_reply_handler(self, handler: ReplyHandler, with_payload: bool = False) -> None: ...
    def send_probe(self, ifname: str, af: int, src: IPAddress, dst: IPAddress, seq: int,
                   payload: bytes) -> None: ...
    def discover_targets(self, ifname: str, af: int, src: IPAddress, seq: int,
                         payload: bytes) -> None: ...
    def forget(self, ifname: str, af: int, src: IPAddress) -> None: ...  # that test address is gone
    def close(self) -> None: ...


def probe_payload(now_ns: int, mtype: int) -> bytes:
    return PR_ICMP_TAIL.pack(now_ns & 0xFFFFFFFFFFFFFFFF, mtype)


def parse_payload(payload: bytes | None) -> tuple[int, int] | None:
    """(pr_icmp_timestamp ns, pr_icmp_mtype) of an echoed probe, None if short."""
    if payload is None or len(payload) < PR_ICMP_TAIL.size:
        return None
    return PR_ICMP_TAIL.unpack_from(payload)


class FakeProber:
    """A prober for tests and the sim platform: who answers is a table.

    `responders[(ifname, af)]` is the set of target addresses that answer on
    that interface; `multicast[(ifname, af)]` the addresses that answer the
    all-hosts echo. `delay` seconds later (via `clock`, 0 = at once) the reply
    handler gets the answer. `sent` records every probe for assertions.
    """

    def __init__(self, clock: Clock | None = None, delay: float = 0.0):
        self.clock, self.delay = clock, delay
        self.responders: dict[tuple[str, int], set[IPAddress]] = {}
        self.multicast: dict[tuple[str, int], list[IPAddress]] = {}
        # (kind, ifname, af, src, dst, seq) of every probe sent
        self.sent: list[tuple[str, str, int, IPAddress, IPAddress | None, int]] = []
        self._handler: ReplyHandler | None = None
        self._with_payload = False
        self._payload: bytes | None = None    # of the probe being answered (see _reply)
        # (ifname, af, src) probed from and not forgotten (a socket each)
        self.sources: set[tuple[str, int, IPAddress]] = set()

    def forget(self, ifname: str, af: int, src: IPAddress) -> None:
        self.sources.discard((ifname, af, src))

    def set_reply_handler(self, handler: ReplyHandler, with_payload: bool = False) -> None:
        self._handler, self._with_payload = handler, with_payload

    def answer(self, ifname: str, af: int, targets: Iterable[IPAddress]) -> None:
        """Make `targets` (addresses) answer probes on ifname (empty = 100% loss)."""
        self.responders[(ifname, af)] = set(targets)

    def delay_for(self, ifname: str, af: int, target: IPAddress) -> float:
        """Seconds until `target` answers (override or set `delay`)."""
        return self.delay

    def _reply(self, ifname: str, af: int, target: IPAddress, seq: int) -> None:
        # Subclasses override _reply(ifname, af, target, seq) to drop replies, so
        # the echoed payload travels in self._payload, set by the sender.
        handler = self._handler
        if handler is None:
            return
        args = (ifname, af, target, seq) + ((self._payload,) if self._with_payload else ())
        delay = self.delay_for(ifname, af, target)
        if self.clock is None or delay <= 0:
            handler(*args)
        else:
            self.clock.call_later(delay, lambda: self._late_reply(args))

    def _late_reply(self, args: tuple[object, ...]) -> None:
        if self._handler is not None:
            self._handler(*args)

    def send_probe(self, ifname: str, af: int, src: IPAddress, dst: IPAddress, seq: int,
                   payload: bytes) -> None:
        kind = "rtt" if (parse_payload(payload) or (0, PROBE_UNI))[1] == PROBE_RTT else "uni"
        self.sent.append((kind, ifname, af, src, dst, seq))
        self.sources.add((ifname, af, src))
        if dst in self.responders.get((ifname, af), ()):
            self._payload = payload
            self._reply(ifname, af, dst, seq)

    def discover_targets(self, ifname: str, af: int, src: IPAddress, seq: int,
                         payload: bytes) -> None:
        self.sent.append(("multi", ifname, af, src, None, seq))
        self.sources.add((ifname, af, src))
        for target in self.multicast.get((ifname, af), ()):
            if target in self.responders.get((ifname, af), ()):
                self._payload = payload
                self._reply(ifname, af, target, seq)

    def close(self) -> None:
        self._handler = None
