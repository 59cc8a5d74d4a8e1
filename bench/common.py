"""Shared bits of the benchmarks: percentiles, the result table, JSON output."""
from __future__ import annotations

import datetime
import json
import os
import platform
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent / "results"


def percentile(values, p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty sequence."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * p // 100))   # ceil(n * p / 100), at least 1
    return ordered[int(rank) - 1]


def summary(values) -> dict:
    return {"n": len(values), "p50": percentile(values, 50), "p90": percentile(values, 90),
            "p99": percentile(values, 99), "max": max(values) if values else float("nan")}


def loadavg() -> float:
    """1-minute load average: other work on this machine skews every figure."""
    return os.getloadavg()[0]


def machine() -> dict:
    return {"cpus": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version(),
            "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "loadavg_1min_at_end": loadavg()}


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else ("PASS" if ok else "MISS")


def report(name: str, rows: list[dict], details: dict, *, out_dir: Path | None = None) -> dict:
    """Print the table (target, measured, floor, verdict) and write results/NAME.json.

    rows: [{"metric", "target", "measured", "floor", "ok"}] (ok None = informational).
    """
    result = {"benchmark": name, "machine": machine(),
              "rows": [{**r, "verdict": verdict(r.get("ok"))} for r in rows], "details": details}
    widths = (34, 26, 22, 22, 6)
    head = ("metric", "target", "measured", "floor", "")
    print(f"\n== {name} ==")
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    for r in result["rows"]:
        cells = (r["metric"], str(r.get("target", "")), str(r.get("measured", "")),
                 str(r.get("floor", "")), r["verdict"])
        print("  ".join(c.ljust(w) for c, w in zip(cells, widths)))
    out_dir = Path(out_dir) if out_dir else RESULTS_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    if result["machine"]["loadavg_1min_at_end"] > 0.5 * (os.cpu_count() or 1):
        print(f"note: load average {result['machine']['loadavg_1min_at_end']:.2f} on "
              f"{os.cpu_count()} CPUs: other work ran during this benchmark; rerun on a quiet machine")
    print(f"results: {path}")
    return result


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def cut_series_main(doc: str, run, default_cuts: int, argv=None) -> int:
    """The command line of a benchmark that repeats link cuts: --cuts N --out DIR."""
    import argparse
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("--cuts", type=int, default=default_cuts)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    run(args.cuts, args.out)
    return 0
