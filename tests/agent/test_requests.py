"""Routing-socket requests through real client sockets against a sim agent (ip_rts_request_common, rts_getaddrs).

Each test writes on an emulated routing socket and checks the write's errno,
the echo's rtm_errno (R27) and what other sockets see.
"""
import errno
import os

import pytest

from rtsock_emul.wire import RtMsg, RtMsghdr, SockaddrDl, SockaddrIn, SockaddrIn6, SockaddrUnspec
from rtsock_emul.wire import constants as C
from rtsock_emul.wire.structs import RT_MSGHDR

from .agents import drain
from .helpers import add, expect_errno, next_seq, read_raw_reply, write_error

NET0, NET1 = 2, 3      # ifindexes in boot order: lo0 is 1


@pytest.fixture
def s(agent):
    with agent.socket() as sock:
        yield sock


def test_R6_short_write_is_einval_without_echo(agent, s):
    """R6: a write shorter than 76 bytes fails with EINVAL and produces no echo."""
    with agent.socket() as listener:
        for size in (0, 1, 20, 75):
            err = write_error(s, add("198.51.100.0/24").encode()[:size] if size else b"\0")
            assert err.errno == errno.EINVAL and err.illumos_name == "EINVAL"
        assert drain(listener) == [] and drain(s) == []


def test_R7_msglen_mismatch_is_einval_and_echoed(agent, s):
    """R7: rtm_msglen != bytes written -> EINVAL; the echo carries rtm_errno EINVAL."""
    data = add("198.51.100.0/24").encode() + b"\0" * 4
    with agent.socket() as listener:
        err, echo = expect_errno(s, data, "EINVAL")
        assert len(echo["raw"]) == len(data)
        assert read_raw_reply(listener, echo["rtm_seq"])["rtm_errno"] == C.ILLUMOS_ERRNO["EINVAL"]


def test_R8_wrong_version_is_eprotonosupport(s):
    """R8: rtm_version != 3 -> EPROTONOSUPPORT."""
    msg = add("198.51.100.0/24", version=2)
    expect_errno(s, msg, "EPROTONOSUPPORT")


def test_R10_no_parseable_dst_is_einval(s):
    """R10: no RTA_DST (absent, or announced but past rtm_msglen) -> EINVAL."""
    expect_errno(s, RtMsg("RTM_ADD", gateway="192.0.2.1", seq=next_seq()), "EINVAL")
    hdr_only = RtMsghdr(C.RTM_ADD, rtm_seq=next_seq()).encode()
    truncated = RT_MSGHDR.patch(hdr_only, rtm_addrs=C.RTA_DST)  # bit set, no bytes
    expect_errno(s, truncated, "EINVAL")


@pytest.mark.parametrize("rtm_type, name", [
    (C.RTM_ADD, "ESRCH"), (C.RTM_DELETE, "ESRCH"), (C.RTM_GET, "EAFNOSUPPORT"),
    (C.RTM_CHANGE, "EAFNOSUPPORT"), (C.RTM_LOCK, "EOPNOTSUPP"), (C.RTM_MISS, "EOPNOTSUPP")])
def test_R11_dst_family_neither_inet_nor_inet6(s, rtm_type, name):
    """R11: DST family AF_UNSPEC -> ESRCH (ADD/DELETE), EAFNOSUPPORT (GET/CHANGE), else EOPNOTSUPP."""
    msg = RtMsghdr(rtm_type, rtm_seq=next_seq(),
                   sockaddrs={C.RTA_DST: SockaddrUnspec(), C.RTA_GATEWAY: SockaddrUnspec()})
    expect_errno(s, msg, name)


def test_R12_gateway_family_must_match_dst(s):
    """R12: GATEWAY/NETMASK/IFA/AUTHOR of another family than DST -> EINVAL."""
    expect_errno(s, add("198.51.100.0/24", gateway="2001:db8:1::1"), "EINVAL")
    msg = RtMsghdr(C.RTM_ADD, rtm_seq=next_seq(), sockaddrs={
        C.RTA_DST: SockaddrIn("198.51.100.0"), C.RTA_GATEWAY: SockaddrIn("192.0.2.1"),
        C.RTA_AUTHOR: SockaddrIn6("2001:db8::1")})
    expect_errno(s, msg, "EINVAL")


