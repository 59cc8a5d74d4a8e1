"""Soak: random faults and changes on a Mininet lab while many subscribers read.

    sudo .venv/bin/python -m rtsock_emul.app.soak --minutes 10 [--subscribers 50] [--seed N]

For the given time (or number of changes, --steps) it flaps links, changes loss, adds and removes addresses and host
routes, and joins and leaves an IPMP group at random on ipmp-triple's h1 (net0, net1 in
ipmp0; net2 joins and leaves), while the subscribers (normal and RTAW_UNDER_IPMP,
AF_UNSPEC/AF_INET/AF_INET6, on h1 and h2) record everything. Then it undoes its changes
and checks: every stream passes the rule oracle; each host's model matches its Linux
state (UP addresses on the interface or bound member the model says, gateway routes);
each agent's file descriptors and sockets are back at their count before the
subscribers opened, and its RSS grew by at most RSS_SLACK_KB plus JOURNAL_KB (the
delivery journal is a ring of 20000 entries: filling it is use, not a leak). Exit 0
when all hold.
"""
from __future__ import annotations

import argparse
import ipaddress
import json
import os
import random
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from rtsock_emul.lab import start
from rtsock_emul.lab.topology import load
from rtsock_emul.scenario.runner import Runner
from rtsock_emul.scenario.schema import Scenario, Step, Subscriber
from rtsock_emul.util.wait import WaitTimeout, wait_until
from rtsock_emul.wire import constants as C

if TYPE_CHECKING:
    from rtsock_emul.lab.runtime import Lab
    from rtsock_emul.scenario.schema import Step

TOPOLOGY = "ipmp-triple"
GROUP, MEMBERS, JOINER = "ipmp0", ("net0", "net1"), "net2"
DATA_ADDR = "192.0.2.10/24"
JOINER_ADDR = "198.51.100.20/24"
PEER = "192.0.2.1"
POOL = 8                     # addresses and routes the soak may hold at once, per kind
CONVERGE_TIMEOUT = 30.0      # model and Linux agree, resources back, after the undo
SETTLE_TIMEOUT = 5.0         # DAD after a step (fast profile: 150 ms)
DAD_POLL = 0.05              # first poll interval: a DAD lasts ~150 ms and each poll is 2 admin calls
RSS_SLACK_KB = 4096          # allocator noise
JOURNAL_KB = 6144            # the delivery journal filling up to its bound (20000 entries: < 6 MB)
SUB_KINDS = (                # (rt_aware, protocol), cycled over the subscribers
    (None, C.AF_UNSPEC), (C.RTAW_UNDER_IPMP, C.AF_UNSPEC), (None, C.AF_INET),
    (C.RTAW_UNDER_IPMP, C.AF_INET), (None, C.AF_INET6))


def build_scenario(subscribers: int, fdt_ms: int):
    run = lambda cmd, host="h1": Step("run", {"host": host, "command": cmd, "error": None,  # noqa: E731
                                              "output": []}, 0, 0)
    setup = [run(f"ipadm create-ip {ifname}") for ifname in (*MEMBERS, JOINER)]   # hosts boot bare
    setup += [run(f"ipadm create-ipmp -i {','.join(MEMBERS)} {GROUP}"),
             run(f"ipadm create-addr -T static -a {DATA_ADDR} {GROUP}/v4"),
             run(f"ipadm create-addr -T static -a {JOINER_ADDR} {JOINER}/v4")]
    subs = {}
    for i in range(subscribers):
        aware, proto = SUB_KINDS[i % len(SUB_KINDS)]
        name = f"s{i:02d}"
        subs[name] = Subscriber(name=name, host="h2" if i % 5 == 4 else "h1", rt_aware=aware, protocol=proto)
    return Scenario(path="<soak>", name="soak", topology=load(TOPOLOGY),
                    config={"mpathd": {"failure_detection_time": fdt_ms}}, setup=setup, subscribers=subs)


