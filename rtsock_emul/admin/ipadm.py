"""ipadm(8) subcommands (illumos ipadm.c and libipadm, with the IPMP verbs).
Without -t a change is also recorded as persistent configuration, which the
PERSISTENT columns show; it lasts as long as the agent (the lab never reboots)."""
from __future__ import annotations

import errno
import ipaddress
from typing import Any

from ..context import AgentContext
from ..kernel.errors import KernelError
from ..mpathd import kview
from ..mpathd.kview import LifRow
from ..platform import NoDatalink
from ..wire.constants import (
    AF_INET,
    AF_INET6,
    IFF_BROADCAST,
    IFF_DEPRECATED,
    IFF_DUPLICATE,
    IFF_FAILED,
    IFF_INACTIVE,
    IFF_IPMP,
    IFF_IPV4,
    IFF_IPV6,
    IFF_MULTICAST,
    IFF_NOACCEPT,
    IFF_NOFAILOVER,
    IFF_OFFLINE,
    IFF_POINTOPOINT,
    IFF_PRIVATE,
    IFF_RUNNING,
    IFF_STANDBY,
    IFF_TEMPORARY,
    IFF_UNNUMBERED,
    IFF_UP,
    IFF_VIRTUAL,
    IFF_VRRP,
)
from . import groupflow
from .common import DLPI_FAILURE, AdminError, Ctx, Usage, addrobjs, need_root, parse, strerror, sync_mpathd
from .ofmt import Field, render, select

PROG = "ipadm"
USAGE = """usage:  ipadm <subcommand> <args> ...
\tcreate-ip|create-if [-t] <interface>
\tdelete-ip|delete-if <interface>
\tcreate-ipmp [-t] [-i <interface>[,<interface>]...] <ipmp-interface>
\tdelete-ipmp <ipmp-interface>
\tadd-ipmp [-t] -i <interface>[,<interface>]... <ipmp-interface>
\tremove-ipmp [-t] -i <interface>[,<interface>]... <ipmp-interface>
\tcreate-addr [-t] -T static [-d] -a <address>[/<prefixlen>] <addrobj>
\tdelete-addr <addrobj>
\tup-addr <addrobj>
\tdown-addr <addrobj>
\tset-ifprop [-t] -p standby=on|off -m ip <interface>
\treset-ifprop [-t] -p standby -m ip <interface>
\tshow-if [[-p] -o <field>,...] [<interface>]
\tshow-addr [[-p] -o <field>,...] [<addrobj> | <interface>/]
\t(no subcommand: show-addr)"""

# ipadm.c show_if_fields (illumos has no CLASS column: ipadm.8 lists these four)
IF_FIELDS = [Field("IFNAME", 11), Field("STATE", 9), Field("CURRENT", 13), Field("PERSISTENT", 11)]
# ipadm.c show_addr_fields and do_show_addr's default field list
ADDR_FIELDS = [Field("ADDROBJ", 18), Field("TYPE", 9), Field("STATE", 13), Field("CURRENT", 8),
               Field("PERSISTENT", 11), Field("ADDR", 46)]
ADDR_DEFAULT = "addrobj,type,state,addr"
# print_si_cb intf_pflags, print_sa_cb cflags_mask / pflags_mask: (flag, char)
IF_PFLAGS = (("standby", "s"), (AF_INET, "4"), (AF_INET6, "6"))
ADDR_CFLAGS = ((IFF_UP, "U"), (IFF_UNNUMBERED, "u"), (IFF_PRIVATE, "p"), (IFF_TEMPORARY, "t"),
               (IFF_DEPRECATED, "d"))