def test_R12_unspec_gateway_is_parsed_as_16_bytes(s):
    """rts_getaddrs: an AF_UNSPEC gateway is accepted and parsed as a 16-byte sockaddr_in
    (here 0.0.0.0, which ip_rt_add refuses with ENETUNREACH, not EINVAL)."""
    msg = RtMsghdr(C.RTM_ADD, rtm_flags=C.RTF_GATEWAY, rtm_seq=next_seq(), sockaddrs={
        C.RTA_DST: SockaddrIn("198.51.100.0"), C.RTA_GATEWAY: SockaddrUnspec(),
        C.RTA_NETMASK: SockaddrIn("255.255.255.0")})
    expect_errno(s, msg, "ENETUNREACH")


@pytest.mark.parametrize("kw", [{"genmask": "255.255.0.0"}, {"brd": "198.51.100.255"}])
def test_R13_genmask_or_brd_in_request_is_einval(s, kw):
    """R13: RTA_GENMASK or RTA_BRD in a request -> EINVAL."""
    expect_errno(s, add("198.51.100.0/24", **kw), "EINVAL")


def test_R14_v4_mapped_ipv6_is_einval(s):
    """R14: an AF_INET6 sockaddr holding a v4-mapped address -> EINVAL."""
    expect_errno(s, add("::ffff:198.51.100.1", gateway="2001:db8:1::1"), "EINVAL")


def test_R15_ifp_family_and_ignored_name(agent, s):
    """R15: RTA_IFP must be AF_LINK or AF_UNSPEC; only sdl_index counts, not the name."""
    bad = RtMsghdr(C.RTM_GET, rtm_seq=next_seq(), sockaddrs={
        C.RTA_DST: SockaddrIn("192.0.2.1"), C.RTA_IFP: SockaddrIn("192.0.2.10")})
    expect_errno(s, bad, "EINVAL")
    named_wrong = RtMsg("RTM_GET", dst="192.0.2.1", ifp=(NET0, "no-such-if"), seq=next_seq())
    assert s.write(named_wrong) == 0
    unspec = RtMsghdr(C.RTM_GET, rtm_seq=next_seq(), sockaddrs={
        C.RTA_DST: SockaddrIn("192.0.2.1"), C.RTA_IFP: SockaddrUnspec()})
    assert s.write(unspec) == 0


def test_R16_unknown_ifp_index_is_einval(s):
    """R16: an RTA_IFP index with no interface of DST's family -> EINVAL."""
    expect_errno(s, add("198.51.100.0/24", ifp=999), "EINVAL")


def test_R17_no_netmask_or_rtf_host_is_a_host_route(s):
    """R17: no RTA_NETMASK, or RTF_HOST, makes the mask all ones."""
    s.write(RtMsg("RTM_ADD", dst="198.51.100.17", gateway="192.0.2.1", flags=["UP", "GATEWAY"]))
    s.write(RtMsg("RTM_ADD", dst="198.51.100.33/24", gateway="192.0.2.1", flags=["UP", "GATEWAY", "HOST"]))
    for dst in ("198.51.100.17", "198.51.100.33"):
        seq = next_seq()
        s.write(RtMsg("RTM_GET", dst=dst, seq=seq))
        reply = s.read_reply(seq)
        assert reply.sockaddrs[C.RTA_NETMASK].addr.compressed == "255.255.255.255"
        assert reply.sockaddrs[C.RTA_DST].addr.compressed == dst
        assert reply.rtm_flags & C.RTF_HOST


def test_R18_add_without_gateway_is_einval(s):
    expect_errno(s, RtMsg("RTM_ADD", dst="198.51.100.0/24", seq=next_seq()), "EINVAL")


def test_R19_delete_without_gateway_or_with_setsrc_is_einval(s):
    s.write(add("198.51.100.64/26"))
    expect_errno(s, RtMsg("RTM_DELETE", dst="198.51.100.64/26", seq=next_seq()), "EINVAL")
    expect_errno(s, RtMsg("RTM_DELETE", dst="198.51.100.64/26", gateway="192.0.2.1",
                          flags=["SETSRC"], seq=next_seq()), "EINVAL")


