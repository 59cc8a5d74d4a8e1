"""The client library: one protocol core under the blocking and the asyncio
socket (replies by (pid, seq), M10), and the admin channel client with `user=`
(the agent takes the caller's uid from SO_PEERCRED, R9)."""
import asyncio
import os

import pytest

from rtsock_emul import client
from rtsock_emul.wire import RtMsg
from rtsock_emul.wire import constants as C

from .agents import drain
from .helpers import add, next_seq

UNPRIVILEGED = "nobody"


def _route(seq, dst="198.18.7.0/24"):
    return add(dst, seq=seq), RtMsg("RTM_DELETE", dst=dst, gateway="192.0.2.1", seq=next_seq())


def test_M10_read_reply_keeps_earlier_messages_for_read(agent):
    """An event that arrives before our RTM_GET reply is not lost: read_reply
    queues it and the next read returns it, then the fd is read again."""
    with agent.socket() as a, agent.socket() as b:
        drain(a)
        other, undo = _route(next_seq())
        b.write(other)                      # its echo reaches a before a's reply
        try:
            seq = next_seq()
            a.write(RtMsg("RTM_GET", dst="192.0.2.1", seq=seq))
            reply = a.read_reply(seq, timeout=5)
            assert (reply.rtm_type, reply.rtm_seq) == (C.RTM_GET, seq)
            assert a.pending == 1
            first = a.read_msg(timeout=0)   # queued: no wait, the fd need not be readable
            assert (first.rtm_type, first.rtm_seq) == (C.RTM_ADD, other.rtm_seq)
            assert a.pending == 0
        finally:
            b.write(undo)
        assert a.read_msg(timeout=5).rtm_type == C.RTM_DELETE     # then the fd again


def test_M10_read_reply_takes_a_reply_already_queued(agent):
    """Two requests, replies read in the other order: the first read_reply
    queues the second reply, the second read_reply finds it there."""
    with agent.socket() as s:
        drain(s)
        s1, s2 = next_seq(), next_seq()
        s.write(RtMsg("RTM_GET", dst="192.0.2.1", seq=s1))
        s.write(RtMsg("RTM_GET", dst="203.0.113.1", seq=s2))
        assert s.read_reply(s2, timeout=5).rtm_seq == s2
        assert s.read_reply(s1, timeout=0).rtm_seq == s1
        assert s.pending == 0
        with pytest.raises(TimeoutError):
            s.read(timeout=0.05)


def test_async_read_times_out_and_read_reply_queues(agent):
    """The asyncio socket has the same core: read(timeout=) and read_reply."""
    async def main():
        async with await client.asocket(path=agent.path) as a:
            with pytest.raises(TimeoutError):
                await a.read(timeout=0.05)
            async with await client.asocket(path=agent.path) as b:
                other, undo = _route(next_seq(), "198.18.8.0/24")
                await b.write(other)
                try:
                    seq = next_seq()
                    await a.write(RtMsg("RTM_GET", dst="192.0.2.1", seq=seq))
                    reply = await a.read_reply(seq, timeout=5)
                    queued = await a.read_msg(timeout=0)
                finally:
                    await b.write(undo)
            return reply, queued, other.rtm_seq
    reply, queued, other_seq = asyncio.run(asyncio.wait_for(main(), 10))
    assert (reply.rtm_type, reply.rtm_pid) == (C.RTM_GET, os.getpid())
    assert (queued.rtm_type, queued.rtm_seq) == (C.RTM_ADD, other_seq)


@pytest.mark.root("connecting as another user (setuid)")
def test_R9_admin_call_as_a_user_runs_the_verb_as_that_uid(strict_agent):
    """The agent takes the admin caller's uid from SO_PEERCRED: `user=` connects
    from a child running as that user, so the verb is refused; as root it runs."""
    path = strict_agent.path
    rc, out, err = client.admin_call(path, ["ipadm", "create-ipmp", "ipmp7"], user=UNPRIVILEGED, timeout=10)
    assert (rc, err) == (1, "ipadm: insufficient privileges\n"), (rc, out, err)
    assert "ipmp7" not in client.admin_call(path, ["ifconfig", "-a"], timeout=10)[1]
    assert client.admin_call(path, ["ipadm", "create-ipmp", "ipmp7"], timeout=10)[0] == 0
    assert "ipmp7:" in client.admin_call(path, ["ifconfig", "-a"], user=UNPRIVILEGED, timeout=10)[1]
