"""Validate a loaded scenario (loader.LMap) into dataclasses, naming file:line on error.

docs/scenario-language.md is the language reference, and tests check that every key below appears there.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn

from rtsock_emul.wire import constants as C

from .errors import ScenarioError
from .loader import LList, LMap, line_of
from .matcher import MODES, Expectation
from .patterns import Pattern, PatternError, parse_errno, parse_pattern

if TYPE_CHECKING:
    from rtsock_emul.lab.topology import Topology

TOP_KEYS = ("name", "description", "covers", "topology", "mpathd", "config", "setup",
            "subscribers", "steps")
SUBSCRIBER_KEYS = ("host", "rt_aware", "protocol", "useloopback", "shutdown", "rcvbuf", "user", "hold")
STEP_KINDS = ("run", "link", "loss", "delay", "send", "send_raw", "ping", "wait_for", "expect", "packets",
              "start", "stdout")
STEP_KEYS = {  # keys besides the kind itself
    "run": ("error", "output"), "link": (), "loss": (), "delay": (),
    "send": ("by", "msg", "errno", "repeat"), "send_raw": ("by", "hex", "errno"),
    "ping": ("from", "to", "count", "interval", "max_loss"),
    "wait_for": ("contains", "timeout"), "expect": ("match", "within", "quiet"), "packets": (),
    "start": ("name", "preload", "ready", "timeout"), "stdout": ("timeout",),
}
EXPECT_SUB_KEYS = ("match", "messages", "absent", "overflow")
SEND_MSG_KEYS = ("type", "dst", "gateway", "netmask", "genmask", "ifp", "ifa", "author", "brd",
                 "src", "flags", "seq", "pid", "index", "version", "errno", "inits")
# the sim platform switches carrier and drops probes by admin verbs; these need real links
MININET_ONLY = frozenset({"delay", "ping", "packets"})   # packets: the pcaps of real links
DEFAULT_WITHIN = 2.0
DEFAULT_QUIET = 0.3
PROTOCOLS = {"AF_UNSPEC": C.AF_UNSPEC, "AF_INET": C.AF_INET, "AF_INET6": C.AF_INET6}
_RULE_ID = re.compile(r"^(M\d+|R\d+a?)$")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*$")
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")


@dataclass
class Subscriber:
    name: str
    host: str
    rt_aware: int | None = None
    protocol: int = C.AF_UNSPEC
    useloopback: bool | None = None
    shutdown: int | None = None
    rcvbuf: int | None = None
    user: object | None = None
    hold: bool = False      # read only during an expect that names it (messages queue up)
    line: int = 0

    @property
    def aware(self) -> bool:
        return bool((self.rt_aware or 0) & C.RTAW_UNDER_IPMP)


@dataclass
class Step:
    kind: str
    args: dict
    line: int
    end_line: int
    index: int = 0          # 1-based among steps; 0 for setup steps

    def describe(self) -> str:
        return f"step {self.index} ({self.kind})" if self.index else f"setup ({self.kind})"


@dataclass
class Scenario:
    path: str
    name: str
    topology: Topology
    description: str = ""
    covers: list = field(default_factory=list)
    config: dict = field(default_factory=dict)
    setup: list = field(default_factory=list)
    subscribers: dict = field(default_factory=dict)
    steps: list = field(default_factory=list)
    programs: dict = field(default_factory=dict)   # name -> host, of `start` steps
    line: int = 1

    @property
    def needs_mininet(self) -> bool:
        return any(s.kind in MININET_ONLY for s in self.setup + self.steps)

    @property
    def hosts(self) -> list[str]:
        return list(self.topology.hosts)


def parse_duration(value: Any) -> float:
    """2s, 500ms, 1.5 (seconds) -> seconds; ValueError otherwise."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value)
    m = _DURATION.match(str(value))
    if not m:
        raise ValueError(value)
    return float(m.group(1)) / (1000 if m.group(2) == "ms" else 1)


class _Checker:
    def __init__(self, path) -> None:
        self.path = path

    def fail(self, line: int, what: str, hint: str = "") -> NoReturn:
        raise ScenarioError(self.path, line, what, hint)

    def mapping(self, value: Any, line: int, what: str, allowed: Iterable[str] | None = None, hint: str = "") -> Any:
        if not isinstance(value, dict):
            self.fail(getattr(value, "line", line), f"{what} must be a mapping, not {_kind(value)}", hint)
        if allowed is not None:
            for key in value:
                if key not in allowed:
                    self.fail(line_of(value, key), f"unknown key {key!r} in {what}",
                              "known keys: " + ", ".join(allowed) + _close(key, allowed))
        return value

    def duration(self, value: Any, line: int, what: str) -> float:
        try:
            return parse_duration(value)
        except ValueError:
            self.fail(line, f"bad duration {value!r} for {what}", "write e.g. 2s, 500ms or 1.5")

    def errno(self, value: Any, line: int, allow_true: bool = False) -> str | bool:
        if allow_true and value is True:
            return True
        try:
            return parse_errno(value)
        except PatternError as exc:
            self.fail(line, exc.what, exc.hint + (" (or true for any failure)" if allow_true else ""))

    def pattern(self, spec: Any, line: int) -> Pattern:
        try:
            return parse_pattern(spec)
        except PatternError as exc:
            self.fail(line, f"bad pattern {spec!r}: {exc.what}", exc.hint)

    def constant(self, value, prefix: str, line, what, table=None):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if table and str(value).upper() in table:
            return table[str(value).upper()]
        try:
            return C.value_of(prefix, str(value))
        except ValueError as exc:
            self.fail(line, f"bad {what} {value!r}", str(exc).split("; ", 1)[-1])


