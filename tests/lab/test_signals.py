"""Signals that end a run (CI cancel, `timeout`, a closed terminal, Ctrl-C) tear down every
lab and leave nothing: checked on a child pytest session and on a child lab being started."""
import signal
import subprocess
import sys
import textwrap

import pytest

from rtsock_emul.lab.leftovers import child_env, leftovers, run_ids
from rtsock_emul.util.wait import wait_until

from .helpers import sigint_as_at_a_terminal

pytestmark = [pytest.mark.root("Mininet labs: network namespaces, veths"), pytest.mark.timeout(180)]

# a session of three tests: the first holds a Mininet lab when the signal comes
SESSION = textwrap.dedent("""\
    import pathlib, signal
    import rtsock_emul.lab as L

    HERE = pathlib.Path(__file__).parent

    def test_holds_a_lab():
        with L.start("ipmp-pair") as lab:
            (HERE / "started").write_text(lab.run_id)
            signal.pause()          # the signal's handler raises out of here

    def test_second():
        (HERE / "second-ran").write_text("")

    def test_third():
        (HERE / "third-ran").write_text("")
""")


def _kill(proc):
    """SIGKILL and reap the child if it is still running (a failed wait leaves none behind)."""
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def _wait_exit(proc, timeout=60):
    try:
        return proc.wait(timeout)
    finally:
        _kill(proc)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_ends_the_pytest_session_after_tearing_down_its_lab(tmp_path, sig):
    """SIGTERM/SIGHUP used to fail one test (SystemExit) or kill the session outright;
    now each ends the session like Ctrl-C: no further test runs, exit 128+signal."""
    (tmp_path / "test_session.py").write_text(SESSION)
    env = child_env(tmp_path / "runs")
    # --confcutdir: with `-c /dev/null` pytest would otherwise list every entry of /tmp as it
    # walks down to tmp_path (~0.4 s of CPU); no hypothesis plugin (-c skips pytest.ini's addopts)
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "rtsock_emul.scenario.pytest_plugin",
                             "-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-c", "/dev/null",
                             "--rootdir", str(tmp_path), "--confcutdir", str(tmp_path),
                             "-q", str(tmp_path / "test_session.py")],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=sigint_as_at_a_terminal)
    try:
        rid = wait_until(lambda: (tmp_path / "started").exists() and (tmp_path / "started").read_text(),
                         90, what="the child session's lab to start")
        proc.send_signal(sig)
        rc = _wait_exit(proc)
    finally:
        _kill(proc)
    out = proc.stdout.read()
    assert rc == (2 if sig == signal.SIGINT else 128 + sig), out    # pytest's INTERRUPTED for Ctrl-C
    assert not (tmp_path / "second-ran").exists() and not (tmp_path / "third-ran").exists(), out
    assert "failed" not in out.splitlines()[-1], out
    assert leftovers(env, {rid}) == [], out


# a lab started in a child that holds right after `trigger` appears in its run dir (at the
# next audited operation, or in the wait for READY: agents write their logs while the lab
# waits there) and says so; the parent's signal then lands inside the start, however fast
HOLDING_START = textwrap.dedent("""\
    import os, select, signal, sys, threading
    import rtsock_emul.lab as L
    from rtsock_emul.lab import agents
    from rtsock_emul.util.wait import wait_until

    BASE = os.environ["RTSOCK_LAB_DIR"]
    state = {"held": False, "busy": False, "trigger": None}

    def appeared():
        # checked at every audited event: one stat once the lab's run directory is known
        # (a glob of BASE/ipmp-lab-*/TRIGGER each time cost ~0.1 s of CPU per start)
        if state["trigger"] is None:
            runs = [n for n in os.listdir(BASE) if n.startswith("ipmp-lab-")]
            if not runs:
                return False
            state["trigger"] = os.path.join(BASE, runs[0], sys.argv[1])
        return os.path.exists(state["trigger"])

    def hold():
        state["held"] = True
        # the signal may reach another thread of ours: its wakeup byte ends the select,
        # then the handler raises out of here in the main thread
        woken, wake = os.pipe()
        os.set_blocking(wake, False)
        signal.set_wakeup_fd(wake)
        print("holding", flush=True)
        select.select([woken], [], [])
        raise AssertionError("woken, and no signal handler raised")

    def on_event(event, args):
        if state["held"] or state["busy"] or threading.current_thread() is not threading.main_thread():
            return
        state["busy"] = True                # os.listdir is audited too
        try:
            found = appeared()
        finally:
            state["busy"] = False
        # not where the lab blocks stop signals (they would wait for its end): at a later event
        if found and not signal.pthread_sigmask(signal.SIG_BLOCK, []) & {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}:
            hold()

    def wait_ready(self, *args, **kwargs):
        if not state["held"]:
            wait_until(appeared, 60, interval=0.002, what=sys.argv[1])
            hold()

    sys.addaudithook(on_event)
    agents.Zygote.wait_ready = wait_ready
    L.start("ipmp-triple").stop()
    print("started and stopped", flush=True)
""")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
@pytest.mark.parametrize("trigger", ["registry.json", "zygote.log", "h1.log", "h3.log"])
def test_a_signal_during_lab_start_leaves_no_run_directory(tmp_path, sig, trigger):
    """Ctrl-C while the lab starts used to keep /tmp/ipmp-lab-XXXX (logs, empty registry)
    and say nothing; now the interrupted start removes everything it made."""
    env = child_env(tmp_path / "runs")
    base = tmp_path / "runs"
    proc = subprocess.Popen([sys.executable, "-c", HOLDING_START, trigger], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=sigint_as_at_a_terminal)
    try:
        line = proc.stdout.readline()       # the child holds inside the start, or it ended
        if line != "holding\n":
            pytest.fail(f"the child never held at {trigger}: {line!r} {proc.communicate()}")
        seen = run_ids(base)
        proc.send_signal(sig)
        rc = _wait_exit(proc)
    finally:
        _kill(proc)
    out, err = proc.communicate()
    assert rc != 0 and "started and stopped" not in out, (rc, out, err)
    assert seen and leftovers(env, seen) == [], err
