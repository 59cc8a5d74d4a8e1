"""Slow and hostile clients: none may block the agent's loop or make it lie
(overflow counts, admin and control channels, accept under EMFILE)."""
import errno

import pytest

from rtsock_emul.wire import RtMsg
from rtsock_emul.wire import constants as C

from .conftest import SIM_CONFIG, AgentProcess, wait_addresses_up
from .helpers import add

BURST = 3000


@pytest.fixture
def fresh_agent():
    a = AgentProcess(SIM_CONFIG)
    try:
        wait_addresses_up(a.path)
        yield a
    finally:
        a.stop()


def _read_all(sock, quiet=0.5) -> int:
    n = 0
    while True:
        try:
            sock.read(timeout=quiet)
        except TimeoutError:
            return n
        n += 1


def test_M10_overflow_notice_counts_every_dropped_message(fresh_agent):
    """After a burst, the ENOBUFS a stalled reader gets carries the true number of
    messages dropped for it, at the time it reads (not the count at the first drop)."""
    agent = fresh_agent
    with agent.socket() as writer, agent.socket() as stalled:
        writer.setsockopt(C.SOL_SOCKET, C.SO_USELOOPBACK, 0)
        stalled.setsockopt(C.SOL_SOCKET, C.SO_RCVBUF, 16384)
        route, delete = add("198.51.100.0/24"), RtMsg("RTM_DELETE", dst="198.51.100.0/24", gateway="192.0.2.1")
        for seq in range(1, BURST + 1):
            msg = route if seq % 2 else delete
            msg.rtm_seq = seq
            writer.write(msg)  # returns once the agent queued the echo for everyone
        with pytest.raises(OSError) as info:
            stalled.read(timeout=2)
        assert info.value.errno == errno.ENOBUFS
        delivered = _read_all(stalled)
        assert 0 < delivered < BURST
        assert f"{BURST - delivered} messages dropped" in str(info.value), (delivered, str(info.value))
        assert info.value.dropped == BURST - delivered
