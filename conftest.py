"""Loads the scenario plugin (every scenarios/**/*.scenario.yaml is a pytest item)
and pytester (tests/scenario run pytest on scenario files); checks at the end of
the session that no lab left anything behind."""
import os
import pathlib
import subprocess

import pytest

pytest_plugins = ["rtsock_emul.scenario.pytest_plugin", "pytester"]

LAB_LINK_PREFIX = "ipl"        # rtsock_emul.lab.naming.RUN_PREFIX: bridges and switch-side veths
RUN_DIR_GLOB = "ipmp-lab-*"    # rtsock_emul.lab.runtime: one run directory per lab


def _lab_links():
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    names = [line.split(": ")[1].split("@")[0] for line in out.splitlines() if ": " in line]
    return {n for n in names if n.startswith(LAB_LINK_PREFIX)}


def _run_dirs():
    base = pathlib.Path(os.environ.get("RTSOCK_LAB_DIR", "/tmp"))
    return {str(p) for p in base.glob(RUN_DIR_GLOB)}


def _our_descendants():
    """pids of live processes descended from this pytest process."""
    me, children = os.getpid(), {}
    for stat in pathlib.Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [me]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def pytest_sessionstart(session):
    session.config._lab_before = (_lab_links(), _run_dirs())


def pytest_sessionfinish(session, exitstatus):
    """After the whole session no interface, bridge, run directory or process of a lab remains."""
    if os.geteuid() != 0 or not hasattr(session.config, "_lab_before"):
        return
    links_before, dirs_before = session.config._lab_before
    leftovers = sorted(_lab_links() - links_before) + sorted(_run_dirs() - dirs_before)
    procs = _our_descendants()
    if procs:
        leftovers += [f"process {pid}: " + pathlib.Path(f"/proc/{pid}/cmdline").read_bytes()
                      .replace(b"\0", b" ").decode(errors="replace").strip() for pid in sorted(procs)
                      if pathlib.Path(f"/proc/{pid}/cmdline").exists()]
    if leftovers:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        text = "lab leftovers after the session (teardown leaked):\n  " + "\n  ".join(leftovers)
        if reporter:
            reporter.write_line(text, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
