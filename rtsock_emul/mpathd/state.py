"""in.mpathd's tables: phyints, their per-family instances, probe records
(spec §6.5, [mpd_tables.h])."""
from __future__ import annotations

import collections
import enum
from dataclasses import dataclass, field


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


# libipmp error texts (ipmp_errmsg) used by if_mpadm (spec §7).
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
    target: object
    sent: float                 # clock seconds
    state: str = "sent"         # sent | acked | lost
    acked: float | None = None

    @property
    def rtt(self) -> float | None:
        return None if self.acked is None else self.acked - self.sent


@dataclass
class Target:
    addr: object
    is_router: bool


@dataclass
class PhyintInst:
    """struct phyint_instance: one address family of a phyint."""
    af: int
    test_addr: object = None           # ipaddress or None (probing disabled)
    test_net: object = None
    targets: list = field(default_factory=list)     # [Target]
    next_target: int = 0
    seq: int = 0
    outstanding: dict = field(default_factory=dict)  # seq -> ProbeRecord
    multi_seqs: set = field(default_factory=set)
    nlost: int = 0                     # consecutive lost probes
    nok: int = 0                       # consecutive acked probes
    quiet_until: float = 0.0           # R131
    tff: float | None = None           # time first fail of the current run of losses
    tls: float | None = None           # time last success (last ack)
    period_start: float = 0.0
    timer: object = None

    @property
    def probing(self) -> bool:
        return self.test_addr is not None

    @property
    def mode(self) -> str:
        """ipmpstat -t MODE."""
        if not self.probing:
            return "disabled"
        return "routes" if any(t.is_router for t in self.targets) else "multicast"

    def reset_counts(self) -> None:
        self.nlost = self.nok = 0
        self.tff = self.tls = None
        self.outstanding.clear()
        self.multi_seqs.clear()


@dataclass
class Phyint:
    """struct phyint: an interface in.mpathd tracks."""
    name: str
    group: str                         # group name; "" = anonymous group
    state: PiState = PiState.PI_INIT
    link_up: bool = True
    linkups: collections.deque = field(default_factory=lambda: collections.deque(maxlen=8))
    insts: dict = field(default_factory=dict)        # af -> PhyintInst
    repair_timer: object = None
    hwaddrdup: bool = False

    @property
    def probing(self) -> bool:
        return any(inst.probing for inst in self.insts.values())

    @property
    def has_targets(self) -> bool:
        return any(inst.targets for inst in self.insts.values() if inst.probing)
