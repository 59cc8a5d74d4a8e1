"""Overflow, malformed floods and fairness against a real agent process."""
import errno
import random
import threading

import pytest

from rtsock_emul.wire import RtMsg
from rtsock_emul.wire import constants as C
from rtsock_emul.wire.structs import RT_MSGHDR

from .agents import SIM_CONFIG, AgentProcess, wait_addresses_up
from .helpers import add

EVENTS = 10_000
RSS_GROWTH_KB = 20_000   # the agent must not buffer what a stalled reader leaves


@pytest.fixture
def fresh_agent():
    a = AgentProcess(SIM_CONFIG)
    try:
        wait_addresses_up(a.path)
        yield a
    finally:
        a.stop()


def _collect(sock, n, out, errors):
    try:
        while len(out) < n:
            msg = sock.read_msg(timeout=10)
            if msg.type in (C.RTM_ADD, C.RTM_DELETE) and msg.rtm_seq >= 1:
                out.append(msg.rtm_seq)
    except Exception as exc:  # reported by the test thread
        errors.append(exc)


def test_stalled_reader_gets_enobufs_others_get_everything_in_order(fresh_agent):
    """A reader that stops reading loses messages (ENOBUFS once on its next read);
    the others receive all 10,000 in order; the agent's RSS stays bounded."""
    agent = fresh_agent
    writer, stalled = agent.socket(), agent.socket()
    readers = [agent.socket(), agent.socket(C.AF_INET)]
    writer.setsockopt(C.SOL_SOCKET, C.SO_USELOOPBACK, 0)
    stalled.setsockopt(C.SOL_SOCKET, C.SO_RCVBUF, 16384)
    got = [[] for _ in readers]
    errors = []
    threads = [threading.Thread(target=_collect, args=(r, EVENTS, g, errors)) for r, g in zip(readers, got)]
    for t in threads:
        t.start()
    rss_before = agent.rss_kb()
    route = add("198.51.100.0/24").encode()       # encoded once; each write patches its seq
    delete = RtMsg("RTM_DELETE", dst="198.51.100.0/24", gateway="192.0.2.1").encode()
    try:
        for seq in range(1, EVENTS + 1):
            writer.write(RT_MSGHDR.patch(route if seq % 2 else delete, rtm_seq=seq))
    finally:
        for t in threads:
            t.join(30)
    rss_after = agent.rss_kb()
    assert not errors, errors
    for g in got:
        assert g == list(range(1, EVENTS + 1))
    with pytest.raises(OSError) as info:
        stalled.read(timeout=1)
    assert info.value.errno == errno.ENOBUFS
    first = stalled.read_msg(timeout=1)  # then it reads on: what fitted before the drops
    assert first.rtm_seq == 1
    assert rss_after - rss_before < RSS_GROWTH_KB, (rss_before, rss_after)
    for s in [writer, stalled, *readers]:
        s.close()


def _malformed(rng):
    """(bytes, errno name) pairs: one kind after another."""
    good = add("198.51.100.0/24", seq=7).encode()
    kinds = [
        (good[:rng.randrange(1, 76)], "EINVAL"),                                  # R6 truncated
        (good + bytes(rng.randrange(1, 40)), "EINVAL"),                           # R7 msglen
        (RT_MSGHDR.patch(good, rtm_version=rng.choice([0, 1, 2, 4, 255])), "EPROTONOSUPPORT"),  # R8
        (RT_MSGHDR.patch(good[:76], rtm_msglen=92, rtm_addrs=C.RTA_DST)
         + rng.choice([99, C.AF_ROUTE, 3]).to_bytes(2, "little") + bytes(14), "EINVAL"),  # bad family
        (RT_MSGHDR.patch(good, rtm_type=rng.choice([0x11, 0x20, 0x7f, 0xff])), "EOPNOTSUPP"),  # unknown type
        (add("198.51.100.0/24", genmask="255.0.0.0").encode(), "EINVAL"),       # R13
    ]
    return kinds


def test_1000_malformed_requests_each_get_their_errno_while_another_client_is_served(agent):
    rng = random.Random(1)
    stop = threading.Event()
    served, failures = [0], []

    def other_client():
        with agent.socket() as s:
            s.setsockopt(C.SOL_SOCKET, C.SO_USELOOPBACK, 0)
            while not stop.is_set():
                try:
                    s.write(RtMsg("RTM_GET", dst="192.0.2.1"))
                    served[0] += 1
                except OSError as exc:
                    failures.append(exc)
    t = threading.Thread(target=other_client)
    t.start()
    try:
        with agent.socket() as bad:
            bad.setsockopt(C.SOL_SOCKET, C.SO_USELOOPBACK, 0)
            for i in range(1000):
                data, name = rng.choice(_malformed(rng))
                with pytest.raises(OSError) as info:
                    bad.write(data)
                assert info.value.illumos_name == name, (i, data.hex())
            garbage = bytes(rng.randrange(256) for _ in range(rng.randrange(76, 300)))
            try:  # random bytes: any errno, but an answer and the agent lives
                bad.write(RT_MSGHDR.patch(garbage, rtm_msglen=len(garbage), rtm_version=3))
            except OSError as exc:
                assert exc.errno != errno.EIO, "the agent failed internally"
    finally:
        stop.set()
        t.join(10)
    assert failures == [] and served[0] > 0
    assert agent.proc.poll() is None


def test_random_requests_never_break_the_agent(agent):
    """Fuzz: 500 random headers + sockaddr bytes; every write gets an errno other than EIO."""
    rng = random.Random(2)
    with agent.socket() as s:
        s.setsockopt(C.SOL_SOCKET, C.SO_USELOOPBACK, 0)
        for _ in range(500):
            body = bytes(rng.choice([0, 2, 26, 25, 1, 255]) if i % 16 == 0 else rng.randrange(256)
                         for i in range(rng.randrange(0, 400)))
            data = RT_MSGHDR.patch(bytes(76), rtm_msglen=76 + len(body), rtm_version=3,
                                   rtm_type=rng.randrange(1, 20), rtm_addrs=rng.randrange(0, 0x200),
                                   rtm_flags=rng.randrange(0, 0x40000)) + body
            try:
                s.write(data)
            except OSError as exc:
                assert exc.errno != errno.EIO, data.hex()
