"""On Mininet: member and group failure as subscribers see them, and
probe-based detection and repair (R63, R90, R93, R112, R113, M16, M19). How fast
probes detect and repair is measured by bench/probe_detection.py, not here.

Real veths and bridges, one agent per host, real client sockets; waits use
wait_until or a barrier (an RTM_GET echo every socket gets after what came
before it), never sleep.
"""
import threading

import pytest

from rtsock_emul.util.wait import wait_until

from .helpers import FAST_MPATHD, barrier, events, ipmpstat, settle

pytestmark = [pytest.mark.root("Mininet labs: network namespaces, veths, nftables"), pytest.mark.timeout(60)]
DATA = "192.0.2.10"


def make_group(lab, *, test_addresses=False):
    """ipmp0 over h1's net0/net1 with DATA; optional test addresses .21/.22."""
    lab.admin_ok("h1", "ipadm create-ip net0")
    lab.admin_ok("h1", "ipadm create-ip net1")
    lab.admin_ok("h1", "ipadm create-ipmp -i net0,net1 ipmp0")
    lab.admin_ok("h1", f"ipadm create-addr -T static -a {DATA}/24 ipmp0/v4")
    if test_addresses:
        lab.admin_ok("h1", "ifconfig net0 addif 192.0.2.21/24 -failover up")
        lab.admin_ok("h1", "ifconfig net1 addif 192.0.2.22/24 -failover up")
    settle(lab, "h1")
    assert lab.ping("h2", DATA, 1, 0.05).received == 1


def test_R63_R93_M16_M19_member_carrier_loss_reaches_aware_only_and_ping_survives(
        start_lab, recorders):
    """R63: carrier loss clears IFF_RUNNING (one RTM_IFINFO per ill); R93: in.mpathd's
    FAILED reaches aware sockets only (M19); a normal socket sees nothing of the
    underlying interface (M16); the peer pinging the data address every 10 ms
    loses at most 3 replies."""
    lab = start_lab("ipmp-pair", mpathd=FAST_MPATHD)
    make_group(lab)
    bound = ipmpstat(lab, "h1", "-a -P -o ADDRESS,INBOUND").split(f"{DATA}:")[1].split()[0]
    aware, normal = recorders(lab, "h1", aware=True), recorders(lab, "h1")
    barrier(lab, "h1", aware, normal)
    result = {}
    pinger = threading.Thread(target=lambda: result.update(ping=lab.ping("h2", DATA, 300, 0.01)))
    pinger.start()
    try:
        wait_until(lambda: lab.net["h2"].cmd(f"ip neigh show {DATA}").count("REACHABLE"), 3,
                   what="the peer's ping traffic to reach h1")
        lab.link("h1", bound, False)
        wait_until(lambda: len(events(aware)) >= 4, 3, what=f"{bound} +FAILED on the aware socket")
    finally:
        pinger.join()
    barrier(lab, "h1", aware, normal)
    assert events(aware) == [
        f"RTM_IFINFO {bound} UP,BROADCAST,MULTICAST,IPV4",
        f"RTM_IFINFO {bound} UP,MULTICAST,IPV6",
        f"RTM_IFINFO {bound} UP,BROADCAST,MULTICAST,IPV4,FAILED",
        f"RTM_IFINFO {bound} UP,MULTICAST,IPV6,FAILED"]
    assert events(normal) == []
    assert result["ping"].sent == 300 and result["ping"].lost <= 3, result


