"""Where a failover's time goes: wall-clock stamps of each stage, seen from outside the agent.

One thread selects over sockets made inside the lab's namespaces (a socket
keeps the namespace it was created in) and stamps every read with
time.time(), the clock `ping -D` prints, before parsing anything:

- h1, NETLINK_ROUTE on RTMGRP_LINK | RTMGRP_IPV4_IFADDR: the carrier loss
  (RTM_NEWLINK without IFF_LOWER_UP: the netlink floor) and the data address
  appearing on the new member (RTM_NEWADDR) and leaving the old (RTM_DELADDR);
- h2, NETLINK_ROUTE on RTMGRP_NEIGH: the peer's ARP entry for the data
  address taking the new member's MAC (RTM_NEWNEIGH);
- h2, AF_PACKET ETH_P_ARP on its interface: the gratuitous ARP arriving.

Frames are stamped by the kernel as they pass (SO_TIMESTAMPNS on the packet
sockets: exact even when this thread wakes late on a loaded CPU); netlink
has no such stamp, so netlink stages carry this thread's wake-up time, a
bound from above.

The cut itself is one RTM_NEWLINK request from this process to the switch
end of the member's veth (what `ip link set PORT down` sends, without
starting a process), so the cut instant is known to within a system call.
"""
from __future__ import annotations

import ipaddress
import os
import select
import socket
import struct
import threading
import time

from rtsock_emul.linux import netlink, packets

from .labkit import in_netns

RTMGRP_NEIGH, RTMGRP_IPV4_IFADDR = 0x4, 0x10
RTM_NEWADDR, RTM_DELADDR, RTM_NEWNEIGH = 20, 21, 28
NLM_F_REQUEST, NLM_F_ACK = 0x1, 0x4
NLMSG_ERROR = 2
IFADDRMSG = struct.Struct("=BBBBI")        # ifa_family, ifa_prefixlen, ifa_flags, ifa_scope, ifa_index
NDMSG = struct.Struct("=BxxxiHBB")         # ndm_family, ndm_ifindex, ndm_state, ndm_flags, ndm_type
IFA_ADDRESS, IFA_LOCAL = 1, 2
NDA_DST, NDA_LLADDR = 1, 2
RECV_SIZE = 65536
ETH_P_ALL = 0x0003
SO_TIMESTAMPNS = 35
TIMESPEC = struct.Struct("=qq")

# the stages, in the order a failover passes them (docs/performance.md)
STAGES = ("carrier", "failed", "garp_sent", "addr_add", "addr_del", "garp_at_peer", "peer_arp", "first_reply")


def _attrs(buf: bytes, start: int, end: int) -> dict[int, bytes]:
    out, off = {}, start
    while off + netlink.RTATTR.size <= end:
        alen, atype = netlink.RTATTR.unpack_from(buf, off)
        if alen < netlink.RTATTR.size:
            break
        out.setdefault(atype, buf[off + netlink.RTATTR.size:off + alen])
        off += (alen + 3) & ~3
    return out


def _messages(buf: bytes):
    """(nlmsg_type, body offset, end offset) of each netlink message in buf."""
    off = 0
    while off + netlink.NLMSGHDR.size <= len(buf):
        length, mtype, _f, _s, _p = netlink.NLMSGHDR.unpack_from(buf, off)
        if length < netlink.NLMSGHDR.size:
            return
        yield mtype, off + netlink.NLMSGHDR.size, off + length
        off += (length + 3) & ~3


def parse_addrs(buf: bytes):
    """(RTM_NEWADDR|RTM_DELADDR, ifa_index, address) of each IPv4 address message."""
    for mtype, body, end in _messages(buf):
        if mtype not in (RTM_NEWADDR, RTM_DELADDR):
            continue
        family, _plen, _flags, _scope, index = IFADDRMSG.unpack_from(buf, body)
        attrs = _attrs(buf, body + IFADDRMSG.size, end)
        raw = attrs.get(IFA_LOCAL) or attrs.get(IFA_ADDRESS)
        if family == socket.AF_INET and raw and len(raw) == 4:
            yield mtype, index, ipaddress.IPv4Address(raw)


def parse_neighs(buf: bytes):
    """(ndm_ifindex, address, lladdr or None) of each RTM_NEWNEIGH."""
    for mtype, body, end in _messages(buf):
        if mtype != RTM_NEWNEIGH:
            continue
        _family, index, _state, _flags, _type = NDMSG.unpack_from(buf, body)
        attrs = _attrs(buf, body + NDMSG.size, end)
        dst = attrs.get(NDA_DST)
        if dst and len(dst) == 4:
            yield index, ipaddress.IPv4Address(dst), attrs.get(NDA_LLADDR)


