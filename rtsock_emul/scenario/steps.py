"""Parse one step of `setup:` or `steps:` (the step kinds of docs/scenario-language.md).

The step vocabulary (kinds, keys, defaults) is declared here; schema.py parses the
rest of a scenario file and calls parse_step. `ck` is schema's checker.
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import packets
from .errors import did_you_mean
from .loader import line_of
from .matcher import MODES, Expectation
from .patterns import PatternError, parse_addr, parse_type

if TYPE_CHECKING:        # schema.py calls the parsers here and passes its checker
    from .loader import LMap
    from .schema import Scenario
    from .schema import _Checker as Checker

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
DEFAULT_WITHIN = 2.0
DEFAULT_QUIET = 0.3
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)?\s*$")
_PERCENT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*%\s*$")

MAX_REPEAT = 1000
_HOSTIF = re.compile(r"^(?P<host>[^:\s]+):(?P<ifname>\S+)$")


@dataclass
class Step:
    kind: str
    args: dict
    line: int
    end_line: int
    index: int = 0          # 1-based among steps; 0 for setup steps

    def describe(self) -> str:
        return f"step {self.index} ({self.kind})" if self.index else f"setup ({self.kind})"


def parse_duration(value: object) -> float:
    """2s, 500ms, 1.5 (seconds) -> seconds; ValueError otherwise."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return float(value)
    m = _DURATION.match(str(value))
    if not m:
        raise ValueError(value)
    return float(m.group(1)) / (1000 if m.group(2) == "ms" else 1)


def parse_step(ck: Checker, sc: Scenario, raw: Any, container: Any, i: int, index: int) -> Step:
    line = line_of(container, i)
    if not isinstance(raw, dict) or not raw:
        ck.fail(line, "a step must be a mapping such as `h1: ipadm show-if` or `expect: {...}`")
    end = getattr(raw, "end_line", line)
    first = next(iter(raw))
    if first in STEP_KINDS:
        kind = first
        ck.mapping(raw, line, f"a {kind} step", (kind,) + STEP_KEYS[kind])
    elif first in sc.topology.hosts:
        kind = "host"
    else:
        ck.fail(line_of(raw, first), f"unknown step kind or host {first!r}",
                "step kinds: " + ", ".join(STEP_KINDS) + "; hosts: " + ", ".join(sc.hosts)
                + did_you_mean(first, list(STEP_KINDS) + sc.hosts))
    args = _PARSERS[kind](ck, sc, raw, line_of(raw, first))
    return Step(kind="run" if kind == "host" else kind, args=args, line=line, end_line=end, index=index)


def _host_command(ck: Checker, sc: Scenario, mapping: Any, line: int, what: str) -> tuple[str, str]:
    hosts = [k for k in mapping if k in sc.topology.hosts]
    others = [k for k in mapping if k not in sc.topology.hosts]
    if len(hosts) != 1 or others:
        bad = others[0] if others else None
        ck.fail(line_of(mapping, bad) if bad else line,
                f"{what} needs exactly one HOST: COMMAND" + (f"; {bad!r} is not a host" if bad else ""),
                f"hosts of this topology: {', '.join(sc.hosts)}")
    host = hosts[0]
    cmd = mapping[host]
    if not isinstance(cmd, str) or not cmd.strip():
        ck.fail(line_of(mapping, host), f"the command for {host} must be non-empty text")
    return host, cmd


def _host(ck: Checker, sc: Scenario, raw: Any, line: int) -> dict:
    host = next(iter(raw))
    if len(raw) != 1:
        extra = list(raw)[1]
        ck.fail(line_of(raw, extra), f"a `{host}: COMMAND` step takes no other key ({extra!r})",
                "use {run: {h1: \"...\"}, error: ..., output: [...]} to state a failure or output")
    cmd = raw[host]
    if not isinstance(cmd, str) or not cmd.strip():
        ck.fail(line, f"the command for {host} must be non-empty text")
    return {"host": host, "command": cmd, "error": None, "output": []}


