"""pytest plugin: every *.scenario.yaml is one test item, validated at collection.

    pytest scenarios/ -k member-failure -m R39 --rtsock-mode=sim
    pytest -p rtsock_emul.scenario.pytest_plugin SOME/DIR     # scenario files kept anywhere
"""
from __future__ import annotations

import os
import shutil
import signal
import sys
import threading
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest
from _pytest._code.code import ReprFileLocation, TerminalRepr

from .coverage import all_rule_ids
from .errors import ScenarioError
from .loader import load_file
from .schema import MININET_ONLY, parse_scenario

SUFFIX = ".scenario.yaml"
pytest_plugins = ["rtsock_emul.scenario.cpuload",     # --cpu-load N
                  "rtsock_emul.scenario.suite_order"]  # -n N: the heaviest test files first


def pytest_addoption(parser) -> None:
    group = parser.getgroup("rtsock", "ipmp-lab scenarios")
    group.addoption("--rtsock-mode", choices=("auto", "mininet", "sim"), default="auto",
                    help="auto: Mininet when root, else the sim platform where the scenario allows it")
    group.addoption("--cli-on-error", action="store_true",
                    help="drop into the Mininet CLI at the failing step (Mininet mode)")
    group.addoption("--keep-lab", action="store_true", help="leave the lab running after each scenario")
    group.addoption("--rtsock-reports", default=None, metavar="DIR",
                    help="artifacts folder (default: reports/ under the rootdir); each session "
                         "writes DIR/<run>/<scenario>/ and points DIR/latest at its run")


_SESSION_SIGNALS = (signal.SIGTERM, signal.SIGHUP)


def pytest_configure(config) -> None:
    for rule in all_rule_ids():
        config.addinivalue_line("markers", f"{rule}: the scenario covers rule {rule} (docs/rules.md#{rule.lower()})")
    # SIGTERM (CI cancel, `timeout`) and SIGHUP (closed terminal) end the session like Ctrl-C:
    # the running test's finally blocks stop its lab, no further test starts
    from .artifacts import new_run_name
    # xdist workers get the controller's run name: one session, one reports folder
    config.rtsock_run = getattr(config, "workerinput", {}).get("rtsock_run") or new_run_name()
    if threading.current_thread() is threading.main_thread():
        from rtsock_emul.lab.runtime import raise_interrupted
        config._rtsock_old_handlers = {s: signal.signal(s, raise_interrupted) for s in _SESSION_SIGNALS}


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """xdist: each worker writes into the controller's run folder."""
    node.workerinput["rtsock_run"] = node.config.rtsock_run


def pytest_unconfigure(config) -> None:
    for signum, handler in getattr(config, "_rtsock_old_handlers", {}).items():
        signal.signal(signum, handler if handler is not None else signal.SIG_DFL)


_interrupted: list = []    # signal numbers (0 for Ctrl-C) of sessions being interrupted
_open_sessions: list = []  # sessions of this process not finished: a test's in-process session is nested


def pytest_sessionstart(session) -> None:
    _open_sessions.append(session)


def pytest_keyboard_interrupt(excinfo) -> None:
    _interrupted.append(getattr(excinfo.value, "signum", 0))


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session) -> None:
    """An interrupted session stops any lab still live (before the leftover check) and, when
    SIGTERM or SIGHUP ended it, exits 128+signal as the shell reports a process killed by it.
    Then the process's agent fork server ends (after the outermost session only), unless a
    zygote of a leaked lab still runs under it: the leftover check then reports the whole tree."""
    if _interrupted:
        from rtsock_emul.lab import runtime
        signum = _interrupted.pop()
        runtime._stop_all()
        if signum:
            session.exitstatus = 128 + signum
    if session in _open_sessions:
        _open_sessions.remove(session)
    forkserver = sys.modules.get("rtsock_emul.lab.forkserver")   # None: no lab ran here
    if forkserver is not None and not _open_sessions:    # the outer session's labs still use it
        forkserver.shutdown(only_if_idle=True)


_REPORT_KEY = "ipmp_lab_report"     # a failure report's parts, across pytest-xdist's serialization


# old-style wrappers: an older pytest that loads this plugin (before the root conftest
# re-runs it inside .venv) must still be able to read it
@pytest.hookimpl(hookwrapper=True)
def pytest_report_to_serializable(config: pytest.Config, report: Any) -> Generator[None, Any, Any]:
    outcome = yield
    data, longrepr = outcome.get_result(), getattr(report, "longrepr", None)
    if isinstance(data, dict) and isinstance(longrepr, ReportRepr):
        crash = longrepr.reprcrash
        data[_REPORT_KEY] = [longrepr.text, crash.path, crash.lineno, crash.message]


@pytest.hookimpl(hookwrapper=True)
def pytest_report_from_serializable(config: pytest.Config, data: dict) -> Generator[None, Any, Any]:
    outcome = yield
    report = outcome.get_result()
    if report is not None and isinstance(data, dict) and _REPORT_KEY in data:
        report.longrepr = ReportRepr(*data[_REPORT_KEY])


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> ScenarioFile | None:
    if file_path.name.endswith(SUFFIX):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