def test_R20_duplicate_add_is_eexist(s):
    s.write(add("198.51.100.128/25"))
    expect_errno(s, add("198.51.100.128/25"), "EEXIST")


@pytest.mark.parametrize("gateway", ["0.0.0.0", "10.99.99.1", "192.0.2.10"])
def test_R21_unreachable_zero_or_local_gateway_is_enetunreach(s, gateway):
    expect_errno(s, add("198.18.0.0/16", gateway=gateway), "ENETUNREACH")


def test_R22_noncontiguous_mask_is_enotsup(s):
    """R22: ENOTSUP (illumos 48), not EOPNOTSUPP, although Linux folds both into 95."""
    err, echo = expect_errno(s, add("198.18.0.0", netmask="255.0.255.0"), "ENOTSUP")
    assert echo["rtm_errno"] == 48


def test_R23_delete_missing_or_kernel_route_is_esrch(s):
    expect_errno(s, RtMsg("RTM_DELETE", dst="198.19.0.0/16", gateway="192.0.2.1", seq=next_seq()), "ESRCH")
    expect_errno(s, RtMsg("RTM_DELETE", dst="192.0.2.0/24", gateway="192.0.2.10", seq=next_seq()), "ESRCH")


def test_R24_get_without_route_is_esrch(s):
    expect_errno(s, RtMsg("RTM_GET", dst="10.200.0.1", seq=next_seq()), "ESRCH")


def test_R25_get_with_src_or_change_with_src_without_setsrc_is_eopnotsupp(s):
    expect_errno(s, RtMsg("RTM_GET", dst="192.0.2.1", src="192.0.2.10", seq=next_seq()), "EOPNOTSUPP")
    s.write(add("198.51.100.8/29"))
    expect_errno(s, RtMsg("RTM_CHANGE", dst="198.51.100.8/29", gateway="192.0.2.2",
                          src="192.0.2.10", seq=next_seq()), "EOPNOTSUPP")


@pytest.mark.parametrize("rtm_type", [C.RTM_LOCK, C.RTM_RESOLVE, C.RTM_LOSING, C.RTM_REDIRECT,
                                      C.RTM_MISS, C.RTM_OLDADD, C.RTM_OLDDEL, C.RTM_NEWADDR,
                                      C.RTM_DELADDR, C.RTM_IFINFO, C.RTM_CHGADDR, C.RTM_FREEADDR, 0x20])
def test_R26_unsupported_request_types_are_eopnotsupp(s, rtm_type):
    """R26: other types -> EOPNOTSUPP (illumos 122) once the address checks pass."""
    msg = RtMsg(rtm_type, dst="192.0.2.1", gateway="192.0.2.1", seq=next_seq())
    err, echo = expect_errno(s, msg, "EOPNOTSUPP")
    assert err.errno == errno.EOPNOTSUPP and echo["rtm_errno"] == 122


def test_R27_write_errno_equals_echo_errno(agent, s):
    """R27 (M13): the syscall error equals the echoed rtm_errno, also as seen by others."""
    with agent.socket() as other:
        err, echo = expect_errno(s, add("198.51.100.0/24", gateway="10.1.1.1"), "ENETUNREACH")
        assert read_raw_reply(other, echo["rtm_seq"])["rtm_errno"] == C.ILLUMOS_ERRNO[err.illumos_name]


def test_R28_pid_is_overwritten_with_the_senders(s):
    seq = next_seq()
    s.write(RtMsg("RTM_GET", dst="192.0.2.1", pid=4242, seq=seq))
    assert s.read_reply(seq).rtm_pid == os.getpid()
    err_seq = next_seq()
    write_error(s, RtMsg("RTM_GET", dst="10.200.0.1", pid=4242, seq=err_seq))
    assert read_raw_reply(s, err_seq)["rtm_pid"] == os.getpid()