ADDR_PFLAGS = ((IFF_UP, "U"), (IFF_PRIVATE, "p"), (IFF_DEPRECATED, "d"))
# libipadm ipadm_errno2status + ipadm_status2str
IPADM_STATUS = {errno.ENXIO: "Interface does not exist", errno.ENOMEM: "Insufficient memory",
                errno.ENOBUFS: "No buffer space available", errno.EINVAL: "Invalid argument provided",
                errno.EBUSY: "Interface already in use", errno.EEXIST: "Already exists",
                errno.EADDRNOTAVAIL: "Can't assign requested address",
                errno.EADDRINUSE: "Address already in use", errno.ENOENT: "Object not found",
                errno.ERANGE: "Value is outside the allowed range", errno.EPERM: "Permission denied",
                errno.ENOTSUP: "Operation not supported", errno.ESRCH: "Value does not exist"}
FOLLOWS = [
    ("show-if: IFNAME, STATE (failed when not RUNNING or FAILED, then offline, down, ok), "
     "CURRENT flag letters, PERSISTENT (s, 4, 6); no CLASS column, as ipadm(8) lists none", "ipadm.c print_si_cb; libipadm i_ipadm_get_all_if_info"),
    ("show-addr: ADDROBJ, TYPE, STATE, CURRENT (U u p t d), PERSISTENT (U p d), ADDR; default "
     "addrobj,type,state,addr; `IF/` lists one interface; an UP address without RUNNING is "
     "inaccessible", "ipadm.c do_show_addr, print_sa_cb; libipadm i_ipadm_active_addr_info"),
    ("a missing object is an error: `Address object not found`, `Could not get address: Interface "
     "does not exist`, `could not delete address: Object not found`", "ipadm.c do_show_addr, "
     "do_show_if, do_delete_addr; libipadm ipadm_status2str"),
    ("add-ipmp, create-ipmp -i, remove-ipmp: `Operation not supported on disabled object` for a "
     "name that is not an IP interface, `Interface already in use` for a member of a group, "
     "`Invalid argument provided` otherwise", "libipadm i_ipadm_update_ipmp"),
    ("create-addr, up-addr, down-addr, delete-addr messages (`Could not create address: ...`)",
     "ipadm.c do_create_addr, do_up_addr, do_down_addr, do_delete_addr"),
    ("set-ifprop/reset-ifprop -p standby -m ip sets or clears IFF_STANDBY",
     "libipadm i_ipadm_get_all_if_info (reads `standby`), i_ipadm_set_ifprop_flags"),
    ("`ipadm` alone runs show-addr", "ipadm(8)"),
]
DIFFERENCES = [
    "persistent configuration (what ipadm would store without -t) is kept only while the "
    "agent runs and is shown in the PERSISTENT columns; the lab never reboots, so it is never re-applied.",
    "only static addresses; -T dhcp and -T addrconf are refused (no DHCP server or router "
    "advertisements in the lab).",
    "set-ifprop knows only `standby`; the other illumos interface properties are refused "
    "as not supported.",
    "the IPMP subcommands' message prefixes (`cannot add IF to IPMPIF: `) keep the lab's "
    "wording; the status text after them is libipadm's.",
]
OP_DISABLE_OBJ = "Operation not supported on disabled object"
IF_INUSE = "Interface already in use"
INVALID_ARG = "Invalid argument provided"
# print_si_cb intf_cflags: one character per flag, '-' when clear.
CURRENT_CHARS = ((IFF_BROADCAST, "b"), (IFF_MULTICAST, "m"), (IFF_POINTOPOINT, "p"),
                 (IFF_VIRTUAL, "v"), (IFF_IPMP, "I"), (IFF_STANDBY, "s"), (IFF_INACTIVE, "i"),
                 (IFF_VRRP, "V"), (IFF_NOACCEPT, "a"), (0, "Z"), (IFF_IPV4, "4"),
                 (IFF_IPV6, "6"))


def _fail(what: str, exc) -> AdminError:
    return AdminError(f"{PROG}: {what}: {status_text(exc)}")


def status_text(exc) -> str:
    """What ipadm prints for a failed ioctl: ipadm_status2str(ipadm_errno2status(errno))."""
    err = getattr(exc, "errno", None)
    if err == errno.EOPNOTSUPP:
        err = errno.ENOTSUP
    return IPADM_STATUS.get(err, "Operation failed") if err else strerror(exc)


