"""On Mininet: standby and failback, offline and undo-offline, join and
leave, duplicate addresses, and the ipmpstat views that show them (R66-R72,
R104, R117-R119, R121-R126, M23)."""
import pytest

from rtsock_emul.util.wait import wait_until

from .helpers import FAST_MPATHD, barrier, events, ipmpstat, settle

pytestmark = [pytest.mark.root("Mininet labs: network namespaces, veths, nftables"), pytest.mark.timeout(60)]

IPMPSTAT_G = "GROUP       GROUPNAME   STATE     FDT       INTERFACES\n"
IPMPSTAT_I = "INTERFACE   ACTIVE  GROUP       FLAGS     LINK      PROBE     STATE\n"
IPMPSTAT_A = "ADDRESS                   STATE  GROUP       INBOUND     OUTBOUND\n"


def triple_with_standby(lab):
    for ifname in ("net0", "net1", "net2"):
        lab.admin_ok("h1", f"ipadm create-ip {ifname}")
    lab.admin_ok("h1", "ipadm create-ipmp -i net0,net1,net2 ipmp0")
    lab.admin_ok("h1", "ipadm create-addr -T static -a 192.0.2.10/24 ipmp0/v4")
    lab.admin_ok("h1", "ipadm create-addr -T static -a 192.0.2.11/24 ipmp0/v4b")
    lab.admin_ok("h1", "ifconfig net2 standby")
    settle(lab, "h1")


def if_rows(lab):
    """ipmpstat -i as {INTERFACE: (ACTIVE, FLAGS without the nominee letters, LINK, STATE)}:
    the m/b/M nominee is the kernel's pick and may move between active members."""
    out = {}
    for row in ipmpstat(lab, "h1", "-i").splitlines()[1:]:
        name, active, _grp, flags, link, _probe, state = row.split()
        out[name] = (active, flags.replace("m", "-").replace("b", "-").replace("M", "-"), link, state)
    return out


def test_R117_R119_R123_R124_standby_takes_over_and_goes_back_inactive(start_lab, recorders):
    """R119: a functioning STANDBY stays INACTIVE while active >= non-standby members
    (ipmpstat -i FLAGS 'is-----', ACTIVE no, -g '(net2)'); R117: when an active member
    fails, in.mpathd clears INACTIVE on the standby, which becomes active; on repair
    (FAILBACK=yes) it is INACTIVE again. Aware sockets see it (R93), normal ones not."""
    lab = start_lab("ipmp-triple", mpathd=FAST_MPATHD)
    triple_with_standby(lab)
    assert ipmpstat(lab, "h1", "-g") == IPMPSTAT_G + \
        "ipmp0       ipmp0       ok        --        net0 net1 (net2)\n"
    assert ipmpstat(lab, "h1", "-i") == IPMPSTAT_I + (
        "net0        yes     ipmp0       --mbM--   up        disabled  ok\n"
        "net1        yes     ipmp0       -------   up        disabled  ok\n"
        "net2        no      ipmp0       is-----   up        disabled  ok\n")
    aware, normal = recorders(lab, "h1", aware=True), recorders(lab, "h1")
    barrier(lab, "h1", aware, normal)
    lab.link("h1", "net0", False)
    wait_until(lambda: if_rows(lab)["net2"] == ("yes", "-s-----", "up", "ok"), 3,
               what="net2 (standby) to become active")
    assert if_rows(lab)["net0"] == ("no", "-------", "down", "failed")
    assert ipmpstat(lab, "h1", "-g") == IPMPSTAT_G + \
        "ipmp0       ipmp0       degraded  --        net1 net2 [net0]\n"
    barrier(lab, "h1", aware, normal)
    assert events(aware)[-2:] == ["RTM_IFINFO net2 UP,BROADCAST,RUNNING,MULTICAST,IPV4,STANDBY",
                                  "RTM_IFINFO net2 UP,RUNNING,MULTICAST,IPV6,STANDBY"]
    assert events(normal) == []
    inbound = {r.split()[0]: r.split()[3] for r in ipmpstat(lab, "h1", "-a").splitlines()[1:]}
    assert sorted([inbound["192.0.2.10"], inbound["192.0.2.11"]]) == ["net1", "net2"]   # R88
    mark = aware.mark()
    lab.link("h1", "net0", True)
    wait_until(lambda: if_rows(lab)["net2"] == ("no", "is-----", "up", "ok"), 3,
               what="net2 back to INACTIVE after net0's repair")
    assert if_rows(lab)["net0"] == ("yes", "-------", "up", "ok")
    assert ipmpstat(lab, "h1", "-g") == IPMPSTAT_G + \
        "ipmp0       ipmp0       ok        --        net0 net1 (net2)\n"
    barrier(lab, "h1", aware, normal)
    assert "RTM_IFINFO net2 UP,BROADCAST,RUNNING,MULTICAST,IPV4,STANDBY,INACTIVE" in events(aware, mark)
    assert events(normal) == []


