"""The link sockets' BPF filters (R104, R105 input): a DAD probe, announcement or ARP
claim reaches the agent only when it names an address we claim on that interface;
other hosts' claims, IPv6 traffic that is not neighbor discovery and ARP requests
that merely ask for our address are dropped in the kernel, and the filter follows
claim() when our addresses change. Run in a child process inside a network
namespace of its own (unshare), on a veth pair made there: nothing leaves it."""
import json
import subprocess
import sys

import pytest

CHILD = r'''
import ctypes, ipaddress, json, select, socket, struct, subprocess
from rtsock_emul.linux import packets
if ctypes.CDLL(None, use_errno=True).unshare(0x40000000) != 0:
    raise SystemExit("unshare(CLONE_NEWNET) failed")
subprocess.run(["ip", "link", "add", "a0", "type", "veth", "peer", "name", "b0"], check=True)
subprocess.run(["ip", "link", "set", "a0", "up"], check=True)
subprocess.run(["ip", "link", "set", "b0", "up"], check=True)
rx = {"arp": packets.LinkSocket("b0", packets.ETH_P_ARP), "ip6": packets.LinkSocket("b0", packets.ETH_P_IPV6)}
tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
tx.bind(("a0", 0))
PEER = b"\x02\x00\x00\x00\x00\x01"
A = ipaddress.ip_address
OURS4, NEW4, OTHER4 = A("192.0.2.1"), A("192.0.2.3"), A("192.0.2.2")
OURS6, NEW6, OTHER6 = A("fe80::aa:1"), A("2001:db8::3"), A("fe80::aa:2")

def echo_to_all_nodes(target):
    """An ICMPv6 echo request laid out like an NS, with `target` where an NS has it."""
    icmp = bytes([128, 0, 0, 0]) + bytes(4) + target.packed
    ip6 = struct.pack("!IHBB16s16s", 0x60000000, len(icmp), 58, 255, OTHER6.packed, A("ff02::1").packed)
    return b"\x33\x33\x00\x00\x00\x01" + PEER + b"\x86\xdd" + ip6 + icmp

frames = {
    "ns ours": packets.ns_dad(PEER, OURS6), "ns other": packets.ns_dad(PEER, OTHER6),
    "na ours": packets.na_unsolicited(PEER, OURS6), "na other": packets.na_unsolicited(PEER, OTHER6),
    "ns new": packets.ns_dad(PEER, NEW6), "echo ours": echo_to_all_nodes(OURS6),
    "probe ours": packets.arp_probe(PEER, OURS4), "probe other": packets.arp_probe(PEER, OTHER4),
    "garp ours": packets.arp_announce(PEER, OURS4), "garp other": packets.arp_announce(PEER, OTHER4),
    "who-has ours": packets._arp_request(PEER, OTHER4.packed, OURS4.packed),
    "probe new": packets.arp_probe(PEER, NEW4),
}

monitor = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))   # ETH_P_ALL
monitor.bind(("b0", 0))

def seen():
    """Tags of the frames that reached the filtered sockets. The last frame sent goes
    to an unfiltered socket as well: a received frame is handed to every packet
    socket of the device in one pass, so once it is there the others are queued."""
    for name, frame in frames.items():
        tx.send(frame + b"#" + name.encode())
    tx.send(b"\xff" * 6 + PEER + b"\x88\xb5#end")
    while monitor.recv(2048).rsplit(b"#", 1)[-1] != b"end":
        pass
    got = []
    for sock in rx.values():
        got += [data.rsplit(b"#", 1)[-1].decode() for data in sock.recv_all()]
    return sorted(got)

out = {"none claimed": seen()}
rx["arp"].claim([OURS4, A("0.0.0.0")]); rx["ip6"].claim([OURS6])
out["ours claimed"] = seen()
rx["arp"].claim([NEW4]); rx["ip6"].claim([NEW6])
out["after the change"] = seen()

def no_memory(*_args):
    raise OSError(12, "Cannot allocate memory")
packets.attach_filter = no_memory        # a program the kernel refuses: no filter at all then
for sock in rx.values():
    try:
        sock.claim([OURS4, OURS6])
    except OSError:
        out.setdefault("refused", []).append(sock.claimed)
out["unfiltered"] = seen()
print(json.dumps(out))
'''


@pytest.mark.root("a network namespace and packet sockets")
def test_R104_only_claims_of_our_addresses_reach_the_link_sockets():
    res = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["none claimed"] == []
    assert out["ours claimed"] == ["garp ours", "na ours", "ns ours", "probe ours"]
    assert out["after the change"] == ["ns new", "probe new"]
    # a refused program leaves the socket unfiltered (slower, but every claim is judged)
    assert out["refused"] == [None, None]
    assert out["unfiltered"] == sorted(["ns ours", "ns other", "na ours", "na other", "ns new", "echo ours",
                                        "probe ours", "probe other", "garp ours", "garp other",
                                        "who-has ours", "probe new"])


def test_filter_programs_stay_within_what_the_kernel_accepts():
    """Jumps are 8-bit (every one here is short) and a program holds at most 4096
    instructions: beyond that every claim passes to the agent, which judges it."""
    import ipaddress

    from rtsock_emul.linux import packets
    many = [ipaddress.ip_address(f"10.0.{i // 256}.{i % 256}") for i in range(3000)]
    prog = packets.claim_filter(packets.ETH_P_ARP, many)
    assert len(prog) <= packets.BPF_MAXINSNS and prog[-1] == packets.ACCEPT
    few = packets.claim_filter(packets.ETH_P_ARP, many[:100])
    assert len(few) == 3 + 2 * 100 + 1 and few[-1] == packets.DROP
    assert all(jt < 256 and jf < 256 for _code, jt, jf, _k in prog + few)