def _persist(ctx: AgentContext) -> dict[str, dict[str, Any]]:
    """The configuration ipadm would have written without -t: {"if": {name: set of
    AF_INET/AF_INET6/"standby"}, "addr": {addrobj: pflags}}."""
    return ctx.admin.ipadm_persist


def _create_if(ctx, ifname: str, af, what):
    """i_ipadm_create_if for one family: a datalink that is not there is
    IPADM_DLPI_FAILURE."""
    try:
        groupflow.plumb_like_platform(ctx, ifname, af)
    except NoDatalink:
        raise AdminError(f"{PROG}: {what}: {DLPI_FAILURE}") from None
    except KernelError as exc:
        raise _fail(what, exc) from None


def _ifs_arg(opts) -> list[str]:
    out: list[str] = []
    for opt, val in opts:
        if opt == "-i":
            out.extend(v for v in val.split(",") if v)
    return out


def _one(rest: list[str], usage_line: str) -> str:
    if len(rest) != 1:
        raise Usage(f"{PROG}: {usage_line}\n{USAGE}")
    return rest[0]


def create_ip(ctx: Ctx, args: list[str]) -> None:
    opts, rest = parse(PROG, args, "t", USAGE, ["temporary"])
    ifname = _one(rest, "interface name required")
    have = kview.families(ctx.kernel, ifname)
    if len(have) == 2:
        raise AdminError(f"{PROG}: cannot create interface {ifname}: Interface already exists")
    for af in (AF_INET, AF_INET6):
        if af not in have:
            _create_if(ctx, ifname, af, f"cannot create interface {ifname}")


def delete_ip(ctx: Ctx, args: list[str]) -> None:
    opts, rest = parse(PROG, args, "", USAGE)
    ifname = _one(rest, "interface name required")
    afs = kview.families(ctx.kernel, ifname)
    if not afs:
        raise AdminError(f"{PROG}: cannot delete interface {ifname}: Interface does not exist")
    for af in afs:
        try:
            ctx.kernel.unplumb(ifname, af)
        except KernelError as exc:
            raise _fail(f"cannot delete interface {ifname}", exc) from None
    objs = addrobjs(ctx)
    for name in [n for n, (lif, _) in objs.table.items() if lif.split(":")[0] == ifname]:
        del objs.table[name]


def create_ipmp(ctx: Ctx, args: list[str]) -> None:
    opts, rest = parse(PROG, args, "ti:", USAGE, ["temporary"])
    ipmpif = _one(rest, "IPMP interface name required")
    try:
        groupflow.create_ipmp(ctx, ipmpif)
    except KernelError as exc:
        raise _fail(f"cannot create IPMP interface {ipmpif}", exc) from None
    _add(ctx, ipmpif, _ifs_arg(opts))


def _update_check(ctx, ipmpif, ifname: str, adding: bool) -> str:
    """i_ipadm_update_ipmp's checks: "" or the libipadm status text."""
    if not kview.families(ctx.kernel, ipmpif) or not kview.families(ctx.kernel, ifname):
        return OP_DISABLE_OBJ                 # not an IP interface (ipadm_if_enabled)
    if not kview.is_ipmp(ctx.kernel, ipmpif):
        return INVALID_ARG
    group = kview.group(ctx.kernel, ifname)
    if adding and group and group != ifname:
        return IF_INUSE                       # i_ipadm_is_under_ipmp
    if not adding and (not group or group != kview.group(ctx.kernel, ipmpif)):
        return INVALID_ARG
    return ""


def _add(ctx: Ctx, ipmpif: str, members: list[str]) -> None:
    group = kview.group(ctx.kernel, ipmpif)
    for ifname in members:
        refused = _update_check(ctx, ipmpif, ifname, adding=True)
        if refused:
            raise AdminError(f"{PROG}: cannot add {ifname} to {ipmpif}: {refused}")
        try:
            groupflow.join(ctx, ifname, group)
            groupflow.ensure_up(ctx, ifname)
        except KernelError as exc:
            raise _fail(f"cannot add {ifname} to {ipmpif}", exc) from None


