"""AgentContext: what the parts of one agent share (kernel, routing sockets,
in.mpathd, platform, clock, config, log). The agent builds it; admin verbs,
platforms and in.mpathd receive it. It sits beside platform.py in the layer
order (docs/internals.md "Layers"), below everything that receives it.
"""
from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:       # types only: in.mpathd and the platforms receive the context
    from rtsock_emul.kernel import Kernel
    from rtsock_emul.kernel.clock import Clock
    from rtsock_emul.mpathd import Mpathd
    from rtsock_emul.platform import Platform
    from rtsock_emul.rtsock.hub import RtsHub


class AddrObjs:
    """ipadm address objects: "net0/v4" -> (lifname, af)."""

    def __init__(self) -> None:
        self.table: dict[str, tuple[str, int]] = {}

    def find(self, lifname: str, af: int) -> str:
        for name, value in self.table.items():
            if value == (lifname, af):
                return name
        return ""


def _empty_store() -> dict[str, dict[str, Any]]:
    return {"if": {}, "addr": {}}


@dataclass
class AdminState:
    """What admin verbs keep between command lines of one agent (on illumos:
    ipmgmtd's address objects and ipadm's persistent store)."""

    addrobjs: AddrObjs | None = None     # made from the booted kernel on first use
    # what ipadm would have written without -t: {"if": {name: {AF_INET, AF_INET6,
    # "standby"}}, "addr": {addrobj: persistent flags}}
    ipadm_persist: dict[str, dict[str, Any]] = field(default_factory=_empty_store)


@dataclass
class AgentContext:
    """What admin verbs, platforms and in.mpathd share inside one agent."""

    kernel: Kernel
    hub: RtsHub
    platform: Platform
    clock: Clock
    config: dict[str, Any]
    log: logging.Logger
    mpathd: Mpathd | None = None          # None: in.mpathd disabled (config mpathd: false)
    loop: asyncio.AbstractEventLoop | None = None
    socket_path: str = ""
    stop: Callable[[str], object] | None = None   # stop(reason): end the agent, from its loop
    admin: AdminState = field(default_factory=AdminState)

    def privileged(self, uid: int) -> bool:
        """secpolicy_ip_config (R9): uid 0, or a uid of config `privileged_uids`."""
        return uid in self.config.get("privileged_uids", (0,))
