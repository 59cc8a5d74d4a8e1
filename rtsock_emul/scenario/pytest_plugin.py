"""pytest plugin: every *.scenario.yaml is one test item, validated at collection.

    pytest scenarios/ -k member-failure -m R39 --rtsock-mode=sim
    pytest -p rtsock_emul.scenario.pytest_plugin SOME/DIR     # scenario files kept anywhere
"""
import os
import shutil
from pathlib import Path

import pytest

from .coverage import all_rule_ids
from .errors import ScenarioError
from .loader import load_file
from .schema import parse_scenario

SUFFIX = ".scenario.yaml"
pytest_plugins = ["rtsock_emul.scenario.cpuload"]     # --cpu-load N


def pytest_addoption(parser):
    group = parser.getgroup("rtsock", "ipmp-lab scenarios")
    group.addoption("--rtsock-mode", choices=("auto", "mininet", "sim"), default="auto",
                    help="auto: Mininet when root, else the sim platform where the scenario allows it")
    group.addoption("--cli-on-error", action="store_true",
                    help="drop into the Mininet CLI at the failing step (Mininet mode)")
    group.addoption("--keep-lab", action="store_true", help="leave the lab running after each scenario")
    group.addoption("--rtsock-reports", default=None, metavar="DIR",
                    help="artifacts folder (default: reports/ under the rootdir)")


def pytest_configure(config):
    for rule in all_rule_ids():
        config.addinivalue_line("markers", f"{rule}: the scenario covers spec rule {rule}")


def pytest_collect_file(parent, file_path):
    if file_path.name.endswith(SUFFIX):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


class ScenarioFile(pytest.File):
    def collect(self):
        sc = parse_scenario(load_file(self.path), _display(self.path))
        item = ScenarioItem.from_parent(self, name=self.path.name[:-len(SUFFIX)], scenario=sc)
        for rule in sc.covers:
            item.add_marker(rule)
        item.extra_keyword_matches.add(sc.name)
        yield item

    def repr_failure(self, excinfo):
        if isinstance(excinfo.value, ScenarioError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


def _display(path):
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


class ScenarioFailed(Exception):
    """The scenario failed; the text is the whole report."""


def choose_mode(option, scenario, is_root):
    """(mode, None) or (None, reason to skip)."""
    if option == "mininet" or (option == "auto" and is_root):
        if not is_root:
            return None, "Mininet mode needs root (network namespaces, veths, bridges); run with sudo"
        if shutil.which("mnexec") is None:
            return None, "Mininet mode needs mnexec (apt install mininet)"
        return "mininet", None
    if scenario.needs_mininet:
        kinds = sorted({s.kind for s in scenario.setup + scenario.steps if s.kind in ("ping", "delay")})
        why = "not root" if option == "auto" else "--rtsock-mode=sim"
        return None, (f"needs Mininet (its {'/'.join(kinds)} steps send real packets) and root; {why}; "
                      f"run it with sudo")
    return "sim", None


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario, **kwargs):
        super().__init__(**kwargs)
        self.scenario = scenario

    def runtest(self):
        from .artifacts import report_dir
        from .report import format_failure
        from .runner import Runner
        config = self.config
        mode, reason = choose_mode(config.getoption("rtsock_mode"), self.scenario, os.geteuid() == 0)
        if mode is None:
            pytest.skip(reason)
        base = config.getoption("rtsock_reports") or os.path.join(str(config.rootpath), "reports")
        keep = config.getoption("keep_lab")
        runner = Runner(self.scenario, mode, reports_dir=report_dir(base, self.name), keep_lab=keep,
                        on_error=self._cli if config.getoption("cli_on_error") else None)
        try:
            res = runner.run()
        finally:
            if keep and runner.lab is not None:
                try:
                    self._pause(runner.lab)
                finally:
                    runner.lab.stop()
        if res.failure is not None:
            raise ScenarioFailed(format_failure(res))

    def _interactive(self, fn):
        """Run fn with pytest's capture suspended, so the user's terminal is the lab's."""
        capman = self.config.pluginmanager.getplugin("capturemanager")
        if capman:
            capman.suspend_global_capture(in_=True)
        try:
            fn()
        finally:
            if capman:
                capman.resume_global_capture()

    def _cli(self, lab, exc):
        if getattr(lab, "net", None) is None:
            return
        from rtsock_emul.lab.cli import interact
        print(f"\n{exc}\n--cli-on-error: the lab is as the failing step left it; `exit` to go on")
        self._interactive(lambda: interact(lab))

    def _pause(self, lab):
        """--keep-lab: the lab stays up after the scenario until the user is done with it
        (Mininet: the lab CLI until `exit`; sim: until Enter); then it is stopped."""
        agents = ", ".join(f"{h}: RTSOCK_AGENT={lab.agent_path(h)}" for h in lab.hosts)
        print(f"\n--keep-lab: scenario '{self.name}' left lab {lab.run_id} up ({agents})")
        if getattr(lab, "net", None) is not None:
            from rtsock_emul.lab.cli import interact
            print("`exit` stops it")
            self._interactive(lambda: interact(lab))
        else:
            self._interactive(lambda: _read_line("press Enter to stop it: "))

    def repr_failure(self, excinfo, style=None):
        if isinstance(excinfo.value, (ScenarioFailed, ScenarioError)):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self):
        return self.path, self.scenario.line - 1, f"scenario: {self.scenario.name}"


def _read_line(prompt):
    try:
        input(prompt)
    except EOFError:    # no terminal (CI): nothing to wait for
        print()
