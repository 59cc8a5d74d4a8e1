"""RTSQ resolution of kernel messages (R39, R40), flag storage (if.h, ip_if.h), AsyncioClock."""
import asyncio

from rtsock_emul.kernel import AsyncioClock
from rtsock_emul.wire import constants as C

from .helpers import MAC0, MAC1, V4, V6, up


def test_R39_underlying_messages_aware_only(kernel, clock, hooks):
    """R39: IFINFO/address messages about an underlying interface resolve to RTSQ_UNDER_IPMP."""
    kernel.plumb("ipmp0", V4, ipmp=True)
    kernel.plumb("net0", V4, mac=MAC0)
    kernel.set_groupname("net0", V4, "ipmp0")
    kernel.set_addr("net0", V4, "192.0.2.100", 24)
    kernel.set_flags("net0", V4, set=C.IFF_NOFAILOVER)
    hooks.take()
    kernel.set_flags("net0", V4, set=C.IFF_UP)
    clock.advance(1)
    msgs = hooks.take()
    assert ("IFINFO", "ipmp0", 4, "all") in msgs
    assert {rtsq for t, subject, af, rtsq in msgs if subject != "ipmp0"} == {"aware"}


def test_R40_ipmp_and_plain_messages_to_all(kernel, clock, hooks):
    """R40: messages about IPMP and ordinary interfaces resolve to RTSQ_ALL."""
    kernel.plumb("ipmp0", V4, ipmp=True)
    kernel.plumb("net1", V4, mac=MAC1)
    up(kernel, clock, hooks, "ipmp0", addr="192.0.2.10")
    up(kernel, clock, hooks, "net1", addr="198.51.100.1")
    assert {rtsq for *_, rtsq in hooks.take()} == {"all"}


def test_flag_storage_phyint_shared_ill_per_family(kernel):
    """if.h, ip_if.h: phyint flags are shared by v4 and v6; ill and ipif flags are per family/address."""
    kernel.plumb("net0", V4, mac=MAC0)
    kernel.plumb("net0", V6, mac=MAC0)
    kernel.set_flags("net0", V4, set=C.IFF_OFFLINE | C.IFF_DEBUG | C.IFF_DEPRECATED)
    f6 = kernel.flags("net0", V6)
    assert f6 & C.IFF_OFFLINE and not f6 & (C.IFF_DEBUG | C.IFF_DEPRECATED)
    lif = kernel.addif("net0", V4)
    f = kernel.flags(lif, V4)
    assert f & C.IFF_DEBUG and not f & C.IFF_DEPRECATED


def test_asyncio_clock_runs_timers():
    """AsyncioClock wraps loop.time/call_later/cancel."""
    async def main():
        loop = asyncio.get_running_loop()
        clock, seen, done = AsyncioClock(loop), [], asyncio.Event()
        clock.cancel(clock.call_later(0, lambda: seen.append("cancelled")))
        clock.call_later(0.001, lambda: (seen.append("fired"), done.set()))
        await asyncio.wait_for(done.wait(), 2)
        assert clock.now() <= loop.time()
        return seen
    assert asyncio.run(main()) == ["fired"]
