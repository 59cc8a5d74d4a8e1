"""The lab: topologies, Mininet or sim hosts, one agent per host, faults, cleanup.

    with rtsock_emul.lab.start("ipmp-pair") as lab:
        lab.admin("h1", "ipmpstat -g")
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import LabError, TopologyError

if TYPE_CHECKING:
    from .faults import PingResult
    from .runtime import Lab, start

__all__ = ["Lab", "LabError", "PingResult", "TopologyError", "start"]


def __getattr__(name: str) -> Any:
    """Lab, start and PingResult on first use (PEP 562): `python -m rtsock_emul.lab.cleanup`
    then runs a cleanup module the package has not imported already (runpy warns otherwise)."""
    if name in ("Lab", "start"):
        from . import runtime
        return getattr(runtime, name)
    if name == "PingResult":
        from .faults import PingResult
        return PingResult
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
