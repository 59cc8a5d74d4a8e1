"""The IPv6 link socket's BPF filter: neighbor solicitations and advertisements reach
the agent, other IPv6 frames (echo to ff02::1, MLD, UDP) are dropped in the kernel.
Run in a child process inside a network namespace of its own (unshare), on a veth pair
made there: nothing leaves that namespace."""
import json
import subprocess
import sys

import pytest

CHILD = r'''
import ctypes, json, os, select, socket, struct, subprocess
from rtsock_emul.linux import packets
if ctypes.CDLL(None, use_errno=True).unshare(0x40000000) != 0:
    raise SystemExit("unshare(CLONE_NEWNET) failed")
subprocess.run(["ip", "link", "add", "a0", "type", "veth", "peer", "name", "b0"], check=True)
subprocess.run(["ip", "link", "set", "a0", "up"], check=True)
subprocess.run(["ip", "link", "set", "b0", "up"], check=True)
rx = packets.LinkSocket("b0", packets.ETH_P_IPV6)
tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
tx.bind(("a0", 0))

def frame(nxt, icmp_type):
    eth = b"\x33\x33\x00\x00\x00\x01" + b"\x02\x00\x00\x00\x00\x01" + b"\x86\xdd"
    body = bytes([icmp_type, 0, 0, 0]) + bytes(20)
    ip6 = struct.pack("!IHBB16s16s", 0x60000000, len(body), nxt, 255, b"\xfe\x80" + bytes(14), b"\xff\x02" + bytes(13) + b"\x01")
    return eth + ip6 + body

sent = {"ns": (58, 135), "na": (58, 136), "echo": (58, 128), "mld": (58, 143), "udp": (17, 135)}
for name, (nxt, kind) in sent.items():
    tx.send(frame(nxt, kind) + name.encode())
seen = []
while select.select([rx.sock], [], [], 0.5)[0]:
    data = rx.sock.recv(2048)
    seen += [n for n in sent if data.endswith(n.encode())]
print(json.dumps(sorted(seen)))
'''


@pytest.mark.root("a network namespace and packet sockets")
def test_only_neighbor_discovery_reaches_the_ipv6_link_socket():
    res = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=30)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == ["na", "ns"]
