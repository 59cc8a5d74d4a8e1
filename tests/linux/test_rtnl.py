"""Address batches over rtnetlink (linux/rtnl.py): the requests' layout, and a real move applied
by the time send() returns, in a throwaway network namespace."""
import socket
import subprocess
import sys
import textwrap

import pytest
from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg

from rtsock_emul.linux import netlink, rtnl


def decode(data: bytes) -> ifaddrmsg:
    msg = ifaddrmsg(data)
    msg.decode()
    return msg


def test_add_v4_carries_local_address_and_broadcast_and_is_create_exclusive():
    msg = decode(rtnl.addr_request("add", 7, "192.0.2.10", 24, seq=5))
    assert msg["header"]["type"] == rtnl.RTM_NEWADDR
    assert msg["header"]["flags"] == (rtnl.NLM_F_REQUEST | rtnl.NLM_F_ACK | rtnl.NLM_F_CREATE | rtnl.NLM_F_EXCL)
    assert msg["header"]["sequence_number"] == 5
    assert (msg["family"], msg["prefixlen"], msg["index"], msg["flags"]) == (socket.AF_INET, 24, 7, 0)
    assert msg.get_attr("IFA_LOCAL") == msg.get_attr("IFA_ADDRESS") == "192.0.2.10"
    assert msg.get_attr("IFA_BROADCAST") == "192.0.2.255"


def test_add_v6_is_nodad_and_del_is_not_create():
    add = decode(rtnl.addr_request("add", 3, "2001:db8::10", 64, seq=1))
    assert add["flags"] == rtnl.IFA_F_NODAD and add.get_attr("IFA_ADDRESS") == "2001:db8::10"
    dele = decode(rtnl.addr_request("del", 3, "192.0.2.10", 31, seq=2))
    assert dele["header"]["type"] == rtnl.RTM_DELADDR
    assert dele["header"]["flags"] == rtnl.NLM_F_REQUEST | rtnl.NLM_F_ACK
    assert dele.get_attr("IFA_BROADCAST") is None          # /31 has no broadcast address


def test_parse_acks_maps_each_sequence_number_to_its_errno():
    def ack(seq, err):
        body = rtnl.NLMSGERR.pack(-err) + netlink.NLMSGHDR.pack(16, rtnl.RTM_NEWADDR, 0, seq, 0)
        return netlink.NLMSGHDR.pack(16 + len(body), rtnl.NLMSG_ERROR, 0, seq, 0) + body
    assert rtnl.parse_acks(ack(1, 0) + ack(2, 17)) == {1: 0, 2: 17}


MOVE = textwrap.dedent("""\
    import socket, subprocess
    from rtsock_emul.linux import rtnl
    sh = lambda c: subprocess.run(c, shell=True, check=True, capture_output=True, text=True).stdout
    for n in (0, 1):
        sh(f"ip link add net{n} type veth peer name far{n} && ip link set net{n} up && ip link set far{n} up")
    i0, i1 = socket.if_nametoindex("net0"), socket.if_nametoindex("net1")
    b = rtnl.AddrBatcher()
    print(b.apply([("add", i0, "192.0.2.10", 24)]))
    print(b.apply([("add", i1, "192.0.2.10", 24), ("del", i0, "192.0.2.10", 24)]))
    print([l.split()[1] for l in sh("ip -o -4 addr show").splitlines() if " 192.0.2.10/24 " in l])
    print(b.apply([("add", i1, "192.0.2.10", 24), ("del", i0, "192.0.2.10", 24)]))
""")


@pytest.mark.root("a network namespace and netlink")
def test_a_move_is_applied_when_send_returns_and_errors_come_back_per_request():
    """One send: the address is on net1 and gone from net0 before any event-loop turn
    (the acks are read without waiting); a repeat gives EEXIST and EADDRNOTAVAIL."""
    res = subprocess.run(["unshare", "--net", sys.executable, "-c", MOVE], capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split("\n")[:4] == ["[0]", "[0, 0]", "['net1']", "[17, 99]"]
