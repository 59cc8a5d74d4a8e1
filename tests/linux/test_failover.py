"""The Linux platform on a real lab: data addresses follow their binding, DAD sees the wire."""
import threading

import pytest

import rtsock_emul.lab as lab_api
from rtsock_emul.util.wait import wait_until

pytestmark = [pytest.mark.root("network namespaces, raw and packet sockets"), pytest.mark.timeout(120)]
DATA = "192.0.2.10"


@pytest.fixture
def lab():
    lab = lab_api.start("ipmp-pair")
    rc, _, err = lab.admin("h1", "ipmpstat -g")
    if rc == 127:
        lab.stop()
        pytest.skip(f"admin verbs not in the agent yet: {err.strip()}")
    yield lab
    lab.stop()


def linux_holders(lab, host, addr):
    """Linux interfaces of `host` that carry `addr`."""
    out = lab.net[host].cmd("ip -o addr show")
    return [line.split()[1] for line in out.splitlines() if f" {addr}/" in line]


def mac_of(lab, host, ifname):
    return lab.net[host].cmd(f"ip -o link show dev {ifname}").split("link/ether ")[1].split()[0]


def test_R86_R88_data_address_moves_with_its_binding_and_a_peer_ping_survives(lab):
    """R86: the data address is bound to (and realised on) one active member; R88: when that
    member fails it rebinds to the other; Linux follows, a gratuitous ARP points the peer at
    the new member, and a peer pinging every 10 ms loses (almost) nothing."""
    lab.admin_ok("h1", "ipadm create-ip net0")
    lab.admin_ok("h1", "ipadm create-ip net1")
    lab.admin_ok("h1", "ipadm create-ipmp -i net0,net1 ipmp0")
    lab.admin_ok("h1", f"ipadm create-addr -T static -a {DATA}/24 ipmp0/v4")
    first = wait_until(lambda: linux_holders(lab, "h1", DATA), 3, what=f"{DATA} on a member")
    assert len(first) == 1
    other = {"net0": "net1", "net1": "net0"}[first[0]]
    result = {}
    pinger = threading.Thread(target=lambda: result.update(ping=lab.ping("h2", DATA, 200, 0.01)))
    pinger.start()
    try:
        wait_until(lambda: DATA in lab.net["h2"].cmd(f"ip neigh show {DATA}"), 3, what="peer traffic")
        lab.link("h1", first[0], False)
        assert wait_until(lambda: linux_holders(lab, "h1", DATA) == [other], 3, what=f"{DATA} on {other}")
        wait_until(lambda: mac_of(lab, "h1", other) in lab.net["h2"].cmd(f"ip neigh show {DATA}"), 3,
                   what="the peer's ARP entry to follow the gratuitous ARP")
    finally:
        pinger.join()
        lab.link("h1", first[0], True)
    assert result["ping"].sent == 200 and result["ping"].lost <= 10, result


def test_R104_an_address_another_host_owns_is_not_realised(lab):
    """R104: DAD hears h2 answer for 192.0.2.1, so h1 marks it DUPLICATE and never puts it on Linux."""
    lab.admin("h1", "ipadm create-addr -T static -a 192.0.2.1/24 net0/v4")   # fails or succeeds per DAD timing
    wait_until(lambda: "DUPLICATE" in lab.admin("h1", "ifconfig net0")[1], 3,
               what="net0 to be DUPLICATE after DAD")
    assert linux_holders(lab, "h1", "192.0.2.1") == []