def test_R29_success_echo_is_the_request_plus_rtf_done(s):
    """R29: echo = the sender's bytes with RTF_DONE set, rtm_errno 0 and our pid."""
    msg = add("198.51.100.240/28", seq=next_seq())
    msg.rtm_use, msg.rtm_inits = 7, C.RTV_HOPCOUNT
    msg.rtm_rmx.rmx_hopcount = 3
    sent = msg.encode()
    s.write(sent)
    echo = read_raw_reply(s, msg.rtm_seq)["raw"]
    expected = RT_MSGHDR.patch(sent, rtm_flags=msg.rtm_flags | C.RTF_DONE, rtm_pid=os.getpid())
    assert echo == expected


def test_R75_R77_without_ipmp_ifp_is_used_as_is(s):
    """R77's counterpart: RTA_IFP of an ordinary interface restricts GET to it."""
    seq = next_seq()
    s.write(RtMsg("RTM_GET", dst="192.0.2.1", ifp=NET0, seq=seq))
    assert s.read_reply(seq).sockaddrs[C.RTA_IFP].name == "net0"
    expect_errno(s, RtMsg("RTM_GET", dst="192.0.2.1", ifp=NET1, seq=next_seq()), "ESRCH")


def test_R78_get_reply_sockaddrs(s):
    """R78: DST|GATEWAY|NETMASK always; IFP and IFA only if the request set one of them."""
    s.write(add("198.51.100.192/27", gateway="192.0.2.1"))
    seq = next_seq()
    s.write(RtMsg("RTM_GET", dst="198.51.100.200", seq=seq))
    plain = s.read_reply(seq)
    assert plain.addrs() == C.RTA_DST | C.RTA_GATEWAY | C.RTA_NETMASK
    assert str(plain.sockaddrs[C.RTA_GATEWAY].addr) == "192.0.2.1"
    assert str(plain.sockaddrs[C.RTA_NETMASK].addr) == "255.255.255.224"
    seq = next_seq()
    s.write(RtMsg("RTM_GET", dst="198.51.100.200", ifa="0.0.0.0", seq=seq))
    full = s.read_reply(seq)
    assert full.addrs() == C.RTA_DST | C.RTA_GATEWAY | C.RTA_NETMASK | C.RTA_IFP | C.RTA_IFA
    ifp = full.sockaddrs[C.RTA_IFP]
    assert isinstance(ifp, SockaddrDl) and ifp.name == "net0" and ifp.sdl_index == NET0
    assert str(full.sockaddrs[C.RTA_IFA].addr) == "192.0.2.10"


def test_R79_get_reply_copies_index_pid_seq_use(s):
    seq = next_seq()
    s.write(RtMsg("RTM_GET", dst="192.0.2.1", index=77, use=5, seq=seq))
    reply = s.read_reply(seq)
    assert (reply.rtm_index, reply.rtm_seq, reply.rtm_use, reply.rtm_pid) == (77, seq, 5, os.getpid())
    assert reply.rtm_flags & C.RTF_DONE and reply.rtm_flags & C.RTF_UP


def test_R80_get_reply_metrics(s):
    """R80: inits include RTT|SSTHRESH|RTTVAR|SPIPE|RPIPE, MTU when known; rtt in µs."""
    msg = add("198.51.100.160/28")
    msg.rtm_inits = C.RTV_RTT
    msg.rtm_rmx.rmx_rtt = 25000  # µs: stored as 25 ms, reported back in µs
    s.write(msg)
    seq = next_seq()
    s.write(RtMsg("RTM_GET", dst="198.51.100.161", seq=seq))
    reply = s.read_reply(seq)
    base = C.RTV_RTT | C.RTV_SSTHRESH | C.RTV_RTTVAR | C.RTV_SPIPE | C.RTV_RPIPE
    assert reply.rtm_inits & base == base
    assert reply.rtm_inits & C.RTV_MTU and reply.rtm_rmx.rmx_mtu == 1500
    assert reply.rtm_rmx.rmx_rtt == 25000


def test_R81_get_reply_goes_to_every_listener(agent, s):
    with agent.socket() as other, agent.socket(C.AF_INET) as v4:
        seq = next_seq()
        s.write(RtMsg("RTM_GET", dst="192.0.2.1", seq=seq))
        for sock in (s, other, v4):
            reply = sock.read_reply(seq)
            assert reply.rtm_type == C.RTM_GET and C.RTA_GATEWAY in reply.sockaddrs
