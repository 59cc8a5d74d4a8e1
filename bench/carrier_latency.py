"""Carrier cut -> an IPMP-aware subscriber reads RTM_IFINFO with IFF_FAILED.

Target (docs/performance.md): p99 within 3x the netlink floor. Lab: ipmp-pair, h1's
net0+net1 in ipmp0 with a data address, FDT 1000 ms. Each cut takes the far
(switch) end of h1:net0 down with `lab.link` and stamps t0 just before it.
Two listeners in this process stamp their reads:
- floor: a pyroute2 IPRoute bound to RTMGRP_LINK inside h1's namespace,
  for the RTM_NEWLINK of net0 without IFF_LOWER_UP (the raw carrier event);
- emulated: an AF_INET routing socket on h1 with RT_AWARE=RTAW_UNDER_IPMP,
  for the RTM_IFINFO of net0 with IFF_FAILED (netlink -> agent kernel model
  -> in.mpathd -> hub -> client).
Both come from the same cut, so each sample is a pair. Between cuts the link
is restored and in.mpathd's repair awaited (ipmpstat -i). in.mpathd's flap
damping (R114: no link-based repair after more than 2 link-ups in a minute)
allows 3 cuts of net0 per lab, so the cuts are spread over fresh labs.

    sudo .venv/bin/python -m bench.carrier_latency [--cuts 30]
"""
from __future__ import annotations

import sys
import time

from bench import labkit
from bench.common import cut_series_main, ms, report, summary

TARGET_FACTOR = 3.0


class Run:
    """One lab's listeners: the netlink floor and the aware routing socket on h1."""

    def __init__(self, lab):
        self.index = labkit.ifindex(lab, "h1", "net0")
        self.nl = labkit.NetlinkListener(lab.net["h1"].pid)
        self.nl.start()
        self.rs = labkit.RtsockListener(lab, "h1")
        self.rs.start()

    def close(self) -> None:
        self.rs.close()
        self.nl.close()


def cut_once(lab, run: Run, member: str, repair: bool) -> tuple[float, float, float]:
    """(floor, emulated, ip-command) seconds for one carrier cut of h1:member."""
    nl, rs = run.nl, run.rs
    nl.clear()
    rs.clear()
    t0 = time.perf_counter()
    lab.link("h1", member, False)
    t_cmd = time.perf_counter()
    t_nl, _ = nl.wait_for(lambda ev: ev == (member, False), 5.0, f"{member} carrier-off netlink event")
    t_rs, _ = rs.wait_for(labkit.ifinfo(run.index, failed=True), 5.0, f"RTM_IFINFO {member} +FAILED")
    lab.link("h1", member, True)
    if repair:
        rs.wait_for(labkit.ifinfo(run.index, failed=False, running=True), 10.0,
                    f"RTM_IFINFO {member} +RUNNING -FAILED")
        labkit.member_ok(lab, member)
    return t_nl - t0, t_rs - t0, t_cmd - t0


def measure(cuts: int) -> dict:
    samples, labs = labkit.cut_series(cuts, Run, cut_once, lambda lab: "net0", fdt_ms=1000)
    floor, emul, cmd = (list(x) for x in zip(*samples))
    return {"labs": labs, "floor_s": floor, "emulated_s": emul, "ip_command_s": cmd,
            "agent_added_s": [e - f for e, f in zip(emul, floor)]}


def run(cuts: int = 30, out_dir=None) -> dict:
    why = labkit.need_root()
    if why:
        return report("carrier_latency", [{"metric": "carrier cut -> RTM_IFINFO +FAILED p99",
                                           "target": "<= 3x netlink floor", "measured": f"skipped: {why}",
                                           "floor": "", "ok": None}], {"skipped": why}, out_dir=out_dir)
    m = measure(cuts)
    f, e, a = summary(m["floor_s"]), summary(m["emulated_s"]), summary(m["agent_added_s"])
    rows = [{"metric": f"cut -> aware IFINFO +FAILED p{p}", "target": "<= 3x floor" if p == 99 else "",
             "measured": ms(e[f"p{p}"]), "floor": f"netlink {ms(f[f'p{p}'])}",
             "ok": e["p99"] <= TARGET_FACTOR * f["p99"] if p == 99 else None} for p in (50, 90, 99)]
    rows.append({"metric": "agent's share (emulated - floor) p99", "target": "",
                 "measured": ms(a["p99"]), "floor": "", "ok": None})
    details = {"cuts": cuts, "floor": f, "emulated": e, "agent_added": a,
               "ip_command": summary(m["ip_command_s"]), "ratio_p99": e["p99"] / f["p99"], **m}
    return report("carrier_latency", rows, details, out_dir=out_dir)


def main(argv=None) -> int:
    return cut_series_main(__doc__, run, 30, argv)


if __name__ == "__main__":
    sys.exit(main())
