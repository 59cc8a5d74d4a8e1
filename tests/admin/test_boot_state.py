"""A freshly booted host (platform.boot): datalinks, lo0, and the plumbing
semantics of ipadm create-ip / create-addr and ifconfig plumb (libipadm
ipadm_create_if / ipadm_create_addr, ifconfig.c inetplumb)."""
import pytest

from rtsock_emul.mpathd import kview
from rtsock_emul.wire import constants as C

from .helpers import Lab


@pytest.fixture
def fresh():
    return Lab(fresh=True)


def test_boot_lo0_is_the_only_ip_interface(fresh):
    """lo0 from boot: ifindex 1, 127.0.0.1/8 and ::1/128 up, LOOPBACK|RUNNING|VIRTUAL, no broadcast."""
    out = fresh.out("ifconfig -a")
    assert "lo0: flags=2001000849<UP,LOOPBACK,RUNNING,MULTICAST,IPv4,VIRTUAL> mtu 8232 index 1" in out
    assert "lo0: flags=2002000849<UP,LOOPBACK,RUNNING,MULTICAST,IPv6,VIRTUAL> mtu 8252 index 1" in out
    assert "inet 127.0.0.1 netmask ff000000" in out and "broadcast" not in out
    assert "inet6 ::1/128" in out
    assert "net0" not in out and "net1" not in out
    addrs = fresh.out("ipadm show-addr")
    assert "lo0/v4" in addrs and "127.0.0.1/8" in addrs and "lo0/v6" in addrs and "::1/128" in addrs
    assert fresh.out("ifindex lo0") == "1\n"


def test_boot_lo0_routes(fresh):
    """ipif_add_ires: a loopback address has its host IRE only, no subnet route."""
    v4 = [(str(r.dst), r.prefixlen, r.ill.name) for r in fresh.kernel.routes(C.AF_INET)]
    v6 = [(str(r.dst), r.prefixlen, r.ill.name) for r in fresh.kernel.routes(C.AF_INET6)]
    assert v4 == [("127.0.0.1", 32, "lo0")]
    assert v6 == [("::1", 128, "lo0")]
    got = fresh.kernel.route_get(C.AF_INET, "127.0.0.1")
    assert got.ill.name == "lo0"


def test_dladm_show_link_lists_datalinks_before_plumbing(fresh):
    """dladm.c link_fields: LINK 12, CLASS 10, MTU 7, STATE 9, BRIDGE 11, OVER."""
    out = fresh.out("dladm show-link")
    assert out.splitlines() == [
        "LINK        CLASS     MTU    STATE    BRIDGE     OVER",
        "net0        phys      1500   up       --         --",
        "net1        phys      1500   up       --         --",
        "net2        phys      1500   up       --         --",
    ]
    fresh.platform.carrier["net1"] = False
    assert fresh.out("dladm show-link -p -o link,state net1") == "net1:down\n"
    rc, _, err = fresh.run("dladm show-link net9", ok=False)
    assert rc == 1 and err == "dladm: link net9 is not valid: object not found\n"


def test_create_ip_plumbs_with_the_real_link_and_ifindex_in_plumb_order(fresh):
    """ipadm create-ip: v4 and v6 with the datalink's MAC; ifindexes in plumb order after lo0."""
    fresh.run("ipadm create-ip net1")
    fresh.run("ipadm create-ip net0")
    assert fresh.out("ifindex net1") == "2\n" and fresh.out("ifindex net0") == "3\n"
    out = fresh.out("ifconfig net1")
    assert "mtu 1500 index 2" in out and "ether 2:0:0:0:0:2" in out
    out6 = fresh.out("ifconfig net1 inet6")
    assert "inet6 fe80::ff:fe00:2/10" in out6


