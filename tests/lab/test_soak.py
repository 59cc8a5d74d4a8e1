"""A short soak (python -m rtsock_emul.app.soak): random link flaps, loss, addresses, routes,
joins and leaves on a Mininet lab while 50 subscribers read; the streams pass the rule
oracle, model and Linux agree, the agents' fds and sockets are back at their baseline."""
import json
import subprocess
import sys

import pytest

from rtsock_emul.lab.leftovers import child_env, leftovers, run_ids

pytestmark = [pytest.mark.root("Mininet labs: network namespaces, veths"), pytest.mark.timeout(240)]


def test_a_200_step_soak_passes_and_leaves_nothing(tmp_path):
    """200 changes: as many as 20 seconds of soak made on 2 busy cores (130-220, by the load).
    A count with a seed makes the same changes on every run, and cheaper steps cost less CPU,
    not more steps."""
    env = child_env(tmp_path / "runs")
    res = subprocess.run([sys.executable, "-m", "rtsock_emul.app.soak", "--steps", "200", "--seed", "1"],
                         env=env, capture_output=True, text=True, timeout=200)
    summary = json.loads(res.stdout)
    text = json.dumps(summary, indent=1) + res.stderr[-2000:]
    assert summary["subscribers"] == 50 and summary["steps"] == 200 and summary["messages"] > 0
    assert {"link", "loss", "run-addr", "run-route", "run-join"} <= set(summary["step_kinds"]), summary
    assert summary["state_mismatches"] == [] and summary["resource_growth"] == [], text
    assert summary["resources_before"]["h1"]["sockets"] == summary["resources_after"]["h1"]["sockets"]
    assert leftovers(env, run_ids(tmp_path / "runs")) == []
    assert summary["violation_counts"] == {}, text
    assert res.returncode == 0 and summary["passed"], text
