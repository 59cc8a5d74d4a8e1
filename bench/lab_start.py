"""Lab scale: N hosts, each with a two-member IPMP group, ready vs bare Mininet; memory per host.

Targets (docs/performance.md "Lab scale"), at 8, 32 and 128 hosts: ready within
1.5x bare Mininet's start of the same topology; at most 5 MB PSS added per host.
- topology: h1..hN, each with net0 and net1 on one switch s1 (`ip: true`).
- ours: `rtsock_emul.lab.start(mapping)` (every agent READY, shells know
  RTSOCK_AGENT), then `ipadm create-ipmp -i net0,net1 ipmp0` on every host (8
  at a time, as a set-up script would); timed until the last group exists.
  The parts are reported too: network (Mininet hosts, veths, bridge), agents
  (spawn to READY), groups.
- bare: `Mininet(controller=None)` with a LinuxBridge switch, the same N hosts
  and 2N links, no agents, from construction to `start()` returning. The
  bridge gets a per-run name (its ports live in the root namespace).
- first lab of a process: the first sample of each size starts with no fork
  server (rtsock_emul/lab/forkserver.py), as a fresh process does; it is
  reported on its own row, and `ours_s` is the median of the later samples,
  as every later lab of a process sees it (a test session, a script).
- memory, with every agent running and every group made: Pss and USS
  (Private_Clean + Private_Dirty) from /proc/PID/smaps_rollup of every agent
  process, of the zygote they were forked from and of the fork server. A
  process serves a shard of hosts (a thread each) and shares the zygote's
  pages copy-on-write, so
  per host = (sum over those processes) / N: the memory the agents add, with
  shared pages divided among their sharers (PSS) or left out (USS).
Bare and ours alternate `--repeats` times per size; medians are compared.
Every run checks that no link of its own is left in the root namespace.

Results: bench/results/lab_start.json; its `details.curve` is a list, one
entry per size:
  {"hosts", "ours_s", "bare_s", "ratio", "ours_first_s", "first_ratio",
   "pss_per_host_mb", "uss_per_host_mb",
   "agent_processes", "network_s", "agents_s", "groups_s", "ours_runs_s", "bare_runs_s",
   "loadavg_1min"}
(seconds are medians; the `_runs_s` lists hold every sample).

    sudo .venv/bin/python -m bench.lab_start [--sizes 8,32,128] [--repeats 3]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from bench.common import report

TARGET_FACTOR = 1.5
TARGET_PSS_MB = 5.0
SIZES = (8, 32, 128)
GROUP_CMD = "ipadm create-ipmp -i net0,net1 ipmp0"
GROUP_PARALLEL = 8


def topology(n: int) -> dict:
    ifs = {"net0": {"switch": "s1", "ip": True}, "net1": {"switch": "s1", "ip": True}}
    return {"name": f"star{n}", "description": f"{n} hosts, two NICs each, one switch (bench.lab_start)",
            "switches": ["s1"], "hosts": {f"h{i}": {"interfaces": dict(ifs)} for i in range(1, n + 1)}}


def _root_links_with(prefix: str) -> list[str]:
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    names = [line.split(":")[1].strip().split("@")[0] for line in out.splitlines() if ":" in line]
    return [n for n in names if n.startswith(prefix)]


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
            net.addLink(h, sw)
        net.start()
        return time.perf_counter() - t0
    finally:
        net.stop()
        left = _root_links_with(sw_name)
        if left:
            raise RuntimeError(f"bare Mininet left links {left}")


def _kib(path: str, keys: tuple) -> dict:
    out = dict.fromkeys(keys, 0)
    with open(path) as f:
        for line in f:
            name, _, rest = line.partition(":")
            if name in keys:
                out[name] = int(rest.split()[0])
    return out


def memory(pid: int) -> dict:
    """MB: rss (VmRSS), pss, uss (private) of a process."""
    st = _kib(f"/proc/{pid}/status", ("VmRSS",))
    sm = _kib(f"/proc/{pid}/smaps_rollup", ("Pss", "Private_Clean", "Private_Dirty"))
    return {"rss": st["VmRSS"] / 1024, "pss": sm["Pss"] / 1024,
            "uss": (sm["Private_Clean"] + sm["Private_Dirty"]) / 1024}


def lab_start(n: int, with_memory: bool) -> dict:
    import rtsock_emul.lab as lab_api
    from rtsock_emul.lab import naming
    t0 = time.perf_counter()
    lab = lab_api.start(topology(n))
    try:
        t_lab = time.perf_counter() - t0
        with ThreadPoolExecutor(GROUP_PARALLEL) as pool:
            list(pool.map(lambda h: lab.admin_ok(h, GROUP_CMD), lab.hosts))
        out = {"ours_s": time.perf_counter() - t0, "groups_s": time.perf_counter() - t0 - t_lab,
               **{f"{k}_s": v for k, v in lab.start_times.items()}}
        if with_memory:
            from rtsock_emul.lab import forkserver
            zpid, pids = lab.zygote.proc.pid, set(lab.agent_pids().values())
            procs = {"zygote": memory(zpid)}     # it serves the last shard itself
            procs.update({f"agent {pid}": memory(pid) for pid in sorted(pids - {zpid})})
            # the zygote's imported pages are shared with the process's fork server: counted
            # with it (it exists for the labs), so PSS per host is not halved by the sharing
            procs["fork server"] = memory(forkserver.server_pid())
            out["memory"] = procs
            out["agent_processes"] = len(pids)
            for key in ("pss", "uss", "rss"):
                out[f"{key}_per_host_mb"] = sum(p[key] for p in procs.values()) / n
        return out
    finally:
        problems = lab.stop()
        left = _root_links_with(naming.prefix(lab.run_id))
        if problems or left:
            raise RuntimeError(f"lab {lab.run_id} left {problems + left}")


def run(repeats: int = 3, out_dir=None, sizes=SIZES) -> dict:
    if os.geteuid() != 0:
        why = "needs root (network namespaces, veths): run with sudo"
        return report("lab_start", [{"metric": "lab start", "target": f"<= {TARGET_FACTOR:g}x bare",
                                     "measured": f"skipped: {why}", "floor": "", "ok": None}],
                      {"skipped": why}, out_dir=out_dir)
    curve, rows = [], []
    for n in sizes:
        bare, ours = [], []
        for i in range(repeats):
            bare.append(bare_start(n))
            if i == 0:     # the first lab of a process starts the fork server: measured as such
                from rtsock_emul.lab import forkserver
                forkserver.shutdown()
            ours.append(lab_start(n, with_memory=(i == repeats - 1)))
        b = statistics.median(bare)
        later = ours[1:] or ours
        o = statistics.median(r["ours_s"] for r in later)
        first = ours[0]["ours_s"]
        mem = ours[-1]
        point = {"hosts": n, "ours_s": o, "bare_s": b, "ratio": o / b,
                 "ours_first_s": first, "first_ratio": first / b,
                 "pss_per_host_mb": mem["pss_per_host_mb"], "uss_per_host_mb": mem["uss_per_host_mb"],
                 "rss_per_host_mb": mem["rss_per_host_mb"], "agent_processes": mem["agent_processes"],
                 **{k: statistics.median(r[k] for r in later) for k in ("network_s", "agents_s", "groups_s")},
                 "ours_runs_s": [r["ours_s"] for r in ours], "bare_runs_s": bare,
                 "loadavg_1min": os.getloadavg()[0], "memory": mem["memory"]}
        curve.append(point)
        rows.append({"metric": f"{n} hosts + groups ready", "target": f"<= {TARGET_FACTOR:g}x bare",
                     "measured": f"{o:.2f} s ({o / b:.2f}x)", "floor": f"bare mininet {b:.2f} s",
                     "ok": o <= TARGET_FACTOR * b})
        if repeats > 1:
            rows.append({"metric": f"{n} hosts, first lab of a process", "target": f"<= {TARGET_FACTOR:g}x bare",
                         "measured": f"{first:.2f} s ({first / b:.2f}x)", "floor": f"bare mininet {b:.2f} s",
                         "ok": first <= TARGET_FACTOR * b})
        rows.append({"metric": f"{n} hosts: PSS per host", "target": f"<= {TARGET_PSS_MB:g} MB",
                     "measured": f"{point['pss_per_host_mb']:.2f} MB", "ok": point["pss_per_host_mb"] <= TARGET_PSS_MB,
                     "floor": f"USS {point['uss_per_host_mb']:.2f} MB, {point['agent_processes']} procs"})
    details = {"repeats": repeats, "sizes": list(sizes), "curve": curve}
    return report("lab_start", rows, details, out_dir=out_dir)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)), help="host counts, comma-separated")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    run(args.repeats, args.out, tuple(int(s) for s in args.sizes.split(",")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
