"""Kernel tunables: DAD timing (R99-R109; ip_ndp.c, ip_tunables.c) and code-derived switches."""
from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Tunables:
    """illumos defaults, in **seconds** (illumos gives ms). Names follow the
    ndd/ipadm properties without the leading underscore.

    - IPv4: `arp_fastprobe_*` with link notifications (and not 169.254/16),
      `arp_probe_*` without (R99). Count 0 disables probing. The first probe
      waits a random 1 ms..interval when the selected delay is non-zero, else
      goes at once (R100; the selection is inverted in illumos, kept here).
    - IPv6: `ndp_probe_count` NS from :: (ND_MAX_UNICAST_SOLICIT), the first at
      once, spaced `ndp_fastprobe_interval` (ILL_PROBE_INTERVAL with link
      notifications) or `ndp_probe_interval`; ready one interval after the last (R101).
    - `dup_recovery`: R106 retry timer (0 = never). `max_defend`,
      `max_temp_defend`, `defend_interval`: R108. `arp_no_defense`: v4 ready at once.
    - `r56a_reup_prefix` (default False; code-derived, never seen live, R56a):
      SIOCSLIFFLAGS +UP on a down address first sends IFINFO (ipif 0 only, UP
      clear) => RTM_DELETE => RTM_DELADDR for the still-down address, because
      ip_sioctl_flags runs ipif_down/ipif_down_tail before ipif_up.
    - `group_recovery_renotify` (default True; code-derived from
      ipmp_ill_activate/ill_restart_dad/nce_timer): the IPMP link-down clears
      the data addresses' addr_ready, so when the first member reactivates they
      re-run DAD on it and then IFINFO (slot 0) => NEWADDR => ADD go to all
      sockets again. False: data addresses stay ready; recovery sends only the
      IPMP interface's IFINFO.
    """

    arp_probe_delay: float = 1.0
    arp_fastprobe_delay: float = 0.1
    arp_probe_interval: float = 1.5
    arp_fastprobe_interval: float = 0.15
    arp_probe_count: int = 3
    arp_fastprobe_count: int = 3
    arp_no_defense: bool = False
    ndp_probe_count: int = 3
    ndp_probe_interval: float = 1.5
    ndp_fastprobe_interval: float = 0.15
    dup_recovery: float = 300.0
    max_defend: int = 3
    max_temp_defend: int = 1
    defend_interval: float = 30.0
    r56a_reup_prefix: bool = False
    group_recovery_renotify: bool = True

    @classmethod
    def fast(cls, **overrides) -> "Tunables":
        """Lab profile: 3 probes 50 ms apart (v4 first probe after 1..50 ms,
        v6 at once) so DAD takes ~0.15-0.2 s; DUPLICATE retried after 5 s."""
        base = cls(arp_probe_interval=0.05, arp_fastprobe_interval=0.05,
                   ndp_probe_interval=0.05, ndp_fastprobe_interval=0.05, dup_recovery=5.0)
        return replace(base, **overrides)

    @classmethod
    def profile(cls, name: str, **overrides) -> "Tunables":
        """`illumos` (the defaults) or `fast` (the agent's --config "dad")."""
        if name == "fast":
            return cls.fast(**overrides)
        if name == "illumos":
            return replace(cls(), **overrides)
        raise ValueError(f"unknown DAD profile {name!r}: use 'fast' or 'illumos'")
