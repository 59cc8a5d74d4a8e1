"""Run every benchmark in turn and print one summary table.

    sudo .venv/bin/python -m bench.run_all [--quick]

Each benchmark also writes bench/results/NAME.json. A MISS is reported, not
raised: the exit status is 0 unless a benchmark crashed. The Mininet ones
report "skipped" without root.
"""
from __future__ import annotations

import argparse
import sys
import traceback

from bench import carrier_latency, failover_outage, fanout, lab_start, probe_detection

BENCHMARKS = {
    "fanout": (lambda q: fanout.run(rounds=10 if q else 30, profile=not q)),
    "carrier_latency": (lambda q: carrier_latency.run(cuts=9 if q else 30)),
    "failover_outage": (lambda q: failover_outage.run(cuts=6 if q else 20)),
    "lab_start": (lambda q: lab_start.run(repeats=1 if q else 3)),
    "probe_detection": (lambda q: probe_detection.run(cuts=3 if q else 10)),
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions (a smoke run, noisier figures)")
    ap.add_argument("only", nargs="*", choices=[*BENCHMARKS, []], help="run only these")
    args = ap.parse_args(argv)
    results, crashed = {}, []
    for name, fn in BENCHMARKS.items():
        if args.only and name not in args.only:
            continue
        try:
            results[name] = fn(args.quick)
        except Exception:
            traceback.print_exc()
            crashed.append(name)
    print("\n== summary ==")
    for name, res in results.items():
        for row in res["rows"]:
            if row["verdict"] != "n/a" or "skipped" in str(row.get("measured")):
                print(f"{name:16s} {row['metric']:38s} {row['measured']:24s} {row['verdict']}")
    for name in crashed:
        print(f"{name:16s} CRASHED (traceback above)")
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
