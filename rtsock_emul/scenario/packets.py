"""The `packets` step: an expectation over the per-link pcaps of a Mininet run.

    - packets: {link: h1:net0, match: "arp and arp[14:4] = 0", count: 3, spacing: 150ms±20%}

`match` is a BPF filter (tcpdump syntax). It is compiled when the scenario is
loaded (scapy's compile_filter, libpcap), so a bad filter is a file:line error.
At run time `tcpdump -r PCAP -w - FILTER` selects the matching packets and scapy's
PcapReader reads them with their capture times. The step covers the packets
captured on that link since the previous `packets` step with the same link and
match ended (or since the steps began); it waits up to `within` for `count` of them, holds a `quiet` window, and
then checks the count and the gap between each two packets (a gap may exceed its
range by LATE_ALLOWANCE, never fall short of it: the next timer is set when the
previous one fired, so a late timer lengthens one gap and shortens none).

    - packets: {link: h1:net0, match: "arp and arp[6:2] = 1", count: 3,
                first: 1..150ms after dad-start 192.0.2.10}

`first` times the window's first matching packet from an anchor the agent
records: `dad-start ADDR` is the moment the kernel model started DAD for ADDR
(the last start before that packet), a "dad" entry in the host's delivery journal
(rtsock/journal.py) with its wall-clock time, the clock of the captures. Too early
is always a finding; up to LATE_ALLOWANCE after the range is not, because a timer
fires late by however long the scheduler keeps the agent from running.
"""
from __future__ import annotations

import io
import re
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rtsock_emul.util.wait import WaitTimeout, wait_until

from .errors import StepFailure
from .loader import line_of

if TYPE_CHECKING:
    from .schema import Scenario, _Checker
    from .steps import Step

PACKETS_KEYS = ("link", "match", "count", "spacing", "first", "within", "quiet")
DEFAULT_WITHIN = 2.0
DEFAULT_QUIET = 0.3
TCPDUMP_TIMEOUT = 10.0
_COUNT = re.compile(r"^\s*(\d+)\s*(\+?)\s*$")
_SPACING = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*(?:±|\+-|\+/-)\s*(\d+(?:\.\d+)?)\s*%\s*$")
_NUM = r"(\d+(?:\.\d+)?)"
_FIRST = re.compile(rf"^\s*{_NUM}\s*(ms|s)?\s*(?:\.\.\s*{_NUM}\s*)?(ms|s)\s+after\s+dad-start\s+(\S+)\s*$")
# How much later than its range a timer-driven packet may come: the timer fires when the
# scheduler lets the agent run (asyncio timers on 2 busy cores, load 12: p99 56 ms, max
# 68 ms late; docs/scenario-language.md "packets"). Never earlier: that is a finding.
LATE_ALLOWANCE = 0.1
FIRST_HINT = "a delay range and its anchor, e.g. 1..150ms after dad-start 192.0.2.10 (or 0ms after ...)"
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


@dataclass(frozen=True)
class First:
    """`first: LOW..HIGH after dad-start ADDR`: the first matching packet comes LOW..HIGH
    (seconds) after the kernel started DAD for ADDR."""
    low: float
    high: float
    addr: str      # as the journal writes it (ipaddress text)

    def __str__(self) -> str:
        rng = f"{self.low * 1000:g}ms" if self.low == self.high else f"{self.low * 1000:g}..{self.high * 1000:g}ms"
        return f"{rng} after dad-start {self.addr}"


def parse_first(text: object) -> First:
    import ipaddress
    m = _FIRST.match(str(text))
    if not m:
        raise ValueError(f"bad first {text!r}")
    lo_unit = m.group(2) or m.group(4)
    low = float(m.group(1)) * (0.001 if lo_unit == "ms" else 1.0)
    high = float(m.group(3)) * (0.001 if m.group(4) == "ms" else 1.0) if m.group(3) else low
    if m.group(3) is None and m.group(2) is not None:
        raise ValueError(f"bad first {text!r}")      # "5ms ms after": one unit only
    if high < low:
        raise ValueError(f"first {text!r}: the range ends before it starts")
    try:
        addr = ipaddress.ip_address(m.group(5))
    except ValueError:
        raise ValueError(f"first {text!r}: {m.group(5)!r} is not an IP address") from None
    return First(low, high, str(addr))


