"""The rule oracle catches what a scenario's expectations do not mention."""
from pathlib import Path

import pytest

from rtsock_emul.rtsock import hub as hub_mod
from rtsock_emul.scenario.errors import OracleViolation
from rtsock_emul.scenario.loader import load_text
from rtsock_emul.scenario.runner import Runner
from rtsock_emul.scenario.schema import parse_scenario
from rtsock_emul.wire import constants as C

from .inproc import InProcessLab

# The expectations name only the aware subscriber; `normal` is silent in them.
FAILURE = """\
name: member failure, expectations about the aware socket only
topology: ipmp-pair
setup:
  - h1: ipadm create-ip net0
  - h1: ipadm create-ip net1
  - h1: ipadm create-ipmp -i net0,net1 ipmp0
  - h1: ipadm create-addr -T static -a 192.0.2.10/24 ipmp0/v4
subscribers:
  normal: {host: h1}
  aware:  {host: h1, rt_aware: RTAW_UNDER_IPMP}
steps:
  - link: h1:net0 down
  - expect:
      aware: {match: ordered, messages: [RTM_IFINFO net0 +FAILED]}
    within: 3s
"""


def _run(tmp_path):
    path = tmp_path / "f.scenario.yaml"
    path.write_text(FAILURE)
    sc = parse_scenario(load_text(FAILURE, str(path)), str(path))
    return Runner(sc, "sim", lab_start=InProcessLab, reports_dir=tmp_path / "rep").run()


def test_clean_agent_passes(tmp_path):
    res = _run(tmp_path)
    assert res.failure is None, res.failure


def test_M16_leak_of_one_underlying_message_is_caught(tmp_path, monkeypatch):
    """M16: "By default, underlying interfaces in an IPMP group are not visible to routing
    sockets, and no events about them are delivered." Plant a fault in the delivery
    predicate that leaks the first aware-only message to normal sockets."""
    real, leaked = hub_mod.wanted, []

    def leaky(proto, rt_aware, af, rtsq):
        if not rt_aware & C.RTAW_UNDER_IPMP and rtsq == C.RTSQ_UNDER_IPMP and not leaked:
            leaked.append(af)
            return True
        return real(proto, rt_aware, af, rtsq)
    monkeypatch.setattr(hub_mod, "wanted", leaky)
    res = _run(tmp_path)
    assert leaked
    assert isinstance(res.failure, OracleViolation)
    rules = {v.rule for v in res.violations}
    assert "M16" in rules, res.violations
    v = next(v for v in res.violations if v.rule == "M16")
    assert v.sub == "normal" and "net0" in v.what and "not visible to routing sockets" in v.text
    assert "M16" in Path(res.artifacts["report"]).read_text()


def _run_text(tmp_path, text):
    path = tmp_path / "t.scenario.yaml"
    path.write_text(text)
    sc = parse_scenario(load_text(text, str(path)), str(path))
    return Runner(sc, "sim", lab_start=InProcessLab, reports_dir=tmp_path / "rep").run()


JOIN = """\
name: ifconfig join with an UP address
topology: ipmp-pair
setup:
  - h1: ipadm create-ip net0
  - h1: ifconfig ipmp0 ipmp
  - h1: ipadm create-addr -T static -a 192.0.2.20/24 net0/v4
subscribers:
  normal: {host: h1, protocol: AF_INET}
steps:
  - h1: ifconfig net0 group ipmp0
  - expect:
      normal: {match: ordered, messages: [RTM_DELADDR net0 192.0.2.20/24]}
"""


def test_M17_clean_join_passes(tmp_path):
    res = _run_text(tmp_path, JOIN)
    assert res.failure is None, res.failure


def test_M16_leak_during_a_join_is_judged_at_emission(tmp_path, monkeypatch):
    """M16: a join in flight is judged, not skipped. Plant a fault that leaks every
    aware-only message to normal sockets: the messages about net0 queued once it
    is under ipmp0 reach `normal` in the very step it joins."""
    real = hub_mod.wanted

    def leaky(proto, rt_aware, af, rtsq):
        return real(proto, rt_aware, af, rtsq) or (rtsq == C.RTSQ_UNDER_IPMP and proto in (0, af))
    monkeypatch.setattr(hub_mod, "wanted", leaky)
    res = _run_text(tmp_path, JOIN)
    m16 = [v for v in res.violations if v.rule == "M16"]
    assert m16, res.violations
    assert m16[0].sub == "normal" and "net0" in m16[0].what and "ipmp0" in m16[0].what
    assert res.judged["M16"] > 0


