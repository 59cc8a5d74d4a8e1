"""Runs pytest inside the project's .venv whatever started it (`sudo pytest`,
`python3 -m pytest`); skips tests marked `root` when not root; loads the scenario
plugin (every scenarios/**/*.scenario.yaml is a pytest item) and pytester (tests/scenario run pytest on scenario files); checks
at the end of the session that no lab left anything behind."""
import os
import pathlib
import sys

REEXEC_ENV = "IPMP_LAB_REEXEC"      # set on the re-executed run: a second re-exec never happens
VENV = pathlib.Path(__file__).resolve().parent / ".venv"


def _started_as_command():
    """True when this process is `pytest ...` or `python -m pytest ...` (its argv is the
    user's command line), not pytest.main() called from some other program."""
    name = pathlib.Path(sys.argv[0]).name
    return name in ("pytest", "pytest-3", "py.test") or sys.argv[0].endswith(os.path.join("pytest", "__main__.py"))


def _without_other_pytests(pythonpath):
    """PYTHONPATH less the folders that hold a pytest of their own (it would shadow .venv's)."""
    keep = [d for d in pythonpath.split(os.pathsep)
            if d and not any((pathlib.Path(d) / n).exists() for n in ("pytest", "_pytest", "pytest.py"))]
    return os.pathsep.join(keep)


def _release_terminal():
    """pytest captures fds 1 and 2 while it loads conftests; give them back before exec
    (else the re-executed run writes into the capture's temporary files)."""
    config_class = getattr(sys.modules.get("_pytest.config"), "Config", None)
    frame = sys._getframe()
    while frame is not None and config_class is not None:
        config = next((v for v in frame.f_locals.values() if isinstance(v, config_class)), None)
        if config is not None:
            capman = config.pluginmanager.getplugin("capturemanager")
            if capman is not None:
                capman.stop_global_capturing()
            return
        frame = frame.f_back


def _reexec_in_venv():
    """The project's tests need .venv's pinned packages (pytest-timeout, pyroute2, ...);
    a pytest started by another interpreter (Debian's /usr/bin/pytest under sudo, an
    older pytest in the user's site packages) runs again as `.venv/bin/python -m pytest`
    with the same arguments, so output and exit code are that run's. Runs before any
    project import, while pytest is still loading its first conftest."""
    if pathlib.Path(sys.prefix).resolve() == VENV.resolve() or not _started_as_command():
        return
    if not (VENV.parent / "ipmp-lab").exists():     # a copy of this file outside the project (pytester)
        return
    python = VENV / "bin" / "python"
    if os.environ.get(REEXEC_ENV):
        # said at once: this interpreter may lack what the plugins import, and fail before configure
        _release_terminal()
        sys.stderr.write(f"ipmp-lab: still outside {VENV} after re-running there ({sys.executable}); "
                         f"going on without re-running again\n")
        return
    if not os.access(python, os.X_OK):
        _release_terminal()
        sys.stderr.write(f"ipmp-lab: pytest was started by {sys.executable}, and the project's environment "
                         f"{VENV} does not exist yet: run `sudo ./ipmp-lab setup` first\n")
        sys.stderr.flush()
        os._exit(4)     # pytest's usage-error code; not SystemExit: the capture is already given back
    env = dict(os.environ, PYTHONNOUSERSITE="1")
    env[REEXEC_ENV] = sys.executable
    if "PYTHONPATH" in env:
        env["PYTHONPATH"] = _without_other_pytests(env["PYTHONPATH"])
    _release_terminal()
    sys.stderr.write(f"ipmp-lab: {sys.executable} is not the project's Python; "
                     f"running again as {python} -m pytest\n")
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(python, [str(python), "-m", "pytest", *sys.argv[1:]], env)


_reexec_in_venv()

import subprocess  # noqa: E402  (after the re-exec: nothing of the project is imported outside .venv)

import pytest  # noqa: E402

pytest_plugins = ["rtsock_emul.scenario.pytest_plugin", "pytester"]


ROOT_WHY = "network namespaces, veths, bridges"


def pytest_collection_modifyitems(config, items):
    """`@pytest.mark.root("what needs it")`: skipped, saying why, when not root
    (a skip mark, so none of the test's fixtures runs)."""
    if os.geteuid() == 0:
        return
    for item in items:
        marker = item.get_closest_marker("root")
        if marker is not None:
            why = marker.args[0] if marker.args else ROOT_WHY
            item.add_marker(pytest.mark.skip(reason=f"needs root ({why}): run it as root, e.g. `sudo ./ipmp-lab test`"))


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
