"""Routing-socket requests: `ip_rts_request_common` (ip_rts.c) and the echo.

`handle_request(kernel, hub, sock, data) -> RtsErrno` runs the checks in the
kernel's order, calls the kernel's route operations, queues the echo (or the
RTM_GET reply) through the hub, and returns the errno the write reports (M13).
"""
from __future__ import annotations

import errno as E
from collections.abc import Callable
from ipaddress import ip_address
from typing import TYPE_CHECKING, Any, TypeVar

from rtsock_emul.kernel.errors import KernelError
from rtsock_emul.wire import constants as C
from rtsock_emul.wire.errors import WireError
from rtsock_emul.wire.messages import RtMsghdr, decode_request
from rtsock_emul.wire.structs import RT_MSGHDR

from .hub import UNKNOWN_AF
from .parse import HDR_SIZE, getaddrs, header
from .reply import build_get_reply
from .socket import RtSocket

if TYPE_CHECKING:
    from rtsock_emul.kernel import Kernel

T = TypeVar("T")


class RtsErrno(int):
    """An errno (Linux value) that keeps its name: ENOTSUP and EOPNOTSUPP share 95 on Linux."""
    name: str

    def __new__(cls, value: int, name: str | None = None):
        self = super().__new__(cls, value)
        self.name = name or (C.ERRNO_NAMES.get(value, E.errorcode.get(value, str(value))) if value else "0")
        return self

    def __repr__(self) -> str:
        return f"RtsErrno({self.name})"


OK = RtsErrno(0)


class Reject(Exception):
    """A request check failed: errno name (illumos vocabulary) and why, for the log."""

    def __init__(self, name: str, why: str = "") -> None:
        super().__init__(f"{name}: {why}")
        self.err = RtsErrno(getattr(E, name), name)
        self.why = why


# R11: DST neither AF_INET nor AF_INET6.
_BAD_DST_FAMILY = {C.RTM_ADD: "ESRCH", C.RTM_DELETE: "ESRCH",
                   C.RTM_GET: "EAFNOSUPPORT", C.RTM_CHANGE: "EAFNOSUPPORT"}
_ALL_ONES = {C.AF_INET: ip_address("255.255.255.255"), C.AF_INET6: ip_address("ffff:" * 7 + "ffff")}
_PRIVILEGE_EXEMPT = (C.RTM_GET, C.RTM_RESOLVE)  # R9


def handle_request(kernel, hub, sock: RtSocket, data: bytes, pid: int | None = None) -> RtsErrno:
    """Process one request written on `sock` by process `pid` (default: the
    socket's SO_PEERCRED pid); return its errno (0 on success)."""
    if len(data) < HDR_SIZE:  # R6: no echo
        return RtsErrno(E.EINVAL)
    data = RT_MSGHDR.patch(data, rtm_pid=sock.pid if pid is None else pid)  # R28
    hdr = header(data)
    af = UNKNOWN_AF
    reply = None
    try:
        if hdr["rtm_msglen"] != len(data):
            raise Reject("EINVAL", f"rtm_msglen {hdr['rtm_msglen']} != {len(data)} bytes written (R7)")
        if hdr["rtm_version"] != C.RTM_VERSION:
            raise Reject("EPROTONOSUPPORT", f"rtm_version {hdr['rtm_version']} != {C.RTM_VERSION} (R8)")
        if hdr["rtm_type"] not in _PRIVILEGE_EXEMPT and not sock.privileged:
            raise Reject("EPERM", f"uid {sock.uid} may only send RTM_GET (R9)")
        addrs = getaddrs(data, hdr["rtm_addrs"])
        if not addrs.found & C.RTA_DST:
            raise Reject("EINVAL", addrs.aborted or "no RTA_DST (R10)")
        af = addrs.af
        if af not in (C.AF_INET, C.AF_INET6):
            raise Reject(_BAD_DST_FAMILY.get(hdr["rtm_type"], "EOPNOTSUPP"),
                         f"RTA_DST family {af} (R11)")
        reply = _dispatch(kernel, sock, hdr, addrs)
    except WireError as exc:  # malformed bytes are the writer's mistake, never EIO
        err = Reject("EINVAL", str(exc)).err
    except Reject as rej:
        err = rej.err
    else:
        err = OK
    _echo(hub, sock, data, hdr, af, err, reply)
    return err


