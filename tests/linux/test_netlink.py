"""Links from netlink: dissecting RTM_NEWLINK, the link dump at start checked against pyroute2's
ifinfmsg and `ip link`, and a real far-end cut seen by the watcher."""
import errno
import json
import struct
import subprocess
import sys
import textwrap

import pytest
from pyroute2.netlink.rtnl.ifinfmsg import ifinfmsg

from rtsock_emul.linux import netlink


def newlink(index, name, flags, mtype=netlink.RTM_NEWLINK):
    attr_name = name.encode() + b"\0"
    attr = struct.pack("=HH", 4 + len(attr_name), netlink.IFLA_IFNAME) + attr_name
    attr += b"\0" * (-len(attr) % 4)
    body = netlink.IFINFOMSG.pack(0, 1, index, flags, 0) + attr
    return netlink.NLMSGHDR.pack(16 + len(body), mtype, 0, 0, 0) + body


def test_parse_links_reads_index_name_and_flags_of_each_message():
    buf = newlink(2, "net0", netlink.IFF_UP | netlink.IFF_LOWER_UP) + newlink(3, "net1", netlink.IFF_UP)
    assert list(netlink.parse_links(buf)) == [
        (netlink.RTM_NEWLINK, 2, "net0", netlink.IFF_UP | netlink.IFF_LOWER_UP),
        (netlink.RTM_NEWLINK, 3, "net1", netlink.IFF_UP)]


def test_running_needs_admin_up_and_carrier():
    assert netlink.running(netlink.IFF_UP | netlink.IFF_LOWER_UP)
    assert not netlink.running(netlink.IFF_UP)
    assert not netlink.running(netlink.IFF_LOWER_UP)


def pyroute2_link(index, name, mac, mtu, flags, seq=1) -> bytes:
    msg = ifinfmsg()
    msg["header"].update(type=netlink.RTM_NEWLINK, flags=0x2, sequence_number=seq)   # NLM_F_MULTI
    msg.update(family=0, index=index, flags=flags, change=0)
    msg["attrs"] = [("IFLA_IFNAME", name), ("IFLA_MTU", mtu), ("IFLA_ADDRESS", mac)]
    msg.encode()
    return bytes(msg.data)


def test_parse_dump_reads_what_pyroute2_lays_out_until_done():
    done = netlink.NLMSGHDR.pack(20, netlink.NLMSG_DONE, 0x2, 1, 0) + b"\0" * 4
    links: list = []
    assert not netlink.parse_dump(pyroute2_link(2, "net0", "02:00:00:00:00:0a", 1500, netlink.IFF_UP), links)
    assert netlink.parse_dump(pyroute2_link(3, "net1", "02:00:00:00:00:0b", 9000, 0) + done, links)
    assert links == [netlink.Link(2, "net0", bytes.fromhex("02000000000a"), 1500, netlink.IFF_UP),
                     netlink.Link(3, "net1", bytes.fromhex("02000000000b"), 9000, 0)]


def test_parse_dump_raises_the_errno_of_an_error_reply():
    request = netlink.link_request(1)
    reply = netlink.NLMSGERR.pack(-errno.EPERM) + request[:netlink.NLMSGHDR.size]
    with pytest.raises(PermissionError, match="link dump"):
        netlink.parse_dump(netlink.NLMSGHDR.pack(16 + len(reply), netlink.NLMSG_ERROR, 0, 1, 0) + reply, [])


DUMP = textwrap.dedent("""\
    import json, subprocess
    from rtsock_emul.linux import netlink
    sh = lambda c: subprocess.run(c, shell=True, check=True, capture_output=True, text=True).stdout
    for n in range(40):          # more than one part of a dump
        sh(f"ip link add net{n} address 02:00:00:00:01:{n:02x} mtu {1280 + n} type veth peer name far{n}")
    sh("ip link set net0 up && ip link set far0 up && ip link set net1 up")
    print(json.dumps([[l.ifi_index, l.ifname, l.address.hex(":"), l.mtu, l.ifi_flags] for l in netlink.dump_links()]))
    print(sh("ip -j link show"))
""")


@pytest.mark.root("a network namespace and netlink")
def test_the_link_dump_has_every_link_as_ip_link_shows_it():
    """Index, name, link-layer address, MTU and flags of every link of a namespace (loopback,
    veths up with carrier, up without, down), as `ip -j link` reads them."""
    res = subprocess.run(["unshare", "--net", sys.executable, "-c", DUMP], capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    ours, theirs = res.stdout.split("\n")[:2]
    want = [[link["ifindex"], link["ifname"], link["address"], link["mtu"]] for link in json.loads(theirs)]
    ours = json.loads(ours)
    assert [row[:4] for row in ours] == want and len(ours) == 81
    flags = {name: f for _i, name, _a, _m, f in ours}
    assert netlink.running(flags["net0"]) and not netlink.running(flags["net1"])
    assert not flags["net2"] & netlink.IFF_UP and netlink.running(flags["lo"]) is False


WATCH = textwrap.dedent("""\
    import asyncio, logging, subprocess
    from rtsock_emul.linux.netlink import LinkWatcher
    sh = lambda c: subprocess.run(c, shell=True, check=True)
    sh("ip link add net0 type veth peer name far0 && ip link set net0 up && ip link set far0 up")
    async def main():
        loop = asyncio.get_running_loop()
        seen = asyncio.Queue()
        w = LinkWatcher(loop, ["net0"], lambda n, r: seen.put_nowait((n, r)), logging.getLogger())
        w.seed("net0", True)
        sh("ip link set far0 down")
        print(await asyncio.wait_for(seen.get(), 5), flush=True)
        sh("ip link set far0 up")
        print(await asyncio.wait_for(seen.get(), 5), flush=True)
    asyncio.run(main())
""")


@pytest.mark.root("network namespaces, raw and packet sockets")
def test_R63_R64_far_end_down_and_up_reach_the_watcher():
    """R63/R64: carrier loss and return on the far end are events (no polling), in a throwaway netns."""
    res = subprocess.run(["unshare", "--net", sys.executable, "-c", WATCH], capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split("\n")[:2] == ["('net0', False)", "('net0', True)"]
