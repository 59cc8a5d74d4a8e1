"""The Mininet CLI of a lab: `link` cuts only the far end, and exit cleans up."""
import subprocess
import sys

import pytest

from rtsock_emul.lab import naming

from .helpers import root_links

pytestmark = [pytest.mark.root("Mininet labs: network namespaces, veths"), pytest.mark.timeout(60)]


def test_cli_link_cuts_the_far_end_only_and_exit_cleans_up():
    commands = "\n".join([
        "h1 echo AGENT=$RTSOCK_AGENT",
        "link s1 h1 down",                  # Mininet's form: every h1 link on s1
        "h1 ip -o link show dev net1",
        "link h1:net1 up",
        "h1 ip -o link show dev net1",
        "link nowhere",
        "exit", ""])
    res = subprocess.run([sys.executable, "-m", "rtsock_emul.app.cli", "ipmp-pair"], input=commands,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    out = res.stdout + res.stderr          # Mininet prints command output on stderr
    run_id = out.split("; run ")[1].split(",")[0]
    assert f"AGENT=/tmp/ipmp-lab-{run_id}/h1.sock" in out
    net1 = [line for line in out.splitlines() if "net1@" in line]
    assert "NO-CARRIER" in net1[0] and ",UP" in net1[0]     # host end still administratively up
    assert "LOWER_UP" in net1[1]
    assert "usage: link HOST:IF up|down" in out
    assert not any(n.startswith(naming.prefix(run_id)) for n in root_links())


def test_cli_scenario_until_plays_the_steps_on_the_scenario_topology():
    """--scenario FILE --until N: the lab is the scenario's (topology, mpathd settings),
    its setup and steps 1..N have run, and the CLI is left open on it."""
    scenario = "scenarios/failure-repair/member-failure-aware-only.scenario.yaml"
    res = subprocess.run([sys.executable, "-m", "rtsock_emul.app.cli", "--scenario", scenario, "--until", "1"],
                         input="h1 rtsock ipmpstat -g\nexit\n", capture_output=True, text=True, timeout=60,
                         cwd=str(__import__("pathlib").Path(__file__).resolve().parents[2]))
    assert res.returncode == 0, res.stderr
    out = res.stdout + res.stderr
    assert "ipmp0       ipmp0       degraded" in out, out      # step 1 cut net0 (R120)
    assert "net1 [net0]" in out, out                            # R124: the failed member bracketed