def test_M17_newaddr_between_ifinfo_down_and_join_is_caught(tmp_path, monkeypatch):
    """M17: the join is announced by RTM_DELADDR and an RTM_IFINFO saying net0 is down;
    plant a kernel that, after those, queues an RTM_NEWADDR about net0 to normal
    sockets just before net0 joins (net0 is not under ipmp0 yet, so M16 cannot see it)."""
    from rtsock_emul.kernel import ipmp as ipmp_mod
    from rtsock_emul.kernel import messages as msgs_mod
    real = ipmp_mod.Ipmp._ipmp_join

    def announce_then_join(self, phy, group):
        for ill in phy.ills.values():
            if 0 in ill.ipifs:
                self._send(msgs_mod.addrmsg(C.RTM_NEWADDR, ill.ipif0), ill, C.RTSQ_NORMAL)
        return real(self, phy, group)
    monkeypatch.setattr(ipmp_mod.Ipmp, "_ipmp_join", announce_then_join)
    res = _run_text(tmp_path, JOIN)
    m17 = [v for v in res.violations if v.rule == "M17"]
    assert m17, res.violations
    assert m17[0].sub == "normal" and "net0" in m17[0].what and "ipmp0" in m17[0].what


UP_AFTER_DAD = """\
name: an address comes up after DAD
topology: ipmp-pair
config: {tunables: {arp_fastprobe_interval: 0.5}}
subscribers:
  s: {host: h1, protocol: AF_INET}
steps:
  - h1: ipadm create-addr -T static -a 192.0.2.20/24 net0/v4
  - expect:
      s: {match: ordered, messages: [RTM_NEWADDR net0 192.0.2.20/24]}
    within: 5s
"""


def test_M23_clean_dad_passes(tmp_path):
    res = _run_text(tmp_path, UP_AFTER_DAD)
    assert res.failure is None, res.failure


def test_M23_newaddr_before_dad_is_caught(tmp_path, monkeypatch):
    """M23: NEWADDR is held back until DAD finishes. The journal entry of the NEWADDR
    records the addresses still tentative when it was queued. Plant a kernel that
    announces at DAD start."""
    from rtsock_emul.kernel import dad as dad_mod
    real = dad_mod.DadMixin._dad_start

    def eager(self, ipif):
        if not ipif.unspecified:
            self._send_newaddr(C.RTM_ADD, ipif)
        return real(self, ipif)
    monkeypatch.setattr(dad_mod.DadMixin, "_dad_start", eager)
    res = _run_text(tmp_path, UP_AFTER_DAD)
    m23 = [v for v in res.violations if v.rule == "M23"]
    assert m23, res.violations
    assert "192.0.2.20" in m23[0].what and "tentative" in m23[0].what


def test_R45_ifinfo_flags_disagreeing_with_ifconfig_are_caught(tmp_path, monkeypatch):
    """R45: ifm_flags is the low 32 bits of ipif|ill|phyint flags. net0 is RUNNING when the
    address-up IFINFO is queued, so it must say RUNNING; plant one that does not."""
    from rtsock_emul.kernel import messages as msgs_mod
    real = msgs_mod.ifinfo

    def wrong(ill, set_=0, clear=0):
        msg = real(ill, set_, clear)
        msg.ifm_flags &= ~C.IFF_RUNNING
        return msg
    monkeypatch.setattr(msgs_mod, "ifinfo", wrong)
    res = _run_text(tmp_path, UP_AFTER_DAD)
    r45 = [v for v in res.violations if v.rule == "R45"]
    assert r45, res.violations
    assert "net0" in r45[0].what and "RUNNING" in r45[0].what


def test_echo_state_is_per_run():
    """A (type, seq) sent in one run does not make another run's kernel message an echo."""
    from rtsock_emul.scenario import oracle
    from rtsock_emul.wire import RtMsghdr
    msg = RtMsghdr(C.RTM_ADD, rtm_seq=5)
    assert oracle.is_echo(msg, frozenset({(C.RTM_ADD, 5)}))
    assert not oracle.is_echo(msg)
    assert not hasattr(oracle, "_SENT")


