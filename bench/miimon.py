"""The anchor: the same cut against what a Linux user would pick, an active-backup bond, miimon=100.

Same lab (ipmp-pair), same peer ping (`ping -D -i 0.005` from h2 to
192.0.2.10, the cut at a random phase, bench/failover_outage.py), but h1's
net0/net1 are left bare to the agent (not plumbed: it never touches them)
and the failover is Linux's:

- where the kernel has bonding (probed by creating one in h1's namespace),
  `bond0` in mode active-backup with miimon 100 enslaves net0 and net1 and
  carries the address; detection = the bond's gratuitous ARP reaching h2
  (the first sign of its failover a peer can see);
- otherwise (this kernel has no bonding module) a labelled stand-in,
  bench/miimon_standin.py, polls the active member's carrier every 100 ms
  as the MII monitor does and moves the address with one gratuitous ARP;
  detection = when its poll saw the carrier gone.

Floors from the same cuts: the raw carrier event (netlink in h1) and the
longest gap between replies before the cut.

    sudo .venv/bin/python -m bench.miimon [--cuts 20]
"""
from __future__ import annotations

import ipaddress
import random
import select
import subprocess
import sys

import rtsock_emul.lab as lab_api
from bench import failover_outage as fo
from bench import labkit, stages
from bench.common import cut_series_main, ms, report, summary
from rtsock_emul.lab import naming
from rtsock_emul.lab.faults import ns_argv  # network namespace only: works in a chroot

MIIMON_MS = 100
BOND = "bond0"
SEED = 100


def _in_h1(lab, argv: list[str], check: bool = True) -> subprocess.CompletedProcess:
    res = subprocess.run(ns_argv(lab.net["h1"].pid, argv), capture_output=True, text=True)
    if check and res.returncode:
        raise RuntimeError(f"h1: {' '.join(argv)}: {res.stderr.strip()}")
    return res


def bonding_available(lab) -> tuple[bool, str]:
    """Try to create a bond in h1's namespace (and remove it): (available, why not)."""
    res = _in_h1(lab, ["ip", "link", "add", "ipbprobe", "type", "bond"], check=False)
    if res.returncode == 0:
        _in_h1(lab, ["ip", "link", "del", "ipbprobe"])
        return True, ""
    return False, res.stderr.strip() or f"ip link add type bond: exit {res.returncode}"