def set_carrier(port: str, up: bool) -> float:
    """`ip link set PORT up|down` as one netlink request in this namespace; the
    wall time just before it is sent. Raises OSError with the kernel's errno."""
    index = socket.if_nametoindex(port)
    body = netlink.IFINFOMSG.pack(socket.AF_UNSPEC, 0, index, netlink.IFF_UP if up else 0, netlink.IFF_UP)
    msg = netlink.NLMSGHDR.pack(netlink.NLMSGHDR.size + len(body), netlink.RTM_NEWLINK,
                                NLM_F_REQUEST | NLM_F_ACK, 1, 0) + body
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, netlink.NETLINK_ROUTE) as sock:
        sock.bind((0, 0))
        t = time.time()
        sock.send(msg)
        reply = sock.recv(RECV_SIZE)
    for mtype, body_off, _end in _messages(reply):
        if mtype == NLMSG_ERROR:
            err = struct.unpack_from("=i", reply, body_off)[0]
            if err:
                raise OSError(-err, f"RTM_NEWLINK {port} {'up' if up else 'down'}: {os.strerror(-err)}")
    return t


class StageTracer(threading.Thread):
    """Stamps the failover's observable stages in h1 (the IPMP host) and h2 (the peer)."""

    def __init__(self, h1_pid: int, h2_pid: int, members=("net0", "net1"), peer_if: str = "net0"):
        super().__init__(name="stages", daemon=True)
        self.records: list[tuple[float, str, bytes]] = []
        self._lock = threading.Lock()
        self._stop_r, self._stop_w = os.pipe()
        with in_netns(h1_pid):
            self.h1 = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, netlink.NETLINK_ROUTE)
            self.h1.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, netlink.RCVBUF)
            self.h1.bind((0, netlink.RTMGRP_LINK | RTMGRP_IPV4_IFADDR))
            # taps on the members see the agent's gratuitous ARP leave (only
            # ETH_P_ALL sockets are shown outgoing frames: dev_queue_xmit_nit)
            self.h1_arp = [packets.LinkSocket(m, ETH_P_ALL, tap=True) for m in members]
        with in_netns(h2_pid):
            self.h2 = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, netlink.NETLINK_ROUTE)
            self.h2.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, netlink.RCVBUF)
            self.h2.bind((0, RTMGRP_NEIGH))
            self.arp = packets.LinkSocket(peer_if, packets.ETH_P_ARP, tap=True)
        for ls in (self.arp, *self.h1_arp):
            ls.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self._kinds = {self.h1.fileno(): ("h1", self.h1), self.h2.fileno(): ("h2", self.h2),
                       self.arp.fileno(): ("arp", self.arp.sock),
                       **{s.fileno(): ("h1arp", s.sock) for s in self.h1_arp}}

    def run(self) -> None:
        fds = [*self._kinds, self._stop_r]
        while True:
            ready, _, _ = select.select(fds, [], [])
            t = time.time()
            if self._stop_r in ready:
                return
            for fd in ready:
                kind, sock = self._kinds[fd]
                while True:
                    stamp = t
                    try:
                        data, anc, _flags, _addr = sock.recvmsg(RECV_SIZE, 64, socket.MSG_DONTWAIT)
                    except (BlockingIOError, InterruptedError):
                        break
                    except OSError:      # ENOBUFS: events lost; say so in the stamps
                        data, anc = b"", []
                        kind = kind + "-overrun"
                    for level, ctype, cdata in anc:
                        if level == socket.SOL_SOCKET and ctype == SO_TIMESTAMPNS:
                            sec, nsec = TIMESPEC.unpack_from(cdata)
                            stamp = sec + nsec / 1e9
                    with self._lock:
                        self.records.append((stamp, kind, data))
                    if not data:
                        break

    def since(self, t0: float) -> list[tuple[float, str, bytes]]:
        with self._lock:
            return [r for r in self.records if r[0] >= t0]

    def clear(self) -> None:
        with self._lock:
            self.records.clear()

    def close(self) -> None:
        os.write(self._stop_w, b"x")
        self.join(2.0)
        for s in (self.h1, self.h2, self.arp, *self.h1_arp):
            s.close()
        os.close(self._stop_r)
        os.close(self._stop_w)

    def stages(self, t_cut: float, member: str, member_index: int, new_index: int, new_mac: bytes,
               addr: ipaddress.IPv4Address) -> dict[str, float | None]:
        """Wall time of each stage after t_cut (the first occurrence), None if not seen."""
        out: dict[str, float | None] = dict.fromkeys(STAGES)

        def first(name: str, t: float) -> None:
            if out[name] is None:
                out[name] = t
        for t, kind, data in self.since(t_cut):
            if kind == "h1":
                for mtype, _i, name, flags in netlink.parse_links(data):
                    if mtype == netlink.RTM_NEWLINK and name == member and not flags & netlink.IFF_LOWER_UP:
                        first("carrier", t)
                for mtype, index, a in parse_addrs(data):
                    if a == addr and mtype == RTM_NEWADDR and index == new_index:
                        first("addr_add", t)
                    elif a == addr and mtype == RTM_DELADDR and index == member_index:
                        first("addr_del", t)
            elif kind == "h2":
                for _i, a, lladdr in parse_neighs(data):
                    if a == addr and lladdr == new_mac:
                        first("peer_arp", t)
            elif kind in ("arp", "h1arp"):
                claim = packets.parse_claim(data)
                if claim is not None and claim[1] == addr and claim[2] == new_mac:
                    first("garp_at_peer" if kind == "arp" else "garp_sent", t)
        return out
