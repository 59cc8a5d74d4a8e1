"""Probe loss -> in.mpathd declares the member FAILED (R112), and repairs it (R113).

Target (docs/performance.md): with FDT 1000 ms (probe interval 142 ms, R131's
quiet period shortened to 1 s by config) a member whose probes are all lost
(nftables drop, carrier up) is FAILED within FDT + 20% (1.2 s), and once the loss
is cleared, 10 good probes (about 1.43 FDT) repair it within 1.9 s. Both are
measured from the `lab.loss` step to the RTM_IFINFO of net0 with IFF_FAILED set
(or cleared) on an IPMP-aware routing socket of h1. Lab: ipmp-pair, h1's
net0+net1 in ipmp0 with a data address and a test address on each member.
Rounds repeat on one lab (probe-based repair has no flap damping, unlike R114's
link-based one). tests/integration/test_failover.py checks the same messages
without timing them.

    sudo .venv/bin/python -m bench.probe_detection [--cuts 10]
"""
from __future__ import annotations

import sys
import time

from bench import labkit
from bench.common import cut_series_main, ms, report, summary
from rtsock_emul.util.wait import wait_until

FDT_MS = 1000
FAIL_TARGET = 1.2       # s: FDT + 20% (R112)
REPAIR_TARGET = 1.9     # s: 10 probes of 143 ms plus one probe interval's jitter (R113)
TEST_ADDRESSES = ("ifconfig net0 addif 192.0.2.21/24 -failover up",
                  "ifconfig net1 addif 192.0.2.22/24 -failover up")


def start() -> object:
    """The pair with test addresses, once each member has an acknowledged probe
    (which ends the quiet period, so it is not measured)."""
    lab = labkit.start_pair(FDT_MS)
    try:
        for cmd in TEST_ADDRESSES:
            lab.admin_ok("h1", cmd)

        def acked() -> bool:
            rows = lab.admin_ok("h1", "ipmpstat -p -P -o INTERFACE,RTT").splitlines()
            return all(any(r.startswith(f"{m}:") and r.endswith("ms") for r in rows) for m in labkit.MEMBERS)
        wait_until(acked, 10, what="an acknowledged probe on each member")
    except BaseException:
        lab.stop()
        raise
    return lab


def one_round(lab, rs: labkit.RtsockListener, index: int) -> tuple[float, float]:
    """(fail, repair) seconds for one 100%-loss period of h1:net0."""
    rs.clear()
    t0 = time.perf_counter()
    lab.loss("h1", "net0", 100)
    t_failed, _ = rs.wait_for(labkit.ifinfo(index, failed=True), 5.0, "RTM_IFINFO net0 +FAILED")
    rs.clear()
    t1 = time.perf_counter()
    lab.loss("h1", "net0", 0)
    t_repaired, _ = rs.wait_for(labkit.ifinfo(index, failed=False), 5.0, "RTM_IFINFO net0 -FAILED")
    labkit.member_ok(lab, "net0")
    return t_failed - t0, t_repaired - t1


def run(cuts: int = 10, out_dir=None) -> dict:
    why = labkit.need_root()
    if why:
        rows = [{"metric": "probe loss -> FAILED", "target": f"<= {ms(FAIL_TARGET)}",
                 "measured": f"skipped: {why}", "floor": "", "ok": None}]
        return report("probe_detection", rows, {"skipped": why}, out_dir=out_dir)
    lab = start()
    try:
        index = labkit.ifindex(lab, "h1", "net0")
        rs = labkit.RtsockListener(lab, "h1")
        rs.start()
        try:
            samples = [one_round(lab, rs, index) for _ in range(cuts)]
        finally:
            rs.close()
    finally:
        lab.stop()
    fail, repair = summary([s[0] for s in samples]), summary([s[1] for s in samples])
    rows = [
        {"metric": "probe loss -> FAILED (max)", "target": f"<= {ms(FAIL_TARGET)} (FDT + 20%)",
         "measured": f"{ms(fail['max'])} (p50 {ms(fail['p50'])})", "floor": f"FDT {FDT_MS} ms",
         "ok": fail["max"] <= FAIL_TARGET},
        {"metric": "loss cleared -> repaired (max)", "target": f"<= {ms(REPAIR_TARGET)} (10 probes)",
         "measured": f"{ms(repair['max'])} (p50 {ms(repair['p50'])})", "floor": "10 x 143 ms",
         "ok": repair["max"] <= REPAIR_TARGET},
    ]
    return report("probe_detection", rows, {"fail": fail, "repair": repair, "samples": samples,
                                            "fdt_ms": FDT_MS}, out_dir=out_dir)


if __name__ == "__main__":
    sys.exit(cut_series_main(__doc__, lambda n, out: run(n, out), 10))
