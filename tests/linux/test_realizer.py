"""The realizer's failover pass (linux/realizer.py): the address move is one rtnetlink batch,
and the gratuitous ARP (R88's rebind announcement) leaves right after it, before route work."""
import asyncio
import errno
import ipaddress
import logging
from types import SimpleNamespace

from rtsock_emul.linux.realizer import Realizer
from rtsock_emul.wire.constants import AF_INET

DATA = ipaddress.ip_address("192.0.2.10")


class Kernel:
    def __init__(self):
        self.bound = "net0"

    def realized_addresses(self):
        return {self.bound: [(AF_INET, str(DATA), 24, "data")]}

    def routes(self):
        return []


class Batcher:
    def __init__(self, events):
        self.events = events
        self.route_errors: list = []      # errno of each next route request (0 when none left)

    def apply(self, ops):
        self.events.append(("batch", [(op, index, str(addr)) for op, index, addr, _ in ops]))
        return [0] * len(ops)

    def routes(self, ops):
        self.events.append(("routes", [(op, str(net), oif) for op, net, _gw, oif in ops]))
        return [self.route_errors.pop(0) if self.route_errors else 0 for _ in ops]

    def drain(self):
        pass

    def close(self):
        pass


def _realizer(batcher=None):
    """(events, the stand-in kernel, a Realizer over net0/net1) in the running loop;
    every netlink batch (addresses, routes) and announcement lands in events, in order."""
    events: list = []
    kernel = Kernel()
    ctx = SimpleNamespace(kernel=kernel, loop=asyncio.get_running_loop())
    ifaces = {"net0": SimpleNamespace(index=2), "net1": SimpleNamespace(index=3)}
    r = Realizer(ctx, ifaces, logging.getLogger("test"),
                 lambda *a: events.append(("announce", a)), batcher=Batcher(events))
    return events, kernel, r


def test_routes_go_as_one_batch_removals_first_and_a_refused_one_is_a_warning_retried_later(caplog):
    gw = ipaddress.ip_address("192.0.2.1")
    old, new, dflt = ((ipaddress.ip_network(dst), gw, dev) for dst, dev in
                      (("203.0.113.0/24", None), ("198.51.100.0/24", "net1"), ("0.0.0.0/0", None)))

    async def main():
        events, _kernel, r = _realizer()
        r.wanted_routes = lambda: {old}
        r.request()
        await r.settled.wait()
        r.wanted_routes = lambda: {new, dflt}
        r.batcher.route_errors = [0, errno.ENETUNREACH, 0]     # del old, replace default, replace new
        r.request()
        await r.settled.wait()
        first = set(r.routes)
        r.request()                                            # the next change: the default again
        await r.settled.wait()
        return [e for e in events if e[0] == "routes"], first, r.routes

    with caplog.at_level(logging.INFO, logger="test"):
        batches, first, last = asyncio.run(main())
    assert batches == [("routes", [("replace", "203.0.113.0/24", None)]),
                       ("routes", [("del", "203.0.113.0/24", None), ("replace", "0.0.0.0/0", None),
                                   ("replace", "198.51.100.0/24", 3)]),
                       ("routes", [("replace", "0.0.0.0/0", None)])]
    assert first == {new} and last == {new, dflt}
    assert "realizer: route replace 0.0.0.0/0 via 192.0.2.1: ENETUNREACH" in caplog.messages


def test_R88_a_move_is_one_batch_and_its_announcement_follows_at_once():
    async def main():
        events, kernel, r = _realizer()
        r.wanted_routes = lambda: {(ipaddress.ip_network("198.51.100.0/24"), ipaddress.ip_address("192.0.2.1"), None)}
        r.request()
        await r.settled.wait()
        events.clear()
        kernel.bound = "net1"                  # in.mpathd failed net0: the model rebinds (R88)
        r.announce("net1", AF_INET, DATA)
        r.routes.clear()                       # route work pending too: it must come after the ARP
        await r.settled.wait()
        return events, r.addrs

    events, addrs = asyncio.run(main())
    assert events[0] == ("batch", [("add", 3, str(DATA)), ("del", 2, str(DATA))])
    assert events[1] == ("announce", ("net1", AF_INET, DATA))
    assert events[2:] == [("routes", [("replace", "198.51.100.0/24", None)])]
    assert addrs == {("net1", DATA, 24)}


def test_R88_at_the_end_of_a_kernel_operation_the_move_and_its_arp_need_no_loop_turn():
    """platform.changed() -> Realizer.sync(): by the time it returns, the batch went out and
    the gratuitous ARP was sent; only route work is left to the task."""
    async def main():
        events, kernel, r = _realizer()
        r.sync()
        await r.settled.wait()
        events.clear()
        kernel.bound = "net1"
        r.announce("net1", AF_INET, DATA)       # queued during the operation
        r.sync()                                # the operation's end
        at_return = list(events)
        await r.settled.wait()
        return at_return, events

    at_return, events = asyncio.run(main())
    assert at_return == [("batch", [("add", 3, str(DATA)), ("del", 2, str(DATA))]),
                         ("announce", ("net1", AF_INET, DATA))]
    assert events == at_return                  # the task's pass found nothing left to do
