"""The RTM_GET reply (`rts_rtmget`; R78-R80), built from the
kernel's `Route` (kernel/routes.py: dst, netmask, gateway, flags, ill, src, rmx())."""
from __future__ import annotations

from rtsock_emul.kernel.messages import sdl, sockaddr
from rtsock_emul.kernel.model import Ill, Ipif
from rtsock_emul.wire import constants as C
from rtsock_emul.wire.messages import RtMetrics, RtMsghdr

# rtm_inits bit -> rt_metrics field, for Route.rmx()'s {bit: value}.
_RMX_FIELDS = {C.RTV_MTU: "rmx_mtu", C.RTV_HOPCOUNT: "rmx_hopcount", C.RTV_EXPIRE: "rmx_expire",
               C.RTV_RPIPE: "rmx_recvpipe", C.RTV_SPIPE: "rmx_sendpipe",
               C.RTV_SSTHRESH: "rmx_ssthresh", C.RTV_RTT: "rmx_rtt", C.RTV_RTTVAR: "rmx_rttvar"}


def _first_ipif(ill: Ill) -> Ipif | None:
    return ill.ipifs[min(ill.ipifs)] if ill.ipifs else None


def build_get_reply(hdr: dict, addrs, route) -> RtMsghdr:
    """The reply to the RTM_GET with header fields `hdr` and parsed sockaddrs `addrs`."""
    af = addrs.af
    gateway = route.gateway if route.gateway is not None else route.dst
    sockaddrs = {C.RTA_DST: sockaddr(af, route.dst), C.RTA_GATEWAY: sockaddr(af, gateway),
                 C.RTA_NETMASK: sockaddr(af, route.netmask)}  # R78: always
    ill = route.ill  # ire_nexthop_ill: the IPMP ill for group routes
    if addrs.found & (C.RTA_IFP | C.RTA_IFA) and ill is not None:
        sockaddrs[C.RTA_IFP] = sdl(ill)
        ipif = _first_ipif(ill)
        if ipif is not None:
            sockaddrs[C.RTA_IFA] = sockaddr(af, ipif.addr)
            if ipif.ipif_flags & C.IFF_POINTOPOINT and ipif.pp_dst is not None:
                sockaddrs[C.RTA_BRD] = sockaddr(af, ipif.pp_dst)
    if route.src is not None:
        sockaddrs[C.RTA_SRC] = sockaddr(af, route.src)
    inits, values = route.rmx()  # R80: RTT in µs, RTV_MTU when known
    metrics = RtMetrics(**{_RMX_FIELDS[bit]: v for bit, v in values.items() if bit in _RMX_FIELDS})
    return RtMsghdr(rtm_type=C.RTM_GET, rtm_index=hdr["rtm_index"],  # R79: copied
                    rtm_flags=route.flags | C.RTF_DONE, rtm_pid=hdr["rtm_pid"],
                    rtm_seq=hdr["rtm_seq"], rtm_use=hdr["rtm_use"], rtm_inits=inits,
                    rtm_rmx=metrics, sockaddrs=sockaddrs, af=af)
