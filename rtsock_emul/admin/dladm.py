"""dladm(8) show-link: the host's datalinks as the platform reports them
(`Platform.datalinks`), whether or not IP is plumbed on them. Read-only: the
lab's datalinks are the topology's."""
from __future__ import annotations

from .common import AdminError, Ctx, Usage, parse
from .ofmt import Field, render, select

PROG = "dladm"
USAGE = """usage:  dladm <subcommand> <args> ...
\tshow-link       [-p] [-o <field>,..] [<link>]"""

# dladm.c link_fields
LINK_FIELDS = [Field("LINK", 12), Field("CLASS", 10), Field("MTU", 7), Field("STATE", 9),
               Field("BRIDGE", 11), Field("OVER", 30)]
NOT_FOUND = "object not found"      # dladm_status2str(DLADM_STATUS_NOTFOUND)


def _row(info) -> dict:
    """print_link: a physical link has no bridge and is over nothing ("--")."""
    return {"LINK": info.name, "CLASS": info.cls, "MTU": str(info.mtu),
            "STATE": "up" if info.running else "down", "BRIDGE": "--", "OVER": "--"}


def show_link(ctx: Ctx, args: list[str]) -> tuple[str, str]:
    opts, rest = parse(PROG, args, "po:P", USAGE, ["parsable", "output=", "persistent"])
    o = dict(opts)
    parsable = "-p" in o or "--parsable" in o
    fields, warn = select(PROG, LINK_FIELDS, o.get("-o", o.get("--output")), parsable)
    if len(rest) > 1:
        raise Usage(f"{PROG}: show-link takes at most one link\n{USAGE}")
    links = ctx.platform.datalinks()
    if rest:
        links = [info for info in links if info.name == rest[0]]
        if not links:
            raise AdminError(f"{PROG}: link {rest[0]} is not valid: {NOT_FOUND}")
    return render(fields, [_row(info) for info in links], parsable), warn


SUBCOMMANDS = {"show-link": show_link}


def run(ctx: Ctx, args: list[str], uid: int) -> tuple[int, str, str]:
    if not args:
        raise Usage(USAGE)
    handler = SUBCOMMANDS.get(args[0])
    if handler is None:
        raise Usage(f"{PROG}: unknown subcommand '{args[0]}'\n{USAGE}")
    out, warn = handler(ctx, args[1:])
    return 0, out, warn
