"""ipadm(8) subcommands of spec §7 (illumos 2022 IPMP verbs). Everything is
temporary in the lab: -t is accepted, persistent configuration is never kept."""
from __future__ import annotations

import errno
import ipaddress

from ..kernel.errors import KernelError
from ..mpathd import kview
from ..wire.constants import (AF_INET, AF_INET6, IFF_BROADCAST, IFF_DEPRECATED, IFF_DUPLICATE,
                              IFF_FAILED, IFF_INACTIVE, IFF_IPMP, IFF_IPV4, IFF_IPV6,
                              IFF_LOOPBACK, IFF_MULTICAST, IFF_NOACCEPT, IFF_NOFAILOVER,
                              IFF_OFFLINE, IFF_POINTOPOINT, IFF_RUNNING, IFF_STANDBY, IFF_UP,
                              IFF_VIRTUAL, IFF_VRRP)
from . import groupflow
from ..platform import NoDatalink
from .common import DLPI_FAILURE, AdminError, Usage, addrobjs, need_root, parse, strerror, sync_mpathd
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
\tshow-if [-o <field>,...] [<interface>]
\tshow-addr [-o <field>,...] [<addrobj>]"""

IF_FIELDS = [Field("IFNAME", 11), Field("CLASS", 10), Field("STATE", 9), Field("CURRENT", 13),
             Field("PERSISTENT", 11)]
ADDR_FIELDS = [Field("ADDROBJ", 18), Field("TYPE", 9), Field("STATE", 13), Field("ADDR", 31)]
# show-if CURRENT: one character per flag, '-' when clear ([ipadm.8]).
CURRENT_CHARS = ((IFF_BROADCAST, "b"), (IFF_MULTICAST, "m"), (IFF_POINTOPOINT, "p"),
                 (IFF_VIRTUAL, "v"), (IFF_IPMP, "I"), (IFF_STANDBY, "s"), (IFF_INACTIVE, "i"),
                 (IFF_VRRP, "V"), (IFF_NOACCEPT, "a"), (0, "Z"), (IFF_IPV4, "4"),
                 (IFF_IPV6, "6"))


def _fail(what: str, exc) -> AdminError:
    return AdminError(f"{PROG}: {what}: {strerror(exc)}")


def _create_if(ctx, ifname, af, what):
    """i_ipadm_create_if for one family: a datalink that is not there is
    IPADM_DLPI_FAILURE."""
    try:
        groupflow.plumb_like_platform(ctx, ifname, af)
    except NoDatalink:
        raise AdminError(f"{PROG}: {what}: {DLPI_FAILURE}") from None
    except KernelError as exc:
        raise _fail(what, exc) from None


def _ifs_arg(opts) -> list[str]:
    out = []
    for opt, val in opts:
        if opt == "-i":
            out.extend(v for v in val.split(",") if v)
    return out


def _one(rest, usage_line):
    if len(rest) != 1:
        raise Usage(f"{PROG}: {usage_line}\n{USAGE}")
    return rest[0]


def create_ip(ctx, args):
    opts, rest = parse(PROG, args, "t", USAGE, ["temporary"])
    ifname = _one(rest, "interface name required")
    have = kview.families(ctx.kernel, ifname)
    if len(have) == 2:
        raise AdminError(f"{PROG}: cannot create interface {ifname}: Interface already exists")
    for af in (AF_INET, AF_INET6):
        if af not in have:
            _create_if(ctx, ifname, af, f"cannot create interface {ifname}")


def delete_ip(ctx, args):
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


def create_ipmp(ctx, args):
    opts, rest = parse(PROG, args, "ti:", USAGE, ["temporary"])
    ipmpif = _one(rest, "IPMP interface name required")
    try:
        groupflow.create_ipmp(ctx, ipmpif)
    except KernelError as exc:
        raise _fail(f"cannot create IPMP interface {ipmpif}", exc) from None
    _add(ctx, ipmpif, _ifs_arg(opts))


def _add(ctx, ipmpif, members):
    group = kview.group(ctx.kernel, ipmpif)
    for ifname in members:
        try:
            if not kview.families(ctx.kernel, ifname):
                raise KernelError(errno.ENXIO, "")
            groupflow.join(ctx, ifname, group)
            groupflow.ensure_up(ctx, ifname)
        except KernelError as exc:
            text = "No such interface" if exc.errno == errno.ENXIO else strerror(exc)
            raise AdminError(f"{PROG}: cannot add {ifname} to {ipmpif}: {text}") from None


def add_ipmp(ctx, args):
    opts, rest = parse(PROG, args, "ti:", USAGE, ["temporary"])
    ipmpif = _one(rest, "IPMP interface name required")
    members = _ifs_arg(opts)
    if not members:
        raise Usage(f"{PROG}: add-ipmp: -i <interface> required\n{USAGE}")
    if not kview.is_ipmp(ctx.kernel, ipmpif):
        raise AdminError(f"{PROG}: cannot add interfaces to {ipmpif}: "
                         "Not an IPMP interface")
    _add(ctx, ipmpif, members)


def remove_ipmp(ctx, args):
    opts, rest = parse(PROG, args, "ti:", USAGE, ["temporary"])
    ipmpif = _one(rest, "IPMP interface name required")
    group = kview.group(ctx.kernel, ipmpif)
    for ifname in _ifs_arg(opts):
        if not group or kview.group(ctx.kernel, ifname) != group:
            raise AdminError(f"{PROG}: cannot remove {ifname} from {ipmpif}: "
                             "Interface is not in the IPMP group")
        try:
            groupflow.leave(ctx, ifname)
        except KernelError as exc:
            raise _fail(f"cannot remove {ifname} from {ipmpif}", exc) from None


def delete_ipmp(ctx, args):
    opts, rest = parse(PROG, args, "", USAGE)
    ipmpif = _one(rest, "IPMP interface name required")
    if not kview.is_ipmp(ctx.kernel, ipmpif):
        raise AdminError(f"{PROG}: cannot delete IPMP interface {ipmpif}: Not an IPMP interface")
    if kview.groups(ctx.kernel).get(kview.group(ctx.kernel, ipmpif), {}).get("members"):
        raise AdminError(f"{PROG}: cannot delete IPMP interface {ipmpif}: "
                         "IPMP group is not empty")
    delete_ip(ctx, [ipmpif])


def _parse_addr(text):
    try:
        if "/" in text:
            net = ipaddress.ip_interface(text)
            return net.ip, net.network.prefixlen
        addr = ipaddress.ip_address(text)
        return addr, None
    except ValueError:
        raise AdminError(f"{PROG}: cannot create address: Invalid address") from None


def create_addr(ctx, args):
    opts, rest = parse(PROG, args, "tT:da:", USAGE, ["temporary"])
    o = dict(opts)
    if o.get("-T") != "static" or "-a" not in o:
        raise Usage(f"{PROG}: create-addr needs -T static -a <address>[/<prefixlen>]\n{USAGE}")
    obj = _one(rest, "address object required")
    ifname, _, oname = obj.partition("/")
    if not oname or not ifname:
        raise AdminError(f"{PROG}: cannot create address: Invalid address object name")
    objs = addrobjs(ctx)
    if obj in objs.table:
        raise AdminError(f"{PROG}: cannot create address: Address object already exists")
    addr, plen = _parse_addr(o["-a"])
    af = AF_INET if addr.version == 4 else AF_INET6
    if af not in kview.families(ctx.kernel, ifname):
        # ipadm_create_addr creates the interface (this family) if it is not there
        _create_if(ctx, ifname, af, "cannot create address")
    if any(r.addr == addr for r in kview.lifs(ctx.kernel)):
        raise AdminError(f"{PROG}: cannot create address: Address already in use")
    try:
        lifname = _place(ctx, ifname, af, addr, plen)
        if kview.group(ctx.kernel, ifname) and not kview.is_ipmp(ctx.kernel, ifname):
            ctx.kernel.set_flags(lifname, af, set=IFF_NOFAILOVER | IFF_DEPRECATED)   # test address
        if "-d" not in o:
            new = ctx.kernel.set_flags(lifname, af, set=IFF_UP)
            lifname = new if isinstance(new, str) else lifname
    except KernelError as exc:
        raise _fail("cannot create address", exc) from None
    objs.table[obj] = (lifname, af)


def _place(ctx, ifname, af, addr, plen) -> str:
    """ipif 0 if it is an unset, down stub; otherwise a new logical interface."""
    ipif0 = kview.lif(ctx.kernel, ifname, af)
    if ipif0 is not None and ipif0.addr.is_unspecified and not ipif0.up:
        ctx.kernel.set_addr(ifname, af, addr, plen)
        return ifname
    return ctx.kernel.addif(ifname, af, addr, plen)


def _obj(ctx, args, verb):
    opts, rest = parse(PROG, args, "t", USAGE, ["temporary"])
    obj = _one(rest, "address object required")
    found = addrobjs(ctx).table.get(obj)
    if found is None:
        raise AdminError(f"{PROG}: could not {verb} address: Address object not found")
    return obj, found


def delete_addr(ctx, args):
    obj, (lifname, af) = _obj(ctx, args, "delete")
    try:
        if ":" in lifname:
            ctx.kernel.removeif(lifname, af)
        else:
            ctx.kernel.set_flags(lifname, af, clear=IFF_UP)
            ctx.kernel.set_addr(lifname, af, "0.0.0.0" if af == AF_INET else "::", 0)
    except KernelError as exc:
        raise _fail("could not delete address", exc) from None
    del addrobjs(ctx).table[obj]


def up_addr(ctx, args, up=True):
    obj, (lifname, af) = _obj(ctx, args, "up" if up else "down")
    try:
        if up:
            new = ctx.kernel.set_flags(lifname, af, set=IFF_UP)
            if isinstance(new, str) and new != lifname:
                addrobjs(ctx).table[obj] = (new, af)
        else:
            ctx.kernel.set_flags(lifname, af, clear=IFF_UP)
    except KernelError as exc:
        raise _fail(f"could not {'up' if up else 'down'} address", exc) from None


def _if_state(ctx, ifname, flags) -> str:
    """show-if STATE: ok / offline / failed / down / disabled."""
    if flags & IFF_OFFLINE:
        return "offline"
    if flags & IFF_FAILED:
        return "failed"
    rows = [r for r in kview.lifs(ctx.kernel) if r.ifname == ifname]
    return "ok" if any(r.up for r in rows) else "down"


def show_if(ctx, args):
    opts, rest = parse(PROG, args, "o:p", USAGE, ["output=", "parsable"])
    o = dict(opts)
    parsable = "-p" in o
    fields, warn = select(PROG, IF_FIELDS, o.get("-o"), parsable)
    rows = []
    for ifname in kview.interfaces(ctx.kernel):
        if rest and ifname not in rest:
            continue
        flags = 0
        for af in kview.families(ctx.kernel, ifname):
            flags |= kview.lif(ctx.kernel, ifname, af).flags
        cls = "ipmp" if flags & IFF_IPMP else "loopback" if flags & IFF_LOOPBACK else "ip"
        current = "".join(c if bit and flags & bit else "-" for bit, c in CURRENT_CHARS)
        rows.append({"IFNAME": ifname, "CLASS": cls, "STATE": _if_state(ctx, ifname, flags),
                     "CURRENT": current, "PERSISTENT": ""})
    return render(fields, rows, parsable), warn


def _addr_state(ctx, row) -> str:
    """show-addr STATE ([ipadm.8]): ok/tentative/duplicate/inaccessible/down/disabled."""
    if row.flags & IFF_DUPLICATE:
        return "duplicate"
    if not row.up:
        return "down"
    tentative = getattr(ctx.kernel, "tentative", None)
    if tentative is not None and tentative(row.name, row.af):
        return "tentative"
    if row.flags & IFF_FAILED or not row.flags & IFF_RUNNING:
        return "inaccessible"
    return "ok"


def show_addr(ctx, args):
    opts, rest = parse(PROG, args, "o:p", USAGE, ["output=", "parsable"])
    o = dict(opts)
    parsable = "-p" in o
    fields, warn = select(PROG, ADDR_FIELDS, o.get("-o"), parsable)
    objs, rows = addrobjs(ctx), []
    for row in kview.lifs(ctx.kernel):
        name = objs.find(row.name, row.af) or f"{row.ifname}/?"
        if rest and name not in rest:
            continue
        if name.endswith("/?") and row.addr.is_unspecified:
            continue
        addr = f"{row.addr}/{row.prefixlen}"
        rows.append({"ADDROBJ": name, "TYPE": "static", "STATE": _addr_state(ctx, row),
                     "ADDR": addr})
    return render(fields, rows, parsable), warn


SUBCOMMANDS = {
    "create-ip": create_ip, "create-if": create_ip, "delete-ip": delete_ip,
    "delete-if": delete_ip, "create-ipmp": create_ipmp, "delete-ipmp": delete_ipmp,
    "add-ipmp": add_ipmp, "remove-ipmp": remove_ipmp, "create-addr": create_addr,
    "delete-addr": delete_addr, "up-addr": up_addr,
    "down-addr": lambda ctx, args: up_addr(ctx, args, up=False),
}
READ_ONLY = {"show-if": show_if, "show-addr": show_addr}


def run(ctx, args, uid):
    if not args:
        raise Usage(USAGE)
    sub, rest = args[0], args[1:]
    if sub in READ_ONLY:
        out, warn = READ_ONLY[sub](ctx, rest)
        return 0, out, warn
    handler = SUBCOMMANDS.get(sub)
    if handler is None:
        raise Usage(f"{PROG}: unknown subcommand '{sub}'\n{USAGE}")
    need_root(PROG, uid)
    try:
        handler(ctx, rest)
    finally:
        sync_mpathd(ctx)
    return 0, "", ""