def _run(ck: Checker, sc: Scenario, raw: Any, line: int) -> dict:
    spec = ck.mapping(raw["run"], line, "run", None, "write run: {h1: \"ipadm ...\"}")
    host, cmd = _host_command(ck, sc, spec, line, "run")
    error = ck.errno(raw["error"], line_of(raw, "error"), allow_true=True) if "error" in raw else None
    output = raw.get("output", [])
    if isinstance(output, str):
        output = [output]
    if not isinstance(output, list) or not all(isinstance(o, str) for o in output):
        ck.fail(line_of(raw, "output"), "output must be a list of substrings")
    return {"host": host, "command": cmd, "error": error, "output": list(output)}


def _host_if(ck, sc, text: str, line, what):
    m = _HOSTIF.match(str(text).strip())
    if not m:
        ck.fail(line, f"{what} needs HOST:IF, not {text!r}", "e.g. h1:net0")
    assert m is not None
    host, ifname = m.group("host"), m.group("ifname")
    if host not in sc.topology.hosts:
        ck.fail(line, f"unknown host {host!r} in {what}", f"hosts: {', '.join(sc.hosts)}")
    known = list(sc.topology.hosts[host].interfaces)
    if ifname not in known:
        ck.fail(line, f"host {host} has no link {ifname!r} in topology {sc.topology.name}",
                f"its links: {', '.join(known)}")
    return host, ifname


def _link(ck: Checker, sc: Scenario, raw: Any, line: int) -> dict:
    parts = str(raw["link"]).split()
    if len(parts) != 2 or parts[1] not in ("up", "down"):
        ck.fail(line, f"link needs `HOST:IF down|up`, not {raw['link']!r}", "e.g. link: h1:net0 down")
    host, ifname = _host_if(ck, sc, parts[0], line, "link")
    return {"host": host, "ifname": ifname, "up": parts[1] == "up"}


def _faults(kind: str, parse: Callable[[Any], float], hint: str) -> Callable[[Checker, Scenario, Any, int], dict]:
    def parser(ck: Checker, sc: Scenario, raw: Any, line: int) -> dict:
        spec = ck.mapping(raw[kind], line, kind, None, hint)
        out = []
        for key, value in spec.items():
            kline = line_of(spec, key)
            host, ifname = _host_if(ck, sc, key, kline, kind)
            try:
                out.append((host, ifname, parse(value)))
            except ValueError:
                ck.fail(kline, f"bad {kind} value {value!r} for {key}", hint)
        return {"links": out}
    return parser


def _percent(value: Any) -> float:
    m = _PERCENT.match(str(value))
    if not m or float(m.group(1)) > 100:
        raise ValueError(value)
    return float(m.group(1))


def _ms(value: Any) -> float:
    return parse_duration(value) * 1000


def _by(ck: Checker, sc: Scenario, raw: Any, line: int) -> str:
    if "by" not in raw:
        ck.fail(line, "a send needs by: SUBSCRIBER", "subscribers: " + ", ".join(sc.subscribers))
    by = raw["by"]
    if by not in sc.subscribers:
        ck.fail(line_of(raw, "by"), f"unknown subscriber {by!r}",
                "subscribers: " + (", ".join(sc.subscribers) or "(none declared)"))
    return by


def _send(ck: Checker, sc: Scenario, raw: Any, line: int) -> dict:
    spec = raw["send"]
    if "msg" in raw or "by" in raw:   # flat form: send: {...} given as keys of the step
        ck.fail(line, "write send: {by: SUB, msg: {...}, errno: ...}")
    ck.mapping(spec, line, "send", STEP_KEYS["send"])
    by = _by(ck, sc, spec, line)
    msg = ck.mapping(spec.get("msg"), line_of(spec, "msg", line), "send msg", SEND_MSG_KEYS,
                     "e.g. msg: {type: RTM_ADD, dst: 198.51.100.0/24, gateway: 192.0.2.1}")
    if "type" not in msg:
        ck.fail(msg.line, "send msg needs a type", "e.g. type: RTM_ADD")
    try:
        parse_type(msg["type"])
        for key in ("dst", "gateway", "ifa", "author", "brd", "src", "genmask"):
            if key in msg:
                parse_addr(msg[key], key)
    except PatternError as exc:
        ck.fail(msg.line, exc.what, exc.hint)
    if "ifp" in msg:
        _check_ifp(ck, msg["ifp"], line_of(msg, "ifp", msg.line))
    errno = ck.errno(spec.get("errno", 0), line_of(spec, "errno", line))
    repeat = spec.get("repeat", 1)
    if not isinstance(repeat, int) or isinstance(repeat, bool) or not 1 <= repeat <= MAX_REPEAT:
        ck.fail(line_of(spec, "repeat", line), f"repeat must be a whole number 1..{MAX_REPEAT}",
                "the request is written that many times, seq counting up from its first value")
    return {"by": by, "msg": dict(msg), "errno": errno, "msg_line": msg.line, "repeat": repeat}