def add_ipmp(ctx: Ctx, args: list[str]) -> None:
    opts, rest = parse(PROG, args, "ti:", USAGE, ["temporary"])
    ipmpif = _one(rest, "IPMP interface name required")
    members = _ifs_arg(opts)
    if not members:
        raise Usage(f"{PROG}: add-ipmp: -i <interface> required\n{USAGE}")
    _add(ctx, ipmpif, members)


def remove_ipmp(ctx: Ctx, args: list[str]) -> None:
    opts, rest = parse(PROG, args, "ti:", USAGE, ["temporary"])
    ipmpif = _one(rest, "IPMP interface name required")
    for ifname in _ifs_arg(opts):
        refused = _update_check(ctx, ipmpif, ifname, adding=False)
        if refused:
            raise AdminError(f"{PROG}: cannot remove {ifname} from {ipmpif}: {refused}")
        try:
            groupflow.leave(ctx, ifname)
        except KernelError as exc:
            raise _fail(f"cannot remove {ifname} from {ipmpif}", exc) from None


def delete_ipmp(ctx: Ctx, args: list[str]) -> None:
    opts, rest = parse(PROG, args, "", USAGE)
    ipmpif = _one(rest, "IPMP interface name required")
    if not kview.is_ipmp(ctx.kernel, ipmpif):
        raise AdminError(f"{PROG}: cannot delete IPMP interface {ipmpif}: {INVALID_ARG}")
    info = kview.groups(ctx.kernel).get(kview.group(ctx.kernel, ipmpif))
    if info and info["members"]:
        raise AdminError(f"{PROG}: cannot delete IPMP interface {ipmpif}: "
                         "IPMP group is not empty")
    delete_ip(ctx, [ipmpif])


def _parse_addr(text: str):
    try:
        if "/" in text:
            net = ipaddress.ip_interface(text)
            return net.ip, net.network.prefixlen
        addr = ipaddress.ip_address(text)
        return addr, None
    except ValueError:
        raise AdminError(f"{PROG}: Error in setting local address: Invalid address") from None


def create_addr(ctx: Ctx, args: list[str]) -> None:
    opts, rest = parse(PROG, args, "tT:da:", USAGE, ["temporary"])
    o = dict(opts)
    if "-T" not in o or len(rest) != 1:
        raise AdminError(f"{PROG}: Invalid arguments\n{USAGE}")
    obj = rest[0]
    ifname, _, oname = obj.partition("/")
    if not oname or not ifname:
        raise AdminError(f"{PROG}: invalid address object name: {obj}\n{USAGE}")
    if o["-T"] in ("dhcp", "addrconf"):
        raise AdminError(f"{PROG}: Could not create address: Operation not supported "
                         "(the lab has only static addresses)")
    if o["-T"] != "static":
        raise AdminError(f"{PROG}: Invalid address type {o['-T']}")
    if "-a" not in o:
        raise AdminError(f"{PROG}: Invalid arguments for type static\n{USAGE}")
    objs = addrobjs(ctx)
    if obj in objs.table:
        raise AdminError(f"{PROG}: Could not create address: Address object already exists")
    addr, plen = _parse_addr(o["-a"])
    af = AF_INET if addr.version == 4 else AF_INET6
    if af not in kview.families(ctx.kernel, ifname):
        # ipadm_create_addr creates the interface (this family) if it is not there
        _create_if(ctx, ifname, af, "cannot create address")
    if any(r.addr == addr for r in kview.lifs(ctx.kernel)):
        raise AdminError(f"{PROG}: Could not create address: Address already in use")
    try:
        lifname = _place(ctx, ifname, af, addr, plen)
        if kview.group(ctx.kernel, ifname) and not kview.is_ipmp(ctx.kernel, ifname):
            ctx.kernel.set_flags(lifname, af, set=IFF_NOFAILOVER | IFF_DEPRECATED)   # test address
        if "-d" not in o:
            new = ctx.kernel.set_flags(lifname, af, set=IFF_UP)
            lifname = new if isinstance(new, str) else lifname
    except KernelError as exc:
        raise _fail("Could not create address", exc) from None
    objs.table[obj] = (lifname, af)


