"""The lab-scale benchmark still runs (2 hosts, once): bench/ must not rot.

No timing is asserted (benchmarks report PASS/MISS). Asserted: the curve's
documented JSON shape, memory read from every agent process, every group made,
and nothing of either network left in the root namespace.
"""
import json

import pytest

from bench import lab_start

CURVE_KEYS = {"hosts", "ours_s", "bare_s", "ratio", "ours_first_s", "first_ratio", "pss_per_host_mb", "uss_per_host_mb",
              "agent_processes", "network_s", "agents_s", "groups_s", "ours_runs_s", "bare_runs_s",
              "loadavg_1min"}


@pytest.mark.root("Mininet labs: network namespaces, veths")
def test_lab_start_benchmark_runs_tiny_and_writes_the_curve(tmp_path):
    result = lab_start.run(repeats=1, out_dir=tmp_path, sizes=(2,))
    written = json.loads((tmp_path / "lab_start.json").read_text())
    assert written["rows"] == result["rows"]
    (point,) = written["details"]["curve"]
    assert CURVE_KEYS <= set(point)
    assert point["hosts"] == 2 and point["agent_processes"] == 1      # 2 hosts: the zygote serves both
    assert point["ours_s"] >= point["network_s"] + point["agents_s"] > 0 and point["bare_s"] > 0
    assert 0 < point["uss_per_host_mb"] <= point["pss_per_host_mb"]
    assert set(point["memory"]) == {"zygote", "fork server"}


def test_topology_gives_every_host_two_nics_on_one_switch():
    topo = lab_start.topology(3)
    assert sorted(topo["hosts"]) == ["h1", "h2", "h3"]
    assert all(set(h["interfaces"]) == {"net0", "net1"} for h in topo["hosts"].values())
