"""`ipmp-lab [TOPOLOGY] [--scenario FILE --until STEP]`: a lab in the Mininet CLI.

Every host runs its agent; `h1 rtsock ipmpstat -g` works at the prompt; the
prompt's commands are in rtsock_emul/lab/interact.py.
"""
from __future__ import annotations

import argparse
import copy
import sys

from rtsock_emul.lab import Lab, LabError, start
from rtsock_emul.lab.interact import interact
from rtsock_emul.scenario.errors import ScenarioError
from rtsock_emul.scenario.loader import load_file
from rtsock_emul.scenario.runner import Runner
from rtsock_emul.scenario.schema import Scenario, parse_scenario

BANNER = """\
ipmp-lab: topology {topo} ({hosts}); run {run}, logs in {run_dir}
  {first} rtsock dladm show-link         Solaris-style verbs on {first}'s agent: its datalinks
  {first} rtsock ipadm create-ip net0    a datalink becomes an IP interface (also net1)
  {first} rtsock ipadm create-ipmp -i net0,net1 ipmp0
  {first} rtsock ipmpstat -g
  {first} rtsock route monitor &         a routing-socket subscriber
  link {first}:net0 down|up              carrier loss on the far end (addresses stay)
  loss {first}:net0 100                  drop that share of packets (0 clears)
  exit                              stop the lab and remove everything it made
"""


def run_scenario_until(lab: Lab, scenario: Scenario, until: int | None) -> None:
    """Play a scenario's setup and its steps up to `until` (1-based) on this lab."""
    if until is not None:
        scenario = copy.copy(scenario)
        scenario.steps = [st for st in scenario.steps if st.index <= until]
    result = Runner(scenario, "mininet", lab_start=lambda *a, **k: lab, keep_lab=True, capture=False).run()
    if result.failure is not None:
        print(f"ipmp-lab: scenario stopped: {result.failure}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="ipmp-lab", description=__doc__.split("\n\n")[0])
    ap.add_argument("topology", nargs="?", default="ipmp-pair", help="a name under topologies/ or a file")
    ap.add_argument("--scenario", help="play this scenario file first")
    ap.add_argument("--until", type=int, help="stop the scenario after this step number")
    ap.add_argument("--fdt", type=int, metavar="MS",
                    help="in.mpathd FAILURE_DETECTION_TIME in ms (default 10000, as on illumos)")
    args = ap.parse_args(argv)
    topology, config, scenario = args.topology, {}, None
    try:
        if args.scenario:   # the scenario's own topology and settings (mpathd, switches)
            try:
                scenario = parse_scenario(load_file(args.scenario), args.scenario)
            except ScenarioError as exc:
                print(f"ipmp-lab: {exc}", file=sys.stderr)
                return 1
            topology, config = scenario.topology, dict(scenario.config)
        if args.fdt is not None:
            config["mpathd"] = {**config.get("mpathd", {}), "failure_detection_time": args.fdt}
        lab = start(topology, config=config)
    except LabError as exc:
        print(f"ipmp-lab: {exc}", file=sys.stderr)
        return 1
    try:
        if scenario is not None:
            run_scenario_until(lab, scenario, args.until)
        print(BANNER.format(topo=lab.topology.name, hosts=", ".join(lab.hosts), run=lab.run_id,
                            run_dir=lab.run_dir, first=lab.hosts[0]))
        interact(lab)
    finally:
        lab.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
