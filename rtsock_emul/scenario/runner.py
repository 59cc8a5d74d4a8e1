"""Run one Scenario on a Lab: setup, subscribers, steps, recording, oracle, artifacts.

The lab is `rtsock_emul.lab.start(topology, mode=..., config=...)` (docs/internals.md
"Lab"). Every subscriber's messages are recorded by one selector thread with a
timestamp; `expect` waits on new records (never sleeps) and then holds a quiet
window. Ground truth for the oracle is each host agent's delivery journal
(truth.py), read when the subscribers open, after every step and at the end.
"""
from __future__ import annotations

import errno as errno_mod
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from rtsock_emul.util.loadavg import load_average
from rtsock_emul.util.wait import WaitTimeout, wait_until
from rtsock_emul.wire import Message
from rtsock_emul.wire import constants as C
from rtsock_emul.wire.structs import RT_MSGHDR

from . import matcher, truth
from .errors import OracleViolation, StepFailure
from .matcher import Expectation
from .reader import Reader
from .schema import Scenario, Step, Subscriber
from .streams import Streams

if TYPE_CHECKING:
    from rtsock_emul.lab.runtime import Lab

AUTO_SEQ_BASE = 10000
SETTLE_TIMEOUT = 15.0


@dataclass
class SendRecord:
    sub: str
    step: int
    t: float
    seq: int | None
    type: int | None
    errno: str            # what the write returned
    raw: bool = False
    ifp: str | None = None       # interface named by RTA_IFP
    family: int | None = None    # of the request's sockaddrs (delivery af of its echo)


@dataclass
class RunResult:
    scenario: Scenario
    mode: str
    streams: Streams | None = None
    journals: dict = field(default_factory=dict)      # host -> truth.HostJournal
    idents: dict = field(default_factory=dict)        # subscriber -> its socket's journal ident
    truth_failure: Exception | None = None                   # truth.TruthFailure, first one
    judged: dict = field(default_factory=dict)        # rule -> messages the oracle judged by it
    sends: list = field(default_factory=list)
    open_checks: list = field(default_factory=list)   # (rule, text) found at open time
    failure: Exception | None = None
    violations: list = field(default_factory=list)
    names: dict = field(default_factory=dict)         # host -> matcher.IfNames
    steps_done: list = field(default_factory=list)    # (step, t_start, t_end)
    logs: dict = field(default_factory=dict)          # host -> log path (gone after lab.stop)
    log_text: dict = field(default_factory=dict)      # host -> log text, read before lab.stop
    artifacts: dict = field(default_factory=dict)


