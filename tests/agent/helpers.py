"""Request builders and checks shared by the agent tests."""
from __future__ import annotations

import os

import pytest

from rtsock_emul.wire import RtMsg
from rtsock_emul.wire.constants import ILLUMOS_ERRNO
from rtsock_emul.wire.structs import RT_MSGHDR

_seq = iter(range(1000, 1 << 30))


def next_seq() -> int:
    return next(_seq)


def write_error(sock, msg) -> OSError:
    with pytest.raises(OSError) as info:
        sock.write(msg)
    return info.value


def expect_errno(sock, msg, name: str):
    """The write fails with `name`, and the sender's echo carries the same errno (R27)."""
    data = msg if isinstance(msg, bytes) else msg.encode()
    err = write_error(sock, data)
    assert err.illumos_name == name, f"{err} is not {name}"
    echo = read_raw_reply(sock, RT_MSGHDR.unpack(data)["rtm_seq"])
    assert echo["rtm_errno"] == ILLUMOS_ERRNO[name]
    return err, echo


def read_raw_reply(sock, seq: int, timeout: float = 2.0) -> dict:
    """Header fields of the next message with our pid and rtm_seq == seq, read as
    an rt_msghdr whatever its type (works for malformed echoes)."""
    while True:
        raw = sock.read(timeout)
        if len(raw) >= RT_MSGHDR.size:
            hdr = RT_MSGHDR.unpack(raw)
            if (hdr["rtm_seq"], hdr["rtm_pid"]) == (seq, os.getpid()):
                hdr["raw"] = raw
                return hdr


def add(dst, gateway="192.0.2.1", **kw):
    return RtMsg("RTM_ADD", dst=dst, gateway=gateway, flags=kw.pop("flags", ["UP", "GATEWAY", "STATIC"]),
                 seq=kw.pop("seq", None) or next_seq(), **kw)
