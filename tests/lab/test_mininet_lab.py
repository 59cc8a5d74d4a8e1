"""A real Mininet lab: hosts, bridges, agents, carrier and loss faults, exact cleanup."""
import os
import signal
import subprocess
import sys
import textwrap

import pytest

import rtsock_emul.lab as lab_api
from rtsock_emul.lab import LabError, naming
from rtsock_emul.lab.faults import netem_available
from rtsock_emul.util.wait import wait_until
from rtsock_emul.wire.constants import IFF_RUNNING, RTM_IFINFO

from .helpers import pid_alive, root_links, sigint_as_at_a_terminal

pytestmark = [pytest.mark.root("Mininet labs: network namespaces, veths"), pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def lab():
    lab = lab_api.start("ipmp-pair")
    yield lab
    lab.stop()


def ifinfo_for(sock, ifindex, want_running, timeout=2.0):
    """Read until an RTM_IFINFO for ifindex with IFF_RUNNING as wanted; return it."""
    def probe():
        msg = sock.read_msg(timeout)
        if msg.ifm_type == RTM_IFINFO and msg.ifm_index == ifindex and \
                bool(msg.ifm_flags & IFF_RUNNING) == want_running:
            return msg
        return None
    return wait_until(probe, timeout, what=f"RTM_IFINFO index {ifindex} running={want_running}")


def test_agents_ready_and_the_host_shell_knows_its_agent(lab):
    assert all(pid_alive(pid) for pid in lab.agent_pids().values())
    for host in lab.hosts:
        assert lab.net[host].cmd("echo $RTSOCK_AGENT").strip() == lab.agent_path(host)
        assert lab.net[host].cmd("command -v rtsock").strip().endswith("/rtsock")
    # the topology's addresses are on h2's veth before READY
    assert "192.0.2.1/24" in lab.net["h2"].cmd("ip -o addr show dev net0")


def test_lab_names_carry_the_run_prefix(lab):
    ours = {n for n in root_links() if n.startswith(naming.prefix(lab.run_id))}
    assert ours == {naming.bridge_name(lab.run_id, "s1")} | {
        naming.port_name(lab.run_id, h, i) for h, i in [("h1", "net0"), ("h1", "net1"), ("h2", "net0")]}
    assert all(len(n) <= 15 for n in ours)
    assert "net0" in lab.net["h1"].cmd("ip -o link show dev net0")


def test_R63_carrier_loss_clears_RUNNING_on_a_routing_socket(lab):
    """R63: the far end going down makes the agent's kernel clear IFF_RUNNING (RTM_IFINFO)."""
    lab.admin_ok("h1", "ipadm create-ip net0")       # h1 boots with net0 a bare datalink
    ifindex = int(lab.admin_ok("h1", "ifindex net0"))
    with lab.open_socket("h1") as sock:
        try:
            lab.link("h1", "net0", False)
            ifinfo_for(sock, ifindex, want_running=False)
            link = lab.net["h1"].cmd("ip -o link show dev net0")
            assert "NO-CARRIER" in link and ",UP" in link    # host end stays administratively up
        finally:
            lab.link("h1", "net0", True)
        ifinfo_for(sock, ifindex, want_running=True)
    lab.admin_ok("h1", "ipadm delete-ip net0")


def test_loss_100_drops_pings_while_carrier_stays_up(lab):
    h1 = lab.net["h1"]
    h1.cmd("ip addr add 192.0.2.77/24 dev net1")       # outside the agent: a plain Linux address
    try:
        assert lab.ping("h1", "192.0.2.1", 3, 0.05).received == 3
        lab.loss("h1", "net1", 100)
        result = lab.ping("h1", "192.0.2.1", 5, 0.05)
        assert (result.sent, result.received, result.lost) == (5, 0, 5)
        assert "LOWER_UP" in h1.cmd("ip -o link show dev net1")
        lab.loss("h1", "net1", 0)
        assert lab.ping("h1", "192.0.2.1", 3, 0.05).received == 3
    finally:
        lab.loss("h1", "net1", 0)
        h1.cmd("ip addr del 192.0.2.77/24 dev net1")


def test_delay_without_netem_says_why(lab):
    if netem_available():
        pytest.skip("this kernel has netem: delay is supported")
    with pytest.raises(LabError, match="delay needs the netem qdisc"):
        lab.delay("h1", "net0", 50)


def test_admin_ipmpstat_runs_on_the_agent(lab):
    rc, out, err = lab.admin("h1", "ipmpstat -g")
    if rc == 127 and "not available" in err:
        pytest.skip(f"admin verbs not in the agent yet: {err.strip()}")
    assert rc == 0, err


def test_two_labs_at_once_do_not_collide(lab):
    with lab_api.start("ipmp-pair") as other:
        assert other.run_id != lab.run_id
        other.net["h1"].cmd("ip addr add 192.0.2.78/24 dev net0")
        assert other.ping("h1", "192.0.2.1", 2, 0.05).received == 2
        lab.net["h1"].cmd("ip addr add 192.0.2.79/24 dev net0")
        try:
            assert lab.ping("h1", "192.0.2.1", 2, 0.05).received == 2
        finally:
            lab.net["h1"].cmd("ip addr del 192.0.2.79/24 dev net0")
    assert not any(n.startswith(naming.prefix(other.run_id)) for n in root_links())
    assert any(n.startswith(naming.prefix(lab.run_id)) for n in root_links())


def snapshot():
    netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return root_links(), netns


def lab_pids(lab):
    pids = list(lab.agent_pids().values()) + [lab.zygote.proc.pid]
    return pids + [lab.net[h].pid for h in lab.hosts] + [lab.net[s].pid for s in lab.topology.switches]


def test_stop_leaves_no_interface_namespace_or_process():
    """Other runs may come and go meanwhile: look at this run's names and pids only."""
    _, netns_before = snapshot()
    lab = lab_api.start("ipmp-triple")
    pids, run_dir, prefix = lab_pids(lab), lab.run_dir, naming.prefix(lab.run_id)
    assert len({n for n in root_links() if n.startswith(prefix)}) == 6    # 5 veth ends + 1 bridge
    lab.stop()
    links_after, netns_after = snapshot()
    assert {n for n in links_after if n.startswith(prefix)} == set()
    assert netns_after == netns_before
    assert [p for p in pids if pid_alive(p)] == []
    assert not run_dir.exists()


LAB_IN_CHILD = textwrap.dedent("""\
    import sys, rtsock_emul.lab as L
    lab = L.start("ipmp-pair")
    pids = list(lab.agent_pids().values()) + [lab.zygote.proc.pid] + [lab.net[h].pid for h in lab.hosts]
    print(lab.run_id, lab.run_dir, *pids, flush=True)
    sys.stdin.read()
""")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_to_the_lab_process_still_cleans_up(sig):
    child = subprocess.Popen([sys.executable, "-c", LAB_IN_CHILD], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True, preexec_fn=sigint_as_at_a_terminal)
    try:
        run_id, run_dir, *pids = child.stdout.readline().split()
        assert any(n.startswith(naming.prefix(run_id)) for n in root_links())
        child.send_signal(sig)
        child.wait(30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert not any(n.startswith(naming.prefix(run_id)) for n in root_links())
    assert [p for p in map(int, pids) if pid_alive(p)] == []
    assert not os.path.exists(run_dir)
