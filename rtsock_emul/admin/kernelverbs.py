"""LAB-ONLY verbs that inject kernel events the lab cannot cause with real
packets (docs/internals.md): `kernel miss DST` (R82), `kernel redirect DST GW
AUTHOR` (R83), `kernel losing DST GW` (R132), `kernel siocaddrt|siocdelrt
DST GW [MASK]` (R84). They do not exist on illumos."""
from __future__ import annotations

from ..kernel.errors import KernelError
from .common import AdminError, Usage, need_root, strerror

PROG = "kernel"
USAGE = ("usage: kernel miss <dst> | redirect <dst> <gateway> <author> | "
         "losing <dst> <gateway> | siocaddrt|siocdelrt <dst> <gateway> [<mask>]  (lab-only)")

# verb -> (kernel method, allowed argument counts)
VERBS = {"miss": ("emit_miss", (1,)), "redirect": ("emit_redirect", (3,)),
         "losing": ("emit_losing", (2,)), "siocaddrt": ("ioctl_addrt", (2, 3)),
         "siocdelrt": ("ioctl_delrt", (2, 3))}


def run(ctx, args, uid):
    if not args or args[0] not in VERBS:
        raise Usage(USAGE)
    method, counts = VERBS[args[0]]
    if len(args) - 1 not in counts:
        raise Usage(USAGE)
    need_root(PROG, uid)
    try:
        getattr(ctx.kernel, method)(*args[1:])
    except KernelError as exc:
        raise AdminError(f"{PROG} {args[0]}: {strerror(exc)}") from None
    except ValueError as exc:
        raise AdminError(f"{PROG} {args[0]}: {exc}") from None
    return 0, "", ""
