"""in.mpathd's probe transport on Linux (protocol: rtsock_emul/mpathd/prober.py).

One raw ICMP(v6) socket per (interface, test address): SO_BINDTODEVICE keeps
probes on that member (never routed out of another), bind() to the test
address sets the source and makes the kernel hand this socket only replies
addressed to it. Replies are matched by ICMP id (ours) and come back through
the event loop (add_reader), never by polling.
"""
from __future__ import annotations

import ipaddress
import os
import socket
import struct

from rtsock_emul.wire.constants import AF_INET, AF_INET6

ICMP_ECHO, ICMP_ECHOREPLY = 8, 0
ICMP6_ECHO_REQUEST, ICMP6_ECHO_REPLY = 128, 129
ECHO_HDR = struct.Struct("!BBHHH")          # type, code, cksum, id, seq
ALL_HOSTS = {AF_INET: ipaddress.IPv4Address("224.0.0.1"), AF_INET6: ipaddress.IPv6Address("ff02::1")}
PROBE_TTL = 1                                # never routed, as in.mpathd (mpd_tables.c phyint_inst_v4_sockinit; R111)
RECV_SIZE = 4096


SOL_RAW, ICMP_FILTER = 255, 1               # linux/icmp.h: a mask of ICMP types to drop
IPPROTO_ICMPV6, ICMP6_FILTER = 58, 1         # linux/icmpv6.h: struct icmp6_filter, bit set = drop


def set_echo_reply_filter(sock: socket.socket, af: int) -> None:
    """Only echo replies reach the socket: a raw ICMPv6 socket is otherwise handed every
    ICMPv6 message to the host, multicast ones included (probes of every other host to
    ff02::1, neighbor discovery, MLD), and on a LAN of many hosts that wakes every agent."""
    if af == AF_INET:
        sock.setsockopt(SOL_RAW, ICMP_FILTER, struct.pack("=I", 0xFFFFFFFF & ~(1 << ICMP_ECHOREPLY)))
    else:
        words = [0xFFFFFFFF] * 8
        words[ICMP6_ECHO_REPLY >> 5] &= ~(1 << (ICMP6_ECHO_REPLY & 31))
        sock.setsockopt(IPPROTO_ICMPV6, ICMP6_FILTER, struct.pack("=8I", *words))


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    total += total >> 16
    return ~total & 0xFFFF


def echo_request(af: int, ident: int, seq: int, payload: bytes) -> bytes:
    kind = ICMP_ECHO if af == AF_INET else ICMP6_ECHO_REQUEST
    body = ECHO_HDR.pack(kind, 0, 0, ident, seq & 0xFFFF) + payload
    if af == AF_INET:   # the kernel fills in the ICMPv6 checksum itself
        body = body[:2] + struct.pack("!H", checksum(body)) + body[4:]
    return body


class LinuxProber:
    def __init__(self, loop, log, ifindex_of) -> None:
        self.loop, self.log, self.ifindex_of = loop, log, ifindex_of
        self.ident = os.getpid() & 0xFFFF
        self._handler = None
        self._with_payload = False
        self._socks: dict[tuple, socket.socket] = {}

    def set_reply_handler(self, handler, with_payload: bool = False) -> None:
        # with_payload: also pass the echoed bytes after the ICMP header, whose
        # pr_icmp_mtype tells in.mpathd unicast, multicast and RTT replies apart.
        self._handler, self._with_payload = handler, with_payload

    def _sock(self, ifname: str, af: int, src) -> socket.socket | None:
        key = (ifname, af, src)
        sock = self._socks.get(key)
        if sock is not None:
            return sock
        family, proto = (socket.AF_INET, socket.IPPROTO_ICMP) if af == AF_INET else \
                        (socket.AF_INET6, socket.IPPROTO_ICMPV6)
        sock = socket.socket(family, socket.SOCK_RAW, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, ifname.encode())
            if af == AF_INET:
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_TTL, PROBE_TTL)
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
                sock.bind((str(src), 0))
            else:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, PROBE_TTL)
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 1)
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, self.ifindex_of(ifname))
                scope = self.ifindex_of(ifname) if ipaddress.IPv6Address(src).is_link_local else 0
                sock.bind((str(src), 0, 0, scope))
        except OSError as exc:
            sock.close()
            self.log.warning("prober: cannot probe from %s on %s: %s", src, ifname, exc)
            return None
        try:
            set_echo_reply_filter(sock, af)
        except OSError as exc:       # unfiltered still works: replies are matched below
            self.log.debug("prober: no ICMP filter on %s: %s", ifname, exc)
        sock.setblocking(False)
        self._socks[key] = sock
        self.loop.add_reader(sock.fileno(), self._receive, sock, ifname, af)
        return sock

    def _send(self, ifname: str, af, src, dst, seq, payload) -> None:
        sock = self._sock(ifname, af, src)
        if sock is None:
            return
        dst = ipaddress.ip_address(dst)
        addr = (str(dst), 0) if af == AF_INET else \
               (str(dst), 0, 0, self.ifindex_of(ifname) if dst.is_link_local or dst.is_multicast else 0)
        try:
            sock.sendto(echo_request(af, self.ident, seq, payload), addr)
        except OSError as exc:   # e.g. no carrier: the probe is simply lost
            self.log.debug("prober: %s %s -> %s: %s", ifname, src, dst, exc)

    def send_probe(self, ifname: str, af, src, dst, seq, payload) -> None:
        self._send(ifname, af, src, dst, seq, payload)

    def discover_targets(self, ifname: str, af, src, seq, payload) -> None:
        self._send(ifname, af, src, ALL_HOSTS[af], seq, payload)

    def _receive(self, sock, ifname: str, af) -> None:
        while True:
            try:
                data, addr = sock.recvfrom(RECV_SIZE)
            except BlockingIOError:
                return
            except OSError as exc:
                self.log.debug("prober: receive on %s: %s", ifname, exc)
                return
            if af == AF_INET:
                data = data[(data[0] & 0x0F) * 4:]      # raw v4 sockets include the IP header
                want = ICMP_ECHOREPLY
            else:
                want = ICMP6_ECHO_REPLY
            if len(data) < ECHO_HDR.size:
                continue
            kind, _code, _ck, ident, seq = ECHO_HDR.unpack_from(data)
            if kind != want or ident != self.ident or self._handler is None:
                continue
            args = (ifname, af, ipaddress.ip_address(addr[0].split("%")[0]), seq)
            if self._with_payload:
                args += (data[ECHO_HDR.size:],)
            self._handler(*args)

    def forget(self, ifname: str, af: int, src) -> None:
        """A test address went away: close its socket."""
        sock = self._socks.pop((ifname, af, src), None)
        if sock is not None:
            self.loop.remove_reader(sock.fileno())
            sock.close()

    def close(self) -> None:
        self._handler = None
        for key in list(self._socks):
            self.forget(*key)