def parse_spacing(text: object) -> Spacing:
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
    first = None
    if "first" in spec:
        try:
            first = parse_first(spec["first"])
        except ValueError as exc:
            ck.fail(line_of(spec, "first", line), str(exc), FIRST_HINT)
    within = ck.duration(spec.get("within", DEFAULT_WITHIN), line_of(spec, "within", line), "within")
    quiet = ck.duration(spec.get("quiet", DEFAULT_QUIET), line_of(spec, "quiet", line), "quiet")
    return {"host": host, "ifname": ifname, "bpf": bpf, "count": int(m.group(1)),
            "at_least": bool(m.group(2)), "spacing": spacing, "first": first, "within": within, "quiet": quiet}


def read_matching(path: str | Path | None, bpf: str, since: float) -> list[tuple[float, Any]]:
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


def _verdict(args: dict, got: list, dad_starts: Callable[[], list] | None = None) -> str | None:
    n, count = len(got), args["count"]
    if n < count or (n > count and not args["at_least"]):
        want = f"at least {count}" if args["at_least"] else f"exactly {count}"
        return f"{n} packet(s), expected {want}"
    first = args.get("first")
    if first is not None and got:
        assert dad_starts is not None, "a first: check reads the DAD starts"
        problem = _first_verdict(first, got[0][0], dad_starts())
        if problem:
            return problem
    sp = args["spacing"]
    if sp is not None:
        for i, ((t0, _), (t1, _)) in enumerate(zip(got, got[1:]), 1):
            gap = t1 - t0
            if not sp.low <= gap <= sp.high + LATE_ALLOWANCE:
                return (f"gap {i} (between packets {i} and {i + 1}) is {gap * 1000:.1f}ms, "
                        f"outside {sp} ({sp.low * 1000:.0f}..{sp.high * 1000:.0f}ms, "
                        f"+{LATE_ALLOWANCE * 1000:g}ms if late)")
    return None


def _first_verdict(first: First, t_packet: float, starts: list) -> str | None:
    """None if the first packet (captured at t_packet) is within `first` of its anchor.
    `starts`: the host's journal "dad" entries of first.addr (truth.Entry, oldest first)."""
    before = [e for e in starts if e.dad["wall"] <= t_packet]
    if not before:
        return (f"no DAD start of {first.addr} before the first packet in the host's journal "
                f"({len(starts)} later); is {first.addr} the address the match selects?")
    e = before[-1]
    delay = t_packet - e.dad["wall"]
    if first.low <= delay <= first.high + LATE_ALLOWANCE:
        return None
    where = "early" if delay < first.low else f"late, beyond the {LATE_ALLOWANCE * 1000:g}ms allowance"
    return (f"the first packet came {delay * 1000:.1f}ms after DAD of {first.addr} started on "
            f"{e.dad['ifname']} (journal entry {e.seq}), {where}: expected {first}; the model "
            f"planned {e.dad['first'] * 1000:.1f}ms")


def run_step(st: Step, pcap_path: Path | None, since: float, host: str, ifname: str, bpf: str, count: int,
             at_least: bool, spacing: Spacing | None, within: float, quiet: float,
             first: First | None = None, dad_starts: Callable[[], list] | None = None) -> float:
    """Wait for the packets, hold `quiet`, judge; returns the time the window ends.
    `dad_starts()`: the host's "dad" journal entries of first.addr (needed with `first`)."""
    args = {"count": count, "at_least": at_least, "spacing": spacing, "first": first}
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
    problem = _verdict(args, got, dad_starts)
    if problem:
        t0 = got[0][0] if got else since
        lines = [f"window: captured after {time.strftime('%H:%M:%S', time.localtime(since))}"
                 f".{int(since * 1000) % 1000:03d}; pcap {pcap_path}"]
        lines += [f"  [{i}] +{(t - t0) * 1000:8.1f}ms  {p.summary()}" for i, (t, p) in enumerate(got, 1)]
        raise StepFailure(st, f"packets on {host}:{ifname} matching {bpf!r}: {problem}", lines)
    return end
