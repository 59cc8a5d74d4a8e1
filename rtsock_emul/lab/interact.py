"""The lab's Mininet CLI with carrier, loss and delay commands on the lab's links.

`link h1:net0 down` (and Mininet's own `link s1 h1 down`) cut only the far
(switch) end, so the host keeps its addresses and only loses carrier.
"""
from __future__ import annotations

from .errors import LabError
from .runtime import Lab


def _lab_cli_class() -> type:
    from mininet.cli import CLI
    from mininet.log import error

    class LabCLI(CLI):
        prompt = "ipmp-lab> "

        def __init__(self, mn: object, lab: Lab, **kw: object) -> None:
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


def interact(lab: Lab) -> None:
    """The lab's Mininet CLI on a running lab, until `exit`."""
    from mininet.log import setLogLevel
    setLogLevel("output")          # the CLI prints command output at this level
    _lab_cli_class()(lab.net, lab)
