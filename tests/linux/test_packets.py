"""ARP/NDP frames the platform sends, and the claims it recognises (R104 input)."""
import ipaddress

from scapy.layers.inet6 import ICMPv6EchoRequest, ICMPv6ND_NA, ICMPv6ND_NS, ICMPv6NDOptDstLLAddr, IPv6
from scapy.layers.l2 import ARP, Ether

from rtsock_emul.linux import packets

MAC = bytes.fromhex("020000000001")
OTHER = bytes.fromhex("02000000aaaa")
V4 = ipaddress.IPv4Address("192.0.2.10")
V6 = ipaddress.IPv6Address("2001:db8::10")


def test_arp_probe_has_sender_0_and_is_seen_as_a_probe_for_its_target():
    frame = packets.arp_probe(MAC, V4)
    arp = Ether(frame)[ARP]
    assert (arp.op, arp.psrc, arp.pdst, arp.hwsrc) == (1, "0.0.0.0", "192.0.2.10", "02:00:00:00:00:01")
    assert frame == bytes(Ether(dst="ff:ff:ff:ff:ff:ff", src=MAC) /
                          ARP(op=1, hwsrc=MAC, psrc="0.0.0.0", hwdst="00:00:00:00:00:00", pdst=str(V4)))
    assert packets.parse_claim(frame) == (4, V4, MAC)


def test_gratuitous_arp_claims_its_address():
    frame = packets.arp_announce(MAC, V4)
    arp = Ether(frame)[ARP]
    assert arp.psrc == arp.pdst == "192.0.2.10" and Ether(frame).dst == "ff:ff:ff:ff:ff:ff"
    assert packets.parse_claim(frame) == (4, V4, MAC)


def test_arp_reply_claims_the_sender_address():
    frame = bytes(Ether(src=OTHER, dst=MAC) / ARP(op=2, hwsrc=OTHER, psrc="192.0.2.10", pdst="0.0.0.0"))
    assert packets.parse_claim(frame) == (4, V4, OTHER)


def test_R101_dad_ns_is_from_unspecified_to_the_solicited_node_group():
    frame = packets.ns_dad(MAC, V6)
    pkt = Ether(frame)
    assert pkt[IPv6].src == "::" and pkt[IPv6].dst == "ff02::1:ff00:10" and pkt.dst == "33:33:ff:00:00:10"
    assert pkt[ICMPv6ND_NS].tgt == str(V6) and pkt[IPv6].hlim == 255
    assert packets.parse_claim(frame) == (6, V6, MAC)
    assert scapy_rebuilt(frame, ICMPv6ND_NS) == frame        # our checksum is scapy's


def scapy_rebuilt(frame, layer):
    pkt = Ether(frame)
    del pkt[layer].cksum
    return bytes(pkt)


def test_unsolicited_na_overrides_and_is_a_claim():
    frame = packets.na_unsolicited(MAC, V6)
    na = Ether(frame)[ICMPv6ND_NA]
    assert (na.O, na.S, na.tgt) == (1, 0, str(V6))
    assert Ether(frame)[ICMPv6NDOptDstLLAddr].lladdr == "02:00:00:00:00:01"
    assert scapy_rebuilt(frame, ICMPv6ND_NA) == frame
    assert packets.parse_claim(frame) == (6, V6, MAC)


def test_ordinary_traffic_is_not_a_claim():
    echo = bytes(Ether(src=OTHER) / IPv6(src="2001:db8::1", dst=str(V6)) / ICMPv6EchoRequest())
    ns_from_addr = bytes(Ether(src=OTHER) / IPv6(src="2001:db8::1", dst="ff02::1:ff00:10") / ICMPv6ND_NS(tgt=str(V6)))
    assert packets.parse_claim(echo) is None
    assert packets.parse_claim(ns_from_addr) is None       # address resolution, not DAD
    assert packets.parse_claim(b"\x00" * 10) is None