def _check_ifp(ck, ifp, line) -> None:
    hint = "an interface name, an ifindex, AF_UNSPEC, or {index: NAME|N, name: TEXT} (R15: the name is ignored)"
    if isinstance(ifp, dict):
        ck.mapping(ifp, line, "ifp", ("index", "name"), hint)
        if "index" not in ifp:
            ck.fail(line, "ifp mapping needs index", hint)
        ifp = ifp["index"]
    if isinstance(ifp, bool) or not isinstance(ifp, (int, str)) or not str(ifp).strip():
        ck.fail(line, f"bad ifp {ifp!r}", hint)


def _send_raw(ck: Checker, sc: Scenario, raw: Any, line: int) -> dict:
    spec = ck.mapping(raw["send_raw"], line, "send_raw", ("by", "hex", "errno"))
    by = _by(ck, sc, spec, line)
    text = re.sub(r"\s+", "", str(spec.get("hex", "")))
    try:
        data = bytes.fromhex(text)
    except ValueError:
        ck.fail(line_of(spec, "hex", line), "hex must be an even number of hex digits",
                "e.g. hex: \"4c0003010000...\" (spaces are allowed)")
    errno = ck.errno(spec.get("errno", 0), line_of(spec, "errno", line))
    return {"by": by, "data": data, "errno": errno}


def _ping(ck: Checker, sc: Scenario, raw: Any, line: int) -> dict:
    spec = ck.mapping(raw["ping"], line, "ping", STEP_KEYS["ping"])
    for key in ("from", "to"):
        if key not in spec:
            ck.fail(line, f"ping needs {key}")
    if spec["from"] not in sc.topology.hosts:
        ck.fail(line_of(spec, "from"), f"unknown host {spec['from']!r}", f"hosts: {', '.join(sc.hosts)}")
    try:
        ipaddress.ip_address(str(spec["to"]))
    except ValueError:
        ck.fail(line_of(spec, "to"), f"ping to needs an address, not {spec['to']!r}")
    count, max_loss = spec.get("count", 10), spec.get("max_loss", 0)
    for key, value in (("count", count), ("max_loss", max_loss)):
        if not isinstance(value, int) or value < 0:
            ck.fail(line_of(spec, key), f"ping {key} must be a whole number")
    interval = ck.duration(spec.get("interval", 0.01), line_of(spec, "interval", line), "ping interval")
    return {"src": spec["from"], "dst": str(spec["to"]), "count": count, "interval": interval,
            "max_loss": max_loss}


def _wait_for(ck: Checker, sc: Scenario, raw: Any, line: int) -> dict:
    spec = ck.mapping(raw["wait_for"], line, "wait_for")
    rest = {k: v for k, v in spec.items() if k not in ("contains", "timeout")}
    host, cmd = _host_command(ck, sc, rest, line, "wait_for")
    if "contains" not in spec or not isinstance(spec["contains"], str):
        ck.fail(line, "wait_for needs contains: TEXT", "`...` in TEXT matches anything within a line")
    timeout = ck.duration(spec.get("timeout", 5), line_of(spec, "timeout", line), "wait_for timeout")
    return {"host": host, "command": cmd, "contains": spec["contains"], "timeout": timeout}


def _expect(ck: Checker, sc: Scenario, raw: Any, line: int) -> dict:
    spec = ck.mapping(raw["expect"], line, "expect", None, "expect: {SUB: [PATTERN, ...]}")
    opts = {}
    for key in STEP_KEYS["expect"]:   # match/within/quiet: beside expect or inside it
        for where in (raw, spec):
            if key in where:
                if key in opts:
                    ck.fail(line_of(where, key), f"{key} is given twice for this expect", "keep one")
                opts[key] = (where[key], line_of(where, key))
    mode, mline = opts.get("match", ("exact", line))
    if mode not in MODES:
        ck.fail(mline, f"bad match mode {mode!r}", "one of " + ", ".join(MODES))
    within = ck.duration(*opts.get("within", (DEFAULT_WITHIN, line)), "within")
    quiet = ck.duration(*opts.get("quiet", (DEFAULT_QUIET, line)), "quiet")
    exps = parse_expectations(ck, sc, spec, line, mode)
    if not exps:
        ck.fail(line, "expect names no subscriber", "subscribers: " + ", ".join(sc.subscribers))
    return {"expectations": exps, "within": within, "quiet": quiet}


