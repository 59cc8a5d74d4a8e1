"""Fan-out: deliveries/s through the real hub path vs a bare Python send loop.

Target (docs/performance.md): at 100 subscribers, RtsHub.queue delivers at least half
the rate of a bare loop writing the same bytes to the same SOCK_SEQPACKET
sockets, and encodes each message once.

Both variants write to the same 100 connected AF_UNIX SOCK_SEQPACKET
socketpairs, non-blocking, with the agent's send buffer size; a forked reader
process drains the far ends with epoll on the other core. The hub variant is
the agent's own path: `RtsHub.queue(msg, AF_INET, RTSQ_NORMAL)` with fresh
message objects (so encode is timed too), `RtSocket.deliver`, and the agent's
`DataConn._send`. Work goes in rounds that fit in the socket buffers; only
the writer's time is counted, and the reader confirms it drained every
delivered message before the next round (so both variants see drained sockets).

    .venv/bin/python -m bench.fanout [--subscribers 100] [--rounds 30] [--batch 100]
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import select
import socket
import sys
import time

from bench.common import report
from rtsock_emul.agent.server import SEND_FLAGS, DataConn
from rtsock_emul.rtsock.hub import RtsHub
from rtsock_emul.rtsock.socket import DEFAULT_RCVBUF, RtSocket
from rtsock_emul.wire import encode
from rtsock_emul.wire.build import IfMsg
from rtsock_emul.wire.constants import AF_INET, RTSQ_NORMAL

TARGET_RATIO = 0.5


# -- the reader process ----------------------------------------------------------
def _reader(fds: list[int], ctrl_r: int, ack_w: int) -> None:
    """Drain every fd; on "T<n>\\n" answer "A" once n messages in total were read."""
    ep = select.epoll()
    for fd in fds:
        ep.register(fd, select.EPOLLIN)
    ep.register(ctrl_r, select.EPOLLIN)
    buf = bytearray(1 << 16)
    count, target, pending = 0, None, b""
    while True:
        for fd, _ in ep.poll():
            if fd == ctrl_r:
                pending += os.read(ctrl_r, 4096)
                if not pending or pending.startswith(b"Q"):
                    return
                while b"\n" in pending:
                    line, pending = pending.split(b"\n", 1)
                    target = int(line[1:])
                continue
            while True:
                try:
                    os.readv(fd, [buf])
                except BlockingIOError:
                    break
                count += 1
        if target is not None and count >= target:
            os.write(ack_w, b"A")
            target = None


class Sockets:
    """N socketpairs: our ends non-blocking with the agent's SO_SNDBUF; far ends drained."""

    def __init__(self, n: int):
        self.pairs = [socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET) for _ in range(n)]
        for ours, theirs in self.pairs:
            ours.setblocking(False)
            ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, DEFAULT_RCVBUF)  # DataConn._resize
            theirs.setblocking(False)
        self.ours = [p[0] for p in self.pairs]
        ctrl_r, self.ctrl_w = os.pipe()
        self.ack_r, ack_w = os.pipe()
        self.pid = os.fork()
        if self.pid == 0:
            code = 0
            try:
                for s in self.ours:
                    s.close()
                _reader([p[1].fileno() for p in self.pairs], ctrl_r, ack_w)
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        os.close(ctrl_r)
        os.close(ack_w)
        for _, theirs in self.pairs:
            theirs.close()
        self.delivered = 0   # cumulative successful sends, for the reader's target

    def drained(self, timeout: float = 30.0) -> None:
        """Block until the reader has read everything delivered so far."""
        os.write(self.ctrl_w, f"T{self.delivered}\n".encode())
        ready, _, _ = select.select([self.ack_r], [], [], timeout)
        if not ready:
            raise RuntimeError(f"fanout reader did not drain {self.delivered} messages in {timeout}s")
        os.read(self.ack_r, 16)

    def close(self) -> None:
        try:
            os.write(self.ctrl_w, b"Q")
        except OSError:
            pass
        os.waitpid(self.pid, 0)
        for s in self.ours:
            s.close()
        os.close(self.ctrl_w)
        os.close(self.ack_r)


def make_messages(n: int) -> list:
    """n distinct RTM_IFINFO objects, as the kernel model makes one per event."""
    return [IfMsg(2 + i % 8, ["UP", "BROADCAST", "RUNNING", "MULTICAST", "IPv4"],
                  (2 + i % 8, f"net{i % 8}"), mtu=1500, af=AF_INET) for i in range(n)]


# -- the two writers -------------------------------------------------------------
def bare_round(socks: list[socket.socket], datas: list[bytes]) -> tuple[int, int]:
    sent = dropped = 0
    for data in datas:
        for s in socks:
            try:
                s.send(data, SEND_FLAGS)
                sent += 1
            except BlockingIOError:
                dropped += 1
    return sent, dropped


def make_hub(socks: list[socket.socket]):
    """An RtsHub whose RtSockets send through the agent's DataConn._send."""
    calls = [0]

    def counting_encode(msg):
        calls[0] += 1
        return encode(msg)

    hub = RtsHub(encode=counting_encode)
    rts = []
    for s in socks:
        conn = DataConn.__new__(DataConn)   # only its transport: .data is the connected socket
        conn.data = s
        rts.append(hub.add(RtSocket(proto=0, send=conn._send)))
    return hub, rts, calls