def _place(ctx, ifname: str, af, addr, plen) -> str:
    """ipif 0 if it is an unset, down stub; otherwise a new logical interface."""
    ipif0 = kview.lif(ctx.kernel, ifname, af)
    if ipif0 is not None and ipif0.addr.is_unspecified and not ipif0.up:
        ctx.kernel.set_addr(ifname, af, addr, plen)
        return ifname
    return ctx.kernel.addif(ifname, af, addr, plen)


def _obj(ctx: Ctx, args: list[str], verb: str) -> tuple[str, tuple[str, int]]:
    opts, rest = parse(PROG, args, "t", USAGE, ["temporary"])
    obj = _one(rest, "address object required")
    found = addrobjs(ctx).table.get(obj)
    if found is None:
        raise AdminError(f"{PROG}: {verb}: Object not found")
    return obj, found


def delete_addr(ctx: Ctx, args: list[str]) -> None:
    obj, (lifname, af) = _obj(ctx, args, "could not delete address")
    try:
        if ":" in lifname:
            ctx.kernel.removeif(lifname, af)
        else:
            ctx.kernel.set_flags(lifname, af, clear=IFF_UP)
            ctx.kernel.set_addr(lifname, af, "0.0.0.0" if af == AF_INET else "::", 0)
    except KernelError as exc:
        raise _fail("could not delete address", exc) from None
    del addrobjs(ctx).table[obj]


def up_addr(ctx: Ctx, args: list[str], up: bool = True) -> None:
    obj, (lifname, af) = _obj(ctx, args, f"Could not mark the address {'up' if up else 'down'}")
    try:
        if up:
            new = ctx.kernel.set_flags(lifname, af, set=IFF_UP)
            if isinstance(new, str) and new != lifname:
                addrobjs(ctx).table[obj] = (new, af)
        else:
            ctx.kernel.set_flags(lifname, af, clear=IFF_UP)
    except KernelError as exc:
        raise _fail(f"Could not mark the address {'up' if up else 'down'}", exc) from None


def _if_state(ctx, ifname: str, flags) -> str:
    """i_ipadm_get_all_if_info: failed (not RUNNING, or FAILED) / offline / down / ok."""
    if not flags & IFF_RUNNING or flags & IFF_FAILED:
        return "failed"
    if flags & IFF_OFFLINE:
        return "offline"
    rows = [r for r in kview.lifs(ctx.kernel) if r.ifname == ifname]
    return "ok" if any(r.up for r in rows) else "down"


def _bits(have, table) -> str:
    """flags2str(..., is_bits): one character per entry, '-' when clear."""
    return "".join(c if flag in have else "-" for flag, c in table)


def show_if(ctx: Ctx, args: list[str]) -> tuple[str, str]:
    """do_show_if / print_si_cb."""
    opts, rest = parse(PROG, args, "o:p", USAGE, ["output=", "parsable"])
    o = dict(opts)
    parsable = "-p" in o or "--parsable" in o
    spec = o.get("-o", o.get("--output"))
    if len(rest) > 1:
        raise AdminError(f"{PROG}: Usage: \tshow-if\t\t[[-p] -o <field>,...] [<interface>]")
    fields, warn = select(PROG, IF_FIELDS, spec, parsable)
    names = kview.interfaces(ctx.kernel)
    if rest and rest[0] not in names:
        raise AdminError(f"{PROG}: Could not get interface(s): Interface does not exist")
    persist, rows = _persist(ctx)["if"], []
    for ifname in rest or names:
        afs = kview.families(ctx.kernel, ifname)
        lifs = [kview.lif(ctx.kernel, ifname, af) for af in afs]
        first = lifs[0].flags if lifs[0] else 0    # getallifaddrs' first entry
        cflags = 0
        for lif in lifs:
            cflags |= lif.flags if lif else 0
        current = "".join(c if bit and cflags & bit else "-" for bit, c in CURRENT_CHARS)
        rows.append({"IFNAME": ifname, "STATE": _if_state(ctx, ifname, first),
                     "CURRENT": current, "PERSISTENT": _bits(persist.get(ifname, ()), IF_PFLAGS)})
    return render(fields, rows, parsable), warn


