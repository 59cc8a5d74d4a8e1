"""route(1M) as a routing-socket client: monitor, get, add, delete, change."""
from __future__ import annotations

import errno as _errno
import ipaddress
import os
import sys

USAGE = ("usage: route [-n] monitor | get <dest> | add|delete|change [-net|-host] "
         "<dest>[/<plen>] <gateway> [-ifp <ifname>] [-netmask <mask>]")


def _open(path):
    from ..client import RoutingSocket
    return RoutingSocket(0, path=path)


def monitor(path) -> int:
    from ..wire.render import render
    sock = _open(path)
    try:
        while True:
            msg = sock.read_msg()
            sys.stdout.write(render(msg) + "\n")
            sys.stdout.flush()
    except KeyboardInterrupt:
        return 0
    finally:
        sock.close()


def _request(path, kind, args, ifindex_of) -> int:
    from ..wire.build import RtMsg
    net = host = False
    ifp = netmask = None
    pos = []
    it = iter(args)
    for a in it:
        if a == "-net":
            net = True
        elif a == "-host":
            host = True
        elif a == "-ifp":
            ifp = next(it, None)
        elif a == "-netmask":
            netmask = next(it, None)
        elif a == "-n":
            continue
        else:
            pos.append(a)
    want = 1 if kind == "get" else 2
    if len(pos) < want or (kind != "get" and len(pos) > 2):
        print(USAGE, file=sys.stderr)
        return 1
    dst = pos[0]
    if dst == "default":
        dst, net = "0.0.0.0/0", True
    fields = {"dst": dst, "seq": 1, "flags": ["UP", "STATIC"] if kind != "get" else []}
    if netmask:
        fields["netmask"] = netmask
    if kind != "get":
        fields["gateway"] = pos[1]
        fields["flags"].append("GATEWAY")
        if host or (not net and "/" not in dst and not netmask):
            fields["flags"].append("HOST")
    if ifp:
        rc, out, err = ifindex_of(["ifindex", ifp])
        if rc:
            sys.stderr.write(err)
            return 1
        fields["ifp"] = (int(out), ifp)
    rtype = {"add": "RTM_ADD", "delete": "RTM_DELETE", "change": "RTM_CHANGE", "get": "RTM_GET"}[kind]
    msg = RtMsg(rtype, **fields)
    sock = _open(path)
    try:
        sock.write(msg)
        if kind == "get":
            from ..wire.render import render
            print(render(sock.read_reply(1)))
            return 0
    except OSError as exc:
        text = os.strerror(exc.errno) if exc.errno else str(exc)
        print(f"route: writing to routing socket: {text}", file=sys.stderr)
        if kind != "get":
            what = "net" if (net or "/" in dst) else "host"
            reason = {_errno.EEXIST: "entry exists", _errno.ESRCH: "not in table"}.get(exc.errno, text)
            print(f"{kind} {what} {pos[0]}: gateway {pos[1]}: {reason}", file=sys.stderr)
        return 1
    finally:
        sock.close()
    what = "net" if (net or "/" in dst) else "host"
    print(f"{kind} {what} {pos[0]}: gateway {pos[1]}")
    return 0


def run_route(path: str, args: list[str], ifindex_of) -> int:
    args = [a for a in args if a != "-n"]
    if not args:
        print(USAGE, file=sys.stderr)
        return 1
    if args[0] == "monitor":
        return monitor(path)
    if args[0] in ("get", "add", "delete", "change"):
        return _request(path, args[0], args[1:], ifindex_of)
    print(f"route: unknown command '{args[0]}'\n{USAGE}", file=sys.stderr)
    return 1


__all__ = ["run_route", "ipaddress"]
