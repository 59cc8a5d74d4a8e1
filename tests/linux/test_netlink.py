"""Carrier from netlink: dissecting RTM_NEWLINK, and a real far-end cut seen by the watcher."""
import struct
import subprocess
import sys
import textwrap

import pytest

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