class Chaos:
    """The random steps until the deadline, then the steps that undo what is left."""

    def __init__(self, rng: random.Random, deadline: float, runner, steps: int | None = None) -> None:
        self.rng, self.deadline, self.runner, self.steps = rng, deadline, runner, steps
        self.down: set = set()            # (host, ifname) with carrier off
        self.lossy: set = set()
        self.addrs: dict = {}             # addrobj -> address
        self.routes: set = set()          # host route destinations
        self.joined = False
        self.kinds: Counter[str] = Counter()

    def _more(self, made: int) -> bool:
        """Another change: until `steps` were made, or (without steps) the deadline."""
        return made < self.steps if self.steps is not None else time.monotonic() < self.deadline

    def __iter__(self) -> Iterator[Step]:
        n = 0
        while self._more(n):
            n += 1
            kind, args = self.pick()
            self.kinds[kind] += 1
            yield Step(kind if kind in ("link", "loss") else "run", args, n, n, n)
            if kind.startswith("run") and self.runner.last_rc == 0:
                self.commit(args["command"])
        for kind, args in self.undo():
            n += 1
            yield Step(kind, args, n, n, n)

    @staticmethod
    def cmd(command, host: str="h1"):
        return {"host": host, "command": command, "error": None, "output": []}

    def pick(self) -> tuple[str, dict]:
        r = self.rng
        choice = r.choice(("link", "link", "loss", "addr", "addr", "route", "route", "join"))
        if choice == "link":
            port = r.choice([("h1", "net0"), ("h1", "net1"), ("h1", "net2"), ("h2", "net0")])
            up = port in self.down
            (self.down.discard if up else self.down.add)(port)
            return "link", {"host": port[0], "ifname": port[1], "up": up}
        if choice == "loss":
            port = ("h1", r.choice(("net0", "net1", "net2")))
            pct = 0.0 if port in self.lossy else float(r.choice((20, 50, 100)))
            (self.lossy.discard if pct == 0 else self.lossy.add)(port)
            return "loss", {"links": [(port[0], port[1], pct)]}
        if choice == "addr":
            k = r.randrange(POOL)
            on = r.choice((GROUP, JOINER))
            obj = f"{on}/s{k}"
            if obj in self.addrs:
                return "run-addr", self.cmd(f"ipadm delete-addr {obj}")
            net = "192.0.2" if on == GROUP else "198.51.100"
            return "run-addr", self.cmd(f"ipadm create-addr -T static -a {net}.{30 + k}/24 {obj}")
        if choice == "route":
            dst = f"203.0.113.{r.randrange(POOL) + 1}"
            verb = "delete" if dst in self.routes else "add"
            return "run-route", self.cmd(f"route -n {verb} -host {dst} {PEER}")
        verb = "remove-ipmp" if self.joined else "add-ipmp"
        return "run-join", self.cmd(f"ipadm {verb} -i {JOINER} {GROUP}")

    def commit(self, command) -> None:
        """Track what a successful command changed (failures change nothing)."""
        words = command.split()
        if words[:2] == ["ipadm", "create-addr"]:
            self.addrs[words[-1]] = words[-2]
        elif words[:2] == ["ipadm", "delete-addr"]:
            self.addrs.pop(words[-1], None)
        elif words[0] == "route":
            (self.routes.add if words[2] == "add" else self.routes.discard)(words[4])
        elif words[1] in ("add-ipmp", "remove-ipmp"):
            self.joined = words[1] == "add-ipmp"

    def undo(self) -> Iterator[tuple[str, dict]]:
        for host, ifname in sorted(self.down):
            yield "link", {"host": host, "ifname": ifname, "up": True}
        for host, ifname in sorted(self.lossy):
            yield "loss", {"links": [(host, ifname, 0.0)]}
        if self.joined:
            yield "run", self.cmd(f"ipadm remove-ipmp -i {JOINER} {GROUP}")
        for obj in sorted(self.addrs):
            yield "run", self.cmd(f"ipadm delete-addr {obj}")
        for dst in sorted(self.routes):
            yield "run", self.cmd(f"route -n delete -host {dst} {PEER}")


