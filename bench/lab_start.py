"""Lab start: 32 hosts on one switch with agents READY vs bare Mininet; agent memory.

Targets (docs/performance.md): start within 2x bare Mininet of the same shape; at most
30 MB RSS per agent.
- lab: `rtsock_emul.lab.start(mapping)` with h1..h32, each net0 on s1 (booted
  plumbed, `ip: true`),
  timed until it returns (every agent READY, shells know RTSOCK_AGENT).
- bare: `Mininet(controller=None)` with a LinuxBridge switch, the same 32
  hosts and links, no agents, timed from construction to `start()` returning.
  The bridge gets a per-run name (its ports live in the root namespace).
- memory: per agent, VmRSS from /proc/PID/status and Rss/Pss/USS
  (Private_Clean + Private_Dirty) from /proc/PID/smaps_rollup, while the lab
  runs. Agents are forked from one zygote, so the imported code is shared
  copy-on-write: RSS counts those shared pages in full in every agent; PSS
  divides them among the processes sharing them; USS is what one more agent
  really costs.
Variants alternate `--repeats` times; the median of each is compared.

    sudo .venv/bin/python -m bench.lab_start [--hosts 32] [--repeats 3]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

from bench.common import report

TARGET_FACTOR = 2.0
TARGET_RSS_MB = 30.0


def topology(n: int) -> dict:
    return {"name": f"star{n}", "description": f"{n} hosts on one switch (bench.lab_start)",
            "switches": ["s1"],
            "hosts": {f"h{i}": {"interfaces": {"net0": {"switch": "s1", "ip": True}}} for i in range(1, n + 1)}}


def bare_start(n: int) -> float:
    from mininet.log import setLogLevel
    from mininet.net import Mininet
    from mininet.nodelib import LinuxBridge
    setLogLevel("warning")
    sw_name = f"bz{os.getpid() % 100000}"          # ports bzPID-ethN: unique, <= 15 bytes
    t0 = time.perf_counter()
    net = Mininet(topo=None, controller=None, switch=LinuxBridge, build=False,
                  autoSetMacs=False, autoStaticArp=False, waitConnected=False)
    try:
        sw = net.addSwitch(sw_name, stp=False)
        for i in range(1, n + 1):
            h = net.addHost(f"h{i}", ip=None)
            net.addLink(h, sw)
        net.start()
        return time.perf_counter() - t0
    finally:
        net.stop()


def _kib(path: str, keys: tuple) -> dict:
    out = {}
    with open(path) as f:
        for line in f:
            name, _, rest = line.partition(":")
            if name in keys:
                out[name] = int(rest.split()[0])
    return out


def memory(pid: int) -> dict:
    """MB: rss (VmRSS), pss, uss (private) of a process."""
    st = _kib(f"/proc/{pid}/status", ("VmRSS",))
    sm = _kib(f"/proc/{pid}/smaps_rollup", ("Rss", "Pss", "Private_Clean", "Private_Dirty"))
    return {"rss": st["VmRSS"] / 1024, "pss": sm["Pss"] / 1024,
            "uss": (sm["Private_Clean"] + sm["Private_Dirty"]) / 1024}


def lab_start(n: int, with_memory: bool) -> tuple[float, dict | None]:
    import rtsock_emul.lab as lab_api
    t0 = time.perf_counter()
    lab = lab_api.start(topology(n))
    elapsed = time.perf_counter() - t0
    try:
        mem = None
        if with_memory:
            agents = {h: memory(pid) for h, pid in lab.agent_pids().items()}
            mem = {"agents": agents, "zygote": memory(lab.zygote.proc.pid)}
        return elapsed, mem
    finally:
        lab.stop()


def run(hosts: int = 32, repeats: int = 3, out_dir=None) -> dict:
    if os.geteuid() != 0:
        why = "needs root (network namespaces, veths): run with sudo"
        return report("lab_start", [{"metric": "lab start", "target": "<= 2x bare", "measured": f"skipped: {why}",
                                     "floor": "", "ok": None}], {"skipped": why}, out_dir=out_dir)
    bare, lab, mem = [], [], None
    for i in range(repeats):
        bare.append(bare_start(hosts))
        t, m = lab_start(hosts, with_memory=(i == repeats - 1))
        lab.append(t)
        mem = m or mem
    b, l_ = statistics.median(bare), statistics.median(lab)
    agents = list(mem["agents"].values())
    worst = {k: max(a[k] for a in agents) for k in ("rss", "pss", "uss")}
    mean = {k: statistics.mean(a[k] for a in agents) for k in ("rss", "pss", "uss")}
    rows = [
        {"metric": f"start {hosts} hosts, agents READY", "target": "<= 2x bare",
         "measured": f"{l_:.2f} s ({l_ / b:.1f}x)", "floor": f"bare mininet {b:.2f} s",
         "ok": l_ <= TARGET_FACTOR * b},
        {"metric": "agent RSS (max)", "target": f"<= {TARGET_RSS_MB:g} MB", "measured": f"{worst['rss']:.1f} MB",
         "floor": f"zygote {mem['zygote']['rss']:.1f} MB", "ok": worst["rss"] <= TARGET_RSS_MB},
        {"metric": "agent PSS (max)", "target": "", "measured": f"{worst['pss']:.1f} MB",
         "floor": f"zygote {mem['zygote']['pss']:.1f} MB", "ok": None},
        {"metric": "agent USS (max; cost of one more)", "target": "", "measured": f"{worst['uss']:.1f} MB",
         "floor": f"zygote {mem['zygote']['uss']:.1f} MB", "ok": None},
    ]
    details = {"hosts": hosts, "repeats": repeats, "bare_s": bare, "lab_s": lab, "bare_median_s": b,
               "lab_median_s": l_, "ratio": l_ / b, "agent_mb_max": worst, "agent_mb_mean": mean,
               "memory": mem}
    return report("lab_start", rows, details, out_dir=out_dir)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hosts", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    run(args.hosts, args.repeats, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
