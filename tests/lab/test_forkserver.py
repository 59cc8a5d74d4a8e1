"""The agent fork server: each lab's zygote is a fork of one warm process per Python
process, which belongs to that process only and dies with it. Sim labs: no root needed."""
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import rtsock_emul.lab as lab_api
from rtsock_emul.lab import forkserver
from rtsock_emul.lab.leftovers import child_env, marked_processes
from rtsock_emul.util.wait import wait_until

from .helpers import pid_alive

ROOT = Path(__file__).resolve().parents[2]


def _ppid(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def test_every_lab_zygote_is_a_fork_of_one_warm_server():
    """A cold zygote per lab (a fresh python importing the agent stack) was ~0.25 s of CPU
    each; now each is forked by the process's server, in the lab's run directory."""
    zygotes = []
    for _ in (1, 2):
        with lab_api.start("ipmp-pair", mode="sim") as lab:
            pid = lab.zygote.proc.pid
            zygotes.append((pid, _ppid(pid), forkserver.server_pid()))
            assert os.readlink(f"/proc/{pid}/cwd") == str(lab.run_dir)
            assert lab.admin_ok("h1", "ipadm show-if") is not None
        assert not pid_alive(pid)                          # ended with its lab
    (z1, parent1, server1), (z2, parent2, server2) = zygotes
    assert z1 != z2 and server1 == server2 and parent1 == parent2 == server1
    assert pid_alive(server1) and _ppid(server1) == os.getpid()   # ours, and outlives labs


# a child process that starts labs, prints what it made, then waits for the parent
CHILD = textwrap.dedent("""\
    import json, os, sys, threading
    import rtsock_emul.lab as L
    from rtsock_emul.lab import forkserver
    how, end = sys.argv[1], sys.argv[2]
    if how == "thread":          # the first lab from a thread that then ends
        t = threading.Thread(target=lambda: L.start("ipmp-pair", mode="sim").stop())
        t.start(); t.join()
    first = forkserver.server_pid()
    lab = L.start("ipmp-pair", mode="sim")
    out = {"server": forkserver.server_pid(), "first": first, "zygote": lab.zygote.proc.pid,
           "agents": sorted(set(lab.agent_pids().values()))}
    if how == "fork":             # a forked copy of this process gets a server of its own
        r, w = os.pipe()
        if os.fork() == 0:
            lab2 = L.start("ipmp-pair", mode="sim")
            os.write(w, json.dumps([forkserver.server_pid(), lab2.zygote.proc.pid]).encode())
            lab2.stop()
            os._exit(0)
        os.close(w)
        out["fork"] = json.loads(os.read(r, 1000))
        os.wait()
    print(json.dumps(out), flush=True)
    sys.stdin.read()              # until the parent kills us or closes our stdin
    if end == "leak":
        os._exit(0)               # no atexit: the server must see EOF and still go
""")


def _child(tmp_path, how: str, end: str = "exit"):
    env = child_env(tmp_path / "runs")
    proc = subprocess.Popen([sys.executable, "-c", CHILD, how, end], env=env, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line, f"the child lab did not start (rc {proc.wait()})"
    return proc, env, json.loads(line)


def _gone(env, made) -> list:
    """What of `made` (and of the child's marked processes) is still running."""
    left = [p for p in [made["server"], made["zygote"], *made["agents"]] if pid_alive(p)]
    return left + marked_processes(env)


@pytest.mark.parametrize("how,end", [("main", "sigkill"), ("main", "leak"), ("thread", "sigkill")])
def test_the_server_and_everything_under_it_go_with_its_process(tmp_path, how, end):
    """SIGKILL leaves no atexit and no finally; an os._exit leaves the lab unstopped: PDEATHSIG
    and EOF on its control socket end the server (EOF alone when a thread started it), EOF on
    the zygote's stdin ends the lab's agents."""
    proc, env, made = _child(tmp_path, how, end)
    try:
        assert _ppid(made["server"]) == proc.pid and _ppid(made["zygote"]) == made["server"]
        if end == "sigkill":
            proc.kill()
        else:
            proc.stdin.close()
        proc.wait(30)
        wait_until(lambda: not _gone(env, made), 20, what="the child's server, zygote and agents to end")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    # the run directory of a killed lab stays (the cleanup command's job); only by exact path
    for run in (tmp_path / "runs").glob("ipmp-lab-*"):
        subprocess.run([sys.executable, "-m", "rtsock_emul.lab.cleanup", str(run)], capture_output=True)


def test_a_server_started_from_a_thread_outlives_the_thread(tmp_path):
    """PR_SET_PDEATHSIG fires when the starting *thread* ends: a server started from a
    thread must rely on EOF alone, and serve the next lab of the process."""
    proc, env, made = _child(tmp_path, "thread")
    try:
        assert made["first"] == made["server"] and _ppid(made["zygote"]) == made["server"]
    finally:
        proc.stdin.close()
        assert proc.wait(30) == 0
    assert _gone(env, made) == []              # a normal exit waits for the server


def test_a_forked_copy_of_the_process_does_not_share_its_server(tmp_path):
    proc, env, made = _child(tmp_path, "fork")
    try:
        fork_server, fork_zygote = made["fork"]
        assert fork_server != made["server"]
        assert made["zygote"] != fork_zygote
    finally:
        proc.stdin.close()
        assert proc.wait(30) == 0
    assert _gone(env, made) == [] and not pid_alive(fork_server)


def test_a_changed_source_file_gets_a_fresh_server(tmp_path):
    """A process that outlives an edit of the agent code (a REPL, a notebook) runs the new code
    in its next lab: the server answers "stale" and the lab starts another (a copy of the
    source tree is edited here, not the checkout)."""
    for part in ("rtsock_emul", "topologies"):
        shutil.copytree(ROOT / part, tmp_path / "tree" / part, symlinks=True)
    script = textwrap.dedent("""\
        import json, os, pathlib, sys
        import rtsock_emul.lab as L
        from rtsock_emul.lab import forkserver
        servers = []
        for n in (1, 2, 3):
            if n == 3:      # the agent's code changes between the second and third lab
                p = pathlib.Path(sys.argv[1]) / "rtsock_emul" / "agent" / "__init__.py"
                p.write_text(p.read_text() + "\\nEDITED = True\\n")
            with L.start("ipmp-pair", mode="sim") as lab:
                servers.append(forkserver.server_pid())
        print(json.dumps(servers))
    """)
    env = dict(child_env(tmp_path / "runs"), PYTHONPATH=str(tmp_path / "tree"))
    res = subprocess.run([sys.executable, "-c", script, str(tmp_path / "tree")], env=env, cwd=tmp_path / "tree",
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    s1, s2, s3 = json.loads(res.stdout)
    assert s1 == s2 != s3
    assert marked_processes(env) == []


def test_a_nested_pytest_session_leaves_the_outer_sessions_server(pytester):
    """A test's in-process pytest session (pytester) used to end the process's server when
    it finished, so the worker's next lab paid a cold one; only the outermost session ends it."""
    lab_api.start("ipmp-pair", mode="sim").stop()
    server = forkserver.server_pid()
    pytester.makepyfile(test_inner="def test_nothing():\n    pass\n")
    result = pytester.runpytest_inprocess("-p", "rtsock_emul.scenario.pytest_plugin", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    assert forkserver.server_pid() == server and pid_alive(server)


IMPORTS = ("from rtsock_emul.lab import forkserver, zygote; zygote.prepare(); import sys; "
           "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pyroute2', 'scapy', 'mininet')))")


def test_the_fork_server_imports_no_pyroute2_scapy_or_mininet():
    """Every agent is forked from the server's imports: the agent speaks rtnetlink itself
    (rtsock_emul/linux/rtnl.py, netlink.py), so pyroute2's ~0.13 s of import CPU is paid
    by no lab, and the children share no pages of it."""
    res = subprocess.run([sys.executable, "-OO", "-c", IMPORTS], cwd=ROOT, env=dict(os.environ, PYTHONPATH=str(ROOT)),
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout == "[]\n"


AFTER_FORK = textwrap.dedent("""\
    import rtsock_emul.lab as lab_api
    with lab_api.start("ipmp-pair", mode="sim") as lab:
        lab.admin_ok("h1", "ipadm show-if")
        log = (lab.run_dir / "zygote.log").read_text()     # the zygote's and its children's stderr
    print(sorted({line.split("'")[1] for line in log.splitlines() if line.startswith("import '")}))
""")


def test_the_zygote_and_the_agents_it_forks_import_nothing_of_their_own(tmp_path):
    """Python's verbose mode names every import: the zygote, an agent process it forked (one
    host a process) and a command they served all use what the fork server imported."""
    env = dict(child_env(tmp_path / "runs"), PYTHONVERBOSE="1", RTSOCK_LAB_HOSTS_PER_PROCESS="1")
    res = subprocess.run([sys.executable, "-c", AFTER_FORK], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout == "[]\n"
    assert marked_processes(env) == []