class SoakRunner(Runner):
    """A command's failure is an outcome to count, not a failed step (the changes are
    random: deleting what a join moved can be refused); the baseline is taken once the
    setup settled, before the subscribers open."""
    last_rc = 0
    unsettled = 0            # steps after which DAD was still running at SETTLE_TIMEOUT
    chaos: Chaos
    rcs: Counter
    baseline: dict

    def _do_run(self, st: Step, host: str, command: str, error: Any, output: Any) -> None:
        rc, out, err = self._the_lab().admin(host, command)
        self.last_rc = rc
        self.rcs[(command.split()[1] if command.split()[0] != "route" else f"route {command.split()[2]}",
                  "ok" if rc == 0 else (err.strip().splitlines() or ["rc %d" % rc])[-1][-60:])] += 1

    def _settle(self) -> None:
        super()._settle()
        if not hasattr(self, "baseline"):
            self.baseline = stable_resources(self.lab)

    def _step(self, st: Step) -> None:
        """Each change, then DAD finished wherever the carrier is on: the oracle judges
        a message against the state around the step it was read in."""
        super()._step(st)
        if st.index:
            try:
                wait_until(self._dad_done, SETTLE_TIMEOUT, interval=DAD_POLL, what="DAD to finish")
            except WaitTimeout:
                self.unsettled += 1

    def _dad_done(self) -> bool:
        for host in ("h1", "h2"):
            out = self._the_lab().admin(host, "ipadm show-addr")[1]
            for row in (line.split() for line in out.splitlines()[1:]):
                if len(row) >= 3 and row[2] == "tentative" and \
                        (host, row[0].split("/")[0]) not in self.chaos.down:
                    return False
        return True


# --- end checks -------------------------------------------------------------------

def resources(lab) -> dict:
    """Per agent: open fds of its process (shared by the hosts that process serves),
    sockets of its network namespace among them by kind (unix, netlink, raw, ...), RSS in kB."""
    out = {}
    tids = lab.agent_tids()
    for host, pid in lab.agent_pids().items():
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
        inodes = [t[8:-1] for t in map(_readlink, fds) if t.startswith("socket:")]
        task = f"/proc/{pid}/task/{tids[host]}" if tids.get(host) else f"/proc/{pid}"
        kinds = _socket_kinds(task)
        if tids.get(host) and lab.mode == "mininet":   # the host's own: those in its namespace
            inodes = [i for i in inodes if i in kinds]
        m = re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text())
        rss = int(m.group(1)) if m else 0
        out[host] = {"fds": len(fds), "sockets": len(inodes), "rss_kb": rss,
                     "by_kind": dict(Counter(kinds.get(i, "other") for i in inodes))}
    return out


def _socket_kinds(task: str) -> dict:
    """socket inode -> kind, from the tables of the network namespace `task` (/proc/PID[/task/TID]) is in."""
    kinds = {}
    for kind, col in (("unix", 6), ("netlink", 8), ("raw", 9), ("raw6", 9), ("udp", 9), ("udp6", 9),
                      ("icmp", 9), ("icmp6", 9), ("packet", 8), ("tcp", 9), ("tcp6", 9)):
        try:
            lines = Path(f"{task}/net/{kind}").read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            parts = line.split()
            if len(parts) > col:
                kinds[parts[col]] = kind
    return kinds