def pytest_collection_finish(session: pytest.Session) -> None:
    """Each scenario's artifacts go to reports/<run>/<name>/: two scenarios of one name
    (run side by side under xdist) would clear and overwrite each other's pcaps."""
    seen: dict[str, ScenarioItem] = {}
    for item in session.items:
        if isinstance(item, ScenarioItem):
            other = seen.setdefault(item.name, item)
            if other is not item:
                raise pytest.UsageError(
                    f"{_display(item.path)}: scenario name {item.name!r} is also {_display(other.path)}'s; "
                    f"rename one of the files (both would write reports/<run>/{item.name}/)")


class ScenarioFile(pytest.File):
    def collect(self) -> Iterator[pytest.Item]:
        sc = parse_scenario(load_file(self.path), _display(self.path))
        item = ScenarioItem.from_parent(self, name=self.path.name[:-len(SUFFIX)], scenario=sc)
        for rule in sc.covers:
            item.add_marker(rule)
        item.extra_keyword_matches.add(sc.name)
        yield item

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ScenarioError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


def _display(path: str | Path) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class ScenarioFailed(Exception):
    """The scenario failed; the text is the whole report, `summary` its one line."""

    def __init__(self, text: str, summary) -> None:
        super().__init__(text)
        self.summary = summary


class ReportRepr(TerminalRepr):
    """The failure report as pytest shows it: the text on the terminal and in the junit
    <failure> body; `reprcrash.message` (the summary) is junit's message attribute and
    the short summary line's."""

    def __init__(self, text: str, path, lineno, summary) -> None:
        self.text = text
        self.reprcrash = ReprFileLocation(str(path), lineno, summary)

    def toterminal(self, tw) -> None:
        for line in self.text.splitlines():
            tw.line(line)


def choose_mode(option, scenario, is_root: bool):
    """(mode, None) or (None, reason to skip)."""
    if option == "mininet" or (option == "auto" and is_root):
        if not is_root:
            return None, "Mininet mode needs root (network namespaces, veths, bridges); run with sudo"
        if shutil.which("mnexec") is None:
            return None, "Mininet mode needs mnexec (apt install mininet)"
        return "mininet", None
    if scenario.needs_mininet:
        kinds = sorted({s.kind for s in scenario.setup + scenario.steps if s.kind in MININET_ONLY})
        why = "not root" if option == "auto" else "--rtsock-mode=sim"
        return None, (f"needs Mininet (its {'/'.join(kinds)} steps send real packets) and root; {why}; "
                      f"run it with sudo")
    return "sim", None


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario, **kwargs) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario

    def runtest(self) -> None:
        from .artifacts import report_dir
        from .report import failure_summary, format_failure
        from .runner import Runner
        config = self.config
        mode, reason = choose_mode(config.getoption("rtsock_mode"), self.scenario, os.geteuid() == 0)
        if mode is None:
            pytest.skip(reason)
        base = config.getoption("rtsock_reports") or os.path.join(str(config.rootpath), "reports")
        keep = config.getoption("keep_lab")
        run = config.rtsock_run  # type: ignore[attr-defined]  # set by pytest_configure
        runner = Runner(self.scenario, mode, reports_dir=report_dir(base, run, self.name),
                        keep_lab=keep,
                        on_error=self._cli if config.getoption("cli_on_error") else None)
        try:
            res = runner.run()
        finally:
            if keep and runner.lab is not None:
                try:
                    self._pause(runner.lab)
                finally:
                    runner.lab.stop()
        for kind, path in sorted(res.artifacts.items()):   # junit <property>: where CI finds them
            self.user_properties.append((kind, path))
        if res.failure is not None:
            raise ScenarioFailed(format_failure(res), failure_summary(res))

    def _interactive(self, fn) -> None:
        """Run fn with pytest's capture suspended, so the user's terminal is the lab's."""
        capman = self.config.pluginmanager.getplugin("capturemanager")
        if capman:
            capman.suspend_global_capture(in_=True)
        try:
            fn()
        finally:
            if capman:
                capman.resume_global_capture()

    def _cli(self, lab, exc) -> None:
        if getattr(lab, "net", None) is None:
            return
        from rtsock_emul.lab.interact import interact
        print(f"\n{exc}\n--cli-on-error: the lab is as the failing step left it; `exit` to go on")
        self._interactive(lambda: interact(lab))

    def _pause(self, lab) -> None:
        """--keep-lab: the lab stays up after the scenario until the user is done with it
        (Mininet: the lab CLI until `exit`; sim: until Enter); then it is stopped."""
        agents = ", ".join(f"{h}: RTSOCK_AGENT={lab.agent_path(h)}" for h in lab.hosts)
        print(f"\n--keep-lab: scenario '{self.name}' left lab {lab.run_id} up ({agents})")
        if getattr(lab, "net", None) is not None:
            from rtsock_emul.lab.interact import interact
            print("`exit` stops it")
            self._interactive(lambda: interact(lab))
        else:
            self._interactive(lambda: _read_line("press Enter to stop it: "))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ScenarioFailed):
            return ReportRepr(str(excinfo.value), self.path, self.scenario.line, excinfo.value.summary)
        if isinstance(excinfo.value, ScenarioError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, self.scenario.line - 1, f"scenario: {self.scenario.name}"


def _read_line(prompt: str) -> None:
    try:
        input(prompt)
    except EOFError:    # no terminal (CI): nothing to wait for
        print()
