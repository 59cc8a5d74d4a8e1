"""in.mpathd configuration (/etc/default/mpathd; mpd_main.c, R110).

Keys of the agent config's "mpathd" mapping: failure_detection_time (ms),
failback, track_interfaces_only_with_groups, quiet_period (ms).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Mapping

log = logging.getLogger("rtsock_emul.mpathd")

DEFAULT_FDT_MS = 10000          # FAILURE_DETECTION_TIME in mpathd.dfl
MIN_FDT_MS = 100                # MIN_FAILURE_DETECTION_TIME (mpd_defs.h)
DEFAULT_QUIET_MS = 40000        # FAILURE_DETECTION_QP (mpd_defs.h), R131
NUM_PROBE_FAILS = 5             # R112
NUM_PROBE_REPAIRS = 10          # R113
LINK_UP_PERMIN = 2              # R114 (mpd_tables.h)
LINK_UP_WINDOW = 60.0           # seconds, "in the last minute"
MAX_PROBE_TARGETS = 5           # R116
MIN_RANDOM_FACTOR, MAX_RANDOM_FACTOR = 0.5, 1.0   # R111
MIN_PROBE_TARGETS = 3           # mpd_defs.h
NEXT_FDT_MULTIPLE = 2           # raise/lower the group FDT by this factor (mpd_probe.c)
LOWER_FDT_TRIGGER = 4           # lower it once crtt < probe interval / 4
EXCEPTION_FACTOR = 2            # a slow target's peers must be this much faster
MIN_SETTLING_TIME = 60.0        # s between an FDT increase and a decrease
MIN_RECOVERY_TIME = 60.0        # s before a slow router target is used again
MAXDEFERREDRTT = 1              # suspect rtts deferred before they count (mpd_tables.h)
PROBE_STATS_COUNT = NUM_PROBE_REPAIRS * MAX_PROBE_TARGETS + 2   # probe window (mpd_defs.h)


def _parse_fdt(value: Any) -> int:
    """R110: <= 0 or unparsable -> 10000 with an error; < 100 -> 100."""
    try:
        fdt = int(value)
    except (TypeError, ValueError):
        log.error("Invalid failure detection time %r, using default %d", value, DEFAULT_FDT_MS)
        return DEFAULT_FDT_MS
    if fdt <= 0:
        log.error("Invalid failure detection time %r, using default %d", value, DEFAULT_FDT_MS)
        return DEFAULT_FDT_MS
    return max(fdt, MIN_FDT_MS)


def _parse_bool(key: str, value: Any, default: bool) -> bool:
    """FAILBACK/TRACK_*: only yes/no (any case); booleans accepted too."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("yes", "no"):
        return value.lower() == "yes"
    log.error("Invalid value for %s: %r; keeping %s", key.upper(), value, "yes" if default else "no")
    return default


@dataclass(frozen=True)
class MpathdConfig:
    failure_detection_time: int = DEFAULT_FDT_MS    # ms
    failback: bool = True
    track_interfaces_only_with_groups: bool = True
    quiet_period: int = DEFAULT_QUIET_MS             # ms

    @property
    def probe_interval_ms(self) -> int:
        """user_probe_interval: FDT / (NUM_PROBE_FAILS + 2) ms (1428 by default)."""
        return self.failure_detection_time // (NUM_PROBE_FAILS + 2)

    @property
    def probe_interval(self) -> float:
        """R111: the user probe interval in seconds (1.428 s by default)."""
        return self.probe_interval_ms / 1000.0

    @classmethod
    def from_mapping(cls, cfg: Mapping[str, Any] | None) -> MpathdConfig:
        cfg = dict(cfg or {})
        unknown = set(cfg) - {"failure_detection_time", "failback",
                              "track_interfaces_only_with_groups", "quiet_period"}
        if unknown:
            log.error("mpathd: ignoring unknown config keys %s", sorted(unknown))
        quiet = cfg.get("quiet_period", DEFAULT_QUIET_MS)
        try:
            quiet = max(0, int(quiet))
        except (TypeError, ValueError):
            log.error("Invalid quiet_period %r, using %d", quiet, DEFAULT_QUIET_MS)
            quiet = DEFAULT_QUIET_MS
        return cls(
            failure_detection_time=_parse_fdt(cfg.get("failure_detection_time", DEFAULT_FDT_MS)),
            failback=_parse_bool("failback", cfg.get("failback", True), True),
            track_interfaces_only_with_groups=_parse_bool(
                "track_interfaces_only_with_groups",
                cfg.get("track_interfaces_only_with_groups", True), True),
            quiet_period=quiet,
        )
