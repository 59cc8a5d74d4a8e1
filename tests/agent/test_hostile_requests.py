"""Hostile routing-socket writes: each gets an errno the rules allow, and the
socket and the agent go on serving (R6, R15)."""
import errno
import os

import pytest

from rtsock_emul.wire import RtMsg, RtMsghdr, SockaddrIn
from rtsock_emul.wire import constants as C
from rtsock_emul.wire.structs import RT_MSGHDR, SDL_DATA_LEN, SOCKADDR_DL

from .conftest import drain
from .helpers import next_seq, read_raw_reply, write_error


@pytest.fixture
def s(agent):
    with agent.socket() as sock:
        yield sock


def _get_with_raw_ifp(nlen: int, alen: int, index: int, user_seq: int) -> bytes:
    """An RTM_GET for 192.0.2.1 whose RTA_IFP sockaddr_dl claims nlen + alen bytes."""
    good = RtMsghdr(C.RTM_GET, rtm_seq=user_seq, sockaddrs={
        C.RTA_DST: SockaddrIn("192.0.2.1"), C.RTA_IFP: SockaddrIn("0.0.0.0")}).encode()
    head = good[:RT_MSGHDR.size + SockaddrIn("0.0.0.0").size()]
    sdl = bytearray(SOCKADDR_DL.size)
    sdl[0:2] = C.AF_LINK.to_bytes(2, "little")
    sdl[2:4] = index.to_bytes(2, "little")
    sdl[SOCKADDR_DL.offsets["sdl_nlen"]] = nlen
    sdl[SOCKADDR_DL.offsets["sdl_alen"]] = alen
    data = bytearray(head + bytes(sdl))
    return bytes(RT_MSGHDR.patch(bytes(data), rtm_msglen=len(data)))


@pytest.mark.parametrize("nlen, alen", [(200, 100), (255, 255), (SDL_DATA_LEN, 1)])
def test_R15_ifp_name_lengths_beyond_sdl_data_are_ignored(agent, s, nlen, alen):
    """R15 (rts_getaddrs reads only sdl_index): an RTA_IFP whose sdl_nlen + sdl_alen
    exceed sdl_data[244] is a valid RTM_GET, for any user, never EIO."""
    index = 1 if (nlen, alen) != (SDL_DATA_LEN, 1) else 0
    with agent.socket(user="nobody") as plain:
        for sock, pid in ((s, os.getpid()), (plain, os.getpid())):
            seq = next_seq()
            assert sock.write(_get_with_raw_ifp(nlen, alen, index, seq)) == 0
            reply = sock.read_reply(seq, pid=pid)
            assert reply.rtm_type == C.RTM_GET and reply.rtm_errno == 0


def test_R15_ifp_name_length_with_unknown_index_is_einval(s):
    """R16 still applies when the name is nonsense: the index decides."""
    seq = next_seq()
    err = write_error(s, _get_with_raw_ifp(250, 250, 999, seq))
    assert err.illumos_name == "EINVAL"
    assert read_raw_reply(s, seq)["rtm_errno"] == C.ILLUMOS_ERRNO["EINVAL"]


def test_R6_zero_byte_write_is_einval_and_the_socket_lives(agent, s):
    """R6: write(b"") is shorter than rt_msghdr: EINVAL, no echo, and the
    routing socket keeps working (an empty record is not end of file)."""
    with agent.socket() as listener:
        for _ in range(3):
            err = write_error(s, b"")
            assert err.errno == errno.EINVAL and err.illumos_name == "EINVAL"
        assert drain(listener) == [] and drain(s) == []
        seq = next_seq()
        assert s.write(RtMsg("RTM_GET", dst="192.0.2.1", seq=seq)) == 0
        assert s.read_reply(seq).rtm_errno == 0