def stable_resources(lab) -> dict:
    """resources() once two readings in a row agree (an admin connection just closed by
    the client may still be open on the agent's side for a moment)."""
    last: dict = {}

    def same() -> bool:
        now, prev = resources(lab), last.get("v")
        last["v"] = now
        strip = lambda r: {h: (v["fds"], v["sockets"]) for h, v in r.items()}  # noqa: E731
        return prev is not None and strip(prev) == strip(now)
    wait_until(same, CONVERGE_TIMEOUT, interval=0.05, what="the agents' fd counts to hold still")
    return last["v"]


def _readlink(path: str | Path) -> str:
    try:
        return os.readlink(path)
    except OSError:
        return ""


def model_addresses(lab, host: str) -> set:
    """(Linux device, address/prefix) the model wants on Linux: UP addresses on their own
    interface, IPMP data addresses on the member `ipmpstat -an` says they are bound to."""
    rc, out, err = lab.admin(host, "ipadm show-addr")
    want = set()
    rows = [line.split() for line in out.splitlines()[1:] if len(line.split()) >= 4]
    rc2, amap, _ = lab.admin(host, "ipmpstat -an -P -o ADDRESS,INBOUND")
    inbound = dict(line.split(":", 1) for line in amap.splitlines() if ":" in line) if rc2 == 0 else {}
    ipmp = {line.split(":")[0] for line in lab.admin(host, "ipmpstat -g -P -o GROUP")[1].splitlines()}
    for obj, _type, state, addr in (r[:4] for r in rows):
        ifname = obj.split("/")[0]
        iface = ipaddress.ip_interface(addr)
        if state != "ok" or iface.ip.is_loopback or iface.ip.is_link_local or iface.ip.is_unspecified:
            continue
        if ifname in ipmp or ifname == GROUP:
            member = inbound.get(str(iface.ip), "")
            if not member:
                continue                  # no active member: on no Linux interface
            ifname = member
        want.add((ifname, str(iface)))
    return want


def linux_addresses(lab, host: str) -> set:
    text = lab.net[host].cmd("ip -o addr show scope global")
    found = set()
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 4 and parts[2] in ("inet", "inet6"):
            found.add((parts[1].split("@")[0], parts[3]))
    return found


def route_mismatches(lab, host: str, dsts) -> list:
    """Host routes the soak ever touched: in the model (route get answers with that
    destination) exactly when Linux has them."""
    bad = []
    for dst in sorted(dsts):
        rc, out, _ = lab.admin(host, f"route -n get {dst}")
        model = rc == 0 and re.search(rf"destination:\s+{re.escape(dst)}\b", out) is not None
        linux = bool(lab.net[host].cmd(f"ip route show {dst}/32").strip())
        if model != linux:
            bad.append(f"{host} route {dst}: model {'has' if model else 'lacks'} it, Linux "
                       f"{'has' if linux else 'lacks'} it")
    return bad


def state_mismatches(lab, hosts: Sequence[str], dsts) -> list:
    out = []
    for host in hosts:
        want, have = model_addresses(lab, host), linux_addresses(lab, host)
        out += [f"{host}: model has {a} on {d}, Linux does not" for d, a in sorted(want - have)]
        out += [f"{host}: Linux has {a} on {d}, the model does not" for d, a in sorted(have - want)]
    return out + route_mismatches(lab, "h1", dsts)


def resource_growth(base, now) -> list:
    bad = []
    for host, b in base.items():
        n = now.get(host)
        if n is None:
            bad.append(f"{host}: agent gone")
            continue
        for key in ("fds", "sockets"):
            if n[key] != b[key]:
                bad.append(f"{host}: {key} {b[key]} -> {n[key]} (sockets by kind {b['by_kind']} -> {n['by_kind']})")
        if n["rss_kb"] - b["rss_kb"] > RSS_SLACK_KB + JOURNAL_KB:    # beyond that: a leak
            bad.append(f"{host}: RSS {b['rss_kb']} kB -> {n['rss_kb']} kB")
    return bad