def _addr_state(ctx: AgentContext, row: LifRow) -> str:
    """i_ipadm_active_addr_info: duplicate/down when not UP; UP: tentative/ok when
    RUNNING, inaccessible otherwise."""
    if not row.up:
        return "duplicate" if row.flags & IFF_DUPLICATE else "down"
    if not row.flags & IFF_RUNNING:
        return "inaccessible"
    if ctx.kernel.tentative(row.name, row.af):
        return "tentative"
    return "ok"


def show_addr(ctx: Ctx, args: list[str]) -> tuple[str, str]:
    """do_show_addr / print_sa_cb: `show-addr [addrobj | interface/]`."""
    opts, rest = parse(PROG, args, "o:p", USAGE, ["output=", "parsable"])
    o = dict(opts)
    parsable = "-p" in o or "--parsable" in o
    spec = o.get("-o", o.get("--output"))
    if parsable and spec is None:
        raise AdminError(f"{PROG}: -p requires -o")
    if len(rest) > 1:
        raise AdminError(f"{PROG}: Usage: \tshow-addr\t[[-p] -o <field>,...] [<addrobj>]")
    aname = ifname = None
    if rest:
        if "/" not in rest[0]:
            raise AdminError(f"{PROG}: Invalid address object name provided")
        if rest[0].endswith("/"):
            ifname = rest[0][:-1]
        else:
            aname = rest[0]
    fields, warn = select(PROG, ADDR_FIELDS, spec or ADDR_DEFAULT, parsable)
    if ifname is not None and not kview.families(ctx.kernel, ifname):
        raise AdminError(f"{PROG}: Could not get address: Interface does not exist")
    objs, pflags, rows = addrobjs(ctx), _persist(ctx)["addr"], []
    for row in kview.lifs(ctx.kernel):
        name = objs.find(row.name, row.af)
        if ifname is not None and row.ifname != ifname or aname is not None and name != aname:
            continue
        if not name and row.addr.is_unspecified:
            continue                          # ipif 0 stubs carry no address
        plen = f"/{row.prefixlen}" if row.prefixlen else ""
        rows.append({"ADDROBJ": name or f"{row.ifname}/?", "TYPE": "static",
                     "STATE": _addr_state(ctx, row),
                     "CURRENT": "".join(c if row.flags & bit else "-" for bit, c in ADDR_CFLAGS),
                     "PERSISTENT": "".join(c if pflags.get(name, 0) & bit else "-"
                                           for bit, c in ADDR_PFLAGS),
                     "ADDR": f"{row.addr}{plen}"})
    if aname is not None and not rows:
        raise AdminError(f"{PROG}: Address object not found")
    return render(fields, rows, parsable), warn


