"""Smoke runs of the failover benchmarks and their plots: the scripts cannot rot.

No timing is asserted (benchmarks report PASS/MISS; tests never judge speed).
What is asserted holds at any speed: every stage of a failover was seen in
its order of cause (the ARP left before it reached h2, the address move came
before the peer's ARP update, the ARP before the reply that ended the outage), the peer's pings
came back (R88: the data address moved and a gratuitous ARP pointed h2 at it),
the anchor says what it is, and each chart was drawn from the JSON written.
"""
import json
import os

import pytest

from bench import failover_outage, miimon, plots, probe_detection

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: Mininet hosts, veths, netlink cuts")
pytestmark = [needs_root, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    failover_outage.run(cuts=1, out_dir=out)
    miimon.run(cuts=1, out_dir=out)
    probe_detection.run(fdts=(350,), cycles_per_fdt=1, out_dir=out)
    return out


def test_R88_failover_outage_traces_every_stage_in_causal_order(results):
    d = json.loads((results / "failover_outage.json").read_text())["details"]
    (s,) = d["samples"]
    st = s["stages_ms"]
    assert s["recovered"] and s["received"] >= failover_outage.LEAD
    assert all(st[name] is not None for name in ("carrier", "failed", "addr_add", "addr_del",
                                                 "garp_sent", "garp_at_peer", "peer_arp", "first_reply")), st
    # frames carry kernel stamps (exact); netlink stages carry one thread's wake-up times,
    # which keep the order of what that thread read: compare like with like
    assert st["garp_sent"] <= st["garp_at_peer"]
    assert st["addr_add"] <= st["peer_arp"]
    if s["missed"]:                     # the reply that ended the outage needed the new MAC
        assert st["garp_at_peer"] <= st["first_reply"]
    assert 0 <= s["phase_s"] <= failover_outage.INTERVAL


def test_miimon_anchor_labels_what_it_ran_and_saw_the_failover(results):
    d = json.loads((results / "miimon.json").read_text())["details"]
    assert d["kind"] in ("bond", "stand-in")
    assert ("stand-in" in d["label"]) == (d["kind"] == "stand-in")
    (s,) = d["samples"]
    assert s["recovered"] and s["detect_s"] is not None and s["detect_s"] >= 0


def test_R112_R113_probe_detection_fails_and_repairs_against_a_schedule(results):
    d = json.loads((results / "probe_detection.json").read_text())["details"]["fdt"]["350"]
    (s,) = d["samples"]
    assert s["detect_s"] > 0 and s["repair_s"] > 0
    step = probe_detection.probe_interval(350)
    # the schedule itself: 5 lost probes then one tick; 10 good probes
    assert 5 * step < d["schedule"]["detect_mean"] < 7 * step
    assert 8.5 * step < d["schedule"]["repair_mean"] < 10 * step


def test_plots_are_drawn_from_the_results(results, tmp_path):
    written = plots.write_all(results, tmp_path)
    assert {p.name for p in written} == {"detection.png", "outage.png", "stages.png", "probe_schedule.png"}
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in written)


def test_lab_scale_plot_reads_both_result_formats(tmp_path):
    machine = {"cpus": 2, "date": "2026-01-01T00:00:00", "loadavg_1min_at_end": 1.0}
    old = {"benchmark": "lab_start", "machine": machine,
           "details": {"hosts": 32, "lab_median_s": 1.0, "bare_median_s": 0.5, "agent_mb_mean": {"pss": 8.0}}}
    new = {"benchmark": "lab_start", "machine": machine,
           "details": {"curve": [{"hosts": n, "ours_s": n / 30, "bare_s": n / 60, "pss_per_host_mb": 4.0}
                                 for n in (8, 32, 128)]}}
    assert plots.scale_points(old) == [{"hosts": 32, "ours_s": 1.0, "bare_s": 0.5, "pss_per_host_mb": 8.0}]
    assert [p["hosts"] for p in plots.scale_points(new)] == [8, 32, 128]
    assert plots.lab_scale(new, tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"