def test_replumb_after_delete_ip_restores_mac_mtu_carrier(fresh):
    """delete-ip then create-ip: the real MAC, MTU and carrier again; a new ifindex (ips_ill_index)."""
    fresh.run("ipadm create-ip net1")
    fresh.platform.carrier["net1"] = False
    fresh.run("ipadm delete-ip net1")
    fresh.run("ipadm create-ip net1")
    out = fresh.out("ifconfig net1")
    assert "ether 2:0:0:0:0:2" in out and "mtu 1500 index 3" in out
    assert "RUNNING" not in out.splitlines()[0]
    assert "fe80::ff:fe00:2/10" in fresh.out("ifconfig net1 inet6")


def test_create_ip_and_plumb_of_a_missing_datalink_fail_as_libipadm(fresh):
    """IPADM_DLPI_FAILURE: nothing is invented."""
    rc, _, err = fresh.run("ipadm create-ip net9", ok=False)
    assert rc == 1 and err == "ipadm: cannot create interface net9: Could not open DLPI link\n"
    rc, _, err = fresh.run("ifconfig net9 plumb", ok=False)
    assert rc == 1 and err == "ifconfig: cannot plumb net9: Could not open DLPI link\n"
    rc, _, err = fresh.run("ipadm create-addr -T static -a 192.0.2.9/24 net9/v4", ok=False)
    assert rc == 1 and "Could not open DLPI link" in err
    assert "net9" not in fresh.out("ifconfig -a")


def test_create_ip_twice_is_interface_already_exists(fresh):
    fresh.run("ipadm create-ip net0")
    rc, _, err = fresh.run("ipadm create-ip net0", ok=False)
    assert rc == 1 and err == "ipadm: cannot create interface net0: Interface already exists\n"


def test_create_addr_creates_the_interface_for_its_family(fresh):
    """ipadm_create_addr: an unplumbed datalink is plumbed (this family only) and the address goes on ipif 0."""
    fresh.run("ipadm create-addr -T static -a 192.0.2.21/24 net0/v4")
    fresh.settle()
    assert fresh.out("ipadm show-addr net0/v4").splitlines()[1].split()[:4] == \
        ["net0/v4", "static", "ok", "192.0.2.21/24"]
    assert kview.families(fresh.kernel, "net0") == [C.AF_INET]
    assert "inet 192.0.2.21 netmask ffffff00" in fresh.out("ifconfig net0")


def test_ifconfig_plumb_on_a_plumbed_interface_goes_on(fresh):
    """inetplumb: IPADM_IF_EXISTS prints `cannot plumb` and the rest of the line is applied."""
    fresh.run("ifconfig net0 plumb")
    rc, out, err = fresh.run("ifconfig net0 plumb 192.0.2.21/24 deprecated -failover up")
    assert rc == 0 and err == "ifconfig: cannot plumb net0: Interface already exists\n"
    line = fresh.out("ifconfig net0").splitlines()[0]
    assert "UP" in line and "DEPRECATED" in line and "NOFAILOVER" in line


def test_solaris10_plumb_line_on_a_fresh_host(fresh):
    """The classic probe-based line works as typed on a datalink."""
    rc, _, err = fresh.run("ifconfig net0 plumb 192.0.2.21/24 deprecated -failover up")
    assert rc == 0 and err == ""
    fresh.run("ifconfig net0 group ipmp0")
    fresh.run("ifconfig net0 addif 192.0.2.10/24 up")
    fresh.settle()
    assert "ipmp0" in fresh.out("ipmpstat -g")


def test_plumb_of_lo0_is_interface_already_exists_not_dlpi(fresh):
    """ipadm_create_if: an existing interface is IPADM_IF_EXISTS before any DLPI open; lo0 is no datalink."""
    rc, _, err = fresh.run("ifconfig lo0 plumb")
    assert rc == 0 and err == "ifconfig: cannot plumb lo0: Interface already exists\n"
    fresh.run("ipadm delete-ip lo0")
    fresh.run("ipadm create-ip lo0")
    assert "LOOPBACK" in fresh.out("ifconfig lo0").splitlines()[0]
