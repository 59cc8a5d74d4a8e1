"""Socket creation, options, shutdown and delivery through real client sockets (rts.c, rts_queue_input; R30-R41)."""
import asyncio
import errno
import os

import pytest

from rtsock_emul import client
from rtsock_emul.wire import RtMsg
from rtsock_emul.wire import constants as C

from .agents import drain, wait_addresses_up
from .helpers import add, next_seq, read_raw_reply

UNPRIVILEGED = "nobody"


def is_root():
    return os.geteuid() == 0


@pytest.mark.parametrize("protocol", [0, C.AF_INET, C.AF_INET6])
def test_R1_protocols_0_2_26_are_accepted(agent, protocol):
    with agent.socket(protocol) as s:
        assert s.getsockopt(C.SOL_SOCKET, C.SO_PROTOTYPE) == protocol


@pytest.mark.parametrize("protocol", [1, 10, C.AF_LINK, C.AF_ROUTE, 255])
def test_R1_other_protocols_are_eprotonosupport(agent, protocol):
    with pytest.raises(OSError) as info:
        agent.socket(protocol)
    assert info.value.errno == errno.EPROTONOSUPPORT


def test_R9_unprivileged_gets_eperm_for_add_and_succeeds_with_get(strict_agent):
    """R9: only RTM_GET and RTM_RESOLVE are exempt from the privilege check.
    As root the socket is opened as `nobody` (SO_PEERCRED shows that uid);
    unprivileged, the test's own uid is the unprivileged one."""
    agent = strict_agent
    user = UNPRIVILEGED if is_root() else None
    with agent.socket(user=user) as s, agent.socket() as watcher:
        seq = next_seq()
        with pytest.raises(OSError) as info:
            s.write(add("198.51.100.0/24", seq=seq))
        assert info.value.errno == errno.EPERM
        echo = read_raw_reply(watcher, seq)
        assert echo["rtm_errno"] == C.ILLUMOS_ERRNO["EPERM"]
        seq = next_seq()
        assert s.write(RtMsg("RTM_GET", dst="192.0.2.1", seq=seq)) == 0
        assert s.read_reply(seq).rtm_type == C.RTM_GET
        with pytest.raises(OSError) as info:  # RESOLVE passes R9, then EOPNOTSUPP (R26)
            s.write(RtMsg("RTM_RESOLVE", dst="192.0.2.1", seq=next_seq()))
        assert info.value.illumos_name == "EOPNOTSUPP"


def test_R30_echo_reaches_aware_and_normal_sockets(agent):
    with agent.socket() as s, agent.socket() as normal, agent.socket() as aware:
        aware.setsockopt(C.SOL_ROUTE, C.RT_AWARE, C.RTAW_UNDER_IPMP)
        seq = next_seq()
        s.write(add("198.51.100.0/25", seq=seq))
        for sock in (s, normal, aware):
            assert sock.read_reply(seq).rtm_errno == 0


def test_R31_useloopback_default_on(agent):
    with agent.socket() as s:
        assert s.getsockopt(C.SOL_SOCKET, C.SO_USELOOPBACK) == 0x40
        s.setsockopt(C.SOL_SOCKET, C.SO_USELOOPBACK, 0)
        assert s.getsockopt(C.SOL_SOCKET, C.SO_USELOOPBACK) == 0


def test_R32_useloopback_off_no_own_echo(agent):
    with agent.socket() as s, agent.socket() as other:
        s.setsockopt(C.SOL_SOCKET, C.SO_USELOOPBACK, 0)
        seq = next_seq()
        s.write(add("198.51.100.128/26", seq=seq))
        assert other.read_reply(seq).rtm_seq == seq
        assert drain(s) == []


def test_R33_useloopback_off_still_gets_kernel_messages(agent):
    with agent.socket() as s:
        s.setsockopt(C.SOL_SOCKET, C.SO_USELOOPBACK, 0)
        assert agent.admin("sim", "link", "net1", "down")[0] == 0
        try:
            msgs = drain(s)
            assert any(m.type == C.RTM_IFINFO and not m.ifm_flags & C.IFF_RUNNING for m in msgs)
        finally:
            assert agent.admin("sim", "link", "net1", "up")[0] == 0
            wait_addresses_up(agent.path)


