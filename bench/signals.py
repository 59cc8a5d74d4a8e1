"""Faults survived: SIGINT, SIGTERM, SIGHUP and SIGKILL sent to a process using labs at a
random moment (while a lab starts, runs admin verbs, stops, or between labs); what each
left behind is counted: links with the run prefix, run directories, processes.

    sudo .venv/bin/python -m bench.signals [--trials 8] [--seed N]

After a SIGKILL (which no process can handle) the documented recovery
`python -m rtsock_emul.lab.cleanup RUN_DIR` runs on every run directory left, and what
remains after it is counted too. The moment is a random pick among phases the child
reaches (files its run directory gets, lines it prints), never a timed guess.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

from rtsock_emul.lab.leftovers import child_env, leftovers, run_ids
from rtsock_emul.util.wait import WaitTimeout, wait_until

CHILD = textwrap.dedent("""\
    import rtsock_emul.lab as L
    for n in range(3):
        print(f"starting-{n}", flush=True)
        lab = L.start("ipmp-pair")
        try:
            print(f"up-{n}", flush=True)
            for k in range(3):
                lab.admin_ok("h1", "ipadm show-if")
                print(f"admin-{n}-{k}", flush=True)
            print(f"stopping-{n}", flush=True)
        finally:
            lab.stop()
        print(f"stopped-{n}", flush=True)
""")
# (kind, what): a file appearing in the run directory, or a line the child prints
MOMENTS = [("file", "registry.json"), ("file", "zygote.log"), ("file", "h1.log"), ("file", "h2.log"),
           ("line", "up-0"), ("line", "admin-0-1"), ("line", "stopping-0"), ("line", "stopped-0"),
           ("line", "starting-1"), ("line", "up-1"), ("line", "admin-1-2"), ("line", "stopping-1")]
SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGKILL)
EXIT_TIMEOUT = 60.0
LINGER_TIMEOUT = 15.0


def trial(sig, moment, base: Path) -> dict:
    env = child_env(base)
    proc = subprocess.Popen([sys.executable, "-u", "-c", CHILD], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    seen, lines = set(), []
    os.set_blocking(proc.stdout.fileno(), False)     # read what is there, never block

    def reached():
        seen.update(run_ids(base))
        lines.extend(x.strip() for x in iter(proc.stdout.readline, ""))
        kind, what = moment
        hit = any(base.glob(f"ipmp-lab-*/{what}")) if kind == "file" else what in lines
        return hit or proc.poll() is not None
    try:
        wait_until(reached, 90, interval=0.002, what=f"moment {moment}")
        missed = proc.poll() is not None
        proc.send_signal(sig)
        proc.wait(EXIT_TIMEOUT)
    except (WaitTimeout, subprocess.TimeoutExpired):
        missed = True
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    seen.update(run_ids(base))
    left = leftovers(env, seen)
    out = {"signal": sig.name, "moment": f"{moment[0]} {moment[1]}", "exit": proc.returncode,
           "missed": missed, "leftovers": left}
    if left:                        # the documented recovery, then count again
        for rid in sorted(run_ids(base)):
            subprocess.run([sys.executable, "-m", "rtsock_emul.lab.cleanup", str(base / f"ipmp-lab-{rid}")],
                           env=env, capture_output=True, timeout=120)
        out["after_cleanup"] = _settled(lambda: leftovers(env, seen))
    return out


def _settled(probe, timeout=LINGER_TIMEOUT):
    """probe()'s list once empty, or as it is after `timeout`: a zygote killed with its parent
    mid-start is not yet in the registry, and exits by itself at stdin EOF once imported."""
    last = {}

    def empty():
        last["v"] = probe()
        return not last["v"]
    try:
        wait_until(empty, timeout, interval=0.1, what="leftovers to go")
    except WaitTimeout:
        pass
    return last["v"]


def run(trials: int = 8, seed: int | None = None) -> dict:
    seed = random.randrange(1 << 30) if seed is None else seed
    rng = random.Random(seed)
    results = []
    with tempfile.TemporaryDirectory(prefix="ipmp-lab-signals-") as tmp:
        for sig in SIGNALS:
            for i in range(trials):
                results.append(trial(sig, rng.choice(MOMENTS), Path(tmp) / f"{sig.name}-{i}"))
    table = {}
    for sig in SIGNALS:
        rows = [r for r in results if r["signal"] == sig.name]
        table[sig.name] = {"trials": len(rows), "with_leftovers": sum(bool(r["leftovers"]) for r in rows),
                           "leftover_items": sum(len(r["leftovers"]) for r in rows),
                           "after_cleanup": sum(len(r.get("after_cleanup", [])) for r in rows),
                           "exit_codes": sorted({r["exit"] for r in rows})}
    return {"seed": seed, "summary": table, "trials": results}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--trials", type=int, default=8, help="per signal")
    ap.add_argument("--seed", type=int, default=None)
    args = ap.parse_args(argv)
    res = run(args.trials, args.seed)
    Path(__file__).with_name("results").mkdir(exist_ok=True)
    Path(__file__).with_name("results").joinpath("signals.json").write_text(json.dumps(res, indent=1))
    print(json.dumps(res["summary"], indent=1), f"\nseed {res['seed']}; details in bench/results/signals.json")
    handled = [s for s in ("SIGINT", "SIGTERM", "SIGHUP") if res["summary"][s]["leftover_items"]]
    return 1 if handled or res["summary"]["SIGKILL"]["after_cleanup"] else 0


if __name__ == "__main__":
    sys.exit(main())
