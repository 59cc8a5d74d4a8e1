"""--keep-lab and --cli-on-error: the lab stays up for a person,
then is stopped; nothing is left behind."""
import re
import sys

import pytest

from rtsock_emul.lab import naming

SIM_GET = """
name: kept
topology: ipmp-pair
subscribers:
  s: {host: h2}
steps:
  - send: {by: s, msg: {type: RTM_GET, dst: 192.0.2.1, seq: 5}, errno: 0}
"""

FAILING = """
name: fails at step 2
topology: ipmp-pair
setup:
  - h1: ipadm create-ip net0
  - h1: ipadm create-ip net1
  - h1: ipadm create-ipmp -i net0,net1 ipmp0
subscribers:
  aware: {host: h1, rt_aware: RTAW_UNDER_IPMP}
steps:
  - link: h1:net0 down
  - expect:
      aware: [RTM_IFINFO net1 +FAILED]
    within: 1s
"""


def run(pytester, stdin, *args):
    return pytester.run(sys.executable, "-m", "pytest", "-p", "rtsock_emul.scenario.pytest_plugin",
                        "-p", "no:cacheprovider", "-s", *args, stdin=stdin.encode(), timeout=120)


def lab_links():
    import subprocess
    out = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    return out


def test_keep_lab_holds_a_sim_lab_until_enter(pytester):
    pytester.makefile(".scenario.yaml", kept=SIM_GET)
    result = run(pytester, "\n", "--rtsock-mode=sim", "--keep-lab")
    result.assert_outcomes(passed=1)
    out = result.stdout.str()
    assert "--keep-lab: scenario 'kept' left lab" in out and "h1: RTSOCK_AGENT=" in out
    assert "press Enter to stop it" in out


@pytest.mark.root("a Mininet lab")
def test_keep_lab_opens_the_lab_cli_on_mininet(pytester):
    pytester.makefile(".scenario.yaml", kept=SIM_GET)
    result = run(pytester, "h2 rtsock ipmpstat -g\nexit\n", "--rtsock-mode=mininet", "--keep-lab")
    result.assert_outcomes(passed=1)
    out = result.stdout.str() + result.stderr.str()
    run_id = out.split("left lab ")[1].split(" ")[0]
    assert "`exit` stops it" in out
    assert naming.prefix(run_id) not in lab_links()


@pytest.mark.root("a Mininet lab")
def test_cli_on_error_opens_the_cli_at_the_failing_step(pytester):
    pytester.makefile(".scenario.yaml", fails=FAILING)
    result = run(pytester, "h1 rtsock ipmpstat -i\nexit\n", "--rtsock-mode=mininet", "--cli-on-error")
    result.assert_outcomes(failed=1)
    out = result.stdout.str() + result.stderr.str()
    assert "--cli-on-error: the lab is as the failing step left it" in out
    # the CLI ran on the lab as step 1 left it: net0's carrier cut, net1 still fine
    assert re.search(r"net0\s+no\s+ipmp0\s+\S+\s+down\s+\S+\s+failed", out), out
    assert re.search(r"net1\s+yes\s+ipmp0\s+\S+\s+up\s+\S+\s+ok", out), out
