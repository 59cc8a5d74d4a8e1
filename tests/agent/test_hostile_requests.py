"""Hostile routing-socket writes: each gets an errno the rules allow, and the
socket and the agent go on serving (R6, R15)."""
import errno
import json
import os
import socket

import pytest

from rtsock_emul.wire import RtMsg, RtMsghdr, SockaddrIn
from rtsock_emul.wire import constants as C
from rtsock_emul.wire.structs import RT_MSGHDR, SDL_DATA_LEN, SOCKADDR_DL

from .agents import drain
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
    index = int(agent.admin("ifindex", "net0")[1]) if (nlen, alen) != (SDL_DATA_LEN, 1) else 0
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


@pytest.mark.parametrize("rtm_type", ["RTM_DELETE", "RTM_GET", "RTM_CHANGE"])
def test_R23_R24_non_contiguous_mask_matches_no_route(s, rtm_type):
    """Lookups compare masks, so a non-contiguous one finds nothing: ESRCH
    (ip_rt_delete, RTM_GET/CHANGE); only RTM_ADD refuses it with ENOTSUP (R22)."""
    msg = RtMsg(rtm_type, dst="198.51.100.0", netmask="255.0.255.0", gateway="192.0.2.1", seq=next_seq())
    assert write_error(s, msg).illumos_name == "ESRCH"


HOSTILE_CONTROL = [
    (b'{"op": "setsockopt", "level": 65535, "name": 4098, "value": Infinity}', "EINVAL"),
    (b'{"op": "setsockopt", "name": 0, "value": [1]}', "EINVAL"),       # no level
    (b"[" * 20000 + b"]" * 20000, "EINVAL"),                              # deeper than json's stack
    (b"", "EINVAL"),                                                      # an empty record is not EOF
    (b'{"op": "dropped"}', "0"),
]


@pytest.mark.parametrize("record, name", HOSTILE_CONTROL, ids=["inf", "no-level", "deep", "empty", "dropped"])
def test_hostile_control_record_gets_a_reply_and_the_socket_lives(s, record, name):
    ctrl = s._core.ctrl
    ctrl.send(record)
    ctrl.settimeout(5)
    reply = json.loads(ctrl.recv(1 << 16))
    assert (reply["op"], reply["name"]) == ("reply", name), reply
    seq = next_seq()
    assert s.write(RtMsg("RTM_GET", dst="192.0.2.1", seq=seq)) == 0


@pytest.mark.parametrize("record", [b"", b"[" * 20000, b'{"argv": NaN}', b"\xff\xfe"],
                         ids=["empty", "deep", "nan", "not-utf8"])
def test_hostile_admin_record_gets_a_usage_reply(agent, record):
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as conn:
        conn.settimeout(5)
        conn.connect(agent.path + ".admin")
        conn.send(record)
        reply = json.loads(conn.recv(1 << 16))
        assert reply["rc"] == 2 and "bad admin request" in reply["err"], reply
        conn.send(json.dumps({"argv": ["ipmpstat", "-g"]}).encode())
        assert "rc" in json.loads(conn.recv(1 << 16))


@pytest.mark.parametrize("name", ["2001:db8::77/64", "net0:x", "net0:-1:2"])
def test_admin_odd_logical_names_are_no_such_interface(agent, name):
    """Found by `python -m rtsock_emul.fuzz`: a name with a colon and no unit number."""
    rc, out, err = agent.admin("ifindex", name)
    assert rc != 0 and "no such interface" in err and "internal error" not in err, err