def _kind(value: Any) -> str:
    kinds: dict[type, str] = {dict: "a mapping", LMap: "a mapping", list: "a list", LList: "a list", str: "text"}
    return kinds.get(type(value), type(value).__name__)


def _close(key: str, allowed: Iterable[str]) -> str:
    import difflib
    near = difflib.get_close_matches(str(key), allowed, n=1)
    return f" (did you mean {near[0]!r}?)" if near else ""


def parse_scenario(data: Any, path: str, topology_loader: Callable[[str], Any] | None = None) -> Scenario:
    """A validated Scenario from loader output; ScenarioError on the first problem."""
    from . import steps as step_parsers
    ck = _Checker(path)
    ck.mapping(data, 1, "a scenario file", TOP_KEYS, "see docs/scenario-language.md")
    for key in ("name", "topology", "steps"):
        if key not in data:
            ck.fail(data.line, f"missing key {key!r}", "a scenario needs name, topology and steps")
    name = data["name"]
    if not isinstance(name, str) or not name.strip():
        ck.fail(line_of(data, "name"), "name must be non-empty text")
    topo = _topology(ck, data, topology_loader)
    sc = Scenario(path=str(path), name=name, topology=topo,
                  description=str(data.get("description", "")), line=data.line)
    sc.covers = _covers(ck, data)
    sc.config = _config(ck, data)
    sc.subscribers = _subscribers(ck, data, sc)
    setup = data.get("setup", [])
    if not isinstance(setup, list):
        ck.fail(line_of(data, "setup"), "setup must be a list of steps")
    sc.setup = [step_parsers.parse_step(ck, sc, s, setup, i, 0) for i, s in enumerate(setup)]
    for st in sc.setup:
        if st.kind in ("expect", "send", "send_raw"):
            ck.fail(st.line, f"{st.kind} is not allowed in setup: subscribers open after setup",
                    "move it to steps")
    steps = data["steps"]
    if not isinstance(steps, list) or not steps:
        ck.fail(line_of(data, "steps"), "steps must be a non-empty list")
    sc.steps = [step_parsers.parse_step(ck, sc, s, steps, i, i + 1) for i, s in enumerate(steps)]
    return sc


def _topology(ck: _Checker, data: LMap, topology_loader: Callable[[str], Any] | None) -> Any:
    from rtsock_emul.lab import topology as topo_mod
    from rtsock_emul.lab.errors import TopologyError
    load = topology_loader or topo_mod.load
    line = line_of(data, "topology")
    spec = data["topology"]
    if not isinstance(spec, (str, dict)):
        ck.fail(line, "topology must be a name under topologies/ or an inline mapping")
    try:
        return load(_plain(spec))
    except TopologyError as exc:
        where = "" if isinstance(spec, dict) else f" {spec!r}"
        ck.fail(line, f"topology{where}: {exc.text if exc.where == str(spec) else exc}", "name a file under topologies/ or fix the inline topology")


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _covers(ck: _Checker, data: LMap) -> list[str]:
    covers = data.get("covers", [])
    line = line_of(data, "covers")
    if not isinstance(covers, list):
        ck.fail(line, "covers must be a list of rule ids", "e.g. covers: [M16, R39]")
    for i, rule in enumerate(covers):
        if not isinstance(rule, str) or not _RULE_ID.match(rule):
            ck.fail(line_of(covers, i, line), f"bad rule id {rule!r} in covers",
                    "rule ids are M1..M29 and R1..R135 (and R56a) of docs/rules.md")
    return list(covers)


def _config(ck: _Checker, data: LMap) -> dict:
    """The lab config: `config:` as given, `mpathd:` under config["mpathd"] (lab.host_config)."""
    config = {}
    if "config" in data:
        config.update(_plain(ck.mapping(data["config"], line_of(data, "config"), "config")))
    if data.get("mpathd") is False:          # no in.mpathd on any host
        config["mpathd"] = False
    elif "mpathd" in data:
        mpathd = _plain(ck.mapping(data["mpathd"], line_of(data, "mpathd"), "mpathd",
                                   hint="e.g. mpathd: {failure_detection_time: 1000}, or mpathd: false"))
        config["mpathd"] = {**(config.get("mpathd") or {}), **mpathd}
    return config


