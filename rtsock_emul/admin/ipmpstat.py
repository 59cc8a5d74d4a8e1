"""ipmpstat [-n] [-o field,...] [-P] -a|-g|-i|-p|-t (R123-R126).

Addresses are always shown numerically (the lab has no name service), so -n
is accepted and changes nothing. Typed in the `rtsock` command, -p streams each
probe as it is acked or lost, with TIME from ipmpstat's start (probe_output;
admin/ipmpstream.py asks `events` below). Run as an agent verb (scenario steps)
it prints the probes in.mpathd still remembers, TIME from in.mpathd's start.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..context import AgentContext
from ..mpathd import Mpathd, query
from .common import AdminError, Usage, parse
from .ofmt import Field, render, select

if TYPE_CHECKING:
    from ..mpathd import Mpathd

PROG = "ipmpstat"
USAGE = ("usage: ipmpstat [-n] [-o <field> [-P]] -a|-g|-i|-p|-t\n\n"
         "  output modes:\t -a  display IPMP data address information\n"
         "\t\t -g  display IPMP group information\n"
         "\t\t -i  display IPMP-related IP interface information\n"
         "\t\t -p  display IPMP probe information\n"
         "\t\t -t  display IPMP target information\n\n"
         "       options:\t -n  display IP addresses numerically\n"
         "\t\t -o  display only the specified fields, in order\n"
         "\t\t -P  display using parsable output mode")

# Field tables of ipmpstat.c: (name, width).
FIELDS = {
    "a": [Field("ADDRESS", 26), Field("STATE", 7), Field("GROUP", 12), Field("INBOUND", 12),
          Field("OUTBOUND", 23)],
    "g": [Field("GROUP", 12), Field("GROUPNAME", 12), Field("STATE", 10), Field("FDT", 10),
          Field("INTERFACES", 30)],
    "i": [Field("INTERFACE", 12), Field("ACTIVE", 8), Field("GROUP", 12), Field("FLAGS", 10),
          Field("LINK", 10), Field("PROBE", 10), Field("STATE", 10)],
    "p": [Field("TIME", 10), Field("INTERFACE", 12), Field("PROBE", 7), Field("NETRTT", 10),
          Field("RTT", 10), Field("RTTAVG", 10), Field("TARGET", 20), Field("RTTDEV", 10)],
    "t": [Field("INTERFACE", 12), Field("MODE", 10), Field("TESTADDR", 20),
          Field("TARGETS", 38)],
}


def _rows(md, mode: str) -> list[dict]:
    return {"a": query.addr_rows, "g": query.group_rows, "i": query.interface_rows,
            "t": query.target_rows}[mode](md)


FOLLOWS = [
    ("-a, -g, -i, -t fields and widths; parsable -P", "ipmpstat.c addr_fields, group_fields, "
     "if_fields, targ_fields; libofmt"),
    ("-p (in the `rtsock` command) prints each probe when it is acked or lost, until interrupted; "
     "TIME counts from ipmpstat's start", "ipmpstat.c probe_output, probe_event, sfunc_probe_time"),
    ("the header is printed with the first row only: no rows, no header", "libofmt ofmt_print"),
]
DIFFERENCES = [
    "as a scenario step or `lab.admin` call (one request, one reply) -p cannot stream; it "
    "prints the acked and lost probes in.mpathd still remembers, TIME from in.mpathd's start.",
    "the header is not repeated every terminal height of rows (ofmt's SIGWINCH handling): "
    "the output never goes straight to a terminal.",
    "-p ends quietly when the agent stops (the lab ended).",
]


def _options(args: list[str]) -> tuple[str, list, bool, str]:
    opts, rest = parse(PROG, args, "nLPo:agipt", USAGE)
    mode, spec, parsable = None, None, False
    for opt, val in opts:
        letter = opt[1]
        if letter in "agipt":
            if mode is not None:
                raise AdminError(f"{PROG}: only one output format may be specified")
            mode = letter
        elif letter == "o":
            spec = val
        elif letter == "P":
            parsable = True
    if rest or mode is None:
        raise Usage(USAGE)
    fields, warning = select(PROG, FIELDS[mode], spec, parsable)
    return mode, fields, parsable, warning


def _mpathd(ctx: AgentContext, mode: str, uid: int) -> Mpathd:
    md = ctx.mpathd
    if md is None:
        raise AdminError(f"{PROG}: cannot contact in.mpathd(1M) -- is IPMP in use?")
    md.sync()
    if mode == "p":
        if not any(pi.probing for pi in md.phyints.values()):
            raise AdminError(f"{PROG}: probe-based failure detection is disabled")
        if uid != 0:
            raise AdminError(f"{PROG}: insufficient privileges for -p")
    return md


def run(ctx: AgentContext, args: list[str], uid: int) -> tuple[int, str, str]:
    mode, fields, parsable, warning = _options(args)
    md = _mpathd(ctx, mode, uid)
    if mode == "p":
        rows = query.probe_rows(md, md.started_at)
    else:
        rows = _rows(md, mode)
    return 0, render(fields, rows, parsable), warning


def events(ctx, args: list[str], uid: int) -> tuple[int, str, str]:
    """Internal verb for the streaming -p: `ipmpstat-events CURSOR ORIGIN HEADER ARGS...`.
    CURSOR "start" checks the request and answers "NOW NOW"; otherwise the first
    line is the new cursor, then the probes acked or lost after CURSOR, TIME from
    ORIGIN, with the header if HEADER is 1 and there is a row."""
    if len(args) < 3:
        raise Usage("usage: ipmpstat-events <cursor> <origin> <header> <ipmpstat args>")
    cursor, origin, header, rest = args[0], args[1], args[2] == "1", args[3:]
    mode, fields, parsable, warning = _options(rest)
    if mode != "p":
        raise Usage(USAGE)
    md = _mpathd(ctx, mode, uid)
    now = md.clock.now()
    if cursor == "start":
        return 0, f"{now!r} {now!r}\n", warning
    try:
        after, since = float(cursor), float(origin)
    except ValueError:
        raise Usage(f"ipmpstat-events: bad cursor {cursor!r} or origin {origin!r}") from None
    rows = query.probe_rows(md, since, after=after)
    done = [query.probe_done(r) for r in md.probe_records() if query.probe_done(r) > after]
    text = render(fields, rows, parsable, header=header)
    return 0, f"{max(done, default=after)!r}\n{text}", ""
