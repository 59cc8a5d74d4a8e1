"""The userland IPMP flows of ifconfig(1M)/ipadm(8) (R69, R70; illumos
ifconfig.c setifgroupname, ipadm(8)): down the UP addresses, join (creating the IPMP interface
on ENOENT, leaving first on EALREADY, adding the other family's IPMP interface
on EAFNOSUPPORT), then bring them back up so data addresses migrate."""
from __future__ import annotations

import errno

from ..kernel.errors import KernelError
from ..mpathd import kview
from ..platform import plumb_link
from ..wire.constants import AF_INET, AF_INET6, IFF_DUPLICATE, IFF_UP

MAX_TRIES = 4


def plumb_like_platform(ctx, ifname: str, af: int, ipmp: bool = False) -> None:
    """Plumb an IPMP interface, or an IP interface on the datalink of that
    name with its real MAC, MTU and carrier (NoDatalink if there is none)."""
    if ipmp:
        ctx.kernel.plumb(ifname, af, ipmp=True)
    else:
        plumb_link(ctx.kernel, ctx.platform, ifname, af)


def lowest_free_ipmp(ctx) -> str:
    names = set(kview.interfaces(ctx.kernel))
    n = 0
    while f"ipmp{n}" in names:
        n += 1
    return f"ipmp{n}"


def create_ipmp(ctx, ifname: str, afs=(AF_INET, AF_INET6), group: str | None = None) -> None:
    for af in afs:
        plumb_like_platform(ctx, ifname, af, ipmp=True)
    if group and group != ifname:
        ctx.kernel.set_groupname(ifname, afs[0], group)     # rename (R92 default)


def down_addresses(ctx, ifname: str) -> list[tuple[str, int]]:
    """Bring down every UP or DUPLICATE address; return them to re-up (in order)."""
    downed: list = []
    for row in kview.lifs(ctx.kernel):
        if row.ifname == ifname and row.flags & (IFF_UP | IFF_DUPLICATE):
            ctx.kernel.set_flags(row.name, row.af, clear=IFF_UP)
            downed.append((row.name, row.af))
    return downed


def up_addresses(ctx, downed) -> list[str]:
    """Re-up in order; a data address comes back on the IPMP interface (R70)."""
    names = []
    for lifname, af in downed:
        try:
            new = ctx.kernel.set_flags(lifname, af, set=IFF_UP)
        except KernelError as exc:
            if exc.errno != errno.ENXIO:       # ipif 0 may have been re-upped as a stub
                raise
            continue
        names.append(new if isinstance(new, str) else lifname)
    return names


def join(ctx, ifname: str, group: str, af: int | None = None) -> None:
    """ifconfig IF group NAME (setifgroupname)."""
    afs = kview.families(ctx.kernel, ifname)
    if not afs:
        raise KernelError(errno.ENXIO, f"{ifname} is not plumbed")
    af = af if af in afs else afs[0]
    downed: list = []
    for _ in range(MAX_TRIES):
        try:
            ctx.kernel.set_groupname(ifname, af, group)
            break
        except KernelError as exc:
            if exc.errno == errno.EADDRINUSE and not downed:
                downed = down_addresses(ctx, ifname)
            elif exc.errno == errno.ENOENT:
                create_ipmp(ctx, lowest_free_ipmp(ctx), afs, group)
            elif exc.errno == errno.EALREADY:
                ctx.kernel.set_groupname(ifname, af, "")
            elif exc.errno == errno.EAFNOSUPPORT:
                info = kview.groups(ctx.kernel).get(group)
                ipmpif = info["ipmp"] if info else ""
                if not ipmpif:
                    raise
                for fam in afs:
                    if fam not in kview.families(ctx.kernel, ipmpif):
                        plumb_like_platform(ctx, ipmpif, fam, ipmp=True)
            else:
                if downed:
                    up_addresses(ctx, downed)
                raise
    else:
        raise KernelError(errno.EAGAIN, f"could not join {ifname} to {group}")
    up_addresses(ctx, downed)


def ensure_up(ctx, ifname: str) -> None:
    """ipadm add-ipmp: an underlying interface needs an UP address to be active
    (R85); bring up ipif 0 (the 0.0.0.0 / link-local stub) if nothing is UP."""
    rows = [r for r in kview.lifs(ctx.kernel) if r.ifname == ifname]
    if any(r.flags & IFF_UP for r in rows):
        return
    for r in rows:
        if r.name == ifname:
            ctx.kernel.set_flags(r.name, r.af, set=IFF_UP)


def leave(ctx, ifname: str, af: int | None = None) -> None:
    afs = kview.families(ctx.kernel, ifname)
    if not afs:
        raise KernelError(errno.ENXIO, f"{ifname} is not plumbed")
    ctx.kernel.set_groupname(ifname, af if af in afs else afs[0], "")
