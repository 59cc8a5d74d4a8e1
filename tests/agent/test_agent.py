"""The agent process: READY, socket files, signals, config errors, forked start,
admin channel and the sim platform's verbs (docs/internals.md "Agent", "Platforms")."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys

import pytest

from rtsock_emul.agent import run_agent
from rtsock_emul.util.wait import wait_until
from rtsock_emul.wire import constants as C

from .agents import SIM_CONFIG, AgentProcess, admin_call, drain, shared_dir, wait_addresses_up


@pytest.fixture
def sdir():
    d = shared_dir()
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_ready_and_sigterm_removes_socket_files():
    a = AgentProcess({"mpathd": False})
    try:
        assert os.path.exists(a.path) and os.path.exists(a.path + ".admin")
        assert oct(os.stat(a.path).st_mode & 0o777) == "0o666"
        a.proc.send_signal(signal.SIGTERM)
        assert a.proc.wait(10) == 0
        assert not os.path.exists(a.path) and not os.path.exists(a.path + ".admin")
    finally:
        a.stop()


def test_second_agent_on_a_live_path_is_refused_and_stale_files_are_replaced(agent, sdir):
    run = subprocess.run([sys.executable, "-m", "rtsock_emul.agent", "--socket", agent.path,
                          "--platform", "sim"], capture_output=True, text=True, timeout=20)
    assert run.returncode == 2 and "already listening" in run.stderr
    d = sdir
    stale = os.path.join(d, "stale.sock")
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    s.bind(stale)
    s.close()  # a socket file nobody listens on
    pid = os.fork()
    if pid == 0:
        os._exit(run_agent(stale, "sim", {"mpathd": False}, os.path.join(d, "log")))
    try:
        wait_until(lambda: admin_call(stale, ["sim", "show"])[0] == 0, 10, what="agent on a stale path")
    finally:
        os.kill(pid, signal.SIGTERM)
        assert os.waitpid(pid, 0)[1] == 0


@pytest.mark.parametrize("config, text", [
    ({"dad_profile": "slow"}, "dad_profile"), ({"tunables": {"no_such": 1}}, "no_such"),
    ({"interfaces": [{"mac": "02:00:00:00:00:01"}]}, "needs a name")])
def test_bad_config_is_refused_with_the_key(config, text, sdir):
    d = sdir
    run = subprocess.run([sys.executable, "-m", "rtsock_emul.agent", "--socket", os.path.join(d, "a"),
                          "--platform", "sim", "--config", json.dumps(config)],
                         capture_output=True, text=True, timeout=20)
    assert run.returncode == 2 and text in run.stderr, run.stderr


def test_run_agent_in_a_forked_child_reports_ready_on_the_fd(sdir):
    d = sdir
    path = os.path.join(d, "zyg.sock")
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        os._exit(run_agent(path, "sim", SIM_CONFIG, os.path.join(d, "log"), ready_fd=w))
    os.close(w)
    try:
        with os.fdopen(r) as ready:
            assert ready.readline() == f"READY {path}\n"
        wait_addresses_up(path)
    finally:
        os.kill(pid, signal.SIGTERM)
        assert os.waitpid(pid, 0)[1] == 0
    assert not os.path.exists(path)


def test_admin_channel_bad_requests_and_several_per_connection(agent):
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.connect(agent.path + ".admin")
        s.send(b"not json")
        assert json.loads(s.recv(65536))["rc"] == 2
        s.send(json.dumps({"argv": "sim show"}).encode())
        assert json.loads(s.recv(65536))["rc"] == 2
        s.send(json.dumps({"argv": ["sim", "show"]}).encode())
        reply = json.loads(s.recv(65536))
        assert reply["rc"] == 0 and "net0 link up" in reply["out"]


def test_bad_hello_does_not_disturb_others(agent):
    with agent.socket() as good:
        raw = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        raw.connect(agent.path)
        raw.send(b"hello without fd")
        assert raw.recv(10) == b""  # closed by the agent
        raw.close()
        assert good.getsockopt(C.SOL_SOCKET, C.SO_USELOOPBACK) == 0x40


def test_sim_verbs(agent):
    assert agent.admin("sim", "link", "nope", "down")[0] == 2
    assert agent.admin("sim", "loss", "net0", "150")[0] == 2
    assert agent.admin("sim", "frobnicate")[0] == 2
    assert agent.admin("linux", "show")[0] == 2
    assert agent.admin("sim", "loss", "net0", "30%")[0] == 0
    assert "loss 30%" in agent.admin("sim", "show")[1]
    assert agent.admin("sim", "loss", "net0", "0")[0] == 0


def test_sim_link_down_up_reports_running(agent):
    """R63/R64 through the sim link verb: RUNNING cleared, then set again."""
    with agent.socket(C.AF_INET) as s:
        agent.admin("sim", "link", "net1", "down")
        down = [m for m in drain(s) if m.type == C.RTM_IFINFO]
        agent.admin("sim", "link", "net1", "up")
        wait_addresses_up(agent.path)
        up = [m for m in drain(s) if m.type == C.RTM_IFINFO]
    assert down and not down[0].ifm_flags & C.IFF_RUNNING
    assert up and up[-1].ifm_flags & C.IFF_RUNNING


def test_sim_conflict_makes_dad_fail(agent):
    """R104 through the sim platform: another owner answers the DAD probe; the
    address becomes DUPLICATE and goes down without a NEWADDR first."""
    agent.admin("sim", "conflict", "net1", "203.0.113.99")
    try:
        with agent.socket(C.AF_INET) as s:
            rc, out, err = agent.admin("ifconfig", "net1", "addif", "203.0.113.99/24", "up")
            if rc == 127:
                pytest.skip("admin verbs (ifconfig) not available")
            assert rc == 0, err
            msgs = drain(s, quiet=0.5)
        assert not any(m.type == C.RTM_NEWADDR for m in msgs)
        assert [C.RTM_NAMES[m.type] for m in msgs if m.type != C.RTM_CHGADDR][-2:] == ["RTM_DELETE", "RTM_DELADDR"]
        assert "DUPLICATE" in agent.admin("ifconfig", "net1:1")[1]
    finally:
        agent.admin("sim", "noconflict", "net1", "203.0.113.99")
