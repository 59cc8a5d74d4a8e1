"""The lab in sim mode: the same interface, agents from the zygote, no root."""
import os
import re
import shutil

import pytest

import rtsock_emul.lab as lab_api
from rtsock_emul.lab import LabError
from rtsock_emul.lab.runtime import host_config
from rtsock_emul.lab.topology import load

from .helpers import pid_alive


@pytest.fixture
def sim_lab():
    lab = lab_api.start("ipmp-triple", mode="sim")
    yield lab
    lab.stop()


def test_sim_lab_agents_ready_and_reachable(sim_lab):
    assert sim_lab.hosts == ["h1", "h2", "h3"]
    pids = sim_lab.agent_pids()
    assert set(pids) == {"h1", "h2", "h3"} and all(pid_alive(p) for p in pids.values())
    rc, out, err = sim_lab.admin("h1", "sim show")
    assert rc == 0, err
    assert all(name in out for name in ("net0", "net1", "net2"))


def test_sim_link_goes_through_the_sim_verbs(sim_lab):
    sim_lab.link("h1", "net1", False)
    out = sim_lab.admin_ok("h1", "sim show")
    line = next(line for line in out.splitlines() if "net1" in line)
    assert "down" in line


def test_sim_mode_refuses_real_traffic(sim_lab):
    with pytest.raises(LabError, match="needs mininet mode"):
        sim_lab.ping("h1", "192.0.2.1", 1, 0.2)
    with pytest.raises(LabError, match="needs mininet mode"):
        sim_lab.delay("h1", "net0", 10)
    with pytest.raises(LabError, match="no interface net7"):
        sim_lab.link("h1", "net7", False)


def test_stop_ends_agents_and_removes_the_run_dir():
    lab = lab_api.start("ipmp-pair", mode="sim")
    pids = list(lab.agent_pids().values()) + [lab.zygote.proc.pid]
    run_dir = lab.run_dir
    assert lab.stop() == []
    assert not any(pid_alive(p) for p in pids)
    assert not run_dir.exists()
    assert lab.stop() == []                 # idempotent


def test_sim_targets_are_the_other_hosts_on_the_switch():
    topo = load("ipmp-triple")
    cfg = host_config(topo, topo.hosts["h1"], {"mpathd": {"failure_detection_time": 1000}}, sim=True)
    assert cfg["interfaces"][0]["targets"] == ["192.0.2.1", "2001:db8::1", "192.0.2.2", "2001:db8::2"]
    assert cfg["mpathd"] == {"failure_detection_time": 1000} and cfg["host"] == "h1"


def test_a_failing_agent_names_its_host_and_keeps_its_log():
    with pytest.raises(LabError) as info:
        lab_api.start("ipmp-pair", mode="sim", config={"dad_profile": "bogus"})
    text = str(info.value)
    log = re.search(r"see (/\S+/ipmp-lab-[0-9a-f]{4})/(h[12])\.log", text)
    try:
        assert log, text
        assert f"agent of {log.group(2)} exited" in text and "dad_profile" in text
        assert os.path.exists(f"{log.group(1)}/{log.group(2)}.log")
    finally:
        if log:
            shutil.rmtree(log.group(1), ignore_errors=True)


def test_unknown_mode_is_refused():
    with pytest.raises(LabError, match="use one of mininet, sim"):
        lab_api.start("ipmp-pair", mode="docker")


def test_a_lab_with_mpathd_false_runs_no_in_mpathd(tmp_path, monkeypatch):
    """`config={"mpathd": False}` (the agent's own switch) used to raise TypeError while
    merging the host's mpathd settings and leave the run directory behind."""
    monkeypatch.setattr("rtsock_emul.lab.runtime.RUN_DIR_BASE", tmp_path)
    with lab_api.start("ipmp-pair", mode="sim", config={"mpathd": False}) as lab:
        assert "in.mpathd disabled by config" in lab.logs()["h1"].read_text()
        rc, _, err = lab.admin("h1", "ipmpstat -g")
        assert rc != 0 and "cannot contact in.mpathd" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("config, what", [
    ({"mpathd": 3}, "config mpathd: 3 must be a mapping or false"),
    ({"switches": True}, "config switches: True must be a mapping"),
    ([1], "config must be a mapping of agent settings, not list"),
])
def test_a_bad_lab_config_is_refused_before_anything_exists(tmp_path, monkeypatch, config, what):
    monkeypatch.setattr("rtsock_emul.lab.runtime.RUN_DIR_BASE", tmp_path)
    with pytest.raises(LabError, match=re.escape(what)):
        lab_api.start("ipmp-pair", mode="sim", config=config)
    assert list(tmp_path.iterdir()) == []