def _dispatch(kernel: Kernel, sock: RtSocket, hdr: dict, addrs: Any) -> RtMsghdr | None:
    """The later checks of ip_rts_request_common: mask, RTA_IFP, then the per-type rules. Returns the GET reply."""
    rtm_type, flags = hdr["rtm_type"], hdr["rtm_flags"]
    af = addrs.af
    if not addrs.found & C.RTA_NETMASK or flags & C.RTF_HOST:  # R17
        addrs.netmask = _ALL_ONES[af]
    ifindex = addrs.ifindex
    if ifindex:
        ifindex = _check_ifp(kernel, rtm_type, af, ifindex)
    handler = _PER_TYPE.get(rtm_type)
    if handler is None:  # R26
        raise Reject("EOPNOTSUPP", f"rtm_type {rtm_type} is not a request the kernel serves")
    return handler(kernel, sock, hdr, addrs, ifindex)


def _check_ifp(kernel: Kernel, rtm_type: int, af: int, ifindex: int) -> int:
    """R16, R75-R77: the ill named by RTA_IFP's sdl_index, translated for IPMP."""
    ill = kernel.ill_of_index(ifindex, af)
    if ill is None:
        raise Reject("EINVAL", f"RTA_IFP index {ifindex} has no {C.AF_NAMES[af]} interface (R16)")
    if not ill.under_ipmp:
        return ifindex
    if rtm_type in (C.RTM_CHANGE, C.RTM_DELETE):
        raise Reject("EINVAL", f"RTA_IFP index {ifindex} is an underlying IPMP interface (R76)")
    if rtm_type == C.RTM_ADD:  # R75: the route goes on the IPMP interface
        ipmp_index = ill.phyint.ipmp_group.ipmp.ifindex
        if kernel.ill_of_index(ipmp_index, af) is None:
            raise Reject("EINVAL", f"underlying interface {ifindex} has no {C.AF_NAMES[af]} IPMP ill (R75)")
        return ipmp_index
    return ifindex  # GET and the rest go on with the underlying ill (R77)


def _kernel_call(fn: Callable[..., T], *args: Any, **kw: Any) -> T:
    """A kernel route operation; KernelError becomes a Reject with its errno name
    (KernelError.name: ENOTSUP and EOPNOTSUPP share Linux's 95)."""
    try:
        return fn(*args, **kw)
    except KernelError as exc:
        raise Reject(exc.name, exc.text) from None


# rts_setmetrics: rtm_inits bit -> the rt_metrics field it names.
_RMX_FIELDS = {C.RTV_MTU: "rmx_mtu", C.RTV_HOPCOUNT: "rmx_hopcount", C.RTV_EXPIRE: "rmx_expire",
               C.RTV_RPIPE: "rmx_recvpipe", C.RTV_SPIPE: "rmx_sendpipe",
               C.RTV_SSTHRESH: "rmx_ssthresh", C.RTV_RTT: "rmx_rtt", C.RTV_RTTVAR: "rmx_rttvar"}


def _metrics(hdr: dict) -> dict[int, int]:
    """{RTV_ bit: wire value} for the bits set in rtm_inits."""
    rmx = hdr["rtm_rmx"]
    rmx = rmx if isinstance(rmx, dict) else vars(rmx)
    return {bit: rmx[name] for bit, name in _RMX_FIELDS.items() if hdr["rtm_inits"] & bit}