def test_R121_R122_R126_offline_refusal_and_undo_offline(start_lab):
    """R121: if_mpadm -d offlines a member (OFFLINE, addresses down: FLAGS 'd', STATE
    offline) while another usable member exists, and refuses with libipmp's text when
    none would be left; R122: -r refuses a member that is not offline and brings the
    offlined one back. R126: -a INBOUND/OUTBOUND follow."""
    lab = start_lab("ipmp-triple", mpathd=FAST_MPATHD)
    triple_with_standby(lab)
    lab.admin_ok("h1", "if_mpadm -d net0")
    assert if_rows(lab) == {"net0": ("no", "-----d-", "up", "offline"),
                            "net1": ("yes", "-------", "up", "ok"),
                            "net2": ("yes", "-s-----", "up", "ok")}
    lab.admin_ok("h1", "if_mpadm -d net1")
    assert ipmpstat(lab, "h1", "-g") == IPMPSTAT_G + \
        "ipmp0       ipmp0       degraded  --        net2 [net0 net1]\n"
    assert ipmpstat(lab, "h1", "-a") == IPMPSTAT_A + (
        "192.0.2.10                up     ipmp0       net2        net2\n"
        "192.0.2.11                up     ipmp0       net2        net2\n"
        "::                        down   ipmp0       --          --\n")
    assert lab.ping("h2", "192.0.2.10", 2, 0.05).received == 2
    rc, out, err = lab.admin("h1", "if_mpadm -d net2")
    assert (rc, out, err) == (1, "", "if_mpadm: fatal: cannot offline net2: no other functioning "
                                     "interfaces are in its IPMP group\n")
    rc, _, err = lab.admin("h1", "if_mpadm -r net2")
    assert rc == 1 and err == "if_mpadm: fatal: interface net2 is not offline\n"
    lab.admin_ok("h1", "if_mpadm -r net0")
    lab.admin_ok("h1", "if_mpadm -r net1")
    settle(lab, "h1")
    assert if_rows(lab) == {"net0": ("yes", "-------", "up", "ok"),
                            "net1": ("yes", "-------", "up", "ok"),
                            "net2": ("no", "is-----", "up", "ok")}
    assert ipmpstat(lab, "h1", "-g") == IPMPSTAT_G + \
        "ipmp0       ipmp0       ok        --        net0 net1 (net2)\n"


