"""The `packets` step: an expectation over the per-link pcaps of a Mininet run.

    - packets: {link: h1:net0, match: "arp and arp[14:4] = 0", count: 3, spacing: 150ms±20%}

`match` is a BPF filter (tcpdump syntax). It is compiled when the scenario is
loaded (scapy's compile_filter, libpcap), so a bad filter is a file:line error.
At run time `tcpdump -r PCAP -w - FILTER` selects the matching packets and scapy's
PcapReader reads them with their capture times. The step covers the packets
captured on that link since the previous `packets` step with the same link and
match ended (or since the steps began); it waits up to `within` for `count` of them, holds a `quiet` window, and
then checks the count and the gap between each two packets.
"""
from __future__ import annotations

import io
import re
import subprocess
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rtsock_emul.util.wait import WaitTimeout, wait_until

from .errors import StepFailure
from .loader import line_of

if TYPE_CHECKING:
    from .schema import Scenario, _Checker

PACKETS_KEYS = ("link", "match", "count", "spacing", "within", "quiet")
DEFAULT_WITHIN = 2.0
DEFAULT_QUIET = 0.3
TCPDUMP_TIMEOUT = 10.0
_COUNT = re.compile(r"^\s*(\d+)\s*(\+?)\s*$")
_SPACING = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*(?:±|\+-|\+/-)\s*(\d+(?:\.\d+)?)\s*%\s*$")
HINT = 'e.g. packets: {link: h1:net0, match: "arp and arp[6:2] = 1", count: 3, spacing: 150ms±20%}'


@dataclass(frozen=True)
class Spacing:
    nominal: float    # seconds
    tolerance: float  # fraction: 0.2 for ±20%

    @property
    def low(self) -> float:
        return self.nominal * (1 - self.tolerance)

    @property
    def high(self) -> float:
        return self.nominal * (1 + self.tolerance)

    def __str__(self) -> str:
        return f"{self.nominal * 1000:g}ms±{self.tolerance * 100:g}%"


def parse_spacing(text: str):
    m = _SPACING.match(str(text))
    if not m:
        raise ValueError(text)
    scale = 0.001 if m.group(2) == "ms" else 1.0
    return Spacing(float(m.group(1)) * scale, float(m.group(3)) / 100)


def compile_check(bpf: str) -> str | None:
    """None if bpf compiles for Ethernet, else libpcap's complaint."""
    from scapy.arch.common import compile_filter
    from scapy.data import DLT_EN10MB
    from scapy.error import Scapy_Exception
    try:
        compile_filter(bpf, linktype=DLT_EN10MB)
    except Scapy_Exception as exc:
        return str(exc)
    return None


def parse(ck: _Checker, sc: Scenario, raw: Any, line: int, host_if: Any) -> dict:
    """Arguments of a packets step; every mistake names its line."""
    spec = ck.mapping(raw["packets"], line, "packets", PACKETS_KEYS, HINT)
    for key in ("link", "match", "count"):
        if key not in spec:
            ck.fail(line, f"packets needs {key}", HINT)
    host, ifname = host_if(ck, sc, spec["link"], line_of(spec, "link", line), "packets")
    bpf = spec["match"]
    if not isinstance(bpf, str) or not bpf.strip():
        ck.fail(line_of(spec, "match", line), "match must be a BPF filter text", HINT)
    problem = compile_check(bpf)
    if problem:
        ck.fail(line_of(spec, "match", line), f"bad BPF filter {bpf!r}: {problem}",
                "tcpdump filter syntax, e.g. \"icmp and ip[8] = 1\" or \"arp and arp[6:2] = 1\"")
    m = _COUNT.match(str(spec["count"])) if not isinstance(spec["count"], bool) else None
    if not m:
        ck.fail(line_of(spec, "count", line), f"bad count {spec['count']!r}",
                "a whole number (exactly that many) or N+ (at least N)")
    spacing = None
    if "spacing" in spec:
        try:
            spacing = parse_spacing(spec["spacing"])
        except ValueError:
            ck.fail(line_of(spec, "spacing", line), f"bad spacing {spec['spacing']!r}",
                    "a duration and a tolerance, e.g. 150ms±20% (or 150ms+-20%)")
    within = ck.duration(spec.get("within", DEFAULT_WITHIN), line_of(spec, "within", line), "within")
    quiet = ck.duration(spec.get("quiet", DEFAULT_QUIET), line_of(spec, "quiet", line), "quiet")
    return {"host": host, "ifname": ifname, "bpf": bpf, "count": int(m.group(1)),
            "at_least": bool(m.group(2)), "spacing": spacing, "within": within, "quiet": quiet}


