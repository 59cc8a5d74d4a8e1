"""LAB-ONLY verbs that inject kernel events the lab cannot cause with real
packets (docs/internals.md): `kernel miss DST` (R82), `kernel redirect DST GW
AUTHOR` (R83), `kernel losing DST GW` (R132), `kernel siocaddrt|siocdelrt
DST GW [MASK]` (R84); `kernel hold|release DST[/PLEN]` take and drop a
reference on a route, as a packet in flight or a cached neighbour would, and
`kernel condemned` lists deleted routes still referenced (M22); `kernel claim
IF ADDR MAC` is another host's ARP/NA claiming ADDR seen on IF (R104, R108);
`kernel journal [SINCE]` prints one page of the delivery journal as JSON
(rtsock/journal.py), for the rule oracle. They do not exist on illumos."""
from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable
from ipaddress import IPv4Network, IPv6Network
from typing import TYPE_CHECKING, Any

from ..context import AgentContext
from ..kernel.errors import KernelError
from ..wire import constants as C
from ..wire.constants import AF_INET, AF_INET6
from .common import AdminError, Ctx, Usage, need_root, strerror

if TYPE_CHECKING:
    from ..kernel import Kernel
    from ..kernel.routes import Route

PROG = "kernel"
USAGE = ("usage: kernel miss <dst> | redirect <dst> <gateway> <author> | "
         "losing <dst> <gateway> | siocaddrt|siocdelrt <dst> <gateway> [<mask>] |\n"
         "\thold|release <dst>[/<prefix_length>] | condemned | claim <interface> <address> <mac> |\n"
         "\tjournal [<since>|now]  (lab-only)")
NO_CONDEMNED = "no condemned routes\n"


def _route_key(text: str):
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise AdminError(f"{PROG}: {text}: bad destination") from None
    return (AF_INET if net.version == 4 else AF_INET6), net


def _find(routes: Iterable[Route], af: int, net: IPv4Network | IPv6Network) -> Route | None:
    for r in routes:
        if r.af == af and r.dst == net.network_address and r.prefixlen == net.prefixlen:
            return r
    return None


def _hold(kernel, text: str) -> str:
    af, net = _route_key(text)
    route = _find(kernel.routes(af), af, net)
    if route is None:
        raise AdminError(f"{PROG} hold: {net}: no such route in the table")
    kernel.route_ref(route)
    return f"{net} refcnt {route.refcnt}\n"


def _release(kernel, text: str):
    af, net = _route_key(text)
    held = [r for r in kernel.routes(af) + kernel.condemned_routes() if r.refcnt > 0]
    route = _find(held, af, net)
    if route is None:
        raise AdminError(f"{PROG} release: {net}: no held route")
    kernel.route_unref(route)
    return f"{net} refcnt {route.refcnt}" + (" freed\n" if route.condemned and route.refcnt <= 0 else "\n")


def _condemned(kernel: Kernel) -> str:
    def flags(route: Route) -> str:
        return ",".join(C.flag_names(C.RTF_NAMES, route.flags, "RTF_")) or "none"
    rows = [f"{r.dst}/{r.prefixlen} gateway {r.gateway} refcnt {r.refcnt} flags <{flags(r)}>\n"
            for r in kernel.condemned_routes()]
    return "".join(rows) or NO_CONDEMNED


def _claim(kernel, ifname: str, addr, mac) -> str:
    try:
        ip = ipaddress.ip_address(addr)
        raw = bytes.fromhex(mac.replace(":", ""))
    except ValueError:
        raise AdminError(f"{PROG} claim: need an address and a MAC such as 02:00:00:00:00:99") from None
    if len(raw) != 6:
        raise AdminError(f"{PROG} claim: {mac}: a MAC has 6 bytes")
    what = kernel.dad_conflict(ifname, AF_INET if ip.version == 4 else AF_INET6, ip, raw)
    return f"{what or 'not ours'}\n"


def _journal(ctx: AgentContext, since: str = "now") -> str:
    journal = ctx.hub.journal
    if journal is None:
        raise AdminError(f"{PROG} journal: this agent keeps no delivery journal")
    try:
        start = None if since == "now" else int(since)
    except ValueError:
        raise AdminError(f"{PROG} journal: {since}: need a journal sequence number") from None
    journal.note_state()      # the state now, even if no message followed its last change
    return json.dumps(journal.page(start), separators=(",", ":")) + "\n"


# verbs that read the agent rather than the kernel model
CTX_VERBS = {"journal": (_journal, (0, 1))}
# verb -> (call(kernel, *args) -> output, allowed argument counts)
VERBS = {
    "miss": (lambda k, *a: k.emit_miss(*a), (1,)),
    "redirect": (lambda k, *a: k.emit_redirect(*a), (3,)),
    "losing": (lambda k, *a: k.emit_losing(*a), (2,)),
    "siocaddrt": (lambda k, *a: k.ioctl_addrt(*a), (2, 3)),
    "siocdelrt": (lambda k, *a: k.ioctl_delrt(*a), (2, 3)),
    "hold": (_hold, (1,)), "release": (_release, (1,)), "condemned": (_condemned, (0,)),
    "claim": (_claim, (3,)),
}


def run(ctx: Ctx, args: list[str], uid: int) -> tuple[int, str, str]:
    if not args or args[0] not in VERBS.keys() | CTX_VERBS.keys():
        raise Usage(USAGE)
    call: Any
    call, counts = VERBS[args[0]] if args[0] in VERBS else CTX_VERBS[args[0]]
    if len(args) - 1 not in counts:
        raise Usage(USAGE)
    if args[0] in VERBS:      # reading the journal changes nothing, like ifconfig -a
        need_root(PROG, uid)
    try:
        out = call(ctx.kernel if args[0] in VERBS else ctx, *args[1:])
    except KernelError as exc:
        raise AdminError(f"{PROG} {args[0]}: {strerror(exc)}") from None
    except ValueError as exc:
        raise AdminError(f"{PROG} {args[0]}: {exc}") from None
    return 0, out if isinstance(out, str) else "", ""
