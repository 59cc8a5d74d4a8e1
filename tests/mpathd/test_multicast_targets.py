"""in.mpathd's multicast target discovery (R116; [mpd_probe.c]
probe, phyint_inst_timer, incoming_mcast_reply), on the kernel model with a
ManualClock and the fake prober."""
import ipaddress

from rtsock_emul.mpathd.prober import PROBE_MULTI, PROBE_UNI, parse_payload, probe_payload
from rtsock_emul.wire.constants import AF_INET

from .host import ipmp_group, make

HOSTS = [ipaddress.ip_address(f"192.0.2.{i}") for i in (50, 51, 52)]


def host_group(members=("net0", "net1"), responders=HOSTS[:1]):
    ctx, k, prober, md, clock = make({"failure_detection_time": 7000, "quiet_period": 0})
    ipmp_group(k, *members)
    for i, name in enumerate(members):
        k.add_test(name, AF_INET, f"192.0.2.{10 + i}")
        prober.answer(name, AF_INET, set(HOSTS))
        prober.multicast[(name, AF_INET)] = list(responders)
    return ctx, k, prober, md, clock


def run(clock, seconds, step=0.01):
    for _ in range(int(seconds / step)):
        clock.advance(step)


def sent_on(prober, name, since=0):
    return [s for s in list(prober.sent)[since:] if s[1] == name]


def test_R116_multicast_probes_do_not_consume_icmp_seq():
    """probe(): only PROBE_UNI probes consume icmp_seq; a PROBE_MULTI probe carries
    the next unicast seq, so unicast seqs run on with no gaps."""
    ctx, k, prober, md, clock = host_group(members=("net0",))
    payloads = []
    real = prober.discover_targets
    prober.discover_targets = lambda *a: (payloads.append(a[-1]), real(*a))
    k.start()
    run(clock, 20)
    sent = sent_on(prober, "net0")
    uni = [s[5] for s in sent if s[0] == "uni"]
    multi = [s[5] for s in sent if s[0] == "multi"]
    assert len(uni) >= 15 and uni == list(range(uni[0], uni[0] + len(uni)))
    assert len(multi) >= 15 and set(multi) <= set(uni) | {uni[-1] + 1}
    for i, s in enumerate(sent[:-1]):           # a multicast carries the next unicast seq
        if s[0] == "multi" and sent[i + 1][0] == "uni":
            assert s[5] == sent[i + 1][5]
    assert {parse_payload(p)[1] for p in payloads} == {PROBE_MULTI}


def test_R116_extra_multicast_probe_while_a_single_host_target():
    """phyint_inst_timer: with one host target (no resilience) every failure-
    detection probe is followed by a multicast probe; with more host targets
    discovery stops. Router targets never trigger it."""
    ctx, k, prober, md, clock = host_group(members=("net0",))
    k.start()
    run(clock, 10)
    inst = md.phyints["net0"].insts[AF_INET]
    assert [t.addr for t in inst.targets] == HOSTS[:1]
    n = len(prober.sent)
    run(clock, 10)
    kinds = [s[0] for s in sent_on(prober, "net0", n)]
    assert kinds.count("multi") >= kinds.count("uni") - 1 >= 5
    prober.multicast[("net0", AF_INET)] = HOSTS[:2]          # a second host appears
    run(clock, 3)
    assert [t.addr for t in inst.targets] == HOSTS[:2]
    n = len(prober.sent)
    run(clock, 10)
    kinds = [s[0] for s in sent_on(prober, "net0", n)]
    assert "multi" not in kinds and kinds.count("uni") >= 5


def test_R116_multicast_responder_becomes_target_of_every_member():
    """incoming_mcast_reply: in a named group a responder is added to every
    member (on its test subnet), found by whichever member multicast first."""
    ctx, k, prober, md, clock = host_group(members=("net0", "net1"))
    prober.multicast[("net1", AF_INET)] = []                  # net1 hears no multicast
    k.start()
    run(clock, 5)
    for name in ("net0", "net1"):
        assert [t.addr for t in md.phyints[name].insts[AF_INET].targets] == HOSTS[:1]


def test_R116_multicast_reply_with_unicast_seq_is_not_an_ack():
    """Replies are told apart by pr_icmp_mtype, not icmp_seq: a PROBE_MULTI reply
    carrying an outstanding unicast probe's seq does not ack that probe."""
    ctx, k, prober, md, clock = host_group(members=("net0",))
    prober.delay = 0.3
    k.start()
    run(clock, 10)
    inst = md.phyints["net0"].insts[AF_INET]
    while inst.probes[-1].state != "sent":     # a unicast probe awaiting its reply
        clock.advance(0.01)
    rec = inst.probes[-1]
    handler = prober._handler
    handler("net0", AF_INET, rec.target, rec.seq, probe_payload(0, PROBE_MULTI))
    assert rec.state == "sent"
    handler("net0", AF_INET, rec.target, rec.seq, probe_payload(0, PROBE_UNI))
    assert rec.state == "acked"