def _subscribers(ck: _Checker, data: LMap, sc: Scenario) -> dict[str, Subscriber]:
    subs = data.get("subscribers", {})
    ck.mapping(subs, line_of(data, "subscribers"), "subscribers")
    out = {}
    for name, opts in subs.items():
        line = line_of(subs, name)
        if name in STEP_KEYS["expect"]:
            ck.fail(line, f"subscriber name {name!r} is an expect keyword ({', '.join(STEP_KEYS['expect'])})",
                    f"an expect step could not tell it from the option; rename it, e.g. {name}_sub")
        ck.mapping(opts, line, f"subscriber {name!r}", SUBSCRIBER_KEYS)
        if "host" not in opts:
            ck.fail(line, f"subscriber {name!r} has no host", f"add host: one of {', '.join(sc.hosts)}")
        host = opts["host"]
        if host not in sc.topology.hosts:
            ck.fail(line_of(opts, "host"), f"unknown host {host!r} for subscriber {name!r}",
                    f"hosts of this topology: {', '.join(sc.hosts)}")
        sub = Subscriber(name=str(name), host=host, line=line)
        if "rt_aware" in opts:
            sub.rt_aware = ck.constant(opts["rt_aware"], "RTAW_", line_of(opts, "rt_aware"), "rt_aware")
        if "protocol" in opts:
            sub.protocol = ck.constant(opts["protocol"], "AF_", line_of(opts, "protocol"), "protocol",
                                       PROTOCOLS)
        if "useloopback" in opts:
            if not isinstance(opts["useloopback"], bool):
                ck.fail(line_of(opts, "useloopback"), "useloopback must be true or false")
            sub.useloopback = opts["useloopback"]
        if "shutdown" in opts:
            sub.shutdown = ck.constant(opts["shutdown"], "SHUT_", line_of(opts, "shutdown"), "shutdown")
        if "rcvbuf" in opts:
            if not isinstance(opts["rcvbuf"], int) or opts["rcvbuf"] <= 0:
                ck.fail(line_of(opts, "rcvbuf"), "rcvbuf must be a positive number of bytes")
            sub.rcvbuf = opts["rcvbuf"]
        if "user" in opts:
            sub.user = opts["user"]
        if "hold" in opts:
            if not isinstance(opts["hold"], bool):
                ck.fail(line_of(opts, "hold"), "hold must be true or false")
            sub.hold = opts["hold"]
        out[str(name)] = sub
    return out


def parse_expectations(ck: _Checker, sc: Scenario, value: Any, line: int, mode: str = "exact") -> list[Expectation]:
    """The subscriber part of an expect step -> [Expectation]."""
    out = []
    for sub, spec in value.items():
        if sub in STEP_KEYS["expect"]:
            continue
        sline = line_of(value, sub)
        if sub not in sc.subscribers:
            ck.fail(sline, f"unknown subscriber {sub!r} in expect",
                    "subscribers: " + (", ".join(sc.subscribers) or "(none declared)") + _close(sub, list(sc.subscribers)))
        exp = Expectation(sub=sub, mode=mode, line=sline)
        if isinstance(spec, dict):
            ck.mapping(spec, sline, f"expectation of {sub!r}", EXPECT_SUB_KEYS)
            exp.mode = spec.get("match", exp.mode)
            if exp.mode not in MODES:
                ck.fail(line_of(spec, "match", sline), f"bad match mode {exp.mode!r}", "one of " + ", ".join(MODES))
            messages, absent = spec.get("messages", []), spec.get("absent", [])
            for key, lst in (("messages", messages), ("absent", absent)):
                if not isinstance(lst, list):
                    ck.fail(line_of(spec, key, sline), f"{key} must be a list of patterns")
            exp.messages = [ck.pattern(p, line_of(messages, i, sline)) for i, p in enumerate(messages)]
            exp.absent = [ck.pattern(p, line_of(absent, i, sline)) for i, p in enumerate(absent)]
            if "overflow" in spec:
                if not isinstance(spec["overflow"], bool):
                    ck.fail(line_of(spec, "overflow", sline), "overflow must be true or false",
                            "true: a read reported ENOBUFS (messages were dropped) since the previous expect")
                exp.overflow = spec["overflow"]
        elif isinstance(spec, list):
            exp.messages = [ck.pattern(p, line_of(spec, i, sline)) for i, p in enumerate(spec)]
        else:
            ck.fail(sline, f"expectation of {sub!r} must be a list of patterns or a mapping",
                    "e.g. aware: [RTM_IFINFO net0 +FAILED] or aware: {match: ordered, messages: [...]}")
        out.append(exp)
    return out
