"""ipmpstat [-n] [-o field,...] [-P] -a|-g|-i|-p|-t (R123-R126; ipmpstat.c).

Addresses are always shown numerically (the lab has no name service), so -n
is accepted and changes nothing. -p is a snapshot of in.mpathd's recent probe
records (acked and lost), not a stream: TIME counts from in.mpathd's start.
"""
from __future__ import annotations

from ..mpathd import query
from .common import AdminError, Usage, parse
from .ofmt import Field, render, select

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


def run(ctx, args: list[str], uid: int) -> tuple[int, str, str]:
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
    md = getattr(ctx, "mpathd", None)
    if md is None:
        raise AdminError(f"{PROG}: cannot contact in.mpathd(1M) -- is IPMP in use?")
    md.sync()
    if mode == "p":
        if not any(pi.probing for pi in md.phyints.values()):
            raise AdminError(f"{PROG}: probe-based failure detection is disabled")
        if uid != 0:
            raise AdminError(f"{PROG}: insufficient privileges for -p")
        rows = query.probe_rows(md, getattr(md, "started_at", 0.0))
    else:
        rows = _rows(md, mode)
    return 0, render(fields, rows, parsable), warning
