"""The verb table and `run_verb(ctx, argv, uid) -> (rc, out, err)`: one verb line
in the agent, dispatched by table (docs/internals.md)."""
from __future__ import annotations

import logging

from ..mpathd import kview
from ..wire.constants import AF_INET, RTF_GATEWAY
from . import dladm, ifconfig, ifmpadm, ipadm, ipmpstat, kernelverbs
from .common import AdminError, Ctx

log = logging.getLogger("rtsock_emul.admin")


def _ifindex(ctx: Ctx, args: list[str], uid: int) -> tuple[int, str, str]:
    """Internal helper for the rtsock command (route -ifp NAME): prints the index."""
    if len(args) != 1 or not kview.families(ctx.kernel, args[0]):
        raise AdminError(f"ifindex: {args[0] if args else ''}: no such interface")
    return 0, f"{kview.ifindex(ctx.kernel, args[0])}\n", ""


def _ifname(ctx: Ctx, args: list[str], uid: int) -> tuple[int, str, str]:
    """Internal verb for the preload shim's if_indextoname(3SOCKET): prints the name."""
    name = ctx.kernel.name_of_index(int(args[0])) if len(args) == 1 and args[0].isdigit() else None
    if name is None:
        raise AdminError(f"ifname: {args[0] if args else ''}: no interface has that index")
    return 0, f"{name}\n", ""


def _ifnetmasks(ctx: Ctx, args: list[str], uid: int) -> tuple[int, str, str]:
    """Internal helper for route's inet_makesubnetmask: "ADDR MASK FLAGS" (hex) of UP IPv4 lifs."""
    rows = [r for r in kview.lifs(ctx.kernel, AF_INET) if r.up]
    return 0, "".join(f"{int(r.addr):x} {int(r.network().netmask):x} {r.flags & 0xFFFFFFFF:x}\n"
                      for r in rows), ""


def _routes(ctx: Ctx, args: list[str], uid: int) -> tuple[int, str, str]:
    """Internal helper for route flush: "DST PLEN GATEWAY" of every gateway route
    (flushroutes deletes IRE_DEFAULT, IRE_PREFIX, IRE_HOST and IRE_HOST_REDIRECT)."""
    rows = [r for r in ctx.kernel.routes() if r.flags & RTF_GATEWAY and not r.local]
    return 0, "".join(f"{r.dst} {r.prefixlen} {r.gateway}\n" for r in rows), ""


VERBS = {
    "dladm": dladm.run,
    "ipadm": ipadm.run,
    "ifconfig": ifconfig.run,
    "if_mpadm": ifmpadm.run,
    "ipmpstat": ipmpstat.run,
    "kernel": kernelverbs.run,
    "ifindex": _ifindex,
    "ifname": _ifname,
    "ifnetmasks": _ifnetmasks,
    "routes": _routes,
    "ipmpstat-events": ipmpstat.events,
}
INTERNAL = {"ifindex", "ifname", "ifnetmasks", "routes", "ipmpstat-events"}     # asked by the rtsock command and the shim, not typed

USAGE = ("usage: rtsock <verb> ...; verbs: " + ", ".join(sorted(set(VERBS) - INTERNAL)) +
         ", route (run by the rtsock command)")


def run_verb(ctx, argv: list[str], uid: int) -> tuple[int, str, str]:
    """Run one verb line; never raises for bad input."""
    if not argv:
        return 2, "", USAGE + "\n"
    handler = VERBS.get(argv[0])
    if handler is None:
        return 2, "", f"rtsock: unknown verb '{argv[0]}'\n{USAGE}\n"
    try:
        return handler(ctx, list(argv[1:]), uid)
    except AdminError as exc:
        return exc.rc, "", exc.text
    except Exception as exc:   # a verb bug must not take the agent down; say what broke
        log.exception("admin verb %r failed", argv)
        return 1, "", f"{argv[0]}: internal error: {exc!r}\n"
