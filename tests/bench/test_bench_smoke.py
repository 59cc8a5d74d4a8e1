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