def test_R34_protocol_filters_echoes_by_family(agent):
    with agent.socket() as s, agent.socket(C.AF_INET) as v4, agent.socket(C.AF_INET6) as v6:
        seq4, seq6 = next_seq(), next_seq()
        s.write(add("198.51.100.192/26", seq=seq4))
        s.write(add("2001:db8:99::/48", gateway="2001:db8:1::1", seq=seq6))
        assert [m.rtm_seq for m in drain(v4)] == [seq4]
        assert [m.rtm_seq for m in drain(v6)] == [seq6]
        assert [m.rtm_seq for m in drain(s)] == [seq4, seq6]


def test_R35_prototype_through_a_socket(agent):
    with agent.socket() as s:
        s.setsockopt(C.SOL_SOCKET, C.SO_PROTOTYPE, C.AF_INET6)
        with pytest.raises(OSError) as info:
            s.setsockopt(C.SOL_SOCKET, C.SO_PROTOTYPE, C.AF_LINK)
        assert info.value.errno == errno.EPROTONOSUPPORT
        seq = next_seq()
        s.write(RtMsg("RTM_GET", dst="192.0.2.1", seq=seq))
        assert drain(s) == []  # now an AF_INET6 socket (R34)


def test_R36_rt_aware_any_value(agent):
    with agent.socket() as s:
        for value in (0x10, 0x12345678, -1):
            s.setsockopt(C.SOL_ROUTE, C.RT_AWARE, value)
            assert s.getsockopt(C.SOL_ROUTE, C.RT_AWARE) == value


def test_rcvbuf_above_256k_is_enobufs(agent):
    with agent.socket() as s:
        with pytest.raises(OSError) as info:
            s.setsockopt(C.SOL_SOCKET, C.SO_RCVBUF, 256 * 1024 + 1)
        assert info.value.errno == errno.ENOBUFS
        s.setsockopt(C.SOL_SOCKET, C.SO_RCVBUF, 8192)
        assert s.getsockopt(C.SOL_SOCKET, C.SO_RCVBUF) == 8192


def test_R41_shut_rd_receives_nothing_shut_wr_blocks_sending(agent):
    with agent.socket() as deaf, agent.socket() as mute, agent.socket() as s:
        deaf.shutdown(C.SHUT_RD)
        mute.shutdown(C.SHUT_WR)
        with pytest.raises(OSError) as info:
            mute.write(RtMsg("RTM_GET", dst="192.0.2.1"))
        assert info.value.errno == errno.EPIPE
        seq = next_seq()
        s.write(add("198.51.100.64/27", seq=seq))
        assert mute.read_reply(seq).rtm_seq == seq  # SHUT_WR still reads
        assert drain(deaf) == []


def test_R42_each_read_is_one_whole_message(agent):
    with agent.socket() as s:
        seqs = [next_seq() for _ in range(3)]
        for i, seq in enumerate(seqs):
            s.write(add(f"198.51.{100 + i}.0/24" if i else "198.51.100.32/27", seq=seq))
        for raw in (s.read(2) for _ in seqs):
            assert int.from_bytes(raw[:2], "little") == len(raw)


def test_async_client_shares_the_protocol(agent):
    async def main():
        async with await client.asocket(path=agent.path) as s:
            seq = next_seq()
            assert await s.getsockopt(C.SOL_SOCKET, C.SO_USELOOPBACK) == 0x40
            await s.write(add("198.51.100.224/27", seq=seq))
            async for msg in s:
                if msg.rtm_seq == seq:
                    return msg
            return None
    msg = asyncio.run(asyncio.wait_for(main(), 5))
    assert msg.rtm_flags & C.RTF_DONE and msg.rtm_pid == os.getpid()


def test_async_client_write_error(agent):
    async def main():
        async with await client.asocket(path=agent.path) as s:
            await s.write(add("198.51.100.0/24", gateway="10.0.0.1"))
    with pytest.raises(OSError) as info:
        asyncio.run(asyncio.wait_for(main(), 5))
    assert info.value.illumos_name == "ENETUNREACH"
