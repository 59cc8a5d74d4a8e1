"""libinetutil ofmt: the column printer of ipmpstat and ipadm show-* (human
columns with overflow compensation, `--` for empty, parsable `:` with `\\:`
and `\\\\` escaping)."""
from __future__ import annotations

from dataclasses import dataclass

from .common import AdminError

MAXCOLS = 80          # IPMPSTAT_NCOL
VAL_UNDEF = "--"


@dataclass(frozen=True)
class Field:
    name: str
    width: int


def select(prog: str, fields: list[Field], spec: str | None, parsable: bool):
    """ofmt_open: (chosen fields, warning text)."""
    if parsable:
        if not spec:
            raise AdminError(f"{prog}: output fields must be specified in parsable mode")
        if spec.lower() == "all":
            raise AdminError(f"{prog}: output field `all' invalid in parsable mode")
    if spec is None or spec.lower() == "all":
        chosen, cols = [], 0
        for f in fields:
            cols += f.width
            if spec is None and not parsable and cols > MAXCOLS:
                break
            chosen.append(f)
        return chosen, ""
    by_name = {f.name.lower(): f for f in fields}
    chosen, bad = [], []
    for name in [n for n in spec.split(",") if n]:
        (chosen.append(by_name[name.lower()]) if name.lower() in by_name else bad.append(name))
    warning = ""
    if bad:
        word = "fields" if len(bad) > 1 else "field"
        text = " ".join(f"`{b}'" for b in bad)
        if parsable:
            raise AdminError(f"{prog}: unknown output {word}: {text}")
        warning = f"{prog}: warning: ignoring unknown output {word}: {text}\n"
    if not chosen:
        raise AdminError(f"{prog}: no valid output fields")
    return chosen, warning


def _human_line(fields: list[Field], values: list[str]) -> str:
    out, overflow = [], 0
    for i, (f, v) in enumerate(zip(fields, values)):
        if i == len(fields) - 1:
            out.append(v)
            break
        width = f.width
        if len(v) + overflow >= width:
            overflow += len(v) - width + 1
            out.append(v + " ")
            continue
        if overflow > 0:
            compress = min(overflow, width - len(v))
            overflow -= compress
            width -= compress
        out.append(v.ljust(width))
    return "".join(out)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace(":", "\\:")


def render(fields: list[Field], rows: list[dict], parsable: bool, header: bool = True) -> str:
    """One line per row, after the header in human mode; rows map field name -> str.
    ofmt_print prints the header with the first row, so no rows print nothing."""
    lines = []
    if not rows:
        return ""
    if not parsable and header:
        lines.append(_human_line(fields, [f.name for f in fields]))
    for row in rows:
        values = [str(row.get(f.name, "") or "") for f in fields]
        if parsable:
            lines.append(values[0] if len(fields) == 1 else ":".join(_escape(v) for v in values))
        else:
            lines.append(_human_line(fields, [v or VAL_UNDEF for v in values]))
    return "".join(line + "\n" for line in lines)
