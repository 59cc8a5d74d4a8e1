"""if_mpadm -d IF / -r IF (R121, R122), through in.mpathd's offline and
undo-offline as if_mpadm.c does (ipmp_offline / ipmp_undo_offline), with its
`if_mpadm: fatal:` and `if_mpadm: warning:` messages."""
from __future__ import annotations

import getopt

from ..context import AgentContext
from ..kernel.errors import KernelError
from ..mpathd import Mpathd, kview
from ..mpathd.state import MpathdError
from ..wire.constants import IFF_NOFAILOVER, IFF_OFFLINE, IFF_UP
from .common import AdminError, sync_mpathd

PROG = "if_mpadm"
USAGE = "Usage: if_mpadm [-d | -r] <interface>"
FOLLOWS = [
    ("usage text, `if_mpadm: fatal: ...` and `if_mpadm: warning: ...` messages",
     "if_mpadm.c usage, die, warn"),
    ("a name that is not an IP interface: `cannot get interface flags on IF: No such device or "
     "address`", "if_mpadm.c is_offline"),
    ("-d: `interface IF is already offline`; in.mpathd's refusal as `cannot offline IF: ...`; "
     "then every UP address of IF down", "if_mpadm.c do_offline, mpadm_errmsg"),
    ("-r: `interface IF is not offline`; every down address up, then undo-offline; a warning if "
     "OFFLINE stays", "if_mpadm.c undo_offline"),
]
DIFFERENCES = [
    "an unprivileged caller is refused by in.mpathd's check (`permission denied`), as "
    "libipmp reports it, before anything changes.",
]
ENXIO_TEXT = "No such device or address"      # illumos strerror(ENXIO)


def fatal(text: str) -> AdminError:
    return AdminError(f"{PROG}: fatal: {text}")


def _lifs(ctx, ifname: str):
    return [r for r in kview.lifs(ctx.kernel) if r.ifname == ifname]


def _is_offline(ctx: AgentContext, ifname: str) -> bool:
    """is_offline: SIOCGLIFFLAGS on IPv4, then IPv6."""
    if not kview.families(ctx.kernel, ifname):
        raise fatal(f"cannot get interface flags on {ifname}: {ENXIO_TEXT}")
    return bool(kview.flags(ctx.kernel, ifname) & IFF_OFFLINE)


def run(ctx: AgentContext, args: list[str], uid: int) -> tuple[int, str, str]:
    try:
        opts, rest = getopt.getopt(args, "d:r:")
    except getopt.GetoptError:
        opts, rest = [], ["?"]
    if not opts or rest:
        return 1, "", USAGE + "\n"
    opt, ifname = opts[-1]                   # main: the last -d/-r wins
    md = ctx.mpathd
    offline = _is_offline(ctx, ifname)
    if opt == "-d":
        if offline:
            raise fatal(f"interface {ifname} is already offline")
        _call(md, "offline", ifname, uid)
        warn = _set_up(ctx, ifname, up=False)         # bring down the UP addresses
        sync_mpathd(ctx)
        return 0, "", warn
    if not offline:
        raise fatal(f"interface {ifname} is not offline")
    warn = _set_up(ctx, ifname, up=True)
    _call(md, "undo-offline", ifname, uid)
    if kview.flags(ctx.kernel, ifname) & IFF_OFFLINE:
        warn += f"{PROG}: warning: in.mpathd has not cleared IFF_OFFLINE on {ifname}\n"
    return 0, "", warn


def _call(md: Mpathd | None, what: str, ifname: str, uid: int) -> None:
    """ipmp_offline / ipmp_undo_offline: in.mpathd's refusal becomes `cannot WHAT IF: ERR`."""
    if md is None:
        raise fatal(f"cannot {what} {ifname}: cannot contact in.mpathd")
    if uid != 0:
        raise fatal(f"cannot {what} {ifname}: permission denied")
    try:
        (md.offline if what == "offline" else md.undo_offline)(ifname)
    except MpathdError as exc:
        raise fatal(f"cannot {what} {ifname}: {exc.text}") from None


def _set_up(ctx: AgentContext, ifname: str, up: bool) -> str:
    """-d: every UP address down; -r: every down address up (the 0.0.0.0 stub
    too, so the interface has an UP address again). Failures are warnings."""
    warn = ""
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
        except KernelError:
            warn += f"{PROG}: warning: cannot bring {'up' if up else 'down'} address on {row.name}\n"
    return warn


__all__ = ["run", "IFF_NOFAILOVER"]
