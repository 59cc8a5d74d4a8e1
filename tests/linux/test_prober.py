"""in.mpathd's probes on Linux: echo requests from a test address, replies matched by id/seq."""
import subprocess
import sys
import textwrap

import pytest
from scapy.layers.inet import ICMP

from rtsock_emul.linux.prober import echo_request
from rtsock_emul.wire.constants import AF_INET


def test_echo_request_is_a_valid_icmp_echo_with_our_payload():
    body = echo_request(AF_INET, 0x1234, 7, b"\x01" * 12)
    assert body == bytes(ICMP(type=8, id=0x1234, seq=7) / (b"\x01" * 12))   # scapy computes the same checksum


PROBE = textwrap.dedent("""\
    import asyncio, ipaddress, logging, subprocess
    from rtsock_emul.linux.prober import LinuxProber
    from rtsock_emul.wire.constants import AF_INET, AF_INET6
    sh = lambda c: subprocess.run(c, shell=True, check=True)
    # the responder lives in a second throwaway namespace, so replies cross the veth
    peer = subprocess.Popen(["unshare", "--net", "cat"], stdin=subprocess.PIPE)
    sh(f"until [ $(readlink /proc/{peer.pid}/ns/net) != $(readlink /proc/self/ns/net) ]; do :; done")
    sh(f"ip link add net0 type veth peer name far0 netns {peer.pid} && ip link set net0 up")
    far = f"nsenter -t {peer.pid} -n "
    sh(far + "ip link set far0 up && " + far + "ip addr add 192.0.2.20/24 dev far0 && "
       + far + "ip -6 addr add 2001:db8::20/64 dev far0 nodad && "
       + far + "sysctl -q -w net.ipv4.icmp_echo_ignore_broadcasts=0")
    sh("ip addr add 192.0.2.10/24 dev net0 && ip -6 addr add 2001:db8::10/64 dev net0 nodad")
    async def main():
        loop = asyncio.get_running_loop()
        got = asyncio.Queue()
        index = int(open("/sys/class/net/net0/ifindex").read()) if False else \\
            int(subprocess.run("ip -o link show net0", shell=True, capture_output=True, text=True).stdout.split(":")[0])
        p = LinuxProber(loop, logging.getLogger(), lambda n: index)
        p.set_reply_handler(lambda *a: got.put_nowait(a))
        A = ipaddress.ip_address
        p.send_probe("net0", AF_INET, A("192.0.2.10"), A("192.0.2.20"), 41, b"x" * 12)
        print(await asyncio.wait_for(got.get(), 5), flush=True)
        p.send_probe("net0", AF_INET6, A("2001:db8::10"), A("2001:db8::20"), 42, b"x" * 12)
        print(await asyncio.wait_for(got.get(), 5), flush=True)
        p.discover_targets("net0", AF_INET, A("192.0.2.10"), 43, b"x" * 12)
        print(await asyncio.wait_for(got.get(), 5), flush=True)
        p.close()
    try:
        asyncio.run(main())
    finally:
        peer.stdin.close()
        peer.wait()
""")


@pytest.mark.root("network namespaces, raw and packet sockets")
def test_probes_from_a_test_address_get_their_replies_matched():
    """Unicast v4/v6 probes and the all-hosts discovery echo come back as (ifname, af, target, seq)."""
    res = subprocess.run(["unshare", "--net", sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0] == "('net0', 2, IPv4Address('192.0.2.20'), 41)"
    assert lines[1] == "('net0', 26, IPv6Address('2001:db8::20'), 42)"
    assert lines[2] == "('net0', 2, IPv4Address('192.0.2.20'), 43)"


@pytest.mark.root("a network namespace and raw sockets")
def test_probe_sockets_let_only_echo_replies_in():
    """A raw ICMPv6 socket is handed every ICMPv6 message to the host (other hosts'
    probes to ff02::1, NDP, MLD); the kernel filter drops all but echo replies."""
    import asyncio
    import ipaddress
    import logging
    import socket
    import struct

    from rtsock_emul.linux.prober import LinuxProber
    from rtsock_emul.wire.constants import AF_INET6

    loop = asyncio.new_event_loop()
    try:
        p = LinuxProber(loop, logging.getLogger(), lambda name: socket.if_nametoindex(name))
        sock = p._sock("lo", AF_INET6, ipaddress.ip_address("::1"))
        words = struct.unpack("=8I", sock.getsockopt(58, 1, 32))     # ICMP6_FILTER
        blocked = {t for t in range(256) if words[t >> 5] & (1 << (t & 31))}
        assert set(range(256)) - blocked == {129}                       # ICMP6_ECHO_REPLY
        p.close()
    finally:
        loop.close()