def test_echo_of_a_malformed_request_is_read_as_the_request():
    """R29: the echo is the caller's bytes; an rt_msghdr of type RTM_IFINFO or with a wrong
    rtm_msglen is recorded as that request (with the pid the kernel set), not as an R42 finding."""
    from rtsock_emul.scenario.reader import echo_of_request
    from rtsock_emul.wire import RtMsghdr, encode
    raw = bytearray(encode(RtMsghdr(C.RTM_IFINFO, rtm_seq=4, rtm_pid=77, rtm_errno=45)))
    msg = echo_of_request(bytes(raw))
    assert msg.type == C.RTM_IFINFO and msg.rtm_seq == 4 and msg.PREFIX == "rtm_"
    raw[0] += 4                                   # rtm_msglen no longer the length read
    assert echo_of_request(bytes(raw)).rtm_seq == 4
    assert echo_of_request(encode(RtMsghdr(C.RTM_ADD, rtm_seq=4))) is None   # pid 0: not an echo


# --- synthetic journals: the timing a loaded machine produces -----------------------------
PAIR = """\
name: synthetic
topology: ipmp-pair
subscribers:
  aware:  {host: h1, rt_aware: RTAW_UNDER_IPMP, protocol: AF_INET}
  normal: {host: h1, protocol: AF_INET}
steps:
  - h1: if_mpadm -d net0
  - h1: if_mpadm -r net0
"""


def _rules(res):
    from rtsock_emul.scenario import oracle
    return [(v.rule, v.what) for v in oracle.check(res)]


def test_R45_message_read_one_step_late_is_judged_at_emission():
    """R45: IFINFO net0 <RUNNING,OFFLINE> is queued while net0 is OFFLINE, but the reader
    only gets to it after `if_mpadm -r` undid the offline; `ifconfig -a` showed RUNNING
    before and after that step. Judged at its journal entry, it is correct."""
    from .synthetic import BASE, SyntheticRun, ifinfo
    run = SyntheticRun(PAIR)
    run.set("net0", under="ipmp0")
    run.snapshot(0, 0.1)
    run.snapshot(1, 1.0)                                   # taken before the kernel acted
    run.set("net0", flags=BASE | C.IFF_OFFLINE)
    offline = ifinfo("net0", BASE | C.IFF_OFFLINE, "ipmp0")
    run.queue(offline[0], to=["aware"], rtsq=C.RTSQ_UNDER_IPMP)
    run.set("net0", flags=BASE)
    online = ifinfo("net0", BASE, "ipmp0")
    run.queue(online[0], to=["aware"], rtsq=C.RTSQ_UNDER_IPMP)
    run.read("aware", offline, t=1.5, step=2)              # read in the next step
    run.read("aware", online, t=1.6, step=2)
    run.snapshot(2, 2.0)
    res = run.result()
    assert _rules(res) == []
    assert res.judged["R45"] == 2


def test_R63_R90_transient_failed_ipmp_interface_is_not_a_violation():
    """R63/R90: while a standby takes over, ipmp0 has no active member for a moment and is
    FAILED; both IFINFOs are queued between two `ifconfig -a` snapshots that show ipmp0
    not FAILED. R45 judges each against the state when it was queued: no finding."""
    from .synthetic import BASE, SyntheticRun, ifinfo
    run = SyntheticRun(PAIR)
    run.snapshot(0, 0.1)
    run.set("ipmp0", flags=BASE | C.IFF_IPMP | C.IFF_FAILED)
    failed = ifinfo("ipmp0", BASE | C.IFF_IPMP | C.IFF_FAILED)
    run.queue(failed[0], to=["aware", "normal"])
    run.set("ipmp0", flags=BASE | C.IFF_IPMP)
    repaired = ifinfo("ipmp0", BASE | C.IFF_IPMP)
    run.queue(repaired[0], to=["aware", "normal"])
    for sub in ("aware", "normal"):
        run.read(sub, failed, t=0.5, step=1)
        run.read(sub, repaired, t=0.6, step=1)
    run.snapshot(1, 1.0)
    res = run.result()
    assert _rules(res) == []
    assert res.judged["R45"] == 4 and res.judged["R40"] == 2


