"""What ipmpstat asks in.mpathd (libipmp's ipmp_getgroupinfo/ifinfo/addrinfo,
ipmpstat.c; R123-R126), as plain dicts of display-ready values."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..wire.constants import AF_INET, AF_INET6, IFF_FAILED, IFF_INACTIVE, IFF_STANDBY, IFF_UP
from . import kview
from .state import PgState, Phyint, PiState, ProbeRecord

if TYPE_CHECKING:
    from .core import Mpathd

Row = dict[str, Any]

GROUP_STATE = {PgState.PG_OK: "ok", PgState.PG_DEGRADED: "degraded", PgState.PG_FAILED: "failed"}


def if_state(md: Mpathd, pi: Phyint) -> str:
    """ifstate ([mpd_tables.c]): ok | failed | offline | unknown."""
    if pi.state == PiState.PI_NOTARGETS:
        return "failed" if kview.flags(md.kernel, pi.name) & IFF_FAILED else "unknown"
    return {PiState.PI_RUNNING: "ok", PiState.PI_FAILED: "failed",
            PiState.PI_OFFLINE: "offline"}.get(pi.state, "unknown")


def probe_state(md: Mpathd, pi: Phyint) -> str:
    """ifprobestate: disabled (no test address), failed, unknown (no targets), ok."""
    if not pi.probing:
        return "disabled"
    if pi.state == PiState.PI_FAILED:
        return "failed"
    return "ok" if pi.has_targets else "unknown"


def if_flags(md: Mpathd, pi: Phyint) -> dict[str, bool]:
    """ifflags: down, inactive, hwaddrdup, active (R123, R124)."""
    down = not md.has_up_addr(pi.name)
    inactive = bool(kview.flags(md.kernel, pi.name) & IFF_INACTIVE)
    flags = {"down": down, "inactive": inactive, "hwaddrdup": pi.hwaddrdup}
    flags["active"] = md.functioning(pi) and not (down or inactive or pi.hwaddrdup)
    return flags


def members(md: Mpathd, group: str) -> list[Phyint]:
    info = kview.groups(md.kernel).get(group)
    return [md.phyints[m] for m in info["members"] if m in md.phyints] if info else []


def nominee(md: Mpathd, group: str, af: int) -> str:
    """gi_m4ifname/gi_bcifname/gi_m6ifname: the kernel's cast ill ("" for none)."""
    return kview.cast_ill(md.kernel, group, af)


def ipmp_ifname(md: Mpathd, group: str) -> str:
    info = kview.groups(md.kernel).get(group) if group else None
    return info["ipmp"] if info else ""


def if_row(md: Mpathd, pi: Phyint) -> Row:
    fl = if_flags(md, pi)
    chars = ["-"] * 7                      # i s m b M d h
    if fl["inactive"]:
        chars[0] = "i"
    if kview.flags(md.kernel, pi.name) & IFF_STANDBY:
        chars[1] = "s"
    if pi.group:
        if nominee(md, pi.group, AF_INET) == pi.name:
            chars[2], chars[3] = "m", "b"
        if nominee(md, pi.group, AF_INET6) == pi.name:
            chars[4] = "M"
    if fl["down"]:
        chars[5] = "d"
    if fl["hwaddrdup"]:
        chars[6] = "h"
    return {"INTERFACE": pi.name, "ACTIVE": "yes" if fl["active"] else "no",
            "GROUP": ipmp_ifname(md, pi.group), "FLAGS": "".join(chars),
            "LINK": "up" if pi.link_up else "down", "PROBE": probe_state(md, pi),
            "STATE": if_state(md, pi), "_flags": fl}


def interface_rows(md: Mpathd) -> list[Row]:
    rows: list[Row] = []
    for grp in kview.groups(md.kernel):
        rows.extend(if_row(md, pi) for pi in members(md, grp))
    rows.extend(if_row(md, pi) for pi in md.phyints.values() if not pi.group)
    return rows


