"""Struct sizes, offsets and constants against illumos route.h, if.h and socket.h (R2-R5)."""
import errno
import struct

import pytest

from rtsock_emul.wire import constants as c
from rtsock_emul.wire import structs as s


@pytest.mark.parametrize("layout, size", [
    (s.RT_MSGHDR, 76), (s.IF_MSGHDR, 84), (s.IFA_MSGHDR, 20), (s.IF_DATA, 68),
    (s.RT_METRICS, 40), (s.SOCKADDR_IN, 16), (s.SOCKADDR_IN6, 32), (s.SOCKADDR_DL, 252),
    (s.SOCKADDR, 16),
])
def test_R3_sizes(layout, size):
    """R3. sizeof(rt_msghdr)=76, if_msghdr=84, ifa_msghdr=20, if_data=68, rt_metrics=40,
    sockaddr_in=16, sockaddr_in6=32, sockaddr_dl=252 (LP64)."""
    assert layout.size == size
    assert struct.calcsize(layout.format) == size


def test_R4_rt_msghdr_offsets():
    """R4. rt_msghdr offsets: msglen 0, version 2, type 3, index 4, flags 8, addrs 12,
    pid 16, seq 20, errno 24, use 28, inits 32, rmx 36."""
    want = {"rtm_msglen": 0, "rtm_version": 2, "rtm_type": 3, "rtm_index": 4, "rtm_flags": 8,
            "rtm_addrs": 12, "rtm_pid": 16, "rtm_seq": 20, "rtm_errno": 24, "rtm_use": 28,
            "rtm_inits": 32, "rtm_rmx": 36}
    assert {k: s.RT_MSGHDR.offsets[k] for k in want} == want


@pytest.mark.parametrize("layout, want", [
    (s.RT_METRICS, {"rmx_locks": 0, "rmx_mtu": 4, "rmx_hopcount": 8, "rmx_expire": 12,
                    "rmx_recvpipe": 16, "rmx_sendpipe": 20, "rmx_ssthresh": 24, "rmx_rtt": 28,
                    "rmx_rttvar": 32, "rmx_pksent": 36}),
    (s.IF_DATA, {"ifi_type": 0, "ifi_addrlen": 1, "ifi_hdrlen": 2, "ifi_mtu": 4, "ifi_metric": 8,
                 "ifi_baudrate": 12, "ifi_ipackets": 16, "ifi_ierrors": 20, "ifi_opackets": 24,
                 "ifi_oerrors": 28, "ifi_collisions": 32, "ifi_ibytes": 36, "ifi_obytes": 40,
                 "ifi_imcasts": 44, "ifi_omcasts": 48, "ifi_iqdrops": 52, "ifi_noproto": 56,
                 "ifi_lastchange": 60}),
    (s.IF_MSGHDR, {"ifm_msglen": 0, "ifm_version": 2, "ifm_type": 3, "ifm_addrs": 4,
                   "ifm_flags": 8, "ifm_index": 12, "ifm_data": 16}),
    (s.IFA_MSGHDR, {"ifam_msglen": 0, "ifam_version": 2, "ifam_type": 3, "ifam_addrs": 4,
                    "ifam_flags": 8, "ifam_index": 12, "ifam_metric": 16}),
    (s.SOCKADDR_IN, {"sin_family": 0, "sin_port": 2, "sin_addr": 4, "sin_zero": 8}),
    (s.SOCKADDR_IN6, {"sin6_family": 0, "sin6_port": 2, "sin6_flowinfo": 4, "sin6_addr": 8,
                      "sin6_scope_id": 24, "__sin6_src_id": 28}),
    (s.SOCKADDR_DL, {"sdl_family": 0, "sdl_index": 2, "sdl_type": 4, "sdl_nlen": 5,
                     "sdl_alen": 6, "sdl_slen": 7, "sdl_data": 8}),
])
def test_R3_field_offsets_of_spec_section_3(layout, want):
    """R3, R4 offsets, including the explicit pads (natural alignment)."""
    assert {k: layout.offsets[k] for k in want} == want


