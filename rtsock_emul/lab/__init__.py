"""The lab: topologies, Mininet or sim hosts, one agent per host, faults, cleanup.

    with rtsock_emul.lab.start("ipmp-pair") as lab:
        lab.admin("h1", "ipmpstat -g")
"""
from .errors import LabError, TopologyError
from .faults import PingResult
from .runtime import Lab, start

__all__ = ["Lab", "LabError", "PingResult", "TopologyError", "start"]