def read_matching(path: str, bpf: str, since: float) -> list[tuple[float, Any]]:
    """(capture time, scapy packet) of each packet in the pcap at `path` that matches bpf,
    captured after `since` (a time.time() value)."""
    from scapy.layers import inet, inet6, l2  # noqa: F401 (registers Ethernet and its payloads)
    from scapy.utils import PcapReader
    proc = subprocess.run(["tcpdump", "-n", "-r", str(path), "-w", "-", bpf],
                          capture_output=True, timeout=TCPDUMP_TIMEOUT, check=False)
    if not proc.stdout:
        err = proc.stderr.decode(errors="replace").strip()
        raise RuntimeError(f"tcpdump -r {path} failed (rc {proc.returncode}): {err}")
    # A capture still being written may end in a partial record; tcpdump copies the whole ones.
    with PcapReader(io.BytesIO(proc.stdout)) as reader:  # type: ignore[arg-type]  # a file object is fine
        return [(float(p.time), p) for p in reader if float(p.time) > since]


def _verdict(args: dict, got: list[tuple[float, Any]]) -> str | None:
    n, count = len(got), args["count"]
    if n < count or (n > count and not args["at_least"]):
        want = f"at least {count}" if args["at_least"] else f"exactly {count}"
        return f"{n} packet(s), expected {want}"
    sp = args["spacing"]
    if sp is not None:
        for i, ((t0, _), (t1, _)) in enumerate(zip(got, got[1:]), 1):
            gap = t1 - t0
            if not sp.low <= gap <= sp.high:
                return (f"gap {i} (between packets {i} and {i + 1}) is {gap * 1000:.1f}ms, "
                        f"outside {sp} ({sp.low * 1000:.0f}..{sp.high * 1000:.0f}ms)")
    return None


def run_step(st, pcap_path, since, host: str, ifname: str, bpf, count: int, at_least, spacing, within, quiet: bool):
    """Wait for the packets, hold `quiet`, judge; returns the time the window ends."""
    args = {"count": count, "at_least": at_least, "spacing": spacing}
    what = f"{count}{'+' if at_least else ''} packet(s) matching {bpf!r} on {host}:{ifname}"
    if pcap_path is None or not pcap_path.exists():
        raise StepFailure(st, f"packets on {host}:{ifname}: no capture of that link",
                          ["the per-link pcaps exist only in Mininet mode with tcpdump installed "
                           "and a reports directory (--rtsock-reports)"])
    seen = {}

    def probe() -> bool:
        seen["got"] = read_matching(pcap_path, bpf, since)
        return len(seen["got"]) >= count
    try:
        wait_until(probe, within, what=what)
    except WaitTimeout:
        pass          # judged below, with what was captured
    else:
        try:          # the quiet window: more packets would break an exact count
            wait_until(lambda: len(read_matching(pcap_path, bpf, since)) > count and not at_least,
                       quiet, what="no further matching packet")
        except WaitTimeout:
            pass
    end = time.time()
    got = [(t, p) for t, p in read_matching(pcap_path, bpf, since) if t <= end]
    problem = _verdict(args, got)
    if problem:
        first = got[0][0] if got else since
        lines = [f"window: captured after {time.strftime('%H:%M:%S', time.localtime(since))}"
                 f".{int(since * 1000) % 1000:03d}; pcap {pcap_path}"]
        lines += [f"  [{i}] +{(t - first) * 1000:8.1f}ms  {p.summary()}" for i, (t, p) in enumerate(got, 1)]
        raise StepFailure(st, f"packets on {host}:{ifname} matching {bpf!r}: {problem}", lines)
    return end