def test_R66_R69_R70_R71_R72_join_and_leave_streams(start_lab, recorders):
    """R66/R69: `ifconfig net0 group ipmp0` with an UP address: ifconfig's down
    messages reach everyone, the kernel join is silent, then the data address
    reappears on ipmp0 (R70) for everyone after DAD, ipif 0 (0.0.0.0) on net0 for
    aware sockets only. R72: `ifconfig net0 group ""` sends, to normal sockets only,
    IFINFO +UP then NEWADDR => ADD per UP address of net0; the data address stays on
    ipmp0 (R71), which has no member left and fails (R90, everyone)."""
    lab = start_lab("ipmp-pair", mpathd=FAST_MPATHD)
    lab.admin_ok("h1", "ifconfig ipmp0 ipmp")
    lab.admin_ok("h1", "ipadm create-ip net0")
    lab.admin_ok("h1", "ifconfig net0 192.0.2.30/24 up")
    settle(lab, "h1")
    aware, normal = recorders(lab, "h1", aware=True), recorders(lab, "h1")
    barrier(lab, "h1", aware, normal)
    lab.admin_ok("h1", "ifconfig net0 group ipmp0")
    wait_until(lambda: "RTM_ADD 192.0.2.30" in events(normal), 3, what="192.0.2.30 up on ipmp0")
    settle(lab, "h1")
    barrier(lab, "h1", aware, normal)
    down = ["RTM_IFINFO net0 BROADCAST,RUNNING,MULTICAST,IPV4", "RTM_DELETE 192.0.2.30",
            "RTM_DELADDR net0 192.0.2.30"]
    up = ["RTM_IFINFO ipmp0 RUNNING,MULTICAST,IPV6",
          "RTM_IFINFO ipmp0 UP,BROADCAST,RUNNING,MULTICAST,IPV4",
          "RTM_NEWADDR ipmp0 192.0.2.30", "RTM_ADD 192.0.2.30"]
    assert events(normal) == down + up
    assert events(aware) == down + ["RTM_IFINFO net0 UP,BROADCAST,RUNNING,MULTICAST,IPV4",
                                    "RTM_NEWADDR net0 0.0.0.0", "RTM_ADD 0.0.0.0"] + up
    assert ipmpstat(lab, "h1", "-a") == IPMPSTAT_A + (
        "192.0.2.30                up     ipmp0       net0        net0\n"
        "::                        down   ipmp0       --          --\n")
    mark_a, mark_n = aware.mark(), normal.mark()
    lab.admin_ok("h1", 'ifconfig net0 group ""')
    ipmp_failed = ["RTM_IFINFO ipmp0 UP,BROADCAST,MULTICAST,IPV4,FAILED",
                   "RTM_IFINFO ipmp0 MULTICAST,IPV6,FAILED"]
    wait_until(lambda: events(aware, mark_a) == ipmp_failed, 3, what="ipmp0 failing (empty)")
    barrier(lab, "h1", aware, normal)
    assert events(normal, mark_n) == ["RTM_IFINFO net0 UP,BROADCAST,RUNNING,MULTICAST,IPV4",
                                      "RTM_NEWADDR net0 0.0.0.0", "RTM_ADD 0.0.0.0"] + ipmp_failed
    assert events(aware, mark_a) == ipmp_failed
    assert "inet 192.0.2.30 " in lab.admin_ok("h1", "ifconfig ipmp0")
    assert ipmpstat(lab, "h1", "-g") == IPMPSTAT_G + \
        "ipmp0       ipmp0       failed    --        --\n"


def test_R104_M23_duplicate_address_gives_duplicate_and_no_newaddr(start_lab, recorders):
    """R104: h2 owns 192.0.2.1; h1's DAD hears it, the address gets IFF_DUPLICATE
    (shown by ifconfig) and IFF_UP cleared, with the down sequence and never an
    RTM_NEWADDR (M23: wait for RTM_IFINFO, then check DUPLICATE)."""
    lab = start_lab("ipmp-pair", mpathd=FAST_MPATHD)
    aware, normal = recorders(lab, "h1", aware=True), recorders(lab, "h1")
    barrier(lab, "h1", aware, normal)
    lab.admin("h1", "ipadm create-addr -T static -a 192.0.2.1/24 net1/v4")
    wait_until(lambda: "DUPLICATE" in lab.admin_ok("h1", "ifconfig net1"), 3,
               what="net1 DUPLICATE after DAD")
    barrier(lab, "h1", aware, normal)
    ifconfig = lab.admin_ok("h1", "ifconfig net1").splitlines()
    assert ifconfig[0].startswith("net1: flags=4001000842<BROADCAST,RUNNING,MULTICAST,IPv4,DUPLICATE>")
    assert ifconfig[1].split()[:2] == ["inet", "192.0.2.1"]
    for rec in (aware, normal):
        assert events(rec) == ["RTM_CHGADDR net1 192.0.2.1",
                               "RTM_IFINFO net1 BROADCAST,RUNNING,MULTICAST,IPV4",
                               "RTM_DELETE 192.0.2.1", "RTM_DELADDR net1 192.0.2.1"]
    assert "net1/v4           static   duplicate    192.0.2.1/24" in lab.admin_ok("h1", "ipadm show-addr")
