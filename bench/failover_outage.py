"""Failover data-plane outage seen by a peer pinging the data address every 5 ms.

Target (docs/performance.md): <= 30 ms p99. Lab: ipmp-pair, h1's net0+net1 in ipmp0
with 192.0.2.10, FDT 1000 ms. For each cut, h2 runs iputils
`ping -D -n -i 0.005` (one timestamped line per reply) to 192.0.2.10; once
LEAD replies arrived, the member the address is bound to (ipmpstat -a
INBOUND) loses carrier (`lab.link`, far end down). The outage is the longest
gap between successive replies that ends after the cut; if no reply came
after the cut, it is the time from the cut to the end of the ping run.
The floor is the longest gap between replies before the cut (the 5 ms
interval plus scheduling jitter), measured in the same runs. The link is
restored after the ping ends, and in.mpathd's repair awaited (ipmpstat -i);
flap damping (R114) limits each member to 3 cuts per lab, so cuts are spread
over fresh labs.

    sudo .venv/bin/python -m bench.failover_outage [--cuts 20]
"""
from __future__ import annotations

import re
import select
import subprocess
import sys
import time

from bench import labkit
from bench.common import cut_series_main, ms, report, summary

TARGET_S = 0.030
INTERVAL = 0.005
LEAD = 50            # replies before the cut (0.25 s of steady state)
COUNT = 240          # requests per run (1.2 s): about 0.95 s after the cut
_REPLY = re.compile(r"^\[(\d+\.\d+)\] \d+ bytes from .*icmp_seq=(\d+)")


class Run:
    def __init__(self, lab):
        self.h2_pid = lab.net["h2"].pid

    def close(self) -> None:
        pass


def _lines(proc, deadline: float):
    """Yield ping's stdout lines until it exits or the deadline passes."""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        line = proc.stdout.readline()
        if not line:
            return
        yield line


def cut_once(lab, run: Run, member: str, repair: bool) -> dict:
    argv = ["mnexec", "-a", str(run.h2_pid), "ping", "-D", "-n", "-i", f"{INTERVAL:g}",
            "-c", str(COUNT), "-W", "1", labkit.DATA_ADDR]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    replies, t_cut = [], None
    try:
        deadline = time.monotonic() + COUNT * INTERVAL + 10
        for line in _lines(proc, deadline):
            m = _REPLY.match(line)
            if m:
                replies.append(float(m.group(1)))
            if t_cut is None and len(replies) >= LEAD:
                t_cut = time.time()          # ping -D stamps with the wall clock
                lab.link("h1", member, False)
        proc.wait(5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        t_end = time.time()
        lab.link("h1", member, True)
    if t_cut is None:
        raise RuntimeError(f"h2 got only {len(replies)} replies from {labkit.DATA_ADDR} before the cut: "
                           f"{proc.stderr.read().strip()}")
    before = [b - a for a, b in zip(replies, replies[1:]) if b <= t_cut]
    after = [b - a for a, b in zip(replies, replies[1:]) if b > t_cut]
    last_before = max([r for r in replies if r <= t_cut])
    recovered = any(r > t_cut for r in replies)
    outage = max(after) if recovered else t_end - last_before
    if repair:
        labkit.member_ok(lab, member)
    return {"member": member, "outage_s": outage, "floor_s": max(before) if before else INTERVAL,
            "sent": COUNT, "received": len(replies), "recovered": recovered}


def measure(cuts: int) -> dict:
    samples, labs = labkit.cut_series(cuts, Run, cut_once, labkit.bound_member, fdt_ms=1000)
    return {"labs": labs, "samples": samples}


def run(cuts: int = 20, out_dir=None) -> dict:
    why = labkit.need_root()
    if why:
        return report("failover_outage", [{"metric": "failover outage p99", "target": "<= 30 ms",
                                           "measured": f"skipped: {why}", "floor": "", "ok": None}],
                      {"skipped": why}, out_dir=out_dir)
    m = measure(cuts)
    out = summary([s["outage_s"] for s in m["samples"]])
    floor = summary([s["floor_s"] for s in m["samples"]])
    lost = [s["sent"] - s["received"] for s in m["samples"]]
    rows = [{"metric": f"outage p{p} (5 ms pings)", "target": "<= 30 ms" if p == 99 else "",
             "measured": ms(out[f"p{p}"]), "floor": f"gap before cut {ms(floor[f'p{p}'])}",
             "ok": out["p99"] <= TARGET_S if p == 99 else None} for p in (50, 90, 99)]
    rows.append({"metric": "replies lost per cut (max)", "target": "", "measured": str(max(lost)),
                 "floor": "", "ok": None})
    rows.append({"metric": "runs that never recovered", "target": "0",
                 "measured": str(sum(not s["recovered"] for s in m["samples"])), "floor": "",
                 "ok": all(s["recovered"] for s in m["samples"])})
    details = {"cuts": cuts, "interval_s": INTERVAL, "outage": out, "floor": floor, **m}
    return report("failover_outage", rows, details, out_dir=out_dir)


def main(argv=None) -> int:
    return cut_series_main(__doc__, run, 20, argv)


if __name__ == "__main__":
    sys.exit(main())