def hub_round(hub: RtsHub, msgs: list) -> int:
    sent = 0
    for msg in msgs:
        sent += hub.queue(msg, AF_INET, RTSQ_NORMAL)
    return sent


def measure(n_subs: int, rounds: int, batch: int, repeats: int, profile: bool) -> dict:
    socks = Sockets(n_subs)
    try:
        hub, rts, calls = make_hub(socks.ours)
        all_msgs = [make_messages(batch) for _ in range(rounds * repeats + (2 if profile else 0))]
        datas = [encode(m) for m in all_msgs[0]]
        bare_rates, hub_rates = [], []
        bare_drops = 0
        msg_index = 0
        queued = 0
        for _ in range(repeats):          # alternate variants so drift hits both
            t_bare = 0.0
            n_bare = 0
            for _ in range(rounds):
                t0 = time.perf_counter()
                sent, dropped = bare_round(socks.ours, datas)
                t_bare += time.perf_counter() - t0
                n_bare += sent
                bare_drops += dropped
                socks.delivered += sent
                socks.drained()
            bare_rates.append(n_bare / t_bare)
            t_hub = 0.0
            n_hub = 0
            for _ in range(rounds):
                msgs = all_msgs[msg_index]
                msg_index += 1
                t0 = time.perf_counter()
                sent = hub_round(hub, msgs)
                t_hub += time.perf_counter() - t0
                n_hub += sent
                queued += len(msgs)
                socks.delivered += sent
                socks.drained()
            hub_rates.append(n_hub / t_hub)
        hub_drops = sum(r.dropped for r in rts)
        out = {"bare_rates": bare_rates, "hub_rates": hub_rates, "bare_drops": bare_drops,
               "hub_drops": hub_drops, "messages_queued": queued, "encode_calls": calls[0],
               "message_bytes": len(datas[0])}
        if profile:
            out["profile"] = profile_hub(hub, socks, all_msgs[msg_index:msg_index + 2])
        return out
    finally:
        socks.close()


def profile_hub(hub, socks, batches) -> list[dict]:
    """cProfile of the hub path: where the time goes, by own time."""
    prof = cProfile.Profile()
    for msgs in batches:
        prof.enable()
        sent = hub_round(hub, msgs)
        prof.disable()
        socks.delivered += sent
        socks.drained()
    stats = pstats.Stats(prof, stream=io.StringIO())
    total = stats.total_tt or 1.0
    rows = []
    for (path, line, func), (_cc, ncalls, tottime, cumtime, _callers) in stats.stats.items():
        rows.append({"function": f"{os.path.basename(path)}:{line}({func})", "calls": ncalls,
                     "tottime_s": round(tottime, 6), "share": round(tottime / total, 3),
                     "cumtime_s": round(cumtime, 6)})
    rows.sort(key=lambda r: -r["tottime_s"])
    return rows[:10]


def run(subscribers: int = 100, rounds: int = 30, batch: int = 100, repeats: int = 3,
        profile: bool = True, out_dir=None) -> dict:
    m = measure(subscribers, rounds, batch, repeats, profile)
    bare, hub = max(m["bare_rates"]), max(m["hub_rates"])
    ratio = hub / bare
    rows = [
        {"metric": f"hub deliveries/s @{subscribers} subs", "target": f">= {TARGET_RATIO:.0%} of bare",
         "measured": f"{hub:,.0f}/s ({ratio:.0%})", "floor": f"bare {bare:,.0f}/s", "ok": ratio >= TARGET_RATIO},
        {"metric": "encode calls per message", "target": "1",
         "measured": f"{m['encode_calls']}/{m['messages_queued']}", "floor": "",
         "ok": m["encode_calls"] == m["messages_queued"]},
        {"metric": "drops (buffer full)", "target": "0", "measured": f"hub {m['hub_drops']}",
         "floor": f"bare {m['bare_drops']}", "ok": None},
    ]
    details = {"subscribers": subscribers, "rounds": rounds, "batch": batch, "repeats": repeats,
               "bare_rate": bare, "hub_rate": hub, "ratio": ratio, **m}
    result = report("fanout", rows, details, out_dir=out_dir)
    if profile:
        print("hub path, own time (cProfile; profiling slows it, shares are what count):")
        for r in m["profile"]:
            print(f"  {r['share']:6.1%}  {r['calls']:>8}  {r['function']}")
    return result


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--subscribers", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=30, help="rounds per repeat (each round = --batch messages)")
    ap.add_argument("--batch", type=int, default=100, help="messages per round (must fit in the socket buffers)")
    ap.add_argument("--repeats", type=int, default=3, help="alternations of bare/hub; the best of each counts")
    ap.add_argument("--no-profile", dest="profile", action="store_false")
    ap.add_argument("--out", default=None, help="results directory (default bench/results)")
    args = ap.parse_args(argv)
    run(args.subscribers, args.rounds, args.batch, args.repeats, args.profile, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
