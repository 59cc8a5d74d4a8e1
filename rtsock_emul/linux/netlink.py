"""Links from Linux: the dump at start (RTM_GETLINK) and carrier events after it
(RTM_NEWLINK on the RTMGRP_LINK multicast group).

The watcher is a plain NETLINK_ROUTE socket whose fd sits on the agent's event
loop (add_reader): a far-end `ip link set down` reaches `kernel.link_change`
within milliseconds, with no polling. Only the fields needed are dissected
(struct nlmsghdr, struct ifinfomsg, the IFLA_IFNAME, IFLA_ADDRESS and IFLA_MTU
attributes).
"""
from __future__ import annotations

import os
import socket
import struct
from typing import NamedTuple, Sequence

NETLINK_ROUTE = 0
RTMGRP_LINK = 0x1
RTM_NEWLINK, RTM_DELLINK, RTM_GETLINK = 16, 17, 18
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
NLMSGHDR = struct.Struct("=IHHII")          # nlmsg_len, nlmsg_type, nlmsg_flags, nlmsg_seq, nlmsg_pid
IFINFOMSG = struct.Struct("=BxHiII")        # ifi_family, ifi_type, ifi_index, ifi_flags, ifi_change
RTATTR = struct.Struct("=HH")               # rta_len, rta_type
NLMSGERR = struct.Struct("=i")              # struct nlmsgerr: error, then the request's nlmsghdr
U32 = struct.Struct("=I")
IFLA_ADDRESS, IFLA_IFNAME, IFLA_MTU = 1, 3, 4
DUMP_TIMEOUT = 5.0          # seconds; the kernel answers a dump in the recv call itself
IFF_UP = 0x1
IFF_LOWER_UP = 0x10000
RCVBUF = 1 << 20
RECV_SIZE = 65536


def _align(n: int) -> int:
    return (n + 3) & ~3


def messages(buf: bytes):
    """Yield (nlmsg_type, nlmsg_seq, body offset, end offset) of each netlink message in buf."""
    off = 0
    while off + NLMSGHDR.size <= len(buf):
        length, mtype, _flags, seq, _pid = NLMSGHDR.unpack_from(buf, off)
        if length < NLMSGHDR.size:
            return
        yield mtype, seq, off + NLMSGHDR.size, off + length
        off += _align(length)


def link_attrs(buf: bytes, body: int, end: int) -> tuple[int, int, dict[int, bytes]]:
    """ifi_index, ifi_flags and the attributes (IFLA_* -> payload) of a link message."""
    _fam, _type, index, flags, _change = IFINFOMSG.unpack_from(buf, body)
    attrs, attr = {}, body + IFINFOMSG.size
    while attr + RTATTR.size <= end:
        alen, atype = RTATTR.unpack_from(buf, attr)
        if alen < RTATTR.size:
            break
        attrs[atype] = buf[attr + RTATTR.size:attr + alen]
        attr += _align(alen)
    return index, flags, attrs


def _ifname(attrs: dict[int, bytes]) -> str | None:
    raw = attrs.get(IFLA_IFNAME)
    return raw.split(b"\0", 1)[0].decode() if raw is not None else None


def parse_links(buf: bytes):
    """Yield (nlmsg_type, ifi_index, ifname, ifi_flags) for each link message."""
    for mtype, _seq, body, end in messages(buf):
        if mtype in (RTM_NEWLINK, RTM_DELLINK):
            index, flags, attrs = link_attrs(buf, body, end)
            yield mtype, index, _ifname(attrs), flags


class Link(NamedTuple):
    ifi_index: int
    ifname: str             # IFLA_IFNAME
    address: bytes          # IFLA_ADDRESS, the link-layer address (b"" if the link has none)
    mtu: int                # IFLA_MTU
    ifi_flags: int


def link_request(seq: int) -> bytes:
    """RTM_GETLINK with NLM_F_DUMP: every link of the namespace."""
    body = IFINFOMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0)
    return NLMSGHDR.pack(NLMSGHDR.size + len(body), RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, seq, 0) + body


def parse_dump(buf: bytes, links: list[Link]) -> bool:
    """Append the RTM_NEWLINK messages of buf to links; True at NLMSG_DONE.
    An NLMSG_ERROR raises OSError with its errno."""
    for mtype, _seq, body, end in messages(buf):
        if mtype == NLMSG_DONE:
            return True
        if mtype == NLMSG_ERROR:
            err = -NLMSGERR.unpack_from(buf, body)[0]
            raise OSError(err, f"netlink: link dump: {os.strerror(err)}")
        if mtype == RTM_NEWLINK:
            index, flags, attrs = link_attrs(buf, body, end)
            mtu = attrs.get(IFLA_MTU)
            links.append(Link(index, _ifname(attrs) or "", attrs.get(IFLA_ADDRESS, b""),
                              U32.unpack(mtu)[0] if mtu else 0, flags))
    return False


def dump_links() -> list[Link]:
    """Every link of this network namespace (a blocking call: the kernel fills each
    part of a dump inside our recv, it never waits for anything)."""
    links: list[Link] = []
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE) as sock:
        sock.settimeout(DUMP_TIMEOUT)
        sock.bind((0, 0))
        sock.send(link_request(1))
        while not parse_dump(sock.recv(RECV_SIZE), links):
            pass
    return links


def running(flags: int) -> bool:
    """illumos IFF_RUNNING: administratively up on Linux and the carrier is there."""
    return bool(flags & IFF_UP) and bool(flags & IFF_LOWER_UP)


class LinkWatcher:
    """Calls `on_change(ifname, running)` for every carrier change of a watched interface."""

    def __init__(self, loop, names: Sequence[str], on_change, log) -> None:
        self.loop, self.names, self.on_change, self.log = loop, set(names), on_change, log
        self.state: dict[str, bool] = {}
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RCVBUF)
        self.sock.bind((0, RTMGRP_LINK))
        self.sock.setblocking(False)
        loop.add_reader(self.sock.fileno(), self._readable)

    def seed(self, ifname: str, is_running: bool) -> None:
        """The state read at start (events before it are compared against it)."""
        self.state[ifname] = is_running

    def _readable(self) -> None:
        while True:
            try:
                buf = self.sock.recv(RECV_SIZE)
            except BlockingIOError:
                return
            except OSError as exc:    # ENOBUFS: events lost; the next ones still carry full state
                self.log.warning("netlink: %s", exc)
                return
            for mtype, _index, name, flags in parse_links(buf):
                if name not in self.names or mtype != RTM_NEWLINK:
                    continue
                now = running(flags)
                if self.state.get(name) != now:
                    self.state[name] = now
                    self.on_change(name, now)       # the model first: a log line is a write
                    self.log.info("netlink: %s %s", name, "running" if now else "carrier lost")

    def close(self) -> None:
        if self.sock.fileno() >= 0:
            self.loop.remove_reader(self.sock.fileno())
            self.sock.close()
