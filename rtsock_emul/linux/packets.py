"""ARP and NDP on one Linux interface: DAD probes, announcements, conflicts.

Frames are built with scapy (only when the kernel asks for one: DAD and
failover, not a hot path) and sent through one AF_PACKET socket per
interface. Received ARP/NDP is dissected by offsets (every frame on the link
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
ARP_FMT = struct.Struct("!HHBBH6s4s6s4s")      # struct ether_arp
BROADCAST = b"\xff" * 6
RECV_SIZE = 2048


def solicited_node(addr: ipaddress.IPv6Address) -> ipaddress.IPv6Address:
    return ipaddress.IPv6Address(b"\xff\x02" + b"\x00" * 9 + b"\x01\xff" + addr.packed[13:])


def multicast_mac(addr: ipaddress.IPv6Address) -> bytes:
    return b"\x33\x33" + addr.packed[12:]


def arp_probe(mac: bytes, addr: ipaddress.IPv4Address) -> bytes:
    """RFC 5227 probe: who-has addr, sender IP 0.0.0.0."""
    from scapy.layers.l2 import ARP, Ether
    return bytes(Ether(dst=BROADCAST, src=mac) /
                 ARP(op=1, hwsrc=mac, psrc="0.0.0.0", hwdst=b"\0" * 6, pdst=str(addr)))


def arp_announce(mac: bytes, addr: ipaddress.IPv4Address) -> bytes:
    """Gratuitous ARP request: sender and target IP are addr."""
    from scapy.layers.l2 import ARP, Ether
    return bytes(Ether(dst=BROADCAST, src=mac) /
                 ARP(op=1, hwsrc=mac, psrc=str(addr), hwdst=b"\0" * 6, pdst=str(addr)))


def ns_dad(mac: bytes, addr: ipaddress.IPv6Address) -> bytes:
    """DAD neighbour solicitation: from ::, to the solicited-node group, no SLLA."""
    from scapy.layers.inet6 import ICMPv6ND_NS, IPv6
    from scapy.layers.l2 import Ether
    group = solicited_node(addr)
    return bytes(Ether(dst=multicast_mac(group), src=mac) /
                 IPv6(src="::", dst=str(group), hlim=255) / ICMPv6ND_NS(tgt=str(addr)))


def na_unsolicited(mac: bytes, addr: ipaddress.IPv6Address) -> bytes:
    """Unsolicited NA to all-nodes with the override flag and our link address."""
    from scapy.layers.inet6 import ICMPv6ND_NA, ICMPv6NDOptDstLLAddr, IPv6
    from scapy.layers.l2 import Ether
    return bytes(Ether(dst=multicast_mac(ipaddress.IPv6Address("ff02::1")), src=mac) /
                 IPv6(src=str(addr), dst="ff02::1", hlim=255) /
                 ICMPv6ND_NA(tgt=str(addr), R=0, S=0, O=1) / ICMPv6NDOptDstLLAddr(lladdr=mac))


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


class LinkSocket:
    """An AF_PACKET socket on one interface: sends frames, receives ARP and IPv6."""

    def __init__(self, ifname: str, proto: int):
        self.ifname = ifname
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(proto))
        self.sock.bind((ifname, proto))
        self.sock.setblocking(False)

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
