"""A stand-in for a Linux active-backup bond with miimon=100, for kernels without bonding.

Runs inside a host's network namespace (nsenter --net, the lab.faults.ns_argv way). It puts ADDR on the
first member and, like the bonding driver's MII monitor (bond_mii_monitor),
looks at the active member's carrier every INTERVAL seconds (SIOCGIFFLAGS
IFF_RUNNING: the carrier as the kernel reports it in this namespace). When
the carrier is gone it makes the other member active as active-backup does
with updelay/downdelay 0: the address moves (one rtnetlink batch, as our
agent does) and one gratuitous ARP goes out of the new member (num_grat_arp=1).
Unlike a bond, the members keep their own MACs, so the peer's ARP entry
changes, as with IPMP. No failback (a bond without `primary`).

Prints one line per event, flushed, with wall-clock times:
  ready ACTIVE            the address is up on ACTIVE
  failover OLD NEW T_SEEN T_DONE
Ends on SIGTERM, removing the address it added.

    python -m bench.miimon_standin ADDR/PLEN net0 net1 [--interval 0.1]
"""
from __future__ import annotations

import argparse
import fcntl
import ipaddress
import signal
import socket
import struct
import sys
import time

from rtsock_emul.linux import packets, rtnl

SIOCGIFFLAGS, SIOCGIFHWADDR = 0x8913, 0x8927
IFF_RUNNING = 0x40
IFREQ = struct.Struct("16sH14x")


def running(sock: socket.socket, name: str) -> bool:
    res = fcntl.ioctl(sock.fileno(), SIOCGIFFLAGS, IFREQ.pack(name.encode(), 0))
    return bool(IFREQ.unpack(res)[1] & IFF_RUNNING)


def mac(sock: socket.socket, name: str) -> bytes:
    res = fcntl.ioctl(sock.fileno(), SIOCGIFHWADDR, struct.pack("16s16x", name.encode()))
    return res[18:24]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("address", help="ADDR/PLEN")
    ap.add_argument("members", nargs=2)
    ap.add_argument("--interval", type=float, default=0.1, help="miimon in seconds")
    args = ap.parse_args(argv)
    iface = ipaddress.ip_interface(args.address)
    ctl = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    batch = rtnl.Batcher()
    index = {m: socket.if_nametoindex(m) for m in args.members}
    arp = {m: packets.LinkSocket(m, packets.ETH_P_ARP) for m in args.members}
    active = args.members[0]
    err = batch.apply([("add", index[active], iface.ip, iface.network.prefixlen)])[0]
    if err not in (0, 17):
        sys.exit(f"miimon stand-in: cannot add {args.address} on {active}: {rtnl.describe(err)}")
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    print("ready", active, flush=True)
    tick = time.monotonic()
    try:
        while not stop:
            tick += args.interval
            # the monitor's period, like the bond's delayed work: this is the poll itself
            time.sleep(max(0.0, tick - time.monotonic()))
            if running(ctl, active):
                continue
            t_seen = time.time()
            new = next(m for m in args.members if m != active)
            if not running(ctl, new):
                continue                # no slave to make active: the bond waits too
            batch.apply([("add", index[new], iface.ip, iface.network.prefixlen),
                         ("del", index[active], iface.ip, iface.network.prefixlen)])
            try:
                arp[new].send(packets.arp_announce(mac(ctl, new), iface.ip))
            except OSError:
                pass                    # no carrier there either: lost, as on a wire
            print("failover", active, new, f"{t_seen:.6f}", f"{time.time():.6f}", flush=True)
            active = new
    finally:
        batch.apply([("del", index[active], iface.ip, iface.network.prefixlen)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