def group_rows(md: Mpathd) -> list[Row]:
    rows: list[Row] = []
    for grp, info in kview.groups(md.kernel).items():
        active: list[str] = []
        inactive: list[str] = []
        unusable: list[str] = []
        mem = members(md, grp)
        for pi in mem:
            fl = if_flags(md, pi)
            (active if fl["active"] else inactive if fl["inactive"] else unusable).append(pi.name)
        parts = [" ".join(active)] if active else []
        if inactive:
            parts.append("(" + " ".join(inactive) + ")")
        if unusable:
            parts.append("[" + " ".join(unusable) + "]")
        probing = any(pi.probing for pi in mem)
        fdt = f"{md.group_fdt(grp) / 1000:.2f}s" if probing else ""    # adapted (mpd_probe.c)
        state = md.group_state.get(grp, PgState.PG_FAILED)
        rows.append({"GROUP": info["ipmp"], "GROUPNAME": grp, "STATE": GROUP_STATE[state],
                     "FDT": fdt, "INTERFACES": " ".join(parts)})
    return rows


def addr_rows(md: Mpathd) -> list[Row]:
    rows: list[Row] = []
    for grp, info in kview.groups(md.kernel).items():
        if not info["ipmp"]:
            continue
        active = [r["INTERFACE"] for r in (if_row(md, pi) for pi in members(md, grp))
                  if r["_flags"]["active"]]
        for row in kview.lifs(md.kernel):
            if row.ifname != info["ipmp"]:
                continue
            up = bool(row.flags & IFF_UP)
            bound = kview.binding(md.kernel, row.name, row.af) if up else ""
            rows.append({"ADDRESS": str(row.addr), "STATE": "up" if up else "down",
                         "GROUP": info["ipmp"], "INBOUND": bound,
                         "OUTBOUND": " ".join(active) if up and bound else ""})
    return rows


def target_rows(md: Mpathd) -> list[Row]:
    """-t: the v4 row unless only v6 probes; the v6 row if v6 probes (targinfo_output_cbfunc)."""
    rows = []
    ordered = [pi for grp in kview.groups(md.kernel) for pi in members(md, grp)]
    ordered += [pi for pi in md.phyints.values() if not pi.group]
    for pi in ordered:
        v4, v6 = pi.insts.get(AF_INET), pi.insts.get(AF_INET6)
        mode4 = v4.mode if v4 else "disabled"
        mode6 = v6.mode if v6 else "disabled"
        for inst, show in ((v4, mode4 != "disabled" or mode6 == "disabled"),
                           (v6, mode6 != "disabled")):
            if not show:
                continue
            mode = inst.mode if inst else "disabled"
            rows.append({"INTERFACE": pi.name, "MODE": mode,
                         "TESTADDR": str(inst.test_addr) if inst and mode != "disabled" else "",
                         "TARGETS": " ".join(str(t.addr) for t in inst.targets) if inst else ""})
    return rows


def probe_done(rec: ProbeRecord) -> float:
    """When a probe's outcome was known (the ESC_IPMP_PROBE_STATE event)."""
    return rec.acked if rec.acked is not None else (rec.lost if rec.lost is not None else rec.sent)


def probe_rows(md: Mpathd, since: float = 0.0, after: float | None = None) -> list[Row]:
    """-p: acked and lost probes still in the record ring; with `after`, only those
    acked or lost later than that (clock seconds), in that order."""
    rows: list[Row] = []
    rtts: dict[tuple[str, object], list[float]] = {}
    records = md.probe_records()
    if after is not None:
        records = sorted(records, key=probe_done)
    for rec in records:
        if rec.rtt is not None:
            rtts.setdefault((rec.ifname, rec.target), []).append(rec.rtt)
        if after is not None and probe_done(rec) <= after:
            continue
        seen = rtts.get((rec.ifname, rec.target), [])
        avg = sum(seen) / len(seen) if seen else 0.0
        dev = (sum((x - avg) ** 2 for x in seen) / len(seen)) ** 0.5 if seen else 0.0
        ms = f"{rec.rtt * 1000:.2f}ms" if rec.rtt is not None else ""
        rows.append({"TIME": f"{rec.sent - since:.2f}s", "INTERFACE": rec.ifname,
                     "PROBE": str(rec.seq), "NETRTT": ms, "RTT": ms,
                     "RTTAVG": f"{avg * 1000:.2f}ms" if avg else "",
                     "TARGET": str(rec.target), "RTTDEV": f"{dev * 1000:.2f}ms" if dev else ""})
    return rows
