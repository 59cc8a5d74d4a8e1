"""if_mpadm -d IF / -r IF (if_mpadm.c; R121, R122), through in.mpathd's
offline / undo-offline as on illumos (if_mpadm asks in.mpathd)."""
from __future__ import annotations

from ..kernel.errors import KernelError
from ..mpathd import kview
from ..mpathd.state import MpathdError
from ..wire.constants import IFF_NOFAILOVER, IFF_OFFLINE, IFF_UP
from .common import AdminError, Usage, need_root, parse, strerror, sync_mpathd

PROG = "if_mpadm"
USAGE = "usage: if_mpadm [-d | -r] <interface_name>"


def _lifs(ctx, ifname):
    return [r for r in kview.lifs(ctx.kernel) if r.ifname == ifname]


def run(ctx, args: list[str], uid: int) -> tuple[int, str, str]:
    opts, rest = parse(PROG, args, "d:r:", USAGE)
    if len(opts) != 1 or rest:
        raise Usage(USAGE)
    opt, ifname = opts[0]
    need_root(PROG, uid)
    md = getattr(ctx, "mpathd", None)
    if md is None:
        raise AdminError(f"{PROG}: cannot contact in.mpathd")
    if not kview.families(ctx.kernel, ifname):
        raise AdminError(f"{PROG}: cannot {'offline' if opt == '-d' else 'undo-offline'} "
                         f"{ifname}: not a physical interface or not in an IPMP group")
    offline = bool(kview.flags(ctx.kernel, ifname) & IFF_OFFLINE)
    if opt == "-d":
        if offline:
            raise AdminError(f"{PROG}: interface {ifname} is already offline")
        try:
            md.offline(ifname)
        except MpathdError as exc:
            raise AdminError(f"{PROG}: cannot offline {ifname}: {exc.text}") from None
        _set_up(ctx, ifname, up=False)        # bring down the (test) addresses
        sync_mpathd(ctx)
        return 0, "", ""
    if not offline:
        raise AdminError(f"{PROG}: interface {ifname} is not offline")
    _set_up(ctx, ifname, up=True)
    try:
        md.undo_offline(ifname)
    except MpathdError as exc:
        raise AdminError(f"{PROG}: cannot undo-offline {ifname}: {exc.text}") from None
    err = ""
    if kview.flags(ctx.kernel, ifname) & IFF_OFFLINE:
        err = f"{PROG}: warning: {ifname} is still offline\n"
    return 0, "", err


def _set_up(ctx, ifname: str, up: bool) -> None:
    """-d: every UP address down; -r: every down address up (the 0.0.0.0 stub
    too, so the interface has an UP address again)."""
    for row in _lifs(ctx, ifname):
        if bool(row.flags & IFF_UP) == up:
            continue
        if up and row.addr.is_unspecified and row.name != ifname:
            continue
        try:
            if up:
                ctx.kernel.set_flags(row.name, row.af, set=IFF_UP)
            else:
                ctx.kernel.set_flags(row.name, row.af, clear=IFF_UP)
        except KernelError as exc:
            word = "up" if up else "down"
            raise AdminError(f"{PROG}: cannot bring {word} {row.name}: {strerror(exc)}") from None


__all__ = ["run", "IFF_NOFAILOVER"]
