"""Solaris-style admin verbs run inside the agent (docs/internals.md):
`run_verb(ctx, argv, uid) -> (rc, out, err)`, dispatched by table.

`route ...` is not here: the `rtsock` command runs it as a routing-socket
client (admin/cli.py). `kernel ...` verbs are lab-only (kernelverbs.py).
"""
from __future__ import annotations

import logging

from ..mpathd import kview
from . import dladm, ifconfig, ifmpadm, ipadm, ipmpstat, kernelverbs
from .common import AdminError

log = logging.getLogger("rtsock_emul.admin")


def _ifindex(ctx, args, uid):
    """Internal helper for the rtsock command (route -ifp NAME): prints the index."""
    if len(args) != 1 or not kview.families(ctx.kernel, args[0]):
        raise AdminError(f"ifindex: {args[0] if args else ''}: no such interface")
    return 0, f"{kview.ifindex(ctx.kernel, args[0])}\n", ""


VERBS = {
    "dladm": dladm.run,
    "ipadm": ipadm.run,
    "ifconfig": ifconfig.run,
    "if_mpadm": ifmpadm.run,
    "ipmpstat": ipmpstat.run,
    "kernel": kernelverbs.run,
    "ifindex": _ifindex,
}

USAGE = ("usage: rtsock <verb> ...; verbs: " + ", ".join(sorted(VERBS)) +
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


__all__ = ["run_verb", "VERBS"]
