"""Address and route batches over rtnetlink (linux/rtnl.py): the requests' layout, read back
with pyroute2's dissectors, and real batches applied by the time send() returns, in a
throwaway network namespace, checked against `ip`."""
import errno
import socket
import subprocess
import sys
import textwrap

import pytest
from pyroute2.netlink.rtnl.ifaddrmsg import ifaddrmsg
from pyroute2.netlink.rtnl.rtmsg import rtmsg

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
    b = rtnl.Batcher()
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


def decode_route(data: bytes) -> rtmsg:
    msg = rtmsg(data)
    msg.decode()
    return msg


def test_route_replace_is_a_static_unicast_route_in_the_main_table_through_the_gateway():
    msg = decode_route(rtnl.route_request("replace", "198.51.100.0/24", "192.0.2.254", 4, seq=9))
    assert msg["header"]["type"] == rtnl.RTM_NEWROUTE and msg["header"]["sequence_number"] == 9
    assert msg["header"]["flags"] == (rtnl.NLM_F_REQUEST | rtnl.NLM_F_ACK | rtnl.NLM_F_CREATE | rtnl.NLM_F_REPLACE)
    assert (msg["family"], msg["dst_len"], msg["table"], msg["proto"], msg["scope"], msg["type"]) == \
        (socket.AF_INET, 24, 254, 4, 0, 1)                   # main, static, universe, unicast
    assert (msg.get_attr("RTA_DST"), msg.get_attr("RTA_GATEWAY"), msg.get_attr("RTA_OIF")) == \
        ("198.51.100.0", "192.0.2.254", 4)


def test_route_default_has_no_destination_and_del_matches_without_creating():
    msg = decode_route(rtnl.route_request("del", "::/0", "2001:db8::fe", None, seq=1))
    assert msg["header"]["type"] == rtnl.RTM_DELROUTE
    assert msg["header"]["flags"] == rtnl.NLM_F_REQUEST | rtnl.NLM_F_ACK
    assert (msg["family"], msg["dst_len"]) == (socket.AF_INET6, 0)
    assert msg.get_attr("RTA_DST") is None and msg.get_attr("RTA_OIF") is None
    assert msg.get_attr("RTA_GATEWAY") == "2001:db8::fe"


ROUTES = textwrap.dedent("""\
    import ipaddress, socket, subprocess
    from rtsock_emul.linux import rtnl
    sh = lambda c: subprocess.run(c, shell=True, check=True, capture_output=True, text=True).stdout
    sh("ip link add net0 type veth peer name far0 && ip link set net0 up && ip link set far0 up")
    sh("ip addr add 192.0.2.1/24 dev net0 && ip -6 addr add 2001:db8::1/64 dev net0 nodad")
    i0 = socket.if_nametoindex("net0")
    net, v6 = ipaddress.ip_network("198.51.100.0/24"), ipaddress.ip_network("2001:db8:1::/64")
    b = rtnl.Batcher()
    print(b.routes([("replace", net, "192.0.2.254", None), ("replace", "0.0.0.0/0", "192.0.2.254", i0),
                    ("replace", v6, "2001:db8::fe", None)]))
    print(sh("ip route show proto static; ip -6 route show proto static").replace(chr(10), "|"))
    print(b.routes([("del", net, "192.0.2.254", None), ("replace", net, "192.0.2.253", i0),
                    ("del", v6, "2001:db8::fe", None), ("del", v6, "2001:db8::fe", None),
                    ("replace", "203.0.113.0/24", "10.9.9.9", None)]))
    print(sh("ip route show proto static; ip -6 route show proto static").replace(chr(10), "|"))
""")


@pytest.mark.root("a network namespace and netlink")
def test_route_batches_are_applied_in_order_as_ip_route_shows_and_errors_come_back_per_request():
    """Replacements land as `ip route` shows them (default route included, IPv6 too); in one
    batch a del goes before the replace after it; a second del is ESRCH, an unreachable
    gateway ENETUNREACH, and neither stops the rest."""
    res = subprocess.run(["unshare", "--net", sys.executable, "-c", ROUTES], capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.split("\n")
    assert lines[0] == "[0, 0, 0]"
    assert lines[1].split("|")[:3] == ["default via 192.0.2.254 dev net0 ",
                                       "198.51.100.0/24 via 192.0.2.254 dev net0 ",
                                       "2001:db8:1::/64 via 2001:db8::fe dev net0 metric 1024 pref medium"]
    assert lines[2] == f"[0, 0, 0, {errno.ESRCH}, {errno.ENETUNREACH}]"
    assert lines[3].split("|")[:2] == ["default via 192.0.2.254 dev net0 ",
                                       "198.51.100.0/24 via 192.0.2.253 dev net0 "]
    assert lines[3].count("|") == 2                       # the IPv6 route is gone; nothing else