def test_agent_keeps_ipadm_persistent_store_between_command_lines(sim_lab):
    """The agent's context holds ipadm's store: what create-ip/create-addr stored without
    -t shows in the PERSISTENT columns of later command lines (docs/commands.md)."""
    sim_lab.admin_ok("h1", "ipadm create-ip net2")
    sim_lab.admin_ok("h1", "ipadm create-addr -T static -a 198.51.100.9/24 net2/v4")
    assert re.search(r"^net2 +\S+ +\S+ +-46$", sim_lab.admin_ok("h1", "ipadm show-if net2"), re.M)
    out = sim_lab.admin_ok("h1", "ipadm show-addr -p -o addrobj,persistent net2/v4")
    assert out == "net2/v4:U--\n"


@pytest.mark.root("running a verb as another user (setuid)")
def test_R9_admin_as_a_user_runs_as_that_uid():
    """lab.admin(user=) reaches the agent as that uid (it reads SO_PEERCRED), both
    for an agent verb and for `route`, a routing-socket client: nobody is refused."""
    lab = lab_api.start("ipmp-pair", mode="sim")
    try:
        assert lab.admin("h1", "ipadm create-ipmp ipmp7", user="nobody") == (
            1, "", "ipadm: insufficient privileges\n")
        try:
            rc, out, _ = lab.admin("h1", "route add 198.18.9.0/24 192.0.2.1", user="nobody")
        except LabError as exc:
            if "not readable by that user" not in str(exc):
                raise
            pytest.skip(f"the agent verb as nobody passed; `route` as nobody cannot run here: {exc}")
        assert (rc, out) == (1, "add net 198.18.9.0/24: gateway 192.0.2.1: insufficient privileges\n")
        rc, out, _ = lab.admin("h1", "route add 198.18.9.0/24 192.0.2.1")
        assert "insufficient privileges" not in out          # root gets past R9
        assert lab.admin("h1", "ipadm create-ipmp ipmp7")[0] == 0
    finally:
        assert lab.stop() == []


def test_R28_route_through_the_lab_is_a_process_of_its_own(sim_lab):
    """`route` through lab.admin is a routing-socket client in a process of its own, as
    route(8) is: the RTM_ADD a subscriber reads carries its pid (R28), neither the lab's
    nor the fork server's, and a new one for the next command; its output, exit status
    (the illumos errno) and stderr come back."""
    from rtsock_emul.lab import forkserver
    from rtsock_emul.wire import constants as C
    with sim_lab.open_socket("h3") as sub:
        pids = []
        for dst in ("198.18.1.0/24", "198.18.2.0/24"):
            rc, out, err = sim_lab.admin("h3", f"route add {dst} 192.0.2.1")
            assert (rc, out, err) == (0, f"add net {dst}: gateway 192.0.2.1\n", "")
            msg = next(m for m in iter(lambda: sub.read_msg(timeout=5), None) if m.type == C.RTM_ADD)
            pids.append(msg.rtm_pid)
    assert len(set(pids)) == 2 and not {os.getpid(), forkserver.server_pid(), 0} & set(pids), pids
    rc, out, err = sim_lab.admin("h3", "route add 198.18.1.0/24 192.0.2.1")
    assert (rc, out) == (C.ILLUMOS_ERRNO["EEXIST"], "add net 198.18.1.0/24: gateway 192.0.2.1: entry exists\n")
    rc, out, err = sim_lab.admin("h3", "route frob")
    assert rc != 0 and out == "" and "frob" in err
