"""Artifacts of a Mininet scenario run: per-link pcaps that hold the
lab's real packets, the streams as JSON lines, the HTML timeline; stale files go."""
import json

import pytest

pytestmark = pytest.mark.root("pcaps come from a Mininet lab")

SCENARIO = """
name: artifacts
topology: ipmp-pair
setup:
  - h1: ipadm create-ip net0
  - h1: ipadm create-ip net1
  - h1: ipadm create-ipmp -i net0,net1 ipmp0
  - h1: ipadm create-addr -T static -a 192.0.2.10/24 ipmp0/v4
subscribers:
  aware: {host: h1, rt_aware: RTAW_UNDER_IPMP}
steps:
  - ping: {from: h2, to: 192.0.2.10, count: 3, interval: 0.05, max_loss: 0}
  - link: h1:net0 down
  - expect:
      aware: {match: ordered, messages: [RTM_IFINFO net0 -RUNNING]}
"""


def test_mininet_run_leaves_pcaps_streams_and_timeline(pytester):
    # the layers read here, not scapy.all (which loads every layer and the host's routes: ~0.8 s of CPU)
    from scapy.layers.inet import ICMP
    from scapy.layers.l2 import ARP
    from scapy.utils import rdpcap
    pytester.makefile(".scenario.yaml", artifacts=SCENARIO)
    reports = pytester.path / "rep"
    (reports / "earlier-run" / "artifacts").mkdir(parents=True)
    earlier = reports / "earlier-run" / "artifacts" / "failure.txt"
    earlier.write_text("from an earlier run")
    result = pytester.runpytest_subprocess("-p", "rtsock_emul.scenario.pytest_plugin", "-p", "no:cacheprovider",
                                           "--rtsock-mode=mininet", "--rtsock-reports", str(reports))
    result.assert_outcomes(passed=1)
    out = reports / "latest" / "artifacts"
    assert not (out / "failure.txt").exists() and earlier.exists()    # each run its own folder
    packets = [p for f in out.glob("*.pcap") for p in rdpcap(str(f))]
    assert sorted(f.name for f in out.glob("*.pcap")) == ["h1-net0.pcap", "h1-net1.pcap", "h2-net0.pcap"]
    assert any(p.haslayer(ARP) and p[ARP].psrc == "0.0.0.0" for p in packets), "no DAD ARP probe captured"
    assert any(p.haslayer(ICMP) and p[ICMP].type == 0 for p in packets), "no echo reply captured"
    records = [json.loads(line) for line in (out / "streams.jsonl").read_text().splitlines()]
    assert any(r.get("subscriber") == "aware" for r in records)
    oracle = records[-1]["oracle"]          # R45: messages judged per rule, 0 when none
    assert oracle["judged"]["R45"] > 0 and oracle["violations"] == 0 and oracle["truth_failure"] is None
    assert (out / "timeline.html").read_text().lower().startswith("<!doctype html>")
