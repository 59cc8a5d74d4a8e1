"""Probe-based detection and repair against in.mpathd's own schedule, at FDT 1 s and 10 s.

Target (docs/performance.md): with 100% loss on a member, the time to
FAILED relative to the FDT, and the time to repair once the loss stops
relative to 10 good probes, are each within +-15% of in.mpathd's schedule.

Lab: ipmp-pair, h1's net0+net1 in ipmp0 with 192.0.2.10, a test address
192.0.2.21 on net0 (`ifconfig net0 addif ... -failover up`), h2 the probe
target, quiet period 0. Each cycle waits a random part of a probe interval
(so the loss starts anywhere between two probes), drops all of net0's
packets (`lab.loss`, 100%), stamps when that call returned, and waits for
an IPMP-aware routing socket to read RTM_IFINFO net0 +IFF_FAILED; then it
lifts the loss and waits for RTM_IFINFO net0 -IFF_FAILED.

The schedule is in.mpathd's (mpd_probe.c, mpd_main.c; R111-R113): probe
interval = FDT / (NUM_PROBE_FAILS + 2) ms, one probe per interval at a
random 50-100% point of it; phyint_inst_timer judges the last two unicast
probes at each tick: one is lost once its send time plus the target's crtt
has passed, or plus the probe interval while the crtt is 0, and the older
of the two is lost regardless. The crtt is kept in whole ms (ns2ms of the
smoothed RTT plus 4 deviations); between two namespaces over veths the
probes' RTT is about 0.3-0.6 ms (`ipmpstat -p`), so the crtt is 0 and a
lost probe is judged at the first tick a full interval after it was sent,
or at the second tick after it. Failure comes at the tick that judges the
5th lost probe (NUM_PROBE_FAILS); repair with the reply to the 10th good
probe (NUM_PROBE_REPAIRS). `schedule()` draws that many times (Monte Carlo, fixed
seed) for the expected mean of both; the ratio measured / expected is the
figure. Each figure is bounded below by the schedule itself and the
loss-apply call (nft or netem through a process, its duration recorded).

    sudo .venv/bin/python -m bench.probe_detection [--cycles 5] [--fdt 1000 10000]
"""
from __future__ import annotations

import argparse
import random
import sys
import time

from bench import labkit
from bench.common import ms, report, summary
from rtsock_emul.mpathd.config import MAX_RANDOM_FACTOR, MIN_RANDOM_FACTOR, NUM_PROBE_FAILS, NUM_PROBE_REPAIRS

TEST_ADDR = "192.0.2.21"
TOLERANCE = 0.15
SEED = 5
TRIALS = 20000


