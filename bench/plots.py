"""PNG charts of the benchmark results (matplotlib, no display needed).

Reads bench/results/*.json as the benchmarks wrote them and writes
docs/perf/*.png:
- detection.png: CDF of the time from a carrier cut to detection: ours
  (an aware routing socket reads RTM_IFINFO +IFF_FAILED), the netlink floor
  (the raw RTM_NEWLINK), the miimon=100 anchor (bench.miimon);
- outage.png: CDF of the outage a peer pinging every 5 ms sees: ours (in
  requests, and as the longest reply gap), the anchor's reply gap, the
  floor (the longest gap between replies before the cut);
- stages.png: the failover's stages after the cut (p50 and p90, ms);
- lab_scale.png: hosts against start time (ours and bare Mininet) and
  memory added per host (bench.lab_start, `details.curve`, or the single
  32-host point of its older format);
- probe_schedule.png: probe-based detection and repair, measured against
  in.mpathd's schedule (bench.probe_detection).
Each chart's subtitle names the machine, date and load average of its runs.
A chart whose results are missing or were skipped is left out, with a note.

    .venv/bin/python -m bench.plots [--results DIR] [--out DIR]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.common import RESULTS_DIR

DOCS_DIR = Path(__file__).resolve().parent.parent / "docs" / "perf"
DPI = 80
SIZE = (6.4, 3.6)


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def load(results_dir: Path, name: str) -> dict | None:
    path = Path(results_dir) / f"{name}.json"
    if not path.exists():
        return None
    data = json.loads(path.read_text())
    return None if "skipped" in data.get("details", {}) else data


def subtitle(*results: dict) -> str:
    parts = []
    for r in results:
        m = r["machine"]
        parts.append(f"{r['benchmark']}: {m['cpus']} CPUs, {m['date'][:16]}, load {m['loadavg_1min_at_end']:.1f}")
    return "\n".join(parts)


def cdf(ax, values_ms, label: str, **kw) -> None:
    vals = sorted(v for v in values_ms if v is not None)
    if not vals:
        return
    n = len(vals)
    ax.step(vals, [(i + 1) / n for i in range(n)], where="post", label=f"{label} (n={n})", **kw)


def _finish(plt, fig, ax, title: str, sub: str, path: Path) -> Path:
    ax.set_title(title, fontsize=10)
    fig.text(0.01, 0.01, sub, fontsize=6, color="0.35", va="bottom")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path


def detection(fo: dict, anchor: dict | None, out: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=SIZE)
    smp = fo["details"]["samples"]
    cdf(ax, [s["stages_ms"].get("failed") for s in smp], "ours: RTM_IFINFO +FAILED")
    cdf(ax, [s["stages_ms"].get("carrier") for s in smp], "floor: netlink carrier event", linestyle="--")
    if anchor:
        cdf(ax, [None if s["detect_s"] is None else s["detect_s"] * 1000 for s in anchor["details"]["samples"]],
            f"anchor: {anchor['details']['kind']} (miimon {anchor['details']['miimon_ms']} ms)")
    ax.set_xscale("log")
    ax.set_xlabel("carrier cut -> detection (ms, log scale)")
    ax.set_ylabel("fraction of cuts")
    return _finish(plt, fig, ax, "Link failure detection", subtitle(fo, *([anchor] if anchor else [])), out)


def outage(fo: dict, anchor: dict | None, out: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=SIZE)
    smp = fo["details"]["samples"]
    cdf(ax, [s["outage_s"] * 1000 for s in smp], "ours: (missed requests + 1) x 5 ms", linestyle=":")
    cdf(ax, [s["gap_s"] * 1000 for s in smp], "ours: longest reply gap")
    cdf(ax, [s["floor_s"] * 1000 for s in smp], "floor: longest gap before the cut", linestyle="--")
    if anchor:
        cdf(ax, [s["gap_s"] * 1000 for s in anchor["details"]["samples"]],
            f"anchor: {anchor['details']['kind']} (miimon {anchor['details']['miimon_ms']} ms)")
    ax.axvline(10, color="0.5", linewidth=0.8, linestyle=":", label="target p99 10 ms")
    ax.set_xscale("log")
    ax.set_xlabel("outage seen by a peer pinging every 5 ms (ms, log scale)")
    ax.set_ylabel("fraction of cuts")
    return _finish(plt, fig, ax, "Failover outage", subtitle(fo, *([anchor] if anchor else [])), out)


def stages(fo: dict, out: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=SIZE)
    table = fo["details"]["stages"]
    names = [n for n in table if table[n]["n"]]
    p50 = [table[n]["p50"] * 1000 for n in names]
    p90 = [table[n]["p90"] * 1000 for n in names]
    y = range(len(names))
    ax.barh([i + 0.2 for i in y], p90, height=0.4, color="0.75", label="p90")
    ax.barh([i - 0.2 for i in y], p50, height=0.4, label="p50")
    ax.set_yticks(list(y), names, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("time after the cut (ms)")
    return _finish(plt, fig, ax, "Failover stages (bench/stages.py)", subtitle(fo), out)


def scale_points(lab: dict) -> list[dict]:
    """hosts, ours_s, bare_s, pss_per_host_mb from either lab_start format."""
    d = lab["details"]
    if "curve" in d:
        return [{k: p.get(k) for k in ("hosts", "ours_s", "bare_s", "pss_per_host_mb")} for p in d["curve"]]
    return [{"hosts": d["hosts"], "ours_s": d["lab_median_s"], "bare_s": d["bare_median_s"],
             "pss_per_host_mb": d.get("agent_mb_mean", {}).get("pss")}]


def lab_scale(lab: dict, out: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=SIZE)
    pts = sorted(scale_points(lab), key=lambda p: p["hosts"])
    hosts = [p["hosts"] for p in pts]
    ax.plot(hosts, [p["ours_s"] for p in pts], marker="o", label="ours: agents READY (s)")
    ax.plot(hosts, [p["bare_s"] for p in pts], marker="s", linestyle="--", label="bare Mininet (s)")
    ax.set_xlabel("hosts")
    ax.set_ylabel("start time (s)")
    ax.set_ylim(bottom=0)
    if len(hosts) > 1:
        ax.set_xscale("log", base=2)
    mem = [p["pss_per_host_mb"] for p in pts]
    if any(m is not None for m in mem):
        ax2 = ax.twinx()
        ax2.plot(hosts, mem, marker="^", color="tab:green", linestyle=":", label="PSS per host (MB)")
        ax2.set_ylabel("PSS per host (MB)")
        ax2.set_ylim(bottom=0)
        ax2.legend(fontsize=7, loc="upper left")
    return _finish(plt, fig, ax, "Lab start and memory against size", subtitle(lab), out)


def probe_schedule(pd: dict, out: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=SIZE)
    labels, measured, expected = [], [], []
    for fdt, d in pd["details"]["fdt"].items():
        for what, key in (("detection", "detect"), ("repair", "repair")):
            labels.append(f"FDT {int(fdt) / 1000:g} s\n{what}")
            measured.append(d[f"{key}_mean"])
            expected.append(d["schedule"][f"{key}_mean"])
    x = range(len(labels))
    ax.bar([i - 0.2 for i in x], expected, width=0.4, color="0.75", label="in.mpathd schedule (mean)")
    ax.bar([i + 0.2 for i in x], measured, width=0.4, label="measured (mean)")
    for i, (m, e) in enumerate(zip(measured, expected)):
        ax.text(i + 0.2, m, f"{m / e:.2f}", ha="center", va="bottom", fontsize=7)
    ax.set_xticks(list(x), labels, fontsize=7)
    ax.set_yscale("log")
    ax.set_ylabel("seconds (log scale)")
    return _finish(plt, fig, ax, "Probe-based detection and repair vs schedule (ratio on bars)", subtitle(pd), out)


def write_all(results_dir=RESULTS_DIR, out_dir=DOCS_DIR) -> list[Path]:
    results_dir, out_dir = Path(results_dir), Path(out_dir)
    fo, anchor = load(results_dir, "failover_outage"), load(results_dir, "miimon")
    lab, pd = load(results_dir, "lab_start"), load(results_dir, "probe_detection")
    written = []
    jobs = [("detection.png", fo, lambda p: detection(fo, anchor, p)),
            ("outage.png", fo, lambda p: outage(fo, anchor, p)),
            ("stages.png", fo, lambda p: stages(fo, p)),
            ("lab_scale.png", lab, lambda p: lab_scale(lab, p)),
            ("probe_schedule.png", pd, lambda p: probe_schedule(pd, p))]
    for name, needed, draw in jobs:
        if needed is None:
            print(f"plots: {name} left out: its results are missing or were skipped in {results_dir}")
            continue
        written.append(draw(out_dir / name))
        print(f"plots: {out_dir / name}")
    return written


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--results", default=str(RESULTS_DIR))
    ap.add_argument("--out", default=str(DOCS_DIR))
    args = ap.parse_args(argv)
    write_all(args.results, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