def test_R45_wrong_flags_are_caught_whenever_they_are_read():
    """R45: an IFINFO without FAILED queued while net0 is FAILED is a finding, read late or not."""
    from .synthetic import BASE, SyntheticRun, ifinfo
    for t, step in ((0.5, 1), (1.5, 2)):
        run = SyntheticRun(PAIR)
        run.set("net0", flags=BASE | C.IFF_FAILED)
        wrong = ifinfo("net0", BASE)
        run.queue(wrong[0], to=["aware", "normal"])
        run.read("aware", wrong, t=t, step=step)
        run.read("normal", wrong, t=t, step=step)
        run.set("net0", flags=BASE)
        rules = _rules(run.result())
        assert [r for r, _ in rules] == ["R45", "R45"], rules
        assert "FAILED" in rules[0][1] and "journal entry 1" in rules[0][1]


def test_M16_message_queued_under_ipmp_but_read_after_the_leave_is_caught():
    """M16: a message about net0 queued while net0 was under ipmp0 reached a normal socket;
    it is read after net0 left, where a per-step snapshot would call net0 a plain interface."""
    from .synthetic import BASE, SyntheticRun, ifinfo
    run = SyntheticRun(PAIR)
    run.set("net0", under="ipmp0")
    leak = ifinfo("net0", BASE, "ipmp0")
    run.queue(leak[0], to=["aware", "normal"])
    run.set("net0", under=None)
    run.read("aware", leak, t=1.5, step=2)
    run.read("normal", leak, t=1.5, step=2)
    rules = _rules(run.result())
    assert ("M16" in [r for r, _ in rules]) and any("under ipmp0" in w for _, w in rules), rules


def test_R38_M19_selection_is_judged_from_the_journal():
    """M19: an event about an underlying interface is chosen for every aware socket of its
    family. A journal entry about net0 (under ipmp0) chosen for nobody is a finding."""
    from .synthetic import BASE, SyntheticRun, ifinfo
    run = SyntheticRun(PAIR)
    run.set("net0", under="ipmp0")
    lost = ifinfo("net0", BASE, "ipmp0")
    run.queue(lost[0], to=[], rtsq=C.RTSQ_UNDER_IPMP)
    res = run.result()
    rules = _rules(res)
    assert [r for r, _ in rules] == ["M19"], rules
    assert res.judged["M19"] == 1 and res.judged["R38"] == 0   # a rule that judged nothing shows 0


def test_M18_newaddr_before_ifinfo_up_after_a_leave_is_caught():
    """M18: after net0 leaves ipmp0, a normal socket hears RTM_IFINFO net0 with UP before
    the RTM_NEWADDR of its address; the reverse order is a finding, the right one is not."""
    from .synthetic import BASE, SyntheticRun, ifinfo, newaddr
    for order, want in ((("up", "addr"), []), (("addr", "up"), ["M18"])):
        run = SyntheticRun(PAIR)
        run.set("net0", under="ipmp0")
        run.set("net0", under=None)
        msgs = {"up": ifinfo("net0", BASE), "addr": newaddr("net0", "192.0.2.20")}
        for k in order:
            run.queue(msgs[k][0], to=["normal"], rtsq=C.RTSQ_NORMAL)
            run.read("normal", msgs[k], t=1.0, step=1)
        res = run.result()
        assert [r for r, _ in _rules(res) if r == "M18"] == want, _rules(res)   # (R55: no RTM_ADD here)
        assert res.judged["M18"] == 1


def test_a_read_the_journal_cannot_account_for_fails_loudly():
    """No silent skip: a message read that the journal never delivered to that socket
    is a TruthFailure naming the host."""
    from rtsock_emul.scenario.truth import TruthFailure

    from .synthetic import BASE, SyntheticRun, ifinfo
    run = SyntheticRun(PAIR)
    run.read("aware", ifinfo("net0", BASE), t=0.5, step=1)
    with pytest.raises(TruthFailure, match="h1"):
        _rules(run.result())