def test_R2_version_is_3():
    """R2. RTM_VERSION is 3."""
    assert c.RTM_VERSION == 3


def test_constants_of_section_2():
    """illumos route.h/if.h/socket.h values differ from Linux: spot-check the ones other layers depend on."""
    assert (c.AF_UNSPEC, c.AF_INET, c.AF_ROUTE, c.PF_ROUTE, c.AF_LINK, c.AF_INET6) == (0, 2, 24, 24, 25, 26)
    assert (c.SOCK_RAW, c.SOL_SOCKET, c.SOL_ROUTE) == (4, 0xFFFF, 0xFFFE)
    assert (c.SO_USELOOPBACK, c.SO_PROTOTYPE, c.SO_SNDBUF, c.SO_RCVBUF) == (0x40, 0x1009, 0x1001, 0x1002)
    assert (c.RTM_ADD, c.RTM_IFINFO, c.RTM_CHGADDR, c.RTM_FREEADDR) == (1, 0xE, 0xF, 0x10)
    assert (c.RTA_BRD, c.RTA_SRC, c.RTA_NUMBITS, c.RTAX_MAX, c.RTAX_SRC) == (0x80, 0x100, 9, 9, 8)
    assert (c.RTF_KERNEL, c.RTF_ZONE, c.RTF_SETSRC) == (0x80000, 0x100000, 0x20000)
    assert (c.RT_AWARE, c.RTAW_UNDER_IPMP, c.LIFC_UNDER_IPMP) == (1, 0x10, 0x10)
    assert (c.RTSQ_UNDER_IPMP, c.RTSQ_NORMAL, c.RTSQ_ALL, c.RTSQ_DEFAULT) == (1, 2, 3, 4)
    assert (c.IFF_OFFLINE, c.IFF_IPMP, c.IFF_L3PROTECT) == (0x80000000, 0x8000000000, 0x40000000000)
    assert (c.LIFNAMSIZ, c.IFNAMSIZ, c.IFT_OTHER, c.IFT_ETHER, c.IFT_IB) == (32, 16, 1, 6, 0xC7)


def test_iff_derived_masks():
    """if.h: IFF_CANTCHANGE, IFF_IPMP_CANTCHANGE, IFF_IPMP_INVALID."""
    assert c.IFF_CANTCHANGE == 0x7F203003B5A  # summed by hand from the if.h flag values
    assert c.IFF_IPMP_CANTCHANGE == 0x10000000
    assert c.IFF_IPMP_INVALID == 0x1EC200080


def test_name_tables_are_frozen_and_complete():
    assert c.RTM_NAMES[0x10] == "RTM_FREEADDR" and len(c.RTM_NAMES) == 16
    assert list(c.RTA_NAMES.values())[-1] == "RTA_SRC" and len(c.RTA_NAMES) == 9
    assert c.IFF_NAMES[c.IFF_IPMP] == "IFF_IPMP" and "IFF_CANTCHANGE" not in c.IFF_NAMES.values()
    assert c.RTV_NAMES[0x80] == "RTV_RTTVAR"
    with pytest.raises(TypeError):
        c.RTM_NAMES[99] = "RTM_X"


def test_flag_names_with_or_without_prefix():
    assert c.parse_flags("RTF_", ["UP", "RTF_GATEWAY", "static"]) == 0x803
    assert c.parse_flags("IFF_", "UP|RUNNING") == 0x41
    assert c.value_of("RTM_", "ADD") == c.value_of("RTM_", "RTM_ADD") == 1
    with pytest.raises(ValueError, match="unknown RTF_ name 'UPP'"):
        c.parse_flags("RTF_", ["UPP"])
    assert c.flag_names(c.RTF_NAMES, 0x41, strip="RTF_") == ["UP", "DONE"]


