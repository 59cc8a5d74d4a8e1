"""`python -m rtsock_emul.fuzz --minutes N [--seed S] [--subscribers K] [--json FILE]`

Fuzzes a fresh sim agent for N minutes: routing-socket writes (random and mutated,
privileged and as `nobody`), admin records and control records; every 200 inputs
each subscriber must receive a probe. Prints inputs tried, findings (crashes,
hangs, errnos the rules do not allow), the errno histogram and the agent's RSS.
Exit status 1 if anything was found.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time

from . import inputs
from .session import FuzzSession
from .simagent import CONFIG, SimAgent

PROBE_EVERY = 200
MIX = (("request", 0.7), ("admin", 0.15), ("control", 0.15))


def fuzz(agent, seconds: float, seed: int, subscribers: int, out=sys.stdout) -> dict:
    rng = random.Random(seed)
    unprivileged = "nobody" if os.geteuid() == 0 else None
    session = FuzzSession(agent, subscribers=subscribers, unprivileged=unprivileged)
    started = time.monotonic()
    try:
        n = 0
        while time.monotonic() - started < seconds and agent.alive():
            channel = rng.choices([c for c, _ in MIX], [w for _, w in MIX])[0]
            if channel == "request":
                session.request(inputs.request(rng), privileged=rng.random() < 0.6)
            elif channel == "admin":
                session.admin_record(inputs.admin_record(rng))
            else:
                session.control_record(inputs.control_record(rng))
            n += 1
            if n % PROBE_EVERY == 0:
                session.probe()
            if n % 5000 == 0:
                print(f"  {n} inputs, {len(session.findings)} findings, "
                      f"RSS {agent.rss_kb()} kB", file=out, flush=True)
        if agent.alive():
            session.probe()
        report = session.report()
    finally:
        session.close()
    report.update(seconds=round(time.monotonic() - started, 1), seed=seed)
    return report


def render(report: dict) -> str:
    lines = [f"inputs tried: {report['total']} in {report['seconds']} s (seed {report['seed']}): "
             + ", ".join(f"{k} {v}" for k, v in sorted(report["inputs"].items())),
             f"findings (crashes, hangs, errnos the rules forbid): {report['findings']}",
             f"agent alive: {report['agent_alive']}",
             "RSS kB: start {start}, max {max}, end {end}".format(**report["rss_kb"]),
             "subscribers held: {held} of {of}; probes {p}; overflows {overflows}".format(
                 p=report["probes"], **report["subscribers"]),
             "errno histogram:"]
    lines += [f"  {k:<28} {v}" for k, v in report["errnos"].items()]
    for f in report["first_findings"]:
        lines.append(f"  FINDING {f['channel']}: got {f['got']} allowed {f['allowed']} input {f['input'][:160]}")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rtsock_emul.fuzz", description=__doc__.split("\n\n")[1])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--seed", type=int, default=None, help="default: random, printed")
    parser.add_argument("--subscribers", type=int, default=4)
    parser.add_argument("--json", help="also write the report as JSON to this file")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.randrange(1 << 32)
    # Without root no `nobody` socket can be opened: then every write is a privileged one.
    with SimAgent(dict(CONFIG, privileged_uids=sorted({0, os.geteuid()}))) as agent:
        report = fuzz(agent, args.minutes * 60, seed, args.subscribers)
    print(render(report))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1)
    return 1 if report["findings"] or not report["agent_alive"] else 0


if __name__ == "__main__":
    sys.exit(main())