@pytest.mark.parametrize("renotify", [True, False], ids=["renotify", "no-renotify"])
def test_R90_whole_group_failure_and_recovery_reach_every_subscriber(start_lab, recorders,
                                                                     renotify):
    """R90: with no active member the IPMP interface is FAILED and not RUNNING, and each
    change sends its RTM_IFINFO to all sockets, normal and aware. Recovery with the
    `group_recovery_renotify` switch (the whole-group recovery order, derived from ipmp.c):
    the data address is re-announced after DAD (IFINFO => NEWADDR => ADD); without it
    only the IFINFOs with RUNNING."""
    lab = start_lab("ipmp-pair", mpathd=FAST_MPATHD,
                    switches={"group_recovery_renotify": renotify})
    make_group(lab)
    aware, normal = recorders(lab, "h1", aware=True), recorders(lab, "h1")
    barrier(lab, "h1", aware, normal)
    lab.link("h1", "net0", False)
    lab.link("h1", "net1", False)
    failed = ["RTM_IFINFO ipmp0 UP,BROADCAST,MULTICAST,IPV4,FAILED",
              "RTM_IFINFO ipmp0 MULTICAST,IPV6,FAILED"]
    wait_until(lambda: events(normal) == failed, 3, what="ipmp0 -RUNNING +FAILED on the normal socket")
    barrier(lab, "h1", aware, normal)
    assert [e for e in events(aware) if " ipmp0 " in e] == failed
    assert ipmpstat(lab, "h1", "-g").splitlines()[1].split() == ["ipmp0", "ipmp0", "failed", "--",
                                                                  "[net0", "net1]"]
    mark_a, mark_n = aware.mark(), normal.mark()
    lab.link("h1", "net1", True)
    if renotify:
        recovered = ["RTM_IFINFO ipmp0 RUNNING,MULTICAST,IPV6",
                     "RTM_IFINFO ipmp0 UP,BROADCAST,RUNNING,MULTICAST,IPV4",
                     f"RTM_NEWADDR ipmp0 {DATA}", f"RTM_ADD {DATA}"]
    else:
        recovered = ["RTM_IFINFO ipmp0 UP,BROADCAST,RUNNING,MULTICAST,IPV4",
                     "RTM_IFINFO ipmp0 RUNNING,MULTICAST,IPV6"]
    wait_until(lambda: events(normal, mark_n) == recovered, 3, what=f"{recovered} on the normal socket")
    settle(lab, "h1", skip=("net0",))
    barrier(lab, "h1", aware, normal)
    assert events(normal, mark_n) == recovered
    assert [e for e in events(aware, mark_a) if " ipmp0 " in e or DATA in e] == recovered
    assert lab.ping("h2", DATA, 3, 0.05).received == 3


def first_ack(lab, ifname):
    """True once ipmpstat -p shows an acknowledged probe (an RTT) on ifname:
    this ends the quiet period (R131)."""
    rows = ipmpstat(lab, "h1", "-p -P -o INTERFACE,RTT").splitlines()
    return any(r.startswith(f"{ifname}:") and r.endswith("ms") for r in rows)


def test_R112_R113_probe_loss_detected_and_repaired(start_lab, recorders):
    """R112: 100% loss (nftables) on net0 with its carrier up is declared by probes:
    RTM_IFINFO +FAILED on an aware socket, the member failed in ipmpstat. The quiet
    period (R131, 40 s on illumos) is set to 1 s by config and the test waits for the
    first acknowledged probe, which ends it. R113: after the loss is cleared, good
    probes repair the interface. The times (FDT + 20%, 10 probes) are
    bench/probe_detection.py's targets."""
    lab = start_lab("ipmp-pair", mpathd=FAST_MPATHD)
    make_group(lab, test_addresses=True)
    wait_until(lambda: ipmpstat(lab, "h1", "-t") == (
        "INTERFACE   MODE      TESTADDR            TARGETS\n"
        "net0        multicast 192.0.2.21          192.0.2.1\n"
        "net1        multicast 192.0.2.22          192.0.2.1\n"), 3, what="h2 found as probe target")
    wait_until(lambda: first_ack(lab, "net0") and first_ack(lab, "net1"), 3,
               what="a first acknowledged probe on each member")
    assert ipmpstat(lab, "h1", "-g").splitlines()[1].split() == ["ipmp0", "ipmp0", "ok", "1.00s",
                                                                  "net0", "net1"]
    aware = recorders(lab, "h1", aware=True)
    barrier(lab, "h1", aware)
    mark = aware.mark()
    lab.loss("h1", "net0", 100)
    # IPv4 and IPv6 are told apart: wait for both, not for the first one to come
    wait_until(lambda: sum("net0" in e and "FAILED" in e for e in events(aware, mark)) >= 2, 3,
               what="net0 +FAILED from probe loss")
    barrier(lab, "h1", aware)
    assert events(aware, mark) == ["RTM_IFINFO net0 UP,BROADCAST,RUNNING,MULTICAST,IPV4,FAILED",
                                   "RTM_IFINFO net0 UP,RUNNING,MULTICAST,IPV6,FAILED"]
    rows = ipmpstat(lab, "h1", "-i").splitlines()
    assert rows[1].split() == ["net0", "no", "ipmp0", "-------", "up", "failed", "failed"]
    assert rows[2].split() == ["net1", "yes", "ipmp0", "--mbM--", "up", "ok", "ok"]
    mark = aware.mark()
    lab.loss("h1", "net0", 0)
    wait_until(lambda: sum("net0" in e for e in events(aware, mark)) >= 2, 4, what="net0 -FAILED (repair)")
    assert events(aware, mark)[:2] == ["RTM_IFINFO net0 UP,BROADCAST,RUNNING,MULTICAST,IPV4",
                                       "RTM_IFINFO net0 UP,RUNNING,MULTICAST,IPV6"]
    assert ipmpstat(lab, "h1", "-g").splitlines()[1].split()[2] == "ok"
