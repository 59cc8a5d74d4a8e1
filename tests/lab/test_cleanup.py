"""The cleanup registry removes exactly what a run recorded, by pid and name."""
import json
import os
import subprocess
import sys

import pytest

from rtsock_emul.lab import naming
from rtsock_emul.lab.cleanup import REGISTRY, Registry, proc_starttime
from rtsock_emul.util.wait import wait_until

from .helpers import pid_alive, root_links


def idle_process(**kw):
    """A process that waits on its stdin forever (a stand-in for an agent)."""
    return subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"],
                            stdin=subprocess.PIPE, **kw)


def test_registered_process_is_ended_and_file_kept_in_sync(tmp_path):
    reg = Registry(tmp_path)
    proc = idle_process()
    reg.process(proc.pid, "agent", host="h1")
    saved = json.loads((tmp_path / REGISTRY).read_text())["items"]
    assert saved[0]["pid"] == proc.pid and saved[0]["starttime"] == proc_starttime(proc.pid)
    assert reg.teardown(remove_dir=False) == []
    assert proc.wait(5) is not None
    assert json.loads((tmp_path / REGISTRY).read_text())["items"] == []
    assert reg.teardown(remove_dir=False) == []        # idempotent


def test_a_reused_pid_is_not_killed(tmp_path):
    """The start time recorded with the pid must match: another process with that pid is left alone."""
    proc = idle_process()
    try:
        reg = Registry(tmp_path)
        reg.add("agent", pid=proc.pid, starttime=proc_starttime(proc.pid) - 1)
        reg.teardown(remove_dir=False)
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.wait()


def test_cleanup_command_finishes_a_crashed_run(tmp_path):
    run_dir = tmp_path / "ipmp-lab-dead"
    run_dir.mkdir()
    (run_dir / "h1.log").write_text("log")
    orphan = idle_process(start_new_session=True)
    Registry(run_dir).process(orphan.pid, "agent", host="h1")
    res = subprocess.run([sys.executable, "-m", "rtsock_emul.lab.cleanup", str(run_dir)],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert orphan.wait(5) is not None
    assert not run_dir.exists()


def test_cleanup_command_on_a_non_run_dir_says_so(tmp_path):
    res = subprocess.run([sys.executable, "-m", "rtsock_emul.lab.cleanup", str(tmp_path)],
                         capture_output=True, text=True)
    assert res.returncode == 1 and "no registry here" in res.stderr


@pytest.mark.root("Mininet labs: network namespaces, veths")
def test_registered_links_are_deleted_by_name_only(tmp_path):
    rid = naming.new_run_id()
    ours, other = naming.port_name(rid, "h1", "net0"), naming.port_name(rid, "h1", "net1")
    subprocess.run(["ip", "link", "add", ours, "type", "veth", "peer", "name", other], check=True)
    try:
        reg = Registry(tmp_path)
        reg.add("link", name=ours)
        assert reg.leftovers() == [f"link {ours}"]
        assert reg.teardown(remove_dir=False) == []
        assert not {ours, other} & root_links()          # the peer goes with its veth
        assert reg.teardown(remove_dir=False) == []
    finally:
        subprocess.run(["ip", "link", "del", ours], capture_output=True)


def test_pid_alive_helper_sees_zombies_as_dead():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    wait_until(lambda: not pid_alive(proc.pid), 5, what="child to exit")
    proc.wait()
    assert not os.path.exists(f"/proc/{proc.pid}") or not pid_alive(proc.pid)


def test_the_cleanup_command_runs_without_a_runpy_warning(tmp_path):
    """`python -m rtsock_emul.lab.cleanup DIR`, the documented recovery, says only what it found:
    the lab package does not import the cleanup module before runpy runs it."""
    res = subprocess.run([sys.executable, "-m", "rtsock_emul.lab.cleanup", str(tmp_path / "gone")],
                         capture_output=True, text=True, timeout=60)
    assert "RuntimeWarning" not in res.stderr, res.stderr
    assert "no registry here" in res.stdout + res.stderr
