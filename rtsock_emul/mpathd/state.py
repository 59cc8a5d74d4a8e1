"""in.mpathd's tables: phyints, their per-family instances, probe records
(mpd_probe.c, mpd_tables.h; R117-R120)."""
from __future__ import annotations

import collections
import enum
from dataclasses import dataclass, field

from .config import PROBE_STATS_COUNT
from .kview import IPAddress, IPNetwork


class PiState(enum.IntEnum):
    """enum pi_state ([mpd_tables.h])."""
    PI_INIT = 0
    PI_NOTARGETS = 1
    PI_RUNNING = 2
    PI_FAILED = 3
    PI_OFFLINE = 4


class PgState(enum.IntEnum):
    """enum pg_state ([mpd_tables.h])."""
    PG_OK = 1
    PG_DEGRADED = 2
    PG_FAILED = 3


class MpathdError(Exception):
    """An in.mpathd operation refused, with the libipmp error and its text."""

    def __init__(self, code: str, text: str):
        super().__init__(text)
        self.code, self.text = code, text


# libipmp error texts (ipmp_errmsg) used by if_mpadm.
IPMP_EMINRED = "no other functioning interfaces are in its IPMP group"
IPMP_EUNKIF = "not a physical interface or not in an IPMP group"
IPMP_EBADSTATE = "interface is not offline"   # phyint_undo_offline refusal
IPMP_EHWADDRDUP = "hardware address is still a duplicate"

PROBE_RECORDS_KEPT = 256


@dataclass
class ProbeRecord:
    """One probe for ipmpstat -p (sysevent ESC_IPMP_PROBE_STATE)."""
    seq: int
    ifname: str
    af: int
    target: IPAddress
    sent: float                 # clock seconds
    state: str = "sent"         # sent | acked | lost
    acked: float | None = None
    lost: float | None = None   # pr_time_lost
    tg: Target | None = field(default=None, repr=False, compare=False)   # the Target probed

    @property
    def rtt(self) -> float | None:
        return None if self.acked is None else self.acked - self.sent


@dataclass
class Target:
    """struct target: rtt state as in [mpd_probe.c] compute_crtt (ns, ms)."""
    addr: IPAddress
    is_router: bool
    crtt: int = 0                      # tg_crtt, ms; 0 = not known yet
    rtt_sa: int = -1                   # tg_rtt_sa: 8 x smoothed rtt, ns; -1 = none
    rtt_sd: int = 0                    # tg_rtt_sd: 4 x mean deviation, ns
    deferred: list[int] = field(default_factory=list)     # suspect rtts, ns
    slow_since: float | None = None    # TG_SLOW router (tg_latime), else active

    def reset_rtt(self) -> None:
        """reset_crtt_all for one target."""
        self.crtt, self.rtt_sa, self.rtt_sd = 0, -1, 0
        self.deferred.clear()


@dataclass
class GroupTiming:
    """pg_fdt / pg_probeint of struct phyint_group (ms); adapted per group."""
    fdt: int
    probeint: int


@dataclass
class PhyintInst:
    """struct phyint_instance: one address family of a phyint."""
    af: int
    test_addr: IPAddress | None = None     # None: probing disabled
    test_net: IPNetwork | None = None
    targets: list[Target] = field(default_factory=list)
    next_target: int = 0
    rtt_next: int = 0                  # pii_rtt_target_next
    snxt: int = 0                      # pii_snxt: icmp_seq of the next unicast probe
    probes: collections.deque[ProbeRecord] = field(   # pii_probes: the unicast probe window
        default_factory=lambda: collections.deque(maxlen=PROBE_STATS_COUNT))
    fd_base: float = 0.0               # pii_fd_snxt_basetime (s)
    next_when: float | None = None     # pii_snxt_time: the next tick (s)
    nlost: int = 0                     # consecutive lost probes
    nok: int = 0                       # consecutive acked probes
    quiet_until: float = 0.0           # R131
    tff: float | None = None           # time first fail of the current run of losses
    tls: float | None = None           # time last success (last ack)
    period_start: float = 0.0
    timer: object = None               # clock handle of the next tick

    @property
    def probing(self) -> bool:
        return self.test_addr is not None

    @property
    def mode(self) -> str:
        """ipmpstat -t MODE."""
        if not self.probing:
            return "disabled"
        return "routes" if any(t.is_router for t in self.targets) else "multicast"

    @property
    def active_targets(self) -> list[Target]:
        return [t for t in self.targets if t.slow_since is None]

    def probe(self, seq: int) -> ProbeRecord | None:
        """The unicast ProbeRecord with icmp_seq `seq` in the window, or None."""
        for rec in reversed(self.probes):
            if rec.seq == seq:
                return rec
        return None

    def recount(self) -> None:
        """nlost/nok/tff/tls from the window, most recent resolved probe first
        (probe_fail_info / probe_success_info): a late ack can end a run of losses."""
        self.nlost = self.nok = 0
        self.tff = None
        resolved = [r for r in self.probes if r.state != "sent"]
        acks = [r.acked for r in resolved if r.acked is not None]
        self.tls = max(acks) if acks else None
        for rec in reversed(resolved):
            if rec.state != resolved[-1].state:
                break
            if rec.state == "lost":
                self.nlost += 1
                self.tff = rec.lost
            else:
                self.nok += 1

    def reset_counts(self) -> None:
        """clear_pii_probe_stats."""
        self.nlost = self.nok = 0
        self.tff = self.tls = None
        self.probes.clear()


@dataclass
class Phyint:
    """struct phyint: an interface in.mpathd tracks."""
    name: str
    group: str                         # group name; "" = anonymous group
    state: PiState = PiState.PI_INIT
    link_up: bool = True
    linkups: collections.deque[float] = field(default_factory=lambda: collections.deque(maxlen=8))
    insts: dict[int, PhyintInst] = field(default_factory=dict)        # af -> PhyintInst
    repair_timer: object = None        # clock handle
    hwaddrdup: bool = False

    @property
    def probing(self) -> bool:
        return any(inst.probing for inst in self.insts.values())

    @property
    def has_targets(self) -> bool:
        return any(inst.targets for inst in self.insts.values() if inst.probing)
