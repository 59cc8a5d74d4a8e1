"""Loads the scenario plugin (every scenarios/**/*.scenario.yaml is a pytest item)
and pytester (tests/scenario run pytest on scenario files); checks at the end of
the session that no lab left anything behind."""
import os
import pathlib
import subprocess

import pytest

pytest_plugins = ["rtsock_emul.scenario.pytest_plugin", "pytester"]


def _links_of_our_runs():
    """Root-namespace links named with the prefix of a run this process started
    (other people's concurrent runs are not ours to judge)."""
    from rtsock_emul.lab import naming, runtime
    prefixes = tuple(naming.prefix(rid) for rid in runtime.STARTED_RUN_IDS)
    if not prefixes:
        return []
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    names = [line.split(": ")[1].split("@")[0] for line in out.splitlines() if ": " in line]
    return sorted(n for n in names if n.startswith(prefixes))


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


def pytest_sessionfinish(session, exitstatus):
    """After the whole session no interface, bridge or process of this session's labs remains
    (run directories kept after a failed start hold the logs its error names)."""
    if os.geteuid() != 0:
        return
    leftovers = _links_of_our_runs()
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