class StandIn:
    """bench/miimon_standin.py running in h1's namespace."""
    label = f"stand-in: carrier polled every {MIIMON_MS} ms (no bonding in this kernel)"

    def __init__(self, lab):
        py = sys.executable
        self.proc = subprocess.Popen(
            ns_argv(lab.net["h1"].pid, [py, "-m", "bench.miimon_standin", f"{labkit.DATA_ADDR}/24",
                                        *labkit.MEMBERS, "--interval", f"{MIIMON_MS / 1000:g}"]),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = self._line(15.0)
        if not first.startswith("ready "):
            raise RuntimeError(f"miimon stand-in did not start: {first!r} {self.proc.stderr.read()}")
        self.active = first.split()[1]

    def _line(self, timeout: float) -> str:
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        return self.proc.stdout.readline().strip() if ready else ""

    def detected(self, t_cut: float, stamps: dict) -> float | None:
        line = self._line(2.0)
        if not line.startswith("failover "):
            return None
        _, _old, new, t_seen, _t_done = line.split()
        self.active = new
        return float(t_seen)

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class Bond:
    """A real active-backup bond over h1's net0 and net1."""
    label = f"Linux bond, active-backup, miimon={MIIMON_MS}"

    def __init__(self, lab):
        self.lab = lab
        _in_h1(lab, ["ip", "link", "add", BOND, "type", "bond", "mode", "active-backup",
                     "miimon", str(MIIMON_MS)])
        for m in labkit.MEMBERS:
            _in_h1(lab, ["ip", "link", "set", m, "down"])
            _in_h1(lab, ["ip", "link", "set", m, "master", BOND])
        _in_h1(lab, ["ip", "link", "set", BOND, "up"])
        _in_h1(lab, ["ip", "addr", "add", f"{labkit.DATA_ADDR}/24", "dev", BOND])

    @property
    def active(self) -> str:
        for line in _in_h1(self.lab, ["cat", f"/proc/net/bonding/{BOND}"]).stdout.splitlines():
            if line.startswith("Currently Active Slave:"):
                return line.split(":", 1)[1].strip()
        raise RuntimeError(f"{BOND} has no active slave")

    def detected(self, t_cut: float, stamps: dict) -> float | None:
        return stamps.get("garp_at_peer")

    def close(self) -> None:
        _in_h1(self.lab, ["ip", "link", "del", BOND], check=False)


def measure(cuts: int) -> dict:
    rng = random.Random(SEED)
    lab = lab_api.start("ipmp-pair")
    failover = None
    tracer = None
    try:
        bond, why = bonding_available(lab)
        failover = Bond(lab) if bond else StandIn(lab)
        tracer = stages.StageTracer(lab.net["h1"].pid, lab.net["h2"].pid)
        tracer.start()
        macs = {}
        with labkit.in_netns(lab.net["h1"].pid):
            from pyroute2 import IPRoute
            with IPRoute() as ipr:
                for name in [*labkit.MEMBERS, *([BOND] if bond else [])]:
                    link = ipr.get_links(ipr.link_lookup(ifname=name)[0])[0]
                    macs[name] = (link["index"], bytes.fromhex(link.get_attr("IFLA_ADDRESS").replace(":", "")))
        samples = []
        for _ in range(cuts):
            member = failover.active
            other = next(m for m in labkit.MEMBERS if m != member)
            tracer.clear()
            res = fo.ping_through_cut(lab.net["h2"].pid, labkit.DATA_ADDR,
                                      naming.port_name(lab.run_id, "h1", member), rng)
            new_mac = macs[BOND][1] if bond else macs[other][1]
            seen = tracer.stages(res["t_cut"], member, macs[member][0], macs[other][0], new_mac,
                                 ipaddress.IPv4Address(labkit.DATA_ADDR))
            t_det = failover.detected(res["t_cut"], seen)
            sample = {"member": member, **fo.outage_of(res)}
            sample.pop("first_reply")
            sample["detect_s"] = None if t_det is None else t_det - res["t_cut"]
            sample["carrier_s"] = None if seen["carrier"] is None else seen["carrier"] - res["t_cut"]
            samples.append(sample)
        return {"kind": "bond" if bond else "stand-in", "label": failover.label,
                "bonding_unavailable": why, "samples": samples}
    finally:
        if tracer is not None:
            tracer.close()
        if failover is not None:
            failover.close()
        lab.stop()


def run(cuts: int = 20, out_dir=None) -> dict:
    why = labkit.need_root()
    if why:
        return report("miimon", [{"metric": "anchor outage p99", "target": "", "measured": f"skipped: {why}",
                                  "floor": "", "ok": None}], {"skipped": why}, out_dir=out_dir)
    m = measure(cuts)
    smp = m["samples"]
    out = summary([s["outage_s"] for s in smp])
    gap = summary([s["gap_s"] for s in smp])
    det = summary([s["detect_s"] for s in smp if s["detect_s"] is not None])
    carrier = summary([s["carrier_s"] for s in smp if s["carrier_s"] is not None])
    floor = summary([s["floor_s"] for s in smp])
    rows = [{"metric": f"{m['kind']} detection p50 / p99", "target": "",
             "measured": f"{ms(det['p50'])} / {ms(det['p99'])}",
             "floor": f"netlink {ms(carrier['p50'])} / {ms(carrier['p99'])}", "ok": None},
            {"metric": f"{m['kind']} outage p50 / p99 (requests)", "target": "",
             "measured": f"{ms(out['p50'])} / {ms(out['p99'])}", "floor": "5 ms: none missed", "ok": None},
            {"metric": f"{m['kind']} longest reply gap p50 / p99", "target": "",
             "measured": f"{ms(gap['p50'])} / {ms(gap['p99'])}",
             "floor": f"gap before cut {ms(floor['p99'])}", "ok": None}]
    print(f"anchor: {m['label']}" + (f" ({m['bonding_unavailable']})" if m["bonding_unavailable"] else ""))
    details = {"cuts": cuts, "miimon_ms": MIIMON_MS, "outage": out, "gap": gap, "detection": det, "carrier": carrier,
               "floor": floor, **m}
    return report("miimon", rows, details, out_dir=out_dir)


def main(argv=None) -> int:
    return cut_series_main(__doc__, run, 20, argv)


if __name__ == "__main__":
    sys.exit(main())
