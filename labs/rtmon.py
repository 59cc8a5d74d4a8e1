"""rtmon: `route monitor` with the socket options the labs compare.

In the Mininet CLI (from the project folder, where `sudo ./ipmp-lab cli` was started):

    h1 python labs/rtmon.py --aware --family inet > /tmp/aware.txt 2>&1 &
    h1 cat /tmp/aware.txt

--aware sets RT_AWARE (level SOL_ROUTE) to RTAW_UNDER_IPMP, as in.mpathd does;
--family picks the socket() protocol argument (M11). Each message is printed
as illumos `route -n monitor` prints it, with the subscriber's label in front.
"""
from __future__ import annotations

import argparse
import sys

from rtsock_emul.client import RoutingSocket
from rtsock_emul.wire import constants as C
from rtsock_emul.wire.render import render

FAMILIES = {"unspec": C.AF_UNSPEC, "inet": C.AF_INET, "inet6": C.AF_INET6}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="rtmon", description=__doc__.splitlines()[0])
    ap.add_argument("--aware", action="store_true", help="RT_AWARE = RTAW_UNDER_IPMP (M19)")
    ap.add_argument("--family", choices=sorted(FAMILIES), default="unspec",
                    help="socket(PF_ROUTE, SOCK_RAW, protocol) filter (M11)")
    args = ap.parse_args(argv)
    label = ("aware" if args.aware else "normal") + ("" if args.family == "unspec" else f" {args.family}")
    sock = RoutingSocket(FAMILIES[args.family])
    try:
        if args.aware:
            sock.setsockopt(C.SOL_ROUTE, C.RT_AWARE, C.RTAW_UNDER_IPMP)
        print(f"[{label}] listening", flush=True)
        while True:
            text = render(sock.read_msg()).rstrip()
            print("\n".join(f"[{label}] {line}" for line in text.splitlines()), flush=True)
    except KeyboardInterrupt:
        return 0
    finally:
        sock.close()


if __name__ == "__main__":
    sys.exit(main())