def _start(ck: Checker, sc: Scenario, raw: Any, line: int) -> dict:
    """A user's program in a host, with the preload shim (docs/preload.md)."""
    spec = ck.mapping(raw["start"], line, "start", None, "write start: {h1: \"./watch\"}, name: watch")
    host, cmd = _host_command(ck, sc, spec, line, "start")
    name = raw.get("name")
    if not isinstance(name, str) or not re.match(r"^[A-Za-z_][\w-]*$", name):
        ck.fail(line_of(raw, "name", line), "start needs name: a word naming the program",
                "later `stdout: {NAME: PATTERN}` steps refer to it")
    if name in sc.programs:
        ck.fail(line_of(raw, "name", line), f"a program named {name!r} was started before", "use another name")
    preload = raw.get("preload", True)
    if not isinstance(preload, bool):
        ck.fail(line_of(raw, "preload", line), "preload must be true or false")
    ready = raw.get("ready")
    if ready is not None:
        ready = _regex(ck, ready, line_of(raw, "ready", line))
    timeout = ck.duration(raw.get("timeout", 10), line_of(raw, "timeout", line), "start timeout")
    sc.programs[name] = host
    return {"name": name, "host": host, "command": cmd, "preload": preload, "ready": ready,
            "timeout": timeout, "cwd": str(Path(sc.path).resolve().parent)}


def _regex(ck, text: str, line):
    if not isinstance(text, str):
        ck.fail(line, f"a pattern of standard output must be text, not {text!r}")
    try:
        re.compile(text)
    except re.error as exc:
        ck.fail(line, f"bad regular expression {text!r}: {exc}", "a Python re pattern, searched in each line")
    return text


def _stdout(ck: Checker, sc: Scenario, raw: Any, line: int) -> dict:
    spec = ck.mapping(raw["stdout"], line, "stdout", None, "write stdout: {watch: \"RTM_IFINFO net0 .*FAILED\"}")
    if len(spec) != 1:
        ck.fail(line, "stdout names exactly one program", "one stdout step per program")
    name = next(iter(spec))
    if name not in sc.programs:
        ck.fail(line_of(spec, name), f"no program named {name!r} was started before this step",
                "programs: " + (", ".join(sc.programs) or "(none: add a start step)") + did_you_mean(name, list(sc.programs)))
    patterns = spec[name] if isinstance(spec[name], list) else [spec[name]]
    patterns = [_regex(ck, p, line_of(spec, name)) for p in patterns]
    timeout = ck.duration(raw.get("timeout", 5), line_of(raw, "timeout", line), "stdout timeout")
    return {"name": name, "patterns": patterns, "timeout": timeout}


_PARSERS = {
    "host": _host, "run": _run, "link": _link,
    "loss": _faults("loss", _percent, "a percentage such as 100% or 0% (clears)"),
    "delay": _faults("delay", _ms, "a duration such as 50ms or 0ms (clears)"),
    "send": _send, "send_raw": _send_raw, "ping": _ping, "wait_for": _wait_for, "expect": _expect,
    "packets": lambda ck, sc, raw, line: packets.parse(ck, sc, raw, line, _host_if),
    "start": _start, "stdout": _stdout,
}


def parse_expectations(ck: Checker, sc: Scenario, value: LMap, line: int, mode: str = "exact") -> list[Expectation]:
    """The subscriber part of an expect step -> [Expectation]."""
    out = []
    for sub, spec in value.items():
        if sub in STEP_KEYS["expect"]:
            continue
        sline = line_of(value, sub)
        if sub not in sc.subscribers:
            ck.fail(sline, f"unknown subscriber {sub!r} in expect",
                    "subscribers: " + (", ".join(sc.subscribers) or "(none declared)") + did_you_mean(sub, list(sc.subscribers)))
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
