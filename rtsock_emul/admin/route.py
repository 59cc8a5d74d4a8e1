"""route(8) as a routing-socket client, following route.c: main's options,
newroute/rtmsg (add, change, delete, get), print_getmsg, print_rtcmd_short,
rtmonitor and flushroutes. Exit statuses are route.c's (the illumos errno).
"""
from __future__ import annotations

import errno as _errno
import getopt
import ipaddress
import os
import sys
import time

from ..wire import constants as C
from ..wire.render import MONITOR_RTA, MONITOR_RTF, bprintf, render, routename
from .routeargs import COMMANDS, Parser, RouteSyntax

USAGE = ("usage: route [ -fnqv ] cmd [[ -<qualifers> ] args ]\n"
         "\tcmd: add | delete | change | get  [-net|-host] [-inet|-inet6] <dest>[/<plen>]\n"
         "\t       <gateway> [-netmask <mask>] [-ifp <ifname>] [-ifa <addr>] [-interface] ...\n"
         "\t     monitor [-inet|-inet6] | flush [-inet|-inet6]")
FOLLOWS = [
    ("get: the request carries RTA_IFP; the reply is printed as route to / destination / mask / "
     "gateway (RTF_GATEWAY only) / interface / flags and the metrics table", "route.c rtmsg, print_getmsg"),
    ("add/change/delete print `add net DEST: gateway GW`, and on failure `: entry exists`, "
     "`: not in table`, `: insufficient privileges`, ...; a failed get prints ` DEST: not in table`; "
     "only other errnos also print `writing to routing socket: ...`", "route.c newroute, print_rtcmd_short, rtmsg"),
    ("the exit status is the illumos errno (ESRCH 3, EEXIST 17, ...)", "route.c main, newroute"),
    ("keywords (-net, -host, -inet6, -netmask, -ifp, -ifa, -interface, -setsrc, metrics, lock), "
     "a destination without a mask gets its classful mask (10.0.0.0 is 10.0.0.0/8), "
     "IPv6 needs -inet6 before the address", "route.c args_to_rtcmd, getaddr, in_getaddr, "
     "inet_makenetandmask, inet_makesubnetmask"),
    ("0.0.0.0 and :: print as `default`", "route.c routename"),
    ("monitor [-inet|-inet6]; it ends quietly when the agent stops", "route.c rtmonitor, print_rtmsg"),
    ("flush [-inet|-inet6] deletes every gateway route, printing `DEST GATEWAY done`", "route.c flushroutes, delRouteEntry"),
    ("-v dumps the request before sending it", "route.c rtmsg (sodump, print_rtmsg)"),
]
DIFFERENCES = [
    "names are never looked up (the lab has no name service); -n changes nothing and a "
    "host or network name is refused as an unknown name is (`NAME: bad value`).",
    "-p, -R, -t and -d are refused: the lab keeps no persistent route file.",
    "`monitor` ends with status 0 when the agent goes away (the lab stopped) instead of "
    "route.c's `route: read: ...`, so a lab's teardown is not reported as an error.",
]
# rtmsg does not perror these; newroute's line names them
QUIET_ERRNOS = {_errno.ESRCH, _errno.EBUSY, _errno.ENOBUFS, _errno.EEXIST, _errno.ENETUNREACH,
                _errno.EHOSTUNREACH, _errno.EPERM}
# newroute's words for an errno
ERR_WORDS = {_errno.ESRCH: "not in table", _errno.EBUSY: "entry in use",
             _errno.ENOBUFS: "routing table overflow", _errno.EEXIST: "entry exists",
             _errno.EPERM: "insufficient privileges"}
METRICS_HEAD = " recvpipe  sendpipe  ssthresh    rtt,ms rttvar,ms  hopcount      mtu     expire"
RTA_IGN = (C.RTA_DST | C.RTA_GATEWAY | C.RTA_NETMASK | C.RTA_IFP | C.RTA_IFA | C.RTA_BRD
           | C.RTA_SRC)


def _status(err: int) -> int:
    """route.c exits with the (illumos) errno."""
    return C.to_wire_errno(err) & 0xFF or 1


