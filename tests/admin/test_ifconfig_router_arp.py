"""ifconfig router/-router (R133, R134), arp/-arp and group on a logical unit (R67),
and the lab-only kernel verbs hold/release/condemned (M22) and claim (R108)."""
from rtsock_emul.wire.constants import AF_INET, IFF_NOARP, IFF_ROUTER, RTM_IFINFO


def _ifinfo_indexes(msgs):
    return [m.ifm_index for m in msgs if m.type == RTM_IFINFO]


def test_R133_router_on_a_member_spreads_to_the_group_with_one_ifinfo_per_ill(lab):
    lab.run("ipadm create-ipmp -i net0,net1 ipmp0")
    lab.settle()
    lab.normal.clear()
    lab.aware.clear()
    lab.run("ifconfig net0 router")
    k = lab.kernel
    assert all(k.flags(n, AF_INET) & IFF_ROUTER for n in ("net0", "net1", "ipmp0"))
    assert not k.flags("net2", AF_INET) & IFF_ROUTER
    assert sorted(_ifinfo_indexes(lab.aware)) == sorted(k.ifindex(n) for n in ("net0", "net1", "ipmp0"))
    assert _ifinfo_indexes(lab.normal) == [k.ifindex("ipmp0")]
    lab.run("ifconfig net1 -router")
    assert not any(k.flags(n, AF_INET) & IFF_ROUTER for n in ("net0", "net1", "ipmp0"))


def test_R134_joining_interface_takes_the_ipmp_interface_router_flag(lab):
    lab.run("ipadm create-ipmp -i net0 ipmp0")
    lab.run("ifconfig ipmp0 router")
    assert not lab.kernel.flags("net2", AF_INET) & IFF_ROUTER
    lab.run("ifconfig net2 group ipmp0")
    assert lab.kernel.flags("net2", AF_INET) & IFF_ROUTER
    assert "ROUTER" in lab.out("ifconfig net2 inet").splitlines()[0]


def test_R67_noarp_interface_cannot_join_and_arp_undoes_it(lab):
    lab.run("ipadm create-ipmp ipmp0")
    lab.run("ifconfig net2 -arp")
    assert lab.kernel.flags("net2", AF_INET) & IFF_NOARP
    rc, _, err = lab.run("ifconfig net2 group ipmp0", ok=False)
    assert (rc, err) == (1, "ifconfig: setifgroupname: SIOCSLIFGROUPNAME: net2: Operation not supported\n")
    lab.run("ifconfig net2 arp")
    lab.run("ifconfig net2 group ipmp0")
    assert lab.kernel.group_of("net2") == "ipmp0"


def test_R67_group_on_a_logical_unit_is_EINVAL(lab):
    lab.run("ipadm create-ipmp ipmp0")
    rc, _, err = lab.run("ifconfig net2:1 group ipmp0", ok=False)
    assert (rc, err) == (1, "ifconfig: setifgroupname: SIOCSLIFGROUPNAME: net2:1: Invalid argument\n")


def test_M22_held_route_deleted_is_condemned_until_released(lab):
    lab.run("ifconfig net2 192.0.2.50/24 up")
    lab.settle()
    k = lab.kernel
    k.route_add(AF_INET, "198.51.100.0", 24, "192.0.2.254", 0x3)
    assert lab.out("kernel condemned") == "no condemned routes\n"
    assert lab.out("kernel hold 198.51.100.0/24") == "198.51.100.0/24 refcnt 1\n"
    k.route_delete(AF_INET, "198.51.100.0", 24, "192.0.2.254")
    assert lab.out("kernel condemned") == "198.51.100.0/24 gateway 192.0.2.254 refcnt 1 flags <GATEWAY>\n"  # M22: down
    assert lab.out("kernel release 198.51.100.0/24") == "198.51.100.0/24 refcnt 0 freed\n"
    assert lab.out("kernel condemned") == "no condemned routes\n"
    rc, _, err = lab.run("kernel release 198.51.100.0/24", ok=False)
    assert "no held route" in err
    rc, _, err = lab.run("kernel hold 203.0.113.0/24", ok=False)
    assert "no such route" in err


def test_R108_claims_are_defended_max_defend_times_then_duplicate(lab):
    lab.run("ifconfig net2 192.0.2.50/24 up")
    lab.settle()
    got = [lab.out("kernel claim net2 192.0.2.50 02:00:00:00:00:99").strip() for _ in range(4)]
    assert got == ["defended"] * lab.kernel.tunables.max_defend + ["duplicate"]
    assert lab.out("kernel claim net2 192.0.2.77 02:00:00:00:00:99") == "not ours\n"
    rc, _, err = lab.run("kernel claim net2 192.0.2.50 02:00", ok=False)
    assert "6 bytes" in err