def _settled(probe: Callable[[], list], what: str) -> list:
    """The probe's last list once it is empty, or its last non-empty list at the timeout."""
    last: dict = {}

    def check() -> bool:
        last["v"] = probe()
        return not last["v"]
    try:
        wait_until(check, CONVERGE_TIMEOUT, interval=0.2, what=what)
    except WaitTimeout:
        pass
    return last["v"]


def soak(seconds: float, subscribers: int = 50, seed: int | None = None, fdt_ms: int = 2000,
         reports: str | None = None, steps: int | None = None) -> dict:
    """Changes for `seconds` once the lab is up, or exactly `steps` changes (then the undo)."""
    seed = random.randrange(1 << 30) if seed is None else seed
    rng = random.Random(seed)
    sc = build_scenario(subscribers, fdt_ms)
    runner = SoakRunner(sc, "mininet", keep_lab=True, reports_dir=reports, capture=False)
    runner.rcs = Counter()
    t0 = time.monotonic()
    chaos = runner.chaos = Chaos(rng, 0.0, runner, steps)
    sc.steps = chaos
    runner.lab_start = lambda *a, **kw: _started(start(*a, **kw), chaos, seconds)
    try:
        res = runner.run()
        lab = runner.lab
        summary = {"seed": seed, "seconds": round(time.monotonic() - t0, 1), "subscribers": subscribers,
                   "steps": sum(chaos.kinds.values()), "step_kinds": dict(chaos.kinds),
                   "commands": {f"{c} -> {r}": n for (c, r), n in sorted(runner.rcs.items())},
                   "messages": len(res.streams.all_records()) if res.streams else 0,
                   "steps_unsettled": runner.unsettled,
                   "journal_entries": {h: j.next for h, j in sorted(res.journals.items())},
                   "failure": str(res.failure)[:2000] if res.failure else None,
                   "violation_counts": dict(Counter(v.rule for v in res.violations)),
                   "violations": [f"{v.rule} {v.sub}: {v.what}" for v in res.violations][:20]}   # the first
        if lab is not None:
            touched = {f"203.0.113.{k + 1}" for k in range(POOL)}
            summary["state_mismatches"] = _settled(lambda: state_mismatches(lab, ("h1", "h2"), touched),
                                                   "model and Linux to agree")
            summary["resources_before"] = runner.baseline
            summary["resource_growth"] = _settled(lambda: resource_growth(runner.baseline, resources(lab)),
                                                  "agents' fds and sockets back at baseline")
            summary["resources_after"] = resources(lab)
    finally:
        if runner.lab is not None:
            runner.lab.stop()
    summary["passed"] = not (summary["failure"] or summary["violations"] or
                             summary.get("state_mismatches") or summary.get("resource_growth"))
    return summary


def _started(lab: Lab, chaos: Chaos, seconds: float) -> Lab:
    chaos.deadline = time.monotonic() + seconds     # the clock starts once the lab is up
    return lab


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m rtsock_emul.app.soak", description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=None)
    p.add_argument("--seconds", type=float, default=None, help="instead of --minutes (smoke runs)")
    p.add_argument("--steps", type=int, default=None,
                   help="make exactly this many changes instead of running for a time: with --seed, "
                        "the same changes on any machine at any load")
    p.add_argument("--subscribers", type=int, default=50)
    p.add_argument("--seed", type=int, default=None, help="replay a run's random choices")
    p.add_argument("--fdt", type=int, default=2000, help="in.mpathd failure detection time, ms")
    p.add_argument("--reports", default=None, help="write streams.jsonl and timeline.html here")
    args = p.parse_args(argv)
    if os.geteuid() != 0:
        p.error("needs root: the soak runs on a Mininet lab (network namespaces, veths)")
    seconds = args.seconds if args.seconds is not None else 60 * (args.minutes if args.minutes is not None else 10)
    summary = soak(seconds, args.subscribers, args.seed, args.fdt, args.reports, args.steps)
    print(json.dumps(summary, indent=1))
    return 0 if summary["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