class Route:
    """One route(8) run: options, the agent path, `admin` for interface queries, output streams."""

    def __init__(self, path, admin, out=None, err=None) -> None:
        self.path, self.admin = path, admin
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.nflag = self.verbose = self.qflag = False

    # --- sockets -----------------------------------------------------------
    def open(self, protocol: int = 0):
        from ..client import RoutingSocket
        return RoutingSocket(protocol, path=self.path)

    def quit(self, what: str, exc: OSError) -> int:
        err = exc.errno or _errno.EIO
        self.err.write(f"route: {what}: {exc.strerror or os.strerror(err)}\n")
        return _status(err)

    # --- main -----------------------------------------------------------------
    def main(self, argv: list[str]) -> int:
        if not argv:
            return self.usage()
        try:
            opts, rest = getopt.getopt(argv, "R:nqdtvfp")
        except getopt.GetoptError:
            return self.usage()
        flush = False
        for opt, _ in opts:
            if opt in ("-p", "-R", "-t", "-d"):
                self.err.write(f"route: {opt}: persistent and debug-only routes are not kept "
                               "in the lab; run the command without it\n")
                return 1
            self.nflag |= opt == "-n"
            self.verbose |= opt == "-v"
            self.qflag |= opt == "-q"
            flush |= opt == "-f"
        if flush:
            fam = rest[0] if rest and rest[0] in ("inet", "inet6") else None
            rest = rest[1:] if fam else rest
            rc = self.flush(["flush"] + ([f"-{fam}"] if fam else []))
            if rc or not rest:
                return rc
        if not rest:
            return self.usage()
        cmd = rest[0]
        try:
            if cmd in COMMANDS:
                return self.newroute(cmd, rest[1:])
            if cmd == "monitor":
                return self.monitor(rest)
            if cmd == "flush":
                return self.flush(rest)
            if cmd == "show":
                raise RouteSyntax("route: show command requires -p\n")
        except RouteSyntax as exc:
            self.err.write(str(exc))
            return 1
        return self.usage(cmd)

    def usage(self, keyword: str | None = None) -> int:
        if keyword is not None:
            self.err.write(f"route: botched keyword: {keyword}\n")
        self.err.write(USAGE + "\n")
        return 1

    @staticmethod
    def _family(argv, what) -> int:
        """monitor/flush [-inet|-inet6]: the family, 0 for all."""
        if len(argv) == 1:
            return 0
        if len(argv) == 2 and argv[1] in ("-inet", "-inet6"):
            return C.AF_INET if argv[1] == "-inet" else C.AF_INET6
        raise RouteSyntax(f"route: botched keyword: {argv[1]}\n{USAGE}\n")

    # --- add, change, delete, get --------------------------------------------
    def subnetmask(self, addr: int, mask: int) -> int:
        """inet_makesubnetmask: the netmask of an UP local subnet inside the classful net."""
        rc, out, _ = self.admin(["ifnetmasks"])
        ptp = 0
        for line in out.splitlines() if rc == 0 else ():
            if_addr, if_mask, flags = (int(x, 16) for x in line.split())
            if if_addr & mask == addr & mask:
                if flags & C.IFF_POINTOPOINT:
                    ptp = if_mask
                    continue
                return if_mask
        return ptp or mask

    def newroute(self, cmd: str, argv: list[str]) -> int:
        rc = Parser(self.subnetmask).parse(cmd, argv)
        ifindex = 0
        if rc.ifp_str is not None:
            status, out, _ = self.admin(["ifindex", rc.ifp_str])
            if status:
                self.err.write(f"route: {rc.ifp_str}: no such interface\n")
                return 1
            ifindex = int(out)
        try:
            sock = self.open()
        except OSError as exc:
            return self.quit("socket", exc)
        try:
            if rc.cmd != C.RTM_GET:
                sock.shutdown(0)          # newroute: don't read back our own messages
            err = self.rtmsg(sock, rc, ifindex)
        finally:
            sock.close()
        if rc.cmd != C.RTM_GET:
            self.out.write(self.rtcmd_short(rc))
            if not err:
                self.out.write("\n")
        elif err:
            dst = rc.addrs[C.RTA_DST]
            self.out.write(f" {dst or ('0.0.0.0' if rc.af == C.AF_INET else '::')}"
                           if self.nflag else rc.dest_str or "")
        if err:
            self.out.write(f": {ERR_WORDS.get(err, os.strerror(err))}\n")
            return _status(err)
        return 0

    def rtcmd_short(self, rc) -> str:
        """print_rtcmd_short (without the newline): "add net 10.0.0.0: gateway 192.0.2.1"."""
        what = "host" if rc.flags & C.RTF_HOST else "net"
        text = f"{C.RTM_NAMES[rc.cmd][4:].lower()} {what} {rc.dest_str}"
        if rc.gate_str is not None:
            gate = rc.addrs.get(C.RTA_GATEWAY)
            shown = str(gate) if self.nflag and gate is not None else rc.gate_str
            text += f": gateway {shown}"
        return text

    def request(self, rc, ifindex: int):
        from ..wire.messages import RtMetrics, RtMsghdr
        from ..wire.sockaddrs import Sockaddr, SockaddrDl, to_sockaddr
        zero = "0.0.0.0" if rc.af == C.AF_INET else "::"
        sockaddrs: dict[int, Sockaddr] = {}
        for bit, value in rc.addrs.items():
            if bit == C.RTA_IFP:
                sockaddrs[bit] = SockaddrDl(sdl_index=ifindex)
            else:
                sockaddrs[bit] = to_sockaddr(str(value if value is not None else zero))
        if rc.cmd == C.RTM_GET:
            sockaddrs[C.RTA_IFP] = SockaddrDl(sdl_index=ifindex)   # rtmsg: a get asks for the ifp
        rmx = RtMetrics(rmx_locks=rc.locks, **rc.metrics)
        return RtMsghdr(rc.cmd, rtm_flags=rc.flags, rtm_seq=1, rtm_inits=rc.inits, rtm_rmx=rmx,
                        sockaddrs=sockaddrs)

    def rtmsg(self, sock, rc, ifindex: int) -> int:
        """Send; 0 or the errno. A get prints the reply (print_getmsg)."""
        msg = self.request(rc, ifindex)
        if self.verbose:
            self.out.write(self.sodump(msg))
            self.out.write(render(msg).split("\n", 1)[1] + "\n")
        try:
            sock.write(msg)
        except OSError as exc:
            if exc.errno not in QUIET_ERRNOS:
                self.err.write(f"writing to routing socket: {os.strerror(exc.errno or _errno.EIO)}\n")
            return exc.errno or _errno.EIO
        if rc.cmd == C.RTM_GET:
            try:
                reply = sock.read_reply(msg.rtm_seq)
            except (OSError, TimeoutError) as exc:
                self.err.write(f"route: read from routing socket: {exc}\n")
                return 0
            self.out.write(self.getmsg(rc, reply))
        return 0

    @staticmethod
    def sodump(msg) -> str:
        """rtmsg's -v dump of each address it sends ("newrt->ri_dst: inet 10.0.0.0; ")."""
        names = {C.RTA_DST: "dst", C.RTA_GATEWAY: "gate", C.RTA_NETMASK: "mask",
                 C.RTA_IFP: "ifp", C.RTA_IFA: "ifa", C.RTA_SRC: "src"}
        out = []
        for bit in sorted(msg.sockaddrs):
            sa = msg.sockaddrs[bit]
            kind = {C.AF_INET: "inet", C.AF_INET6: "inet6"}.get(sa.family, "link")
            text = sa.text() if kind != "link" else routename(sa)
            out.append(f"newrt->ri_{names.get(bit, bit)}: {kind} {text}; ")
        return "".join(out)

    def getmsg(self, rc, rtm) -> str:
        """print_getmsg."""
        req = rc.addrs[C.RTA_DST]
        lines = [f"   route to: {_name(req if req is not None else ipaddress.ip_address(0))}"]
        if rtm.rtm_errno:
            name = C.from_wire_errno(rtm.rtm_errno)      # strerror of the illumos errno
            text = os.strerror(C.linux_errno(name)) if hasattr(_errno, name) else name
            self.err.write(f"RTM_GET: {text} (errno {rtm.rtm_errno})\n")
            return lines[0] + "\n"
        sas = rtm.sockaddrs
        if C.RTA_DST in sas:
            lines.append(f"destination: {routename(sas[C.RTA_DST])}")
        if C.RTA_NETMASK in sas:
            lines.append(f"       mask: {routename(sas[C.RTA_NETMASK])}")
        if C.RTA_GATEWAY in sas and rtm.rtm_flags & C.RTF_GATEWAY:
            lines.append(f"    gateway: {routename(sas[C.RTA_GATEWAY])}")
        if C.RTA_SRC in sas and rtm.rtm_flags & C.RTF_SETSRC:
            lines.append(f"     setsrc: {routename(sas[C.RTA_SRC])}")
        ifp = sas.get(C.RTA_IFP)
        if ifp is not None and ifp.family == C.AF_LINK and ifp.name:
            if self.verbose:
                mac = "".join(f"{b:02x} " for b in ifp.lladdr)
                lines.append(f"  interface: {ifp.name} index {ifp.sdl_index} address {mac}")
            else:
                lines.append(f"  interface: {ifp.name}")
        lines.append(f"      flags: {bprintf(rtm.rtm_flags, MONITOR_RTF)}")
        lines.append(METRICS_HEAD)
        rmx = rtm.rtm_rmx
        expire = rmx.rmx_expire - int(time.time()) if rmx.rmx_expire else 0
        values = [(rmx.rmx_recvpipe, C.RTV_RPIPE), (rmx.rmx_sendpipe, C.RTV_SPIPE),
                  (rmx.rmx_ssthresh, C.RTV_SSTHRESH), ((rmx.rmx_rtt + 500) // 1000, C.RTV_RTT),
                  ((rmx.rmx_rttvar + 500) // 1000, C.RTV_RTTVAR),
                  (rmx.rmx_hopcount, C.RTV_HOPCOUNT), (rmx.rmx_mtu, C.RTV_MTU),
                  (expire, C.RTV_EXPIRE)]
        row = " ".join(f"{_int32(v):8d}{'L' if rmx.rmx_locks & bit else ' '}" for v, bit in values)
        if self.verbose:
            dump = render(rtm).split("\n")[2:]     # pmsg_common: locks/inits and the addresses
            return "\n".join(lines + [row] + dump) + "\n"
        extra = ""
        if rtm.addrs() & ~RTA_IGN:
            extra = f"\nsockaddrs: {bprintf(rtm.addrs(), MONITOR_RTA)}"
        return "\n".join(lines + [row + extra]) + "\n"

    # --- monitor, flush -------------------------------------------------------
    def monitor(self, argv: list[str]) -> int:
        """rtmonitor: every message as print_rtmsg prints it; quiet exit when the agent goes."""
        af = self._family(argv, "monitor")
        try:
            sock = self.open(af)
        except OSError as exc:
            return self.quit("socket", exc)
        try:
            while True:
                data = sock.read()
                self.out.write(render(data, size=len(data)) + "\n")
                self.out.flush()
        except (KeyboardInterrupt, BrokenPipeError, ConnectionError):
            return 0
        except OSError as exc:
            if exc.errno in (_errno.ECONNRESET, _errno.EPIPE, _errno.ENOTCONN):
                return 0                       # the agent (or the lab) stopped
            return self.quit("read", exc)
        finally:
            sock.close()

    def flush(self, argv: list[str]) -> int:
        """flushroutes: RTM_DELETE of every gateway route (IRE_DEFAULT/PREFIX/HOST/HOST_REDIRECT)."""
        af = self._family(argv, "flush")
        rc, out, err = self.admin(["routes"])
        if rc:
            self.err.write(err)
            return rc
        try:
            sock = self.open()
        except OSError as exc:
            return self.quit("socket", exc)
        try:
            sock.shutdown(0)
            for seq, line in enumerate(out.splitlines()):
                dst, plen, gate = line.split()
                net = ipaddress.ip_network(f"{dst}/{plen}")
                if af and af != (C.AF_INET if net.version == 4 else C.AF_INET6):
                    continue
                self._flush_one(sock, seq, net, ipaddress.ip_address(gate))
        finally:
            sock.close()
        return 0

    def _flush_one(self, sock, seq, net, gate) -> None:
        from ..wire.build import RtMsg
        host = net.prefixlen == net.max_prefixlen
        msg = RtMsg("RTM_DELETE", dst=str(net.network_address), gateway=str(gate),
                    netmask=net.prefixlen, seq=seq,
                    flags=C.RTF_GATEWAY | (C.RTF_HOST if host else 0))
        try:
            sock.write(msg)
        except OSError as exc:
            self.err.write(f"route: write to routing socket: {os.strerror(exc.errno or _errno.EIO)}\n")
            return
        if self.qflag:
            return
        if self.verbose:
            self.out.write(render(msg).split("\n", 1)[1] + "\n")
            return
        dst = _name(net.network_address) if host else _netname(net.network_address)
        self.out.write(f"{dst[:20]:<20} {_name(gate)[:20]:<20} done\n")


def _int32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value


def _name(addr) -> str:
    """routename for an address (no name service: numeric; the unspecified one is "default")."""
    return "default" if addr.is_unspecified else str(addr)


def _netname(addr) -> str:
    """netname -n: "default", or the address without its trailing zero bytes."""
    if addr.version == 6:
        return _name(addr)
    if addr.is_unspecified:
        return "default"
    parts = str(addr).split(".")
    while len(parts) > 1 and parts[-1] == "0":
        parts.pop()
    return ".".join(parts)


def run_route(path: str, args: list[str], admin) -> int:
    """The rtsock command's `route ...`: `admin(argv)` asks the agent (ifindex, ...)."""
    return Route(path, admin).main(args)


__all__ = ["run_route", "Route", "USAGE"]