class Runner:
    def __init__(self, scenario, mode="sim", *, lab_start=None, reports_dir=None, keep_lab=False,
                 on_error=None, capture=None) -> None:
        self.sc, self.mode = scenario, mode
        self.lab_start = lab_start
        self.reports_dir, self.keep_lab, self.on_error = reports_dir, keep_lab, on_error
        self.capture = (mode == "mininet") if capture is None else capture
        self.result = RunResult(scenario, mode)
        self.lab: Lab | None = None
        self.socks: dict[str, Any] = {}
        self.programs: dict[str, list] = {}          # name -> [lab Program, lines already matched]
        self._seq = AUTO_SEQ_BASE

    # --- the whole run ----------------------------------------------------------
    def _the_lab(self) -> Lab:
        assert self.lab is not None, "the lab is not started yet"
        return self.lab

    def _streams(self) -> Streams:
        assert self.result.streams is not None, "the subscribers are not open yet"
        return self.result.streams

    def run(self) -> RunResult:
        from . import artifacts
        res = self.result
        start = self.lab_start
        if start is None:
            from rtsock_emul.lab import start
        reader = cap = None
        try:
            self.lab = start(self.sc.topology, mode=self.mode, config=self.sc.config)
            res.logs = {h: str(p) for h, p in self._the_lab().logs().items()}
            if self.reports_dir:
                artifacts.clear(self.reports_dir)
            if self.capture and self.reports_dir:
                cap = self.capture_run = artifacts.Capture(self.lab, self.reports_dir)
                cap.start()
            for st in self.sc.setup:
                self._step(st)
            self._settle()
            res.streams = Streams(self.sc.subscribers)
            self._truth(raise_=True)
            for name, sub in self.sc.subscribers.items():
                self.socks[name] = self._open(sub)
                res.idents[name] = self.socks[name].ident()
            self._truth(mark="open", raise_=True)
            reader = self.reader = Reader(res.streams)
            for name, sock in self.socks.items():
                reader.add(name, sock, hold=self.sc.subscribers[name].hold)
            reader.start()
            for st in self.sc.steps:
                res.streams.step = st.index
                t0 = res.streams.now()
                try:
                    self._step(st)
                finally:
                    res.steps_done.append((st, t0, res.streams.now()))
                    self._truth(mark=f"step {st.index}")
            if res.truth_failure is not None:
                raise res.truth_failure
        except (StepFailure, AssertionError) as exc:
            res.failure = exc
            if self.on_error and self.lab is not None:
                self.on_error(self.lab, exc)
        finally:
            try:
                self._finish(reader, cap)
            finally:       # even when the finishing work is interrupted (SIGINT, SIGTERM, SIGHUP)
                if self.lab is not None and not self.keep_lab:
                    self.lab.stop()
        return res

    def _finish(self, reader, cap) -> None:
        """Stop reading, judge the streams, write the artifacts (the lab is still up)."""
        from . import artifacts, oracle
        res = self.result
        if reader:
            reader.stop()
        if res.streams is not None:
            self._note_overflows(list(self.socks))
        for sock in self.socks.values():
            _close_quietly(sock)
        if res.streams is not None:
            self._truth(mark="end")
            if res.truth_failure is None:
                try:
                    res.violations = oracle.check(res)
                except truth.TruthFailure as exc:
                    res.truth_failure = exc
            if res.failure is None and res.truth_failure is not None:
                res.failure = res.truth_failure
            elif res.failure is None and res.violations:
                res.failure = OracleViolation(res.violations)
        if cap:
            cap.stop()
        res.log_text = _read_logs(res.logs)
        if self.reports_dir and res.streams is not None:
            res.artifacts = artifacts.write(res, self.reports_dir)

    def _settle(self) -> None:
        """Wait until no address is in DAD (`ipadm show-addr` STATE tentative), so that the
        first expect sees only what the steps cause."""
        for host in {s.host for s in self.sc.subscribers.values()}:
            def settled(h: str = host) -> bool:
                return self._dad_finished(h)
            wait_until(settled, SETTLE_TIMEOUT, what=f"{host}: `ipadm show-addr` to list no tentative address")

    def _dad_finished(self, host: str) -> bool:
        rc, out, _ = self._the_lab().admin(host, "ipadm show-addr")
        return rc == 0 and "tentative" not in out

    # --- subscribers --------------------------------------------------------------
    def _open(self, sub: Subscriber) -> Any:
        sock = self._the_lab().open_socket(sub.host, protocol=sub.protocol, user=sub.user)
        checks = self.result.open_checks
        if sub.useloopback is not None:
            sock.setsockopt(C.SOL_SOCKET, C.SO_USELOOPBACK, int(sub.useloopback))
        got = sock.getsockopt(C.SOL_SOCKET, C.SO_USELOOPBACK)
        want = C.SO_USELOOPBACK if sub.useloopback in (None, True) else 0
        if got != want:
            checks.append(("R31", f"{sub.name}: getsockopt(SO_USELOOPBACK) is {got:#x}, expected {want:#x}"))
        if sub.rt_aware is not None:
            sock.setsockopt(C.SOL_ROUTE, C.RT_AWARE, sub.rt_aware)
            got = sock.getsockopt(C.SOL_ROUTE, C.RT_AWARE)
            if got != sub.rt_aware:
                checks.append(("R36", f"{sub.name}: getsockopt(RT_AWARE) is {got}, set {sub.rt_aware}"))
        if sub.rcvbuf is not None:
            sock.setsockopt(C.SOL_SOCKET, C.SO_RCVBUF, sub.rcvbuf)
        if sub.shutdown is not None:
            sock.shutdown(sub.shutdown)
        return sock

    def _note_overflows(self, names: Sequence[str]) -> None:
        """Record an ENOBUFS for each subscriber whose next read would report one: the
        agent's overflow notices arrive on the control channel, which only this
        thread touches (the reader reads the data connection)."""
        for name in names:
            try:
                overflowed = self.socks[name].overflowed()   # taken: reported once, as read() does
            except OSError:
                continue
            if overflowed:
                self._streams().add(name, error="ENOBUFS")

    # --- ground truth ---------------------------------------------------------------
    def _truth(self, mark: Any = None, raise_: bool = False) -> None:
        """Read the new part of every subscriber host's journal. A failure is kept
        (the first one) and fails the scenario; raise_ raises it at once."""
        res = self.result
        for host in sorted(self._journal_hosts()):
            journal = res.journals.setdefault(host, truth.HostJournal(host))
            try:
                truth.fetch(self._the_lab().admin, host, journal, res.logs.get(host))
            except truth.TruthFailure as exc:
                res.truth_failure = res.truth_failure or exc
                if raise_:
                    raise
                continue
            if mark:
                journal.marks[mark] = journal.next
            self._learn_names(host, journal)

    def _journal_hosts(self) -> set[str]:
        """Hosts of subscribers (the oracle) and of packets steps timed from a DAD start."""
        hosts = {s.host for s in self.sc.subscribers.values()}
        steps = self.sc.steps if isinstance(self.sc.steps, list) else ()   # a generator (soak) is not read ahead
        return hosts | {st.args["host"] for st in steps
                        if st.kind == "packets" and st.args.get("first") is not None}

    def _learn_names(self, host: str, journal: truth.HostJournal) -> None:
        names = self.result.names.setdefault(host, matcher.IfNames())
        for state in journal.states():
            if state is not None:
                names.table.update(state.index)

    def names_for(self, sub: str) -> Any:
        return self.result.names.setdefault(self.sc.subscribers[sub].host, matcher.IfNames())

    # --- steps ------------------------------------------------------------------------
    def _step(self, st) -> None:
        getattr(self, "_do_" + st.kind)(st, **st.args)

    def _do_run(self, st, host: str, command, error, output):
        rc, out, err = self._the_lab().admin(host, command)
        text = (out + err).strip()
        if error is None and rc != 0:
            raise StepFailure(st, f"{host}: `{command}` failed (rc {rc})", [text])
        if error is True and rc == 0:
            raise StepFailure(st, f"{host}: `{command}` succeeded; the scenario expects it to fail", [text])
        if isinstance(error, str) and error != "0":
            strerror = os.strerror(C.linux_errno(error)) if hasattr(errno_mod, error) else error
            if rc == 0 or (error not in text and strerror.lower() not in text.lower()):
                raise StepFailure(st, f"{host}: `{command}` should fail with {error} ({strerror})",
                                  [f"rc {rc}", text])
        missing = [o for o in output if o not in out + err]
        if missing:
            raise StepFailure(st, f"{host}: output of `{command}` lacks {missing}", [text])

    def _do_link(self, st, host: str, ifname: str, up) -> None:
        self._the_lab().link(host, ifname, up)

    def _do_loss(self, st, links) -> None:
        for host, ifname, pct in links:
            self._the_lab().loss(host, ifname, pct)

    def _do_delay(self, st, links) -> None:
        for host, ifname, ms in links:
            self._the_lab().delay(host, ifname, ms)

    def _do_ping(self, st, src, dst, count: int, interval, max_loss):
        res = self._the_lab().ping(src, dst, count, interval)
        if res.lost > max_loss:
            raise StepFailure(st, f"ping {src} -> {dst}: lost {res.lost} of {res.sent}, at most {max_loss} allowed")

    def _do_packets(self, st, host: str, ifname: str, **args) -> None:
        from . import packets
        cursors = self.__dict__.setdefault("_pcap_cursors", {})
        cap = getattr(self, "capture_run", None)
        path = next((p for p in cap.paths() if p.endswith(f"/{host}-{ifname}.pcap")), None) if cap else None
        key = (host, ifname, args["bpf"])
        since = cursors.get(key, time.time() - self._streams().now())   # else: the steps' start
        first = args.get("first")
        dad_starts = (lambda: self._dad_starts(st, host, first.addr)) if first else None
        cursors[key] = packets.run_step(st, path and Path(path), since, host, ifname,
                                        dad_starts=dad_starts, **args)

    def _dad_starts(self, st: Step, host: str, addr: str) -> list:
        """The "dad" entries of addr in host's journal, read up to now."""
        journal = self.result.journals.get(host)
        if journal is None:
            raise StepFailure(st, f"{host}: its delivery journal was not read from the start of the steps")
        try:
            truth.fetch(self._the_lab().admin, host, journal, self.result.logs.get(host))
        except truth.TruthFailure as exc:
            raise StepFailure(st, str(exc), exc.lines()) from None
        return journal.dad_starts(addr)

    def _do_wait_for(self, st, host: str, command, contains, timeout):
        regex = re.compile(r"\s+".join(r".*?".join(re.escape(p) for p in part.split("..."))
                                       for part in contains.split()))
        last = {}

        def probe() -> Any:
            last["out"] = self._the_lab().admin(host, command)[1]
            return regex.search(last["out"])
        try:
            wait_until(probe, timeout, what=f"{host}: `{command}` to show {contains!r}")
        except WaitTimeout as exc:
            raise StepFailure(st, f"{exc} ({load_average()})", ["last output:", last.get("out", "")]) from None

    def _do_start(self, st, name: str, host: str, command, preload, ready, timeout, cwd):
        from rtsock_emul.lab.errors import LabError
        try:
            prog = self._the_lab().spawn(host, ["sh", "-c", command], preload=preload, cwd=cwd)
            self.programs[name] = [prog, 0]
            if ready is not None:
                self.programs[name][1] = prog.wait_line(ready, timeout) + 1
        except LabError as exc:
            raise StepFailure(st, f"start {name}: {exc}") from None

    def _do_stdout(self, st, name: str, patterns: Sequence[str], timeout):
        """Each pattern matches a later line than the previous one (of this program)."""
        from rtsock_emul.lab.errors import LabError
        entry = self.programs[name]
        deadline = time.monotonic() + timeout
        try:
            for pattern in patterns:
                entry[1] = entry[0].wait_line(pattern, max(0.0, deadline - time.monotonic()), entry[1]) + 1
        except LabError as exc:
            raise StepFailure(st, f"stdout of {name}: {exc}") from None

    def _write(self, st: Step, by: str, data: bytes | Message, want: Any, rec: SendRecord) -> None:
        try:
            self.socks[by].write(data)
            got = "0"
        except OSError as exc:
            got = getattr(exc, "illumos_name", None) or C.errno_name(exc.errno or 0)
        rec.errno = got
        self.result.sends.append(rec)
        if got != want:
            raise StepFailure(st, f"write on {by} returned {got}, expected {want}")

    def _do_send(self, st, by, msg, errno, msg_line, repeat=1) -> None:
        spec = dict(msg)
        if "seq" not in spec:
            self._seq += repeat
            spec["seq"] = self._seq - repeat + 1
        for i in range(repeat):
            self._send_one(st, by, {**spec, "seq": int(spec["seq"]) + i}, errno)

    def _send_one(self, st: Step, by: str, spec: dict, errno: Any) -> None:
        from rtsock_emul.wire.build import RtMsg
        ifp = spec.pop("ifp", None)
        ifp_sa, ifp_name = self._ifp(st, by, ifp)
        try:
            wire_msg = RtMsg(**spec)
        except (ValueError, TypeError) as exc:
            raise StepFailure(st, f"cannot build the message: {exc}") from None
        if ifp_sa is not None:
            wire_msg.sockaddrs[C.RTA_IFP] = ifp_sa
        rec = SendRecord(by, st.index, self._streams().now(), spec["seq"], wire_msg.rtm_type, "",
                         ifp=ifp_name, family=wire_msg.family())
        self._write(st, by, wire_msg, errno, rec)

    def _do_send_raw(self, st: Step, by: str, data: bytes, errno: Any) -> None:
        seq, rtype = RT_MSGHDR.peek(data, "rtm_seq"), RT_MSGHDR.peek(data, "rtm_type")
        rec = SendRecord(by, st.index, self._streams().now(), seq, rtype, "", raw=True)
        self._write(st, by, data, errno, rec)

    def _ifp(self, st: Step, by: str, ifp: Any) -> tuple[Any, str | None]:
        """RTA_IFP of a send: NAME or N -> sdl (index, name); {index, name} -> an sdl whose
        name need not match (R15); AF_UNSPEC -> an AF_UNSPEC sockaddr. Returns
        (sockaddr or None, the interface the request names, for the oracle)."""
        from rtsock_emul.wire.sockaddrs import SockaddrDl, SockaddrUnspec
        if ifp is None:
            return None, None
        if ifp == "AF_UNSPEC":
            return SockaddrUnspec(), None
        if isinstance(ifp, int):
            return SockaddrDl(sdl_index=ifp), str(ifp)
        host = self.sc.subscribers[by].host
        if isinstance(ifp, dict):
            index = ifp["index"]
            index = index if isinstance(index, int) else self._ifindex(host, str(index), st)
            return SockaddrDl(sdl_index=index, name=str(ifp.get("name", ""))), self.names_for(by).name(index)
        return SockaddrDl(sdl_index=self._ifindex(host, str(ifp), st), name=str(ifp)), str(ifp)

    def _ifindex(self, host: str, name: str, st):
        names = self.result.names.setdefault(host, matcher.IfNames())
        if names.index(name) is None:
            journal = truth.fetch(self._the_lab().admin, host, truth.HostJournal(host), self.result.logs.get(host))
            names.table.update(journal.base.index)
        idx = names.index(name)
        if idx is None:
            raise StepFailure(st, f"{host} has no interface {name!r} (known: {sorted(names.table.values())})")
        return idx

    def _do_expect(self, st, expectations, within, quiet: bool) -> None:
        subs = [e.sub for e in expectations]
        held = [n for n in subs if self.sc.subscribers[n].hold]
        self._note_overflows(subs)       # before a held socket's queue is read, as read() would
        for name in held:
            self.reader.release(name)
        try:
            self._expect(st, expectations, within, quiet)
        finally:
            for name in held:
                self.reader.hold(name)

    def _expect(self, st, expectations, within, quiet: bool):
        streams = self._streams()
        cursors = self.__dict__.setdefault("_cursors", {})
        names = {e.sub: self.names_for(e.sub) for e in expectations}

        def pending(e: Expectation) -> list:
            return streams.snapshot(e.sub, cursors.get(e.sub, 0))

        def all_satisfied() -> bool:
            return all(matcher.satisfied(e, pending(e), names[e.sub]) for e in expectations)
        met = streams.wait(all_satisfied, within)
        streams.hold(quiet)
        self._note_overflows([e.sub for e in expectations])
        diffs = []
        for e in expectations:
            got = pending(e)
            cursors[e.sub] = cursors.get(e.sub, 0) + len(got)
            for rec in got:
                if rec.msg is not None:
                    names[e.sub].learn(rec.msg)
            diff = matcher.compare(e, got, names[e.sub])
            if diff:
                diffs.append(diff)
        if diffs:
            summary = "; ".join(f"{d.exp.sub}: {d.reason}" for d in diffs)
            if not met:
                summary = f"`within: {within:g}s` exceeded ({load_average()}): {summary}"
            raise StepFailure(st, summary, diffs=diffs)


def _read_logs(logs: dict[str, Any]) -> dict[str, str]:
    out = {}
    for host, path in logs.items():
        try:
            with open(path, errors="replace") as fh:
                out[host] = fh.read()
        except OSError:
            pass
    return out


def _close_quietly(sock) -> None:
    try:
        sock.close()
    except OSError:
        pass
