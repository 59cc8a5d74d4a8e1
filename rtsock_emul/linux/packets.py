"""ARP and NDP on one Linux interface: DAD probes, announcements, conflicts.

Frames are laid out with struct (the tests check them against scapy's
dissectors; importing scapy in every agent would cost ~40 MB RSS each) and
sent through one AF_PACKET socket per interface. Received ARP/NDP is dissected by offsets (every frame on the link
passes here), and only frames that claim an address from a MAC that is not
ours are reported as possible conflicts; the kernel decides (R104, R105, R108).
"""
from __future__ import annotations

import ipaddress
import socket
import struct

ETH_P_ARP = 0x0806
ETH_P_IPV6 = 0x86DD
PACKET_OUTGOING = 4
ETH_HLEN = 14
IPV6_HLEN = 40
IPPROTO_ICMPV6 = 58
ND_NEIGHBOR_SOLICIT, ND_NEIGHBOR_ADVERT = 135, 136
ETH_P_IP = 0x0800
ARPHRD_ETHER, ARPOP_REQUEST = 1, 1
ARP_FMT = struct.Struct("!HHBBH6s4s6s4s")      # struct ether_arp
IPV6_HDR = struct.Struct("!IHBB16s16s")         # ver/class/flow, plen, nxt, hlim, src, dst
ND_HDR = struct.Struct("!BBHI")                 # type, code, cksum, flags/reserved
ND_NA_FLAG_OVERRIDE = 0x20000000
ND_OPT_TARGET_LINKADDR = 2
UNSPECIFIED = ipaddress.IPv6Address("::")
ALL_NODES = ipaddress.IPv6Address("ff02::1")
BROADCAST = b"\xff" * 6
RECV_SIZE = 2048


def solicited_node(addr: ipaddress.IPv6Address) -> ipaddress.IPv6Address:
    return ipaddress.IPv6Address(b"\xff\x02" + b"\x00" * 9 + b"\x01\xff" + addr.packed[13:])


def multicast_mac(addr: ipaddress.IPv6Address) -> bytes:
    return b"\x33\x33" + addr.packed[12:]


def _ether(dst: bytes, src: bytes, ethertype: int) -> bytes:
    return dst + src + struct.pack("!H", ethertype)


def _arp_request(mac: bytes, spa: bytes, tpa: bytes) -> bytes:
    return _ether(BROADCAST, mac, ETH_P_ARP) + ARP_FMT.pack(
        ARPHRD_ETHER, ETH_P_IP, 6, 4, ARPOP_REQUEST, mac, spa, b"\0" * 6, tpa)


def arp_probe(mac: bytes, addr: ipaddress.IPv4Address) -> bytes:
    """RFC 5227 probe: who-has addr, sender IP 0.0.0.0."""
    return _arp_request(mac, b"\0" * 4, addr.packed)


def arp_announce(mac: bytes, addr: ipaddress.IPv4Address) -> bytes:
    """Gratuitous ARP request: sender and target IP are addr."""
    return _arp_request(mac, addr.packed, addr.packed)


def _icmp6_frame(mac: bytes, dst_mac: bytes, src, dst, icmp: bytes) -> bytes:
    """Ethernet + IPv6 (hop limit 255, as NDP requires) + ICMPv6 with its checksum."""
    pseudo = src.packed + dst.packed + struct.pack("!I3xB", len(icmp), IPPROTO_ICMPV6)
    icmp = icmp[:2] + struct.pack("!H", _checksum(pseudo + icmp)) + icmp[4:]
    ip6 = IPV6_HDR.pack(0x60000000, len(icmp), IPPROTO_ICMPV6, 255, src.packed, dst.packed)
    return _ether(dst_mac, mac, ETH_P_IPV6) + ip6 + icmp


def ns_dad(mac: bytes, addr: ipaddress.IPv6Address) -> bytes:
    """DAD neighbour solicitation: from ::, to the solicited-node group, no SLLA."""
    group = solicited_node(addr)
    icmp = ND_HDR.pack(ND_NEIGHBOR_SOLICIT, 0, 0, 0) + addr.packed
    return _icmp6_frame(mac, multicast_mac(group), UNSPECIFIED, group, icmp)


def na_unsolicited(mac: bytes, addr: ipaddress.IPv6Address) -> bytes:
    """Unsolicited NA to all-nodes with the override flag and our link address."""
    icmp = ND_HDR.pack(ND_NEIGHBOR_ADVERT, 0, 0, ND_NA_FLAG_OVERRIDE) + addr.packed
    icmp += bytes([ND_OPT_TARGET_LINKADDR, 1]) + mac
    return _icmp6_frame(mac, multicast_mac(ALL_NODES), addr, ALL_NODES, icmp)


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total >> 16) + (total & 0xFFFF)
    return ~total & 0xFFFF


def parse_claim(frame: bytes):
    """(version, addr, src_mac) when the frame claims or probes for an address, else None.

    ARP: the sender IP it claims, or for a probe (sender 0.0.0.0) its target.
    NDP: an NA's target, or a DAD NS's target (from ::)."""
    if len(frame) < ETH_HLEN:
        return None
    ethertype = frame[12:14]
    if ethertype == b"\x08\x06" and len(frame) >= ETH_HLEN + ARP_FMT.size:
        _, ptype, hlen, plen, _op, sha, spa, _tha, tpa = ARP_FMT.unpack_from(frame, ETH_HLEN)
        if ptype != 0x0800 or hlen != 6 or plen != 4:
            return None
        claimed = tpa if spa == b"\0\0\0\0" else spa
        return 4, ipaddress.IPv4Address(claimed), sha
    if ethertype == b"\x86\xdd" and len(frame) >= ETH_HLEN + IPV6_HLEN + 24:
        if frame[ETH_HLEN + 6] != IPPROTO_ICMPV6:
            return None
        icmp = ETH_HLEN + IPV6_HLEN
        kind = frame[icmp]
        src = frame[ETH_HLEN + 8:ETH_HLEN + 24]
        target = ipaddress.IPv6Address(frame[icmp + 8:icmp + 24])
        if kind == ND_NEIGHBOR_ADVERT or (kind == ND_NEIGHBOR_SOLICIT and src == b"\0" * 16):
            return 6, target, frame[6:12]
    return None


