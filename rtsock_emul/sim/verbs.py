"""`rtsock sim ...`: lab controls of the sim platform (not illumos commands)."""
from __future__ import annotations

import ipaddress
import os
from typing import TYPE_CHECKING

from rtsock_emul.platform import plumbed


class SimConfigError(ValueError):
    """A sim interface entry is wrong; the text names it."""


def parse_mac(text: str) -> bytes:
    parts = text.replace("-", ":").split(":")
    if len(parts) != 6:
        raise SimConfigError(f"MAC {text!r} is not six hex octets like 02:00:00:00:00:01")
    return bytes(int(p, 16) for p in parts)


if TYPE_CHECKING:
    from .platform import SimPlatform

# a literal, not the docstring: agents run under python -OO, which drops docstrings
USAGE = """    sim link IF up|down            carrier (R63, R64)
    sim loss IF PERCENT            probe loss seen by in.mpathd (0 clears)
    sim conflict IF ADDR [MAC]     another host owns ADDR on IF's link (DAD, R104)
    sim noconflict IF ADDR
    sim show
    sim settle                     rc 0 once no UP address waits for DAD, else rc 1
"""


class _Usage(Exception):
    pass


def _link(platform, name: str):
    try:
        return platform.links[name]
    except KeyError:
        raise _Usage(f"no sim interface {name!r}; have {', '.join(platform.links) or 'none'}") from None


def _verb_link(platform, args) -> str:
    if len(args) != 2 or args[1] not in ("up", "down"):
        raise _Usage("sim link IF up|down")
    link = _link(platform, args[0])
    link.up = args[1] == "up"
    if plumbed(platform.ctx.kernel, link.name):   # a bare datalink has no IP state to tell
        platform.ctx.kernel.link_change(link.name, link.up)
    return ""


def _verb_loss(platform, args) -> str:
    if len(args) != 2:
        raise _Usage("sim loss IF PERCENT")
    try:
        percent = int(args[1].rstrip("%"))
    except ValueError:
        raise _Usage(f"loss {args[1]!r} is not a percentage") from None
    if not 0 <= percent <= 100:
        raise _Usage(f"loss {percent} is not within 0..100")
    _link(platform, args[0]).loss = percent
    return ""


def _verb_conflict(platform, args) -> str:
    if len(args) not in (2, 3):
        raise _Usage("sim conflict IF ADDR [MAC]")
    link = _link(platform, args[0])
    mac = parse_mac(args[2]) if len(args) == 3 else bytes([2, 0xde, 0xad, 0, 0, 1])
    link.conflicts[ipaddress.ip_address(args[1])] = mac
    return ""


def _verb_noconflict(platform, args) -> str:
    if len(args) != 2:
        raise _Usage("sim noconflict IF ADDR")
    _link(platform, args[0]).conflicts.pop(ipaddress.ip_address(args[1]), None)
    return ""


def _verb_show(platform: SimPlatform, args: list[str]) -> str:
    lines = []
    for link in platform.links.values():
        conflicts = " ".join(str(a) for a in link.conflicts) or "-"
        lines.append(f"{link.name} link {'up' if link.up else 'down'} loss {link.loss}% "
                     f"mac {link.mac.hex(':')} mtu {link.mtu} conflicts {conflicts}")
    return "\n".join(lines) + ("\n" if lines else "")


def _verb_settle(platform, args) -> str:
    pending = [f"{ipif.name} {ipif.addr}" for ipif in platform.ctx.kernel.lifs()
               if ipif.up and not ipif.ready]
    if pending:
        raise _Pending("DAD pending: " + ", ".join(pending))
    return ""


class _Pending(Exception):
    pass


VERBS = {"settle": _verb_settle, "link": _verb_link, "loss": _verb_loss, "conflict": _verb_conflict,
         "noconflict": _verb_noconflict, "show": _verb_show}
_READ_ONLY = {"show", "settle"}


def run_sim_verb(platform: SimPlatform, argv: list[str], uid: int) -> tuple[int, str, str]:
    """(rc, out, err) of one `sim` verb."""
    if not argv or argv[0] not in VERBS:
        return 2, "", f"usage:\n{USAGE}"
    if argv[0] not in _READ_ONLY and uid not in (0, os.getuid()):
        return 1, "", f"sim {argv[0]}: permission denied (uid {uid})\n"
    try:
        return 0, VERBS[argv[0]](platform, argv[1:]), ""
    except _Pending as exc:
        return 1, "", f"{exc}\n"
    except (_Usage, ValueError) as exc:
        return 2, "", f"sim {argv[0]}: {exc}\n"
    except OSError as exc:  # KernelError from the model
        return 1, "", f"sim {argv[0]}: {exc}\n"