def set_ifprop(ctx: AgentContext, args: list[str], reset: bool = False) -> None:
    """set-ifprop/reset-ifprop: only `standby` (-m ip), the IPMP property
    i_ipadm_get_all_if_info reads; it sets IFF_STANDBY as ifconfig's standby does."""
    verb = "reset-ifprop" if reset else "set-ifprop"
    opts, rest = parse(PROG, args, "tp:m:", USAGE, ["temporary", "prop=", "module="])
    o = dict(opts)
    if "-p" not in o or "-m" not in o or len(rest) != 1:
        raise AdminError(f"{PROG}: Usage: \t{verb}\t[-t] -p <prop>{'' if reset else '=<value>'} "
                         "-m <protocol> <interface>")
    name, _, value = o["-p"].partition("=")
    if not reset and not value:
        raise AdminError(f"{PROG}: please specify the value to be set.\n{USAGE}")
    proto, ifname = o["-m"], rest[0]
    if proto not in ("ip", "ipv4", "ipv6", "tcp", "udp", "sctp", "icmp", "arp"):
        raise AdminError(f"{PROG}: invalid protocol '{proto}' specified")
    if name != "standby":
        known = name in ("arp", "exchange_routes", "forwarding", "metric", "mtu", "nud", "usesrc")
        why = "Operation not supported (the lab sets only `standby`)" if known else "Unknown property"
        raise AdminError(f"{PROG}: {verb}: {name}: {why}")
    if proto != "ip":
        raise AdminError(f"{PROG}: {verb}: {name}: Incorrect protocol family for operation")
    value = "off" if reset else value
    if value not in ("on", "off"):
        raise AdminError(f"{PROG}: {verb}: {name}: {INVALID_ARG}")
    afs = kview.families(ctx.kernel, ifname)
    if not afs:
        raise AdminError(f"{PROG}: {verb}: {name}: Interface does not exist")
    try:
        for af in afs:
            if value == "on":
                ctx.kernel.set_flags(ifname, af, set=IFF_STANDBY)
            else:
                ctx.kernel.set_flags(ifname, af, clear=IFF_STANDBY)
    except KernelError as exc:
        raise _fail(f"{verb}: {name}", exc) from None
    if ctx.mpathd is not None:
        ctx.mpathd.on_standby_changed(ifname)
    if "-t" not in o and "--temporary" not in o:
        flags = _persist(ctx)["if"].setdefault(ifname, set())
        (flags.add if value == "on" else flags.discard)("standby")


def _record_persistent(ctx: AgentContext, sub: str, args: list[str]) -> None:
    """What ipadm writes to its persistent store on success (without -t)."""
    temporary = "-t" in args or "--temporary" in args
    store, names = _persist(ctx), [a for a in args if not a.startswith("-")]
    if not names:
        return
    target = names[-1]
    if sub in ("create-ip", "create-if", "create-ipmp") and not temporary:
        store["if"].setdefault(target, set()).update((AF_INET, AF_INET6))
    elif sub in ("delete-ip", "delete-if", "delete-ipmp"):
        store["if"].pop(target, None)
        for obj in [n for n in store["addr"] if n.split("/")[0] == target]:
            del store["addr"][obj]
    elif sub == "create-addr" and not temporary:
        store["addr"][target] = 0 if "-d" in args else IFF_UP
        store["if"].setdefault(target.split("/")[0], set()).update((AF_INET, AF_INET6))
    elif sub == "delete-addr":
        store["addr"].pop(target, None)


SUBCOMMANDS = {
    "create-ip": create_ip, "create-if": create_ip, "delete-ip": delete_ip,
    "delete-if": delete_ip, "create-ipmp": create_ipmp, "delete-ipmp": delete_ipmp,
    "add-ipmp": add_ipmp, "remove-ipmp": remove_ipmp, "create-addr": create_addr,
    "delete-addr": delete_addr, "up-addr": up_addr,
    "down-addr": lambda ctx, args: up_addr(ctx, args, up=False),
    "set-ifprop": set_ifprop, "reset-ifprop": lambda ctx, args: set_ifprop(ctx, args, reset=True),
}
READ_ONLY = {"show-if": show_if, "show-addr": show_addr}


def run(ctx: AgentContext, args: list[str], uid: int) -> tuple[int, str, str]:
    sub, rest = (args[0], args[1:]) if args else ("show-addr", [])   # bare ipadm: show-addr
    if sub in READ_ONLY:
        out, warn = READ_ONLY[sub](ctx, rest)
        return 0, out, warn
    handler = SUBCOMMANDS.get(sub)
    if handler is None:
        raise Usage(f"{PROG}: unknown subcommand '{sub}'\n{USAGE}")
    need_root(PROG, uid)
    try:
        handler(ctx, rest)
        _record_persistent(ctx, sub, rest)
    finally:
        sync_mpathd(ctx)
    return 0, "", ""
