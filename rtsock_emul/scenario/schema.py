"""Validate a loaded scenario (loader.LMap) into dataclasses, naming file:line on error.

docs/scenario-language.md is the language reference, and tests check that every key below appears there.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from rtsock_emul.wire import constants as C

from . import steps as step_parsers
from .errors import ScenarioError, did_you_mean
from .loader import LList, LMap, line_of
from .patterns import Pattern, PatternError, parse_errno, parse_pattern

# the step vocabulary lives with the step parsers (steps.py); named here too, as the
# scenario language's keys (docs/scenario-language.md, checked by tests/scenario/test_docs.py)
from .steps import (  # noqa: F401
    DEFAULT_QUIET,
    DEFAULT_WITHIN,
    EXPECT_SUB_KEYS,
    SEND_MSG_KEYS,
    STEP_KEYS,
    STEP_KINDS,
    Step,
    parse_duration,
)

if TYPE_CHECKING:
    from rtsock_emul.lab.topology import Topology

TOP_KEYS = ("name", "description", "covers", "topology", "mpathd", "config", "setup",
            "subscribers", "steps")
SUBSCRIBER_KEYS = ("host", "rt_aware", "protocol", "useloopback", "shutdown", "rcvbuf", "user", "hold")
# the sim platform switches carrier and drops probes by admin verbs; these need real links
MININET_ONLY = frozenset({"delay", "ping", "packets"})   # packets: the pcaps of real links
PROTOCOLS = {"AF_UNSPEC": C.AF_UNSPEC, "AF_INET": C.AF_INET, "AF_INET6": C.AF_INET6}
_RULE_ID = re.compile(r"^(M\d+|R\d+a?)$")


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
                              "known keys: " + ", ".join(allowed) + did_you_mean(key, allowed))
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


def parse_scenario(data: LMap, path: str | Path,
                   topology_loader: Callable[[object], Topology] | None = None) -> Scenario:
    """A validated Scenario from loader output; ScenarioError on the first problem."""
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
