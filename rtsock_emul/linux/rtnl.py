"""Address and route changes as one batch of rtnetlink requests, done when send() returns.

The kernel handles NETLINK_ROUTE requests in the sender's system call
(rtnetlink_rcv): once `send` of the batch returns, every RTM_NEWADDR,
RTM_DELADDR, RTM_NEWROUTE and RTM_DELROUTE in it has been applied, in order,
and its ack (NLMSG_ERROR, 0 on success) is already queued on our socket. So a
failover's whole address move costs one system call and no event-loop turn;
the gratuitous ARP can follow at once. Laid out from the Linux structs
(struct nlmsghdr, struct ifaddrmsg, struct rtmsg, struct rtattr).
"""
from __future__ import annotations

import errno
import ipaddress
import socket
import struct

from . import netlink

RTM_NEWADDR, RTM_DELADDR = 20, 21
RTM_NEWROUTE, RTM_DELROUTE = 24, 25
NLMSG_ERROR = 2
NLM_F_REQUEST, NLM_F_ACK = 0x1, 0x4
NLM_F_REPLACE, NLM_F_EXCL, NLM_F_CREATE = 0x100, 0x200, 0x400
IFADDRMSG = struct.Struct("=BBBBI")        # ifa_family, ifa_prefixlen, ifa_flags, ifa_scope, ifa_index
# rtm_family, rtm_dst_len, rtm_src_len, rtm_tos, rtm_table, rtm_protocol, rtm_scope, rtm_type, rtm_flags
RTMSG = struct.Struct("=BBBBBBBBI")
NLMSGERR = struct.Struct("=i")             # struct nlmsgerr: error, then the request's nlmsghdr
IFA_ADDRESS, IFA_LOCAL, IFA_BROADCAST = 1, 2, 4
IFA_F_NODAD = 0x02
RTA_DST, RTA_OIF, RTA_GATEWAY = 1, 4, 5
RT_TABLE_MAIN, RTPROT_STATIC, RT_SCOPE_UNIVERSE, RTN_UNICAST = 254, 4, 0, 1
U32 = struct.Struct("=I")
RCVBUF = 1 << 20
RECV_SIZE = 65536
FAMILY = {4: socket.AF_INET, 6: socket.AF_INET6}


def _attr(kind: int, value: bytes) -> bytes:
    data = netlink.RTATTR.pack(netlink.RTATTR.size + len(value), kind) + value
    return data + b"\0" * (-len(data) % 4)


def addr_request(op: str, index: int, addr, prefixlen: int, seq: int) -> bytes:
    """One RTM_NEWADDR ("add", create-exclusive: EEXIST if present) or RTM_DELADDR ("del")."""
    addr = ipaddress.ip_address(addr)
    flags = IFA_F_NODAD if (op == "add" and addr.version == 6) else 0
    body = IFADDRMSG.pack(FAMILY[addr.version], prefixlen, flags, 0, index)
    if addr.version == 4:
        body += _attr(IFA_LOCAL, addr.packed) + _attr(IFA_ADDRESS, addr.packed)
        if prefixlen < 31:
            net = ipaddress.ip_network((addr, prefixlen), strict=False)
            body += _attr(IFA_BROADCAST, net.broadcast_address.packed)
    else:
        body += _attr(IFA_ADDRESS, addr.packed)
    mtype, nl_flags = (RTM_NEWADDR, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL) if op == "add" \
        else (RTM_DELADDR, NLM_F_REQUEST | NLM_F_ACK)
    return netlink.NLMSGHDR.pack(netlink.NLMSGHDR.size + len(body), mtype, nl_flags, seq, 0) + body


def route_request(op: str, net, gateway, oif: int | None, seq: int) -> bytes:
    """One RTM_NEWROUTE ("replace": create or overwrite) or RTM_DELROUTE ("del") of a
    static gateway route in the main table; oif None lets the kernel pick the device."""
    net, gateway = ipaddress.ip_network(net), ipaddress.ip_address(gateway)
    body = RTMSG.pack(FAMILY[net.version], net.prefixlen, 0, 0, RT_TABLE_MAIN, RTPROT_STATIC,
                      RT_SCOPE_UNIVERSE, RTN_UNICAST, 0)
    if net.prefixlen:                       # a default route has no RTA_DST
        body += _attr(RTA_DST, net.network_address.packed)
    body += _attr(RTA_GATEWAY, gateway.packed)
    if oif is not None:
        body += _attr(RTA_OIF, U32.pack(oif))
    mtype, nl_flags = (RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE) \
        if op == "replace" else (RTM_DELROUTE, NLM_F_REQUEST | NLM_F_ACK)
    return netlink.NLMSGHDR.pack(netlink.NLMSGHDR.size + len(body), mtype, nl_flags, seq, 0) + body


def parse_acks(buf: bytes) -> dict[int, int]:
    """nlmsg_seq -> errno (0 = done) of each NLMSG_ERROR in buf."""
    return {seq: -NLMSGERR.unpack_from(buf, body)[0]
            for mtype, seq, body, _end in netlink.messages(buf) if mtype == NLMSG_ERROR}


class Batcher:
    """A NETLINK_ROUTE socket in the agent's namespace that applies address and route batches."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, netlink.NETLINK_ROUTE)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        self.sock.bind((0, 0))
        self.sock.setblocking(False)
        self.seq = 0

    def apply(self, ops: list[tuple]) -> list[int | None]:
        """ops: (op, ifindex, addr, prefixlen). Sends them in one batch; returns each one's
        errno (0 done, EEXIST already there, ...) or None when no ack came (unknown)."""
        return self._batch(addr_request, ops)

    def routes(self, ops: list[tuple]) -> list[int | None]:
        """ops: (op, network, gateway, oif or None), applied in order; each one's errno
        as apply() gives it (ESRCH: a route to delete is not there)."""
        return self._batch(route_request, ops)

    def _batch(self, build, ops: list[tuple]) -> list[int | None]:
        """build(*op, seq) makes each request; all go in one send."""
        if not ops:
            return []
        seqs, parts = [], []
        for op in ops:
            self.seq = self.seq % 0x7FFFFFFF + 1
            seqs.append(self.seq)
            parts.append(build(*op, self.seq))
        self.sock.send(b"".join(parts))
        acks: dict[int, int] = {}
        while len(acks) < len(seqs):
            try:         # already queued by the time send() returned
                acks.update(parse_acks(self.sock.recv(RECV_SIZE)))
            except BlockingIOError:
                break
        return [acks.get(s) for s in seqs]

    def drain(self) -> None:
        """Drop late acks of an earlier batch (so seq numbers never confuse a later one)."""
        while True:
            try:
                self.sock.recv(RECV_SIZE)
            except BlockingIOError:
                return

    def close(self) -> None:
        self.sock.close()


def describe(err: int | None) -> str:
    if err is None:
        return "no ack"
    return errno.errorcode.get(err, str(err))