@pytest.mark.parametrize("broken", ["refuses", "garbage"])
def test_broken_state_query_fails_the_scenario(tmp_path, monkeypatch, broken):
    """No silent skip: a delivery bug the oracle catches (M16) plus a state query that
    breaks after the subscribers opened used to pass. Now the scenario fails, and the
    report names the host, what failed and the agent's last log lines."""
    from rtsock_emul.admin import kernelverbs
    from rtsock_emul.admin.common import AdminError
    from rtsock_emul.scenario.report import format_failure
    from rtsock_emul.scenario.truth import TruthFailure
    real_wanted, real_journal = hub_mod.wanted, kernelverbs.CTX_VERBS["journal"]
    calls = []

    def leaky(proto, rt_aware, af, rtsq):
        return real_wanted(proto, rt_aware, af, rtsq) or rtsq == C.RTSQ_UNDER_IPMP

    def journal(ctx, since="now"):
        calls.append(since)
        if len(calls) <= 2:            # works while the subscribers open
            return real_journal[0](ctx, since)
        if broken == "refuses":
            raise AdminError("kernel journal: planted failure")
        return "not json\n"
    monkeypatch.setattr(hub_mod, "wanted", leaky)
    monkeypatch.setitem(kernelverbs.CTX_VERBS, "journal", (journal, real_journal[1]))
    res = _run(tmp_path)
    assert isinstance(res.failure, TruthFailure), res.failure
    assert res.failure.host == "h1" and "kernel journal" in res.failure.what
    text = format_failure(res)
    assert "cannot judge h1's subscribers" in text and "agent log" in text
    assert res.failure.log_tail, "the report carries the agent's last log lines"


def test_M17_is_judged_per_family_on_the_gap_before_the_join():
    """M17: the join's announcement is an RTM_IFINFO per ill. An IPv6 ill whose ipif 0
    is not UP says 'down' at every change; an IPv4 RTM_NEWADDR after that, while the
    IPv4 ill is up and long before the IPv4 announcement, is no violation (the soak's
    false finding). A NEWADDR after the IPv4 announcement still is."""
    from .synthetic import BASE, SyntheticRun, ifinfo, newaddr
    v6_down = (BASE & ~C.IFF_UP & ~C.IFF_IPV4) | C.IFF_IPV6
    text = JOIN.replace("normal: {host: h1, protocol: AF_INET}", "normal: {host: h1}")
    run = SyntheticRun(text)
    for raw_msg in (ifinfo("net0", v6_down), newaddr("net0", "192.0.2.21"),
                    ifinfo("net0", BASE & ~C.IFF_UP)):
        run.queue(raw_msg[0], to=["normal"])
        run.read("normal", raw_msg, t=run.seq, step=1)
    run.set("net0", under="ipmp0")
    res = run.result()
    assert [v for v in _rules(res) if v[0] == "M17"] == [] and res.judged["M17"] == 1

    late = SyntheticRun(text)
    for raw_msg in (ifinfo("net0", BASE & ~C.IFF_UP), newaddr("net0", "192.0.2.21")):
        late.queue(raw_msg[0], to=["normal"])
        late.read("normal", raw_msg, t=late.seq, step=1)
    late.set("net0", under="ipmp0")
    assert [rule for rule, _ in _rules(late.result()) if rule == "M17"] == ["M17"]


LEAVE_WHILE_DAD_PENDING = """\
name: a member leaves its group while its carrier is down
topology: ipmp-pair
config: {mpathd: false}
setup:
  - h1: ipadm create-ip net0
  - h1: ipadm create-ip net1
  - h1: ipadm create-ipmp -i net0,net1 ipmp0
  - h1: ipadm create-addr -T static -a 192.0.2.21/24 net1/test
subscribers:
  normal: {host: h1, protocol: AF_INET}
steps:
  - link: h1:net1 down
  - h1: ipadm remove-ipmp -i net1 ipmp0
  - expect:
      normal: {match: ordered, messages: [RTM_IFINFO net1 +UP, RTM_NEWADDR net1 192.0.2.21/24]}
    within: 3s
  - link: h1:net1 up
  - expect:
      normal: {match: ordered, messages: [RTM_NEWADDR net1 192.0.2.21/24]}
    within: 3s
"""


def test_M18_leave_announces_an_address_whose_DAD_is_pending_M23_holds_only_the_up_notification(tmp_path):
    """M18/R72: leaving the group announces every IFF_UP address to normal sockets
    (ipmp.c ipmp_ill_rtsaddrmsg, RTSQ_NORMAL), whether or not DAD is done; the carrier
    loss cleared ipif_addr_ready (ip_if.c ill_restart_dad), so net1's address is still
    tentative then. M23 holds back the up notification (ipif_up_notify), which follows
    on link-up when DAD finishes. Neither is an M23 finding."""
    res = _run_text(tmp_path, LEAVE_WHILE_DAD_PENDING)
    assert res.failure is None, res.failure
    assert res.judged["M23"] >= 2 and res.judged["M18"] >= 1