def _add(kernel: Kernel, sock: RtSocket, hdr: dict, a: Any, ifindex: int) -> None:
    flags = hdr["rtm_flags"]
    if a.gateway is None:
        raise Reject("EINVAL", "RTM_ADD without RTA_GATEWAY (R18)")
    if flags & C.RTF_MULTIRT and not flags & C.RTF_HOST:
        raise Reject("EADDRNOTAVAIL", "RTF_MULTIRT without RTF_HOST")
    if flags & (C.RTF_MULTIRT | C.RTF_SETSRC) and not flags & C.RTF_GATEWAY:
        raise Reject("EADDRNOTAVAIL", "RTF_MULTIRT/RTF_SETSRC without RTF_GATEWAY")
    if a.src is not None and a.src.is_loopback:
        raise Reject("EINVAL", "RTA_SRC is a loopback address")
    if flags & C.RTF_SETSRC and a.src is None:
        raise Reject("EINVAL", "RTF_SETSRC without RTA_SRC")
    _kernel_call(kernel.route_add, a.af, a.dst, a.netmask, a.gateway, flags,
                 ifindex=ifindex or None, src=a.src, metrics=_metrics(hdr))


def _delete(kernel: Kernel, sock: RtSocket, hdr: dict, a: Any, ifindex: int) -> None:
    if a.gateway is None:
        raise Reject("EINVAL", "RTM_DELETE without RTA_GATEWAY (R19)")
    if hdr["rtm_flags"] & C.RTF_SETSRC:
        raise Reject("EINVAL", "RTM_DELETE with RTF_SETSRC (R19)")
    _kernel_call(kernel.route_delete, a.af, a.dst, a.netmask, a.gateway, hdr["rtm_flags"],
                 ifindex=ifindex or None)


def _change(kernel: Kernel, sock: RtSocket, hdr: dict, a: Any, ifindex: int) -> None:
    if a.src is not None and not hdr["rtm_flags"] & C.RTF_SETSRC:
        raise Reject("EOPNOTSUPP", "RTM_CHANGE with RTA_SRC but no RTF_SETSRC (R25)")
    _kernel_call(kernel.route_change, a.af, a.dst, a.netmask, a.gateway, hdr["rtm_flags"],
                 ifindex=ifindex or None, src=a.src, metrics=_metrics(hdr))


def _get(kernel: Kernel, sock: RtSocket, hdr: dict, a: Any, ifindex: int) -> RtMsghdr:
    if a.src is not None:
        raise Reject("EOPNOTSUPP", "RTM_GET with RTA_SRC (R25)")
    route = _kernel_call(kernel.route_get, a.af, a.dst, a.netmask, a.gateway,
                         ifindex=ifindex or None, flags=hdr["rtm_flags"])
    return build_get_reply(hdr, a, route)


_PER_TYPE = {C.RTM_ADD: _add, C.RTM_DELETE: _delete, C.RTM_CHANGE: _change, C.RTM_GET: _get}


def _echo(hub, sock, data, hdr, af, err, reply) -> None:
    """Step 9: queue the echo (RTSQ_ALL, R30) or the RTM_GET reply (R81).

    Echoes of errors found before the family is known (R7, R8, R9, R10) go only
    to proto-0 sockets and the originator: the kernel's `af` is uninitialised
    there, and this is the named choice UNKNOWN_AF.
    """
    if reply is not None and not err:
        hub.queue(reply, af, C.RTSQ_ALL, sock)
        return
    flags = hdr["rtm_flags"] | (C.RTF_DONE if not err else 0)
    echo = RT_MSGHDR.patch(data, rtm_flags=flags, rtm_errno=C.to_wire_errno(err.name))
    try:
        msg = decode_request(echo)  # in-agent subscribers get objects
    except WireError:
        msg = None  # malformed: only raw readers can get it
    hub.queue(msg, af, C.RTSQ_ALL, sock, data=echo)
