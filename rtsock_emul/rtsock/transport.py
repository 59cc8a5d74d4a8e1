"""The agent <-> client transport (docs/internals.md "Transport"), shared by both ends.

A routing socket is a SOCK_SEQPACKET data connection to RTSOCK_AGENT carrying
illumos bytes, plus a control socketpair passed in the hello by SCM_RIGHTS,
carrying one JSON record per packet.
"""
from __future__ import annotations

import array
import errno
import json
import os
import socket
import struct
from typing import Any

from rtsock_emul.wire.constants import ERRNO_NAMES

HELLO = b"RTSOCK1 "
MAX_MSG = 1 << 16          # rtm_msglen is 16 bits; a bigger write cannot match it
MAX_CONTROL = 1 << 16
ADMIN_SUFFIX = ".admin"
INTERNAL_ERROR_RC = os.EX_SOFTWARE   # an admin verb raised inside the agent (sysexits.h)
ENV_AGENT = "RTSOCK_AGENT"
_UCRED = struct.Struct("3i")  # struct ucred {pid_t pid; uid_t uid; gid_t gid;}


def peercred(sock: socket.socket) -> tuple[int, int, int]:
    """(pid, uid, gid) of the peer at connect time (SO_PEERCRED)."""
    return _UCRED.unpack(sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _UCRED.size))


def record(**fields: Any) -> bytes:
    return json.dumps(fields).encode()


def parse_record(data: bytes) -> dict:
    """One control record; ValueError if it is not a JSON object."""
    try:
        value = json.loads(data.decode())
    except RecursionError:  # "[[[[...": nesting deeper than the parser's stack
        raise ValueError(f"control record nested too deep: {data[:40]!r}...") from None
    if not isinstance(value, dict):
        raise ValueError(f"control record is not a JSON object: {data[:80]!r}")
    return value


def errno_record(op: str, err: int, name: str | None = None, **extra: Any) -> bytes:
    """{"op": op, "errno": E, "name": "EEXIST"}: the name disambiguates ENOTSUP/EOPNOTSUPP."""
    if name is None:
        name = ERRNO_NAMES.get(err, errno.errorcode.get(err, str(err))) if err else "0"
    return record(op=op, errno=err, name=name, **extra)


def send_with_fd(sock: socket.socket, data: bytes, fd: int) -> None:
    sock.sendmsg([data], [(socket.SOL_SOCKET, socket.SCM_RIGHTS, array.array("i", [fd]))])


def recv_with_fds(sock: socket.socket, size: int = MAX_CONTROL, maxfds: int = 1) -> tuple[bytes, list[int]]:
    """(data, [fds]) of one record; fds beyond maxfds are closed."""
    fds = array.array("i")
    room = socket.CMSG_SPACE(maxfds * fds.itemsize) + socket.CMSG_SPACE(_UCRED.size)
    data, ancdata, flags, _ = sock.recvmsg(size, room)
    for level, kind, cdata in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(cdata[:len(cdata) - (len(cdata) % fds.itemsize)])
    got = list(fds)
    for extra in got[maxfds:]:
        _close_fd(extra)
    return data, got[:maxfds]


def recv_with_pid(sock: socket.socket, size: int) -> tuple[bytes, int | None]:
    """(data, pid of the process that sent it) on a socket with SO_PASSCRED set."""
    data, ancdata, _, _ = sock.recvmsg(size, socket.CMSG_SPACE(_UCRED.size))
    for level, kind, cdata in ancdata:
        if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS and len(cdata) >= _UCRED.size:
            return data, _UCRED.unpack(cdata[:_UCRED.size])[0]
    return data, None


def _close_fd(fd: int) -> None:
    os.close(fd)
