"""Linux names the lab creates: a short run prefix + node, within IFNAMSIZ.

Every bridge and switch-side veth end carries the run prefix `ipl` + 4 hex
digits, so two labs on one machine never collide and cleanup can be exact.
Host-side interfaces are created directly inside their host's namespace
under their illumos name (`net0`), so they need no prefix.
"""
from __future__ import annotations

import os
import re
import secrets

IFNAMSIZ = 16                   # Linux: 15 bytes + NUL
MAX_IFNAME = IFNAMSIZ - 1
RUN_PREFIX = "ipl"
RUN_ID_HEX = 4                  # hex digits of a run id
PREFIX_LEN = len(RUN_PREFIX) + RUN_ID_HEX
_NET_IF = re.compile(r"^net(\d+)$")
_RUN_ID = re.compile(rf"^[0-9a-f]{{{RUN_ID_HEX}}}$")
NODE_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def new_run_id() -> str:
    """4 hex digits from the pid and randomness (collisions are re-drawn by the caller)."""
    value = (os.getpid() ^ secrets.randbits(16)) & 0xFFFF
    return f"{value:04x}"


def check_run_id(run_id: str) -> str:
    if not _RUN_ID.match(run_id or ""):
        raise ValueError(f"run id {run_id!r} must be {RUN_ID_HEX} lowercase hex digits, e.g. 3fa2")
    return run_id


def prefix(run_id: str) -> str:
    return RUN_PREFIX + check_run_id(run_id)


def short_ifname(ifname: str) -> str:
    """`net0` -> `n0`, other names unchanged (saves bytes in the switch-side name)."""
    m = _NET_IF.match(ifname)
    return f"n{m.group(1)}" if m else ifname


def bridge_suffix(switch: str) -> str:
    return switch


def port_suffix(host: str, ifname: str) -> str:
    return host + short_ifname(ifname)


def bridge_name(run_id: str, switch: str) -> str:
    return prefix(run_id) + bridge_suffix(switch)


def port_name(run_id: str, host: str, ifname: str) -> str:
    """The switch-side end of host:ifname's veth (in the root namespace)."""
    return prefix(run_id) + port_suffix(host, ifname)


def too_long(suffix: str) -> int:
    """Bytes over the limit once prefixed (0 when it fits)."""
    return max(0, PREFIX_LEN + len(suffix.encode()) - MAX_IFNAME)
