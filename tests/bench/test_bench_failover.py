"""Smoke runs of the failover benchmarks and their plots: the scripts cannot rot.

No timing is asserted (benchmarks report PASS/MISS; tests never judge speed).
What is asserted holds at any speed: every stage of a failover was seen in
its order of cause (the ARP left before it reached h2, the address move came
before the peer's ARP update, the ARP before the reply that ended the outage), the peer's pings
came back (R88: the data address moved and a gratuitous ARP pointed h2 at it),
the anchor says what it is, and each chart was drawn from the JSON written.
"""
import json

import pytest

from bench import failover_outage, miimon, plots, probe_detection

needs_root = pytest.mark.root("Mininet hosts, veths, netlink cuts")
MACHINE = {"cpus": 2, "date": "2026-01-01T00:00:00", "loadavg_1min_at_end": 1.0}


@needs_root
@pytest.mark.timeout(180)
def test_R88_failover_outage_traces_every_stage_in_causal_order(tmp_path):
    failover_outage.run(cuts=1, out_dir=tmp_path)
    d = json.loads((tmp_path / "failover_outage.json").read_text())["details"]
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


@needs_root
@pytest.mark.timeout(180)
def test_miimon_anchor_labels_what_it_ran_and_saw_the_failover(tmp_path):
    miimon.run(cuts=1, out_dir=tmp_path)
    d = json.loads((tmp_path / "miimon.json").read_text())["details"]
    assert d["kind"] in ("bond", "stand-in")
    assert ("stand-in" in d["label"]) == (d["kind"] == "stand-in")
    (s,) = d["samples"]
    assert s["recovered"] and s["detect_s"] is not None and s["detect_s"] >= 0


@needs_root
@pytest.mark.timeout(180)
def test_R112_R113_probe_detection_fails_and_repairs_against_a_schedule(tmp_path):
    probe_detection.run(fdts=(350,), cycles_per_fdt=1, out_dir=tmp_path)
    d = json.loads((tmp_path / "probe_detection.json").read_text())["details"]["fdt"]["350"]
    (s,) = d["samples"]
    assert s["detect_s"] > 0 and s["repair_s"] > 0
    step = probe_detection.probe_interval(350)
    # the schedule itself: 5 lost probes then one tick; 10 good probes
    assert 5 * step < d["schedule"]["detect_mean"] < 7 * step
    assert 8.5 * step < d["schedule"]["repair_mean"] < 10 * step


def test_R112_a_lost_probe_is_judged_a_full_interval_after_it_was_sent_while_crtt_is_0():
    """mpd_probe.c phyint_inst_timer: an unacked probe is lost once send + crtt has passed
    (the probe interval while the crtt, in whole ms, is 0), the older of the last two
    regardless. On veths the crtt is 0: the 5th lost probe is judged at the first tick a
    full interval after it was sent, or at the second tick after it."""
    ticks = [0.9, 1.6, 2.95, 3.55]              # probe interval 1.0
    assert probe_detection.judged_at(ticks, 0, timeout=1.0) == 2.95    # 1.6 is too soon
    assert probe_detection.judged_at(ticks, 1, timeout=1.0) == 2.95
    assert probe_detection.judged_at(ticks, 1, timeout=0.001) == 2.95
    assert probe_detection.judged_at(ticks, 0, timeout=0.001) == 1.6
    step = probe_detection.probe_interval(1000)
    at_once = probe_detection.schedule(1000, trials=4000, crtt_ms=1)["detect_mean"]
    with_crtt_0 = probe_detection.schedule(1000, trials=4000)["detect_mean"]
    assert 5 * step < at_once < 6 * step          # one tick after the 5th lost probe
    assert 0.3 * step < with_crtt_0 - at_once < 0.7 * step


def fake_results(tmp_path):
    """Result files in the benchmarks' formats, with a few samples each."""
    stages = {name: 1.0 + i for i, name in enumerate(failover_outage.stages.STAGES)}
    smp = [{"outage_s": 0.005 * k, "gap_s": 0.005 * k + 0.0003, "floor_s": 0.0052, "stages_ms": stages}
           for k in (1, 2, 2)]
    table = failover_outage.stage_table(smp)
    files = {
        "failover_outage": {"samples": smp, "stages": table},
        "miimon": {"kind": "stand-in", "miimon_ms": 100,
                   "samples": [{"detect_s": 0.05, "outage_s": 0.06, "gap_s": 0.061}]},
        "probe_detection": {"fdt": {"1000": {"detect_mean": 0.8, "repair_mean": 1.3,
                                             "schedule": {"detect_mean": 0.78, "repair_mean": 1.35}}}},
    }
    for name, details in files.items():
        (tmp_path / f"{name}.json").write_text(json.dumps({"benchmark": name, "machine": MACHINE,
                                                           "details": details}))
    return tmp_path


def test_plots_are_drawn_from_the_results(tmp_path):
    written = plots.write_all(fake_results(tmp_path), tmp_path / "png")
    assert {p.name for p in written} == {"detection.png", "outage.png", "stages.png", "probe_schedule.png"}
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in written)


def test_lab_scale_plot_reads_both_result_formats(tmp_path):
    machine = MACHINE
    old = {"benchmark": "lab_start", "machine": machine,
           "details": {"hosts": 32, "lab_median_s": 1.0, "bare_median_s": 0.5, "agent_mb_mean": {"pss": 8.0}}}
    new = {"benchmark": "lab_start", "machine": machine,
           "details": {"curve": [{"hosts": n, "ours_s": n / 30, "bare_s": n / 60, "pss_per_host_mb": 4.0}
                                 for n in (8, 32, 128)]}}
    assert plots.scale_points(old) == [{"hosts": 32, "ours_s": 1.0, "bare_s": 0.5, "pss_per_host_mb": 8.0}]
    assert [p["hosts"] for p in plots.scale_points(new)] == [8, 32, 128]
    assert plots.lab_scale(new, tmp_path / "s.png").read_bytes()[:4] == b"\x89PNG"
