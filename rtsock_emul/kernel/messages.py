"""Builds the wire objects of kernel-generated messages (R43-R54).

Each builder returns a message from `rtsock_emul.wire` with `af` set; the
caller queues it with a resolved RTSQ (`rtsq_for`).
"""
from __future__ import annotations

from rtsock_emul.wire import constants as C
from rtsock_emul.wire.messages import IfaMsghdr, IfData, IfMsghdr, RtMsghdr
from rtsock_emul.wire.sockaddrs import SockaddrDl, SockaddrIn, SockaddrIn6

from .model import AF_INET, UNSPEC, Ill, Ipif


def sockaddr(af: int, addr):
    return SockaddrIn(addr) if af == AF_INET else SockaddrIn6(addr)


def rtsq_for(ill: Ill | None, rtsq: int = C.RTSQ_DEFAULT) -> int:
    """RTSQ_DEFAULT -> ALL, minus NORMAL when the ill is underlying (rts_queue_input, R30-R41)."""
    if rtsq != C.RTSQ_DEFAULT:
        return rtsq
    if ill is not None and ill.under_ipmp:
        return C.RTSQ_UNDER_IPMP
    return C.RTSQ_ALL


def upper_ifindex(ill: Ill) -> int:
    """ill_get_upper_ifindex: the IPMP interface's index for an underlying ill (R46)."""
    if ill.under_ipmp:
        return ill.phyint.ipmp_group.ipmp.ifindex
    return ill.phyint.ifindex


def sdl(ill: Ill) -> SockaddrDl:
    """ill_dls_info (R46, R47): an IPMP ill has no phys addr, only its length."""
    lladdr = b"" if ill.phyint.is_ipmp else ill.phyint.mac[:ill.phys_addr_len]
    return SockaddrDl(sdl_index=upper_ifindex(ill), sdl_type=ill.type, name=ill.name,
                      lladdr=lladdr, sdl_alen=ill.phys_addr_len)


def ifinfo(ill: Ill, set_: int = 0, clear: int = 0) -> IfMsghdr:
    """RTM_IFINFO about ipif 0 (R43-R45): IfMsghdr keeps the low 32 bits of the flags."""
    flags = (ill.ipif0.flags | set_) & ~clear
    data = IfData(ifi_type=ill.type, ifi_mtu=ill.mtu, ifi_metric=ill.metric)
    return IfMsghdr(ifm_type=C.RTM_IFINFO, ifm_flags=flags, ifm_index=ill.phyint.ifindex,
                    ifm_data=data, sockaddrs={C.RTA_IFP: sdl(ill)}, af=ill.af)


def addrmsg(cmd: int, ipif: Ipif, addr=None) -> IfaMsghdr:
    """NEWADDR/DELADDR/CHGADDR/FREEADDR (R48-R52); BRD is the p-p destination."""
    af, ill = ipif.af, ipif.ill
    pp = ipif.pp_dst if ipif.pp_dst is not None else UNSPEC[af]
    return IfaMsghdr(
        ifam_type=cmd, ifam_flags=C.RTF_UP if cmd == C.RTM_NEWADDR else 0,
        ifam_index=ill.phyint.ifindex, ifam_metric=ill.metric,
        sockaddrs={C.RTA_NETMASK: sockaddr(af, ipif.netmask), C.RTA_IFP: sdl(ill),
                   C.RTA_IFA: sockaddr(af, ipif.addr if addr is None else addr),
                   C.RTA_BRD: sockaddr(af, pp)}, af=af)


def addr_route(cmd: int, ipif: Ipif) -> RtMsghdr:
    """Address-derived RTM_ADD/RTM_DELETE (R54): DST is the local address."""
    flags = C.RTF_UP | C.RTF_DONE if cmd == C.RTM_ADD else C.RTF_DONE
    return RtMsghdr(rtm_type=cmd, rtm_index=ipif.ill.phyint.ifindex, rtm_flags=flags,
                    sockaddrs={C.RTA_DST: sockaddr(ipif.af, ipif.addr),
                               C.RTA_NETMASK: sockaddr(ipif.af, ipif.netmask)}, af=ipif.af)


def rtmsg(cmd: int, af: int, flags: int, **addrs) -> RtMsghdr:
    """ip_rts_change / ip_rts_rtmsg messages: `addrs` keyed dst/gateway/netmask/ifa/author/src."""
    bits = {"dst": C.RTA_DST, "gateway": C.RTA_GATEWAY, "netmask": C.RTA_NETMASK,
            "ifa": C.RTA_IFA, "author": C.RTA_AUTHOR, "src": C.RTA_SRC}
    sas = {bits[k]: sockaddr(af, v) for k, v in addrs.items() if v is not None}
    return RtMsghdr(rtm_type=cmd, rtm_flags=flags, sockaddrs=sas, af=af)