SO_ATTACH_FILTER, SO_DETACH_FILTER = 26, 27
# Classic BPF (code, jt, jf, k), offsets from the Ethernet header. Each link socket
# passes only frames whose claimed address (parse_claim) is one of `claimed`, the
# addresses up on that interface or its group (Kernel.claimed): on a LAN shared by
# many hosts every other host's DAD probe, announcement and ARP request would
# otherwise wake every agent. The agent still judges each frame that passes.
BPF_LD_W, BPF_LD_B, BPF_JEQ, BPF_RET = 0x20, 0x30, 0x15, 0x06
ACCEPT, DROP = (BPF_RET, 0, 0, 0x40000), (BPF_RET, 0, 0, 0)
ARP_SPA, ARP_TPA = ETH_HLEN + 14, ETH_HLEN + 24
ND_TARGET_LAST_WORD = ETH_HLEN + IPV6_HLEN + 8 + 12
BPF_MAXINSNS = 4096


def _one_of(words) -> list:
    """Accept when the accumulator is one of `words` (jump offsets stay short), else drop."""
    prog = []
    for word in sorted(set(words)):
        prog += [(BPF_JEQ, 0, 1, word), ACCEPT]
    return prog + [DROP]


def claim_filter(proto: int, claimed) -> list:
    """The program for a link socket of `proto`, given the addresses we claim there.
    ARP: the sender address, or a probe's (sender 0.0.0.0) target. IPv6: neighbor
    solicitations and advertisements whose target ends in the last 32 bits of one
    of ours (the agent compares the whole address)."""
    if proto == ETH_P_ARP:
        words = [int.from_bytes(a.packed, "big") for a in claimed if a.version == 4]
        prog = [(BPF_LD_W, 0, 0, ARP_SPA),
                (BPF_JEQ, 0, 1, 0),                   # a probe: its target is what it claims
                (BPF_LD_W, 0, 0, ARP_TPA)]
    else:
        words = [int.from_bytes(a.packed[12:], "big") for a in claimed if a.version == 6]
        prog = [(BPF_LD_B, 0, 0, ETH_HLEN + 6),       # IPv6 next header
                (BPF_JEQ, 0, 3, IPPROTO_ICMPV6),
                (BPF_LD_B, 0, 0, ETH_HLEN + IPV6_HLEN),   # ICMPv6 type
                (BPF_JEQ, 2, 0, ND_NEIGHBOR_SOLICIT),
                (BPF_JEQ, 1, 0, ND_NEIGHBOR_ADVERT),
                DROP,
                (BPF_LD_W, 0, 0, ND_TARGET_LAST_WORD)]
    tail = _one_of(words)
    if len(prog) + len(tail) > BPF_MAXINSNS:   # more addresses than a program holds: judge in Python
        tail = [ACCEPT]
    return prog + tail


def attach_filter(sock: socket.socket, program) -> None:
    """SO_ATTACH_FILTER: a classic BPF program (tuples of code, jt, jf, k) on `sock`."""
    import ctypes
    insns = ctypes.create_string_buffer(b"".join(struct.pack("=HBBI", *ins) for ins in program))
    fprog = struct.pack("HL", len(program), ctypes.addressof(insns))   # struct sock_fprog
    sock.setsockopt(socket.SOL_SOCKET, SO_ATTACH_FILTER, fprog)


class LinkSocket:
    """An AF_PACKET socket on one interface: sends frames, receives the ARP or IPv6 ND
    frames that claim one of the addresses given to claim() (none at first), or with
    tap=True every frame of `proto` (a capture, as the benchmarks use)."""

    def __init__(self, ifname: str, proto: int, tap: bool = False) -> None:
        self.ifname, self.proto = ifname, proto
        # protocol 0 receives nothing until bind() sets it: made with `proto`, the socket
        # would first listen on every interface and bind() would wait for an RCU grace
        # period (synchronize_net, ~9 ms) to take that back
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
        self.claimed: frozenset | None = None if tap else frozenset()    # None: unfiltered
        if not tap:
            attach_filter(self.sock, claim_filter(proto, ()))    # before bind: nothing unfiltered queues
        self.sock.bind((ifname, proto))
        self.sock.setblocking(False)

    def claim(self, addrs) -> None:
        """Let through the claims of exactly these addresses from now on (frames
        already queued stay queued)."""
        addrs = frozenset(addrs)
        if addrs != self.claimed:
            try:
                attach_filter(self.sock, claim_filter(self.proto, addrs))
            except OSError:    # no filter at all then: every frame reaches the agent, which judges it
                self.sock.setsockopt(socket.SOL_SOCKET, SO_DETACH_FILTER, 0)
                self.claimed = None
                raise
            self.claimed = addrs

    def send(self, frame: bytes) -> None:
        self.sock.send(frame)

    def recv_all(self):
        """Frames received from the wire (not our own sends) until the queue is empty."""
        while True:
            try:
                frame, addr = self.sock.recvfrom(RECV_SIZE)
            except BlockingIOError:
                return
            if addr[2] != PACKET_OUTGOING:
                yield frame

    def fileno(self) -> int:
        return self.sock.fileno()

    def close(self) -> None:
        self.sock.close()