@pytest.mark.parametrize("name, illumos", [
    ("EPERM", 1), ("ENOENT", 2), ("ESRCH", 3), ("ENOMEM", 12), ("EBUSY", 16), ("EEXIST", 17),
    ("EINVAL", 22), ("ENOTSUP", 48), ("ENOPROTOOPT", 99), ("EPROTONOSUPPORT", 120),
    ("EOPNOTSUPP", 122), ("EAFNOSUPPORT", 124), ("EADDRINUSE", 125), ("EADDRNOTAVAIL", 126),
    ("ENETUNREACH", 128), ("ENOBUFS", 132), ("EALREADY", 149),
])
def test_wire_errno_is_illumos(name, illumos):
    """rtm_errno carries illumos' number ([sys/errno.h]); names round-trip."""
    assert c.to_wire_errno(name) == illumos
    assert c.from_wire_errno(illumos) == name
    if name not in ("ENOTSUP",):  # Linux 95 is both; the bare number means EOPNOTSUPP
        assert c.to_wire_errno(getattr(errno, name)) == illumos


def test_enotsup_and_eopnotsupp_are_told_apart_by_name():
    assert errno.ENOTSUP == errno.EOPNOTSUPP  # on Linux
    assert (c.to_wire_errno("ENOTSUP"), c.to_wire_errno("EOPNOTSUPP")) == (48, 122)
    assert c.to_wire_errno(0) == 0 and c.from_wire_errno(0) == "0"
    with pytest.raises(ValueError, match="unknown errno name"):
        c.to_wire_errno("EWHATEVER")


def test_message_classes_are_generated_from_the_struct_tables():
    """Each struct is declared once (structs.py); the dataclasses take their
    fields from it: table order, pads and computed *_msglen/*_addrs left out."""
    from dataclasses import fields

    from rtsock_emul.wire.messages import (
        FACTORIES,
        IfaMsghdr,
        IfData,
        IfMsghdr,
        RtMetrics,
        RtMsghdr,
        Timeval32,
        from_layout,
    )
    from rtsock_emul.wire.structs import Layout
    for cls in (RtMetrics, IfData, Timeval32):
        assert tuple(f.name for f in fields(cls)) == cls.LAYOUT.names
    for cls in (RtMsghdr, IfMsghdr, IfaMsghdr):
        p = cls.PREFIX
        table = [n for n in cls.LAYOUT.names if n not in (p + "msglen", p + "addrs", p + "version")]
        tail = ["sockaddrs", p + "version"] + (["trailer"] if cls.HAS_TRAILER else []) + ["af"]
        assert [f.name for f in fields(cls)] == table + tail
    probe = Layout("probe_t", [("pr_a", "H"), ("_pad", "2x"), ("pr_b", "4s"), ("pr_c", "I")])

    @from_layout(probe)
    class Probe:
        pass
    del FACTORIES["probe_t"]
    assert Probe(1, b"abcd") == Probe(pr_a=1, pr_b=b"abcd", pr_c=0)
    assert probe.pack(vars(Probe(7, b"wxyz", 9))) == bytes.fromhex("07000000") + b"wxyz" + bytes.fromhex("09000000")


def test_peek_reads_one_field_of_a_partial_struct():
    """A raw send's rtm_seq and rtm_type are read at the table's offsets, None when cut short."""
    from rtsock_emul.wire import RtMsghdr
    data = RtMsghdr(c.RTM_GET, rtm_seq=0x01020304).encode()
    assert (s.RT_MSGHDR.peek(data, "rtm_seq"), s.RT_MSGHDR.peek(data, "rtm_type")) == (0x01020304, c.RTM_GET)
    assert s.RT_MSGHDR.peek(data[:23], "rtm_seq") is None and s.RT_MSGHDR.peek(data[:4], "rtm_type") == c.RTM_GET
    with pytest.raises(TypeError, match="nested"):
        s.RT_MSGHDR.peek(data, "rtm_rmx")