def probe_interval(fdt_ms: int) -> float:
    """user_probe_interval (mpd_main.c), in seconds."""
    return (fdt_ms // (NUM_PROBE_FAILS + 2)) / 1000.0


def judged_at(ticks: list[float], k: int, timeout: float) -> float:
    """When phyint_inst_timer judges the unacked probe sent at tick k lost: at the first
    later tick past its send time + timeout, at the second tick after it at the latest."""
    return next((t for t in ticks[k + 1:k + 2] if t > ticks[k] + timeout), ticks[k + 2])


def schedule(fdt_ms: int, trials: int = TRIALS, seed: int = SEED, crtt_ms: int = 0) -> dict:
    """Expected detection and repair times (mean, p50; seconds) under in.mpathd's rules,
    for an event at a uniformly random point of the probe schedule."""
    rng = random.Random(seed)
    step = probe_interval(fdt_ms)
    timeout = crtt_ms / 1000.0 if crtt_ms else step
    det, rep = [], []
    for _ in range(trials):
        t0 = rng.uniform(0, step)
        # tick k falls at a random 50-100% point of period k (period 0 starts at 0)
        ticks = [(k + rng.uniform(MIN_RANDOM_FACTOR, MAX_RANDOM_FACTOR)) * step
                 for k in range(NUM_PROBE_REPAIRS + NUM_PROBE_FAILS + 3)]
        first = next(i for i, t in enumerate(ticks) if t > t0)
        lost = range(first, first + NUM_PROBE_FAILS)
        det.append(max(judged_at(ticks, k, timeout) for k in lost) - t0)
        rep.append(ticks[first + NUM_PROBE_REPAIRS - 1] - t0)   # the 10th good probe's reply
    return {"interval_s": step, "detect": summary(det), "repair": summary(rep),
            "detect_mean": sum(det) / len(det), "repair_mean": sum(rep) / len(rep)}


def setup(fdt_ms: int):
    lab = labkit.start_pair(fdt_ms, quiet_period=0)
    try:
        lab.admin_ok("h1", f"ifconfig net0 addif {TEST_ADDR}/24 -failover up")
        probe_interval_s = probe_interval(fdt_ms)

        def target_seen() -> bool:
            return any(line.split()[:1] == ["net0"] and labkit.PEER_ADDR in line.split()
                       for line in lab.admin_ok("h1", "ipmpstat -t").splitlines())
        labkit.wait_until(target_seen, 30 * probe_interval_s + 5, what="net0 probing h2 (ipmpstat -t)")
        labkit.member_ok(lab, "net0", timeout=30 * probe_interval_s + 5)
    except BaseException:
        lab.stop()
        raise
    return lab


def group_fdt_ms(lab) -> float | None:
    """The FDT in.mpathd uses for ipmp0 now (ipmpstat -g): it raises it when probe
    round trips get long (mpd_probe.c, NEXT_FDT_MULTIPLE), e.g. on a loaded CPU."""
    for line in lab.admin_ok("h1", "ipmpstat -g").splitlines():
        cols = line.split()
        if cols[:1] == ["ipmp0"] and len(cols) > 3 and cols[3].endswith("s"):
            try:
                return float(cols[3][:-1]) * 1000
            except ValueError:
                return None
    return None


def cycles(fdt_ms: int, n: int, rng: random.Random) -> list[dict]:
    lab = setup(fdt_ms)
    rts = None
    try:
        index = labkit.ifindex(lab, "h1", "net0")
        rts = labkit.RtsockListener(lab, "h1")
        rts.start()
        step = probe_interval(fdt_ms)
        budget = 3 * fdt_ms / 1000 + 5
        out = []
        for _ in range(n):
            # the experiment's design, not a wait for an event: the loss starts at a
            # random point of the probe schedule
            time.sleep(rng.uniform(0, step))
            rts.clear()
            t_call = time.perf_counter()
            lab.loss("h1", "net0", 100)
            t0 = time.perf_counter()
            t_fail, _ = rts.wait_for(labkit.ifinfo(index, failed=True), budget, "RTM_IFINFO net0 +FAILED")
            fdt_seen = group_fdt_ms(lab)
            t_call2 = time.perf_counter()
            lab.loss("h1", "net0", 0)
            t1 = time.perf_counter()
            t_rep, _ = rts.wait_for(labkit.ifinfo(index, failed=False), 2 * budget, "RTM_IFINFO net0 -FAILED")
            out.append({"detect_s": t_fail - t0, "repair_s": t_rep - t1,
                        "loss_call_s": t0 - t_call, "unloss_call_s": t1 - t_call2,
                        "group_fdt_ms": fdt_seen})
        return out
    finally:
        if rts is not None:
            rts.close()
        lab.stop()


def run(fdts=(1000, 10000), cycles_per_fdt=None, out_dir=None) -> dict:
    why = labkit.need_root()
    if why:
        return report("probe_detection", [{"metric": "probe detection / schedule", "target": "1 +- 15%",
                                           "measured": f"skipped: {why}", "floor": "", "ok": None}],
                      {"skipped": why}, out_dir=out_dir)
    rng = random.Random(SEED)
    rows, details = [], {"tolerance": TOLERANCE, "fdt": {}}
    for fdt in fdts:
        n = cycles_per_fdt or (5 if fdt <= 2000 else 3)
        smp = cycles(fdt, n, rng)
        exp = schedule(fdt)
        det = sum(s["detect_s"] for s in smp) / n
        rep = sum(s["repair_s"] for s in smp) / n
        call = max(max(s["loss_call_s"], s["unloss_call_s"]) for s in smp)
        raised = sum(1 for s in smp if s["group_fdt_ms"] and s["group_fdt_ms"] > fdt)
        for what, got, want in (("detection", det, exp["detect_mean"]), ("repair", rep, exp["repair_mean"])):
            ratio = got / want
            rows.append({"metric": f"FDT {fdt / 1000:g} s: {what} mean / schedule",
                         "target": f"1 +- {TOLERANCE:.0%}",
                         "measured": f"{ms(got)} = {ratio:.3f}",
                         "floor": f"schedule {ms(want)}; loss call <= {ms(call)}"
                                  + (f"; FDT raised in {raised}/{n}" if raised else ""),
                         "ok": abs(ratio - 1) <= TOLERANCE})
        details["fdt"][str(fdt)] = {"samples": smp, "schedule": exp, "detect_mean": det, "repair_mean": rep,
                                    "detect_over_fdt": det / (fdt / 1000)}
    return report("probe_detection", rows, details, out_dir=out_dir)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cycles", type=int, default=None, help="loss cycles per FDT (5 at 1 s, 3 at 10 s)")
    ap.add_argument("--fdt", type=int, nargs="+", default=[1000, 10000], help="failure detection times, ms")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    run(tuple(args.fdt), args.cycles, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
