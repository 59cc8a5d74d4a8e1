#!/usr/bin/env python3
"""ipmp_watch.py -- the Python twin of ipmp_watch.c: print every RTM_IFINFO an
IPMP-aware routing socket receives, one line each:

    RTM_IFINFO net0 index 2 flags UP,BROADCAST,MULTICAST,IPV4,FAILED

Plain illumos Python (only the standard library; PF_ROUTE is 24 on illumos).
In an ipmp-lab host run it as "rtsock run python3 ipmp_watch.py", or with
LD_PRELOAD=$RTSOCK_PRELOAD set.

Usage: ipmp_watch.py [COUNT]   (exit after COUNT messages; default: never)
"""
import errno
import socket
import struct
import sys

PF_ROUTE = 24
SOL_ROUTE, RT_AWARE, RTAW_UNDER_IPMP = 0xFFFE, 0x0001, 0x0010
RTM_VERSION, RTM_IFINFO = 3, 0xE
RTA_IFP, AF_LINK = 0x10, 25
# struct if_msghdr up to ifm_index (the if_data that follows is not needed)
IF_MSGHDR = struct.Struct("=HBBiIH")
IF_MSGHDR_SIZE = 84
SOCKADDR_DL = struct.Struct("=HHBBBB")      # then sdl_data: name, then address
FLAGS = [(0x1, "UP"), (0x2, "BROADCAST"), (0x8, "LOOPBACK"), (0x40, "RUNNING"),
         (0x80, "NOARP"), (0x800, "MULTICAST"), (0x40000, "DEPRECATED"),
         (0x1000000, "IPV4"), (0x2000000, "IPV6"), (0x8000000, "NOFAILOVER"),
         (0x10000000, "FAILED"), (0x20000000, "STANDBY"), (0x40000000, "INACTIVE"),
         (0x80000000, "OFFLINE")]


def ifname(msg, addrs, index):
    """The RTA_IFP sockaddr_dl's name, else the name of the index."""
    if addrs & RTA_IFP and len(msg) >= IF_MSGHDR_SIZE + SOCKADDR_DL.size:
        family, _, _, nlen, _, _ = SOCKADDR_DL.unpack_from(msg, IF_MSGHDR_SIZE)
        if family == AF_LINK and nlen:
            start = IF_MSGHDR_SIZE + SOCKADDR_DL.size
            return msg[start:start + nlen].decode()
    try:
        return socket.if_indextoname(index)
    except OSError:
        return f"index{index}"


def main(argv):
    count = int(argv[1]) if len(argv) > 1 else -1
    s = socket.socket(PF_ROUTE, socket.SOCK_RAW, 0)
    s.setsockopt(SOL_ROUTE, RT_AWARE, RTAW_UNDER_IPMP)
    print("watching", flush=True)
    while count != 0:
        try:
            msg = s.recv(2048)
        except OSError as exc:
            if exc.errno == errno.ENOBUFS:
                print("overflow", flush=True)
                continue
            raise
        if len(msg) < IF_MSGHDR_SIZE:
            continue
        _, version, mtype, addrs, flags, index = IF_MSGHDR.unpack_from(msg)
        if version != RTM_VERSION or mtype != RTM_IFINFO:
            continue
        names = ",".join(name for bit, name in FLAGS if flags & bit)
        print(f"RTM_IFINFO {ifname(msg, addrs, index)} index {index} flags {names}", flush=True)
        count -= 1 if count > 0 else 0
    s.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
