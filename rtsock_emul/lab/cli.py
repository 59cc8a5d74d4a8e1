"""`ipmp-lab [TOPOLOGY] [--scenario FILE --until STEP]`: a lab in the Mininet CLI.

Every host runs its agent; `h1 rtsock ipmpstat -g` works at the prompt.
`link h1:net0 down` (and Mininet's own `link s1 h1 down`) cut only the far
(switch) end, so the host keeps its addresses and only loses carrier.
"""
from __future__ import annotations

import argparse
import copy
import sys

from .errors import LabError
from .runtime import start

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


def _lab_cli_class() -> type:
    from mininet.cli import CLI
    from mininet.log import error

    class LabCLI(CLI):
        prompt = "ipmp-lab> "

        def __init__(self, mn, lab, **kw) -> None:
            self.lab = lab
            super().__init__(mn, **kw)

        def _ends(self, args: list[str]) -> list[tuple[str, str]]:
            """[(host, ifname)] named by `HOST:IF` or by two nodes (`s1 h1`)."""
            if len(args) == 1 and ":" in args[0]:
                host, ifname = args[0].split(":", 1)
                return [(host, ifname)]
            if len(args) == 2:
                a, b = args
                host, sw = (a, b) if a in self.lab.topology.hosts else (b, a)
                host_spec = self.lab.topology.hosts.get(host)
                if host_spec is None:
                    raise LabError(f"neither {a} nor {b} is a host")
                ends = [(host, i.name) for i in host_spec.interfaces.values() if i.switch == sw]
                if not ends:
                    raise LabError(f"no link between {a} and {b}")
                return ends
            raise LabError("name a link as HOST:IF (h1:net0) or as two nodes (s1 h1)")

        def do_link(self, line: str) -> None:
            """Carrier loss on the far end: link HOST:IF up|down, or link s1 h1 up|down."""
            args = line.split()
            try:
                if not args or args[-1] not in ("up", "down"):
                    raise LabError("usage: link HOST:IF up|down  (or: link s1 h1 up|down)")
                for host, ifname in self._ends(args[:-1]):
                    self.lab.link(host, ifname, args[-1] == "up")
            except LabError as exc:
                error(f"{exc}\n")

        def do_loss(self, line: str) -> None:
            """Packet loss with carrier up: loss HOST:IF PERCENT (0 clears)."""
            args = line.split()
            try:
                if len(args) != 2:
                    raise LabError("usage: loss HOST:IF PERCENT")
                for host, ifname in self._ends(args[:1]):
                    self.lab.loss(host, ifname, float(args[1].rstrip("%")))
            except (LabError, ValueError) as exc:
                error(f"{exc}\n")

        def do_delay(self, line: str) -> None:
            """Delay with carrier up (needs netem): delay HOST:IF MS (0 clears)."""
            args = line.split()
            try:
                if len(args) != 2:
                    raise LabError("usage: delay HOST:IF MS")
                for host, ifname in self._ends(args[:1]):
                    self.lab.delay(host, ifname, float(args[1].rstrip("ms")))
            except (LabError, ValueError) as exc:
                error(f"{exc}\n")

    return LabCLI


def interact(lab) -> None:
    """The lab's Mininet CLI on a running lab, until `exit`."""
    from mininet.log import setLogLevel
    setLogLevel("output")          # the CLI prints command output at this level
    _lab_cli_class()(lab.net, lab)


def run_scenario_until(lab, scenario, until: int | None) -> None:
    """Play a scenario's setup and its steps up to `until` (1-based) on this lab."""
    from rtsock_emul.scenario.runner import Runner
    if until is not None:
        scenario = copy.copy(scenario)
        scenario.steps = [st for st in scenario.steps if st.index <= until]
    result = Runner(scenario, "mininet", lab_start=lambda *a, **k: lab, keep_lab=True, capture=False).run()
    if result.failure is not None:
        print(f"ipmp-lab: scenario stopped: {result.failure}", file=sys.stderr)


def main(argv=None) -> int:
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
            from rtsock_emul.scenario.errors import ScenarioError
            from rtsock_emul.scenario.loader import load_file
            from rtsock_emul.scenario.schema import parse_scenario
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
