"""The fanout benchmark still runs (at a tiny size): bench/ must not rot.

No timing is asserted: benchmarks report PASS/MISS, tests never judge speed.
What is asserted is what holds at any speed: every delivery arrived, the
message was encoded once for all subscribers (docs/performance.md fan-out target, R30's
rts_queue_input sends one mblk copy per socket), and the JSON was written.
"""
import json

from bench import fanout


def test_fanout_benchmark_runs_tiny_and_encodes_once(tmp_path, capsys):
    result = fanout.run(subscribers=3, rounds=2, batch=5, repeats=1, profile=True, out_dir=tmp_path)
    written = json.loads((tmp_path / "fanout.json").read_text())
    assert written["rows"] == result["rows"]
    assert {r["verdict"] for r in written["rows"]} <= {"PASS", "MISS", "n/a"}
    d = written["details"]
    assert d["messages_queued"] == 2 * 5
    assert d["encode_calls"] == d["messages_queued"]       # once per message, not per subscriber
    assert d["hub_drops"] == 0 and d["bare_drops"] == 0
    assert d["hub_rate"] > 0 and d["bare_rate"] > 0
    assert d["profile"] and any("queue" in r["function"] for r in d["profile"])
    assert "hub deliveries/s @3 subs" in capsys.readouterr().out


def test_failover_outage_counts_the_peer_requests_that_got_no_reply():
    """The outage is measured in the peer's echo requests (icmp_seq), not in its timer's jitter:
    requests 6 and 7 unanswered after the cut = 3 intervals; none missed = 1 interval."""
    from bench import failover_outage as fo
    step = fo.INTERVAL
    seqs = [1, 2, 3, 4, 5, 8, 9, 10]
    run = {"replies": [s * step + (0.0004 if s == 8 else 0) for s in seqs], "seqs": seqs,
           "t_cut": 5.5 * step, "t_end": 11 * step, "phase": 0.001}
    got = fo.outage_of(run)
    assert got["missed"] == 2 and abs(got["outage_s"] - 3 * step) < 1e-12
    assert abs(got["gap_s"] - (3 * step + 0.0004)) < 1e-12 and got["recovered"]
    assert got["first_reply"] == run["replies"][seqs.index(8)]     # the reply that ended it
    whole = dict(run, replies=[s * step for s in range(1, 11)], seqs=list(range(1, 11)))
    assert fo.outage_of(whole)["missed"] == 0 and abs(fo.outage_of(whole)["outage_s"] - step) < 1e-12
