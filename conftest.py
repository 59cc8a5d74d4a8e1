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


def _our_descendants(root=None):
    """pids of live processes descended from this pytest process (or from `root`)."""
    me, children = root or os.getpid(), {}
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


_workers: dict = {}     # xdist controller: worker id -> (pid, its leftovers)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    """xdist controller: a worker's own leftover check comes back with its results."""
    out = getattr(node, "workeroutput", None) or {}
    _workers[node.gateway.id] = (out.get("lab_pid"), out.get("lab_leftovers", []))


def _leftovers(exclude=()):
    """Links of this process's runs and live descendants, minus the subtrees of `exclude`
    (xdist workers, which check their own)."""
    leftovers = _links_of_our_runs()
    procs = _our_descendants()
    for pid in exclude:
        procs -= {pid} | _our_descendants(pid)
    return leftovers + [f"process {pid}: " + pathlib.Path(f"/proc/{pid}/cmdline").read_bytes()
                        .replace(b"\0", b" ").decode(errors="replace").strip() for pid in sorted(procs)
                        if pathlib.Path(f"/proc/{pid}/cmdline").exists()]


def pytest_sessionfinish(session, exitstatus):
    """After the whole session no interface, bridge or process of this session's labs remains
    (run directories kept after a failed start hold the logs its error names). Under xdist
    each worker checks itself and the controller reports every worker's findings."""
    if os.geteuid() != 0:
        return
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:       # an xdist worker: the controller reports
        workeroutput["lab_pid"], workeroutput["lab_leftovers"] = os.getpid(), _leftovers()
        return
    leftovers = _leftovers(exclude=[pid for pid, _ in _workers.values() if pid])
    leftovers += [f"[{wid}] {item}" for wid, (_, items) in sorted(_workers.items()) for item in items]
    _workers.clear()
    if leftovers:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        text = "lab leftovers after the session (teardown leaked):\n  " + "\n  ".join(leftovers)
        if reporter:
            reporter.write_line(text, red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
