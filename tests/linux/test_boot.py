"""A host on Mininet boots as a fresh illumos host: the veths are datalinks
(Platform.link_info from netlink), lo0 is the only IP interface, and plumbing
takes the link's real MAC, MTU and carrier, also after delete-ip."""
import re

import pytest

import rtsock_emul.lab as lab_api
from rtsock_emul.util.wait import wait_until

pytestmark = [pytest.mark.root("network namespaces, raw and packet sockets"), pytest.mark.timeout(120)]
TOPOLOGY = {"name": "boot", "switches": ["s1"],
            "hosts": {"h1": {"interfaces": {"net0": "s1", "net1": {"switch": "s1", "mtu": 1400},
                                            "net2": {"switch": "s1", "ip": True}}},
                      "h2": {"interfaces": {"net0": {"switch": "s1", "addresses": ["192.0.2.1/24"]}}}}}


@pytest.fixture(scope="module")
def lab():
    lab = lab_api.start(TOPOLOGY)
    yield lab
    lab.stop()


def linux_mac(lab, ifname):
    out = lab.net["h1"].cmd(f"ip -o link show {ifname}")
    return re.search(r"link/ether (\S+)", out).group(1)


def illumos_mac(text):
    """ifconfig prints each octet with %x (no leading zero)."""
    return ":".join(f"{int(b, 16):x}" for b in text.split(":"))


def ether_line(lab, ifname):
    return next(line.split()[1] for line in lab.admin_ok("h1", f"ifconfig {ifname}").splitlines()
                if line.strip().startswith("ether"))


def test_boot_state_datalinks_lo0_and_ip_true(lab):
    links = lab.admin_ok("h1", "dladm show-link").splitlines()
    assert links[0].split() == ["LINK", "CLASS", "MTU", "STATE", "BRIDGE", "OVER"]
    assert [line.split() for line in links[1:]] == [
        ["net0", "phys", "1500", "up", "--", "--"], ["net1", "phys", "1400", "up", "--", "--"],
        ["net2", "phys", "1500", "up", "--", "--"]]
    shown = lab.admin_ok("h1", "ifconfig -a")
    names = sorted({line.split(":")[0] for line in shown.splitlines() if not line.startswith("\t")})
    assert names == ["lo0", "net2"]          # net2 has `ip: true`; net0/net1 are bare
    assert "index 1" in shown.splitlines()[0] and shown.startswith("lo0:")
    assert lab.admin_ok("h1", "ifindex net2") == "2\n"
    assert "127.0.0.1" not in lab.net["h1"].cmd("ip -o addr show dev net2")


def test_plumb_takes_real_mac_mtu_and_carrier_also_after_delete_ip(lab):
    lab.link("h1", "net1", False)
    wait_until(lambda: "net1 phys 1400 down" in " ".join(lab.admin_ok("h1", "dladm show-link net1").split()),
               3, what="dladm to show net1 down")
    lab.admin_ok("h1", "ipadm create-ip net1")
    first = lab.admin_ok("h1", "ifconfig net1").splitlines()[0]
    assert "RUNNING" not in first and "mtu 1400" in first
    assert ether_line(lab, "net1") == illumos_mac(linux_mac(lab, "net1"))
    lab.link("h1", "net1", True)
    wait_until(lambda: "RUNNING" in lab.admin_ok("h1", "ifconfig net1").splitlines()[0], 3,
               what="net1 RUNNING once carrier is back")
    index = int(lab.admin_ok("h1", "ifindex net1"))
    lab.admin_ok("h1", "ipadm delete-ip net1")
    lab.admin_ok("h1", "ipadm create-ip net1")
    first = lab.admin_ok("h1", "ifconfig net1").splitlines()[0]
    assert "RUNNING" in first and "mtu 1400" in first
    assert ether_line(lab, "net1") == illumos_mac(linux_mac(lab, "net1"))
    assert int(lab.admin_ok("h1", "ifindex net1")) > index       # ips_ill_index: a new index


def test_plumb_of_no_datalink_fails(lab):
    rc, _, err = lab.admin("h1", "ifconfig net7 plumb")
    assert rc == 1 and err == "ifconfig: cannot plumb net7: Could not open DLPI link\n"
