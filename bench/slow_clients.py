"""Slow and hostile clients: another client's RTM_GET latency while `nobody`
floods the admin socket (or a control channel) without reading the replies.

A sim agent (rtsock_emul.fuzz.simagent) with in.mpathd; the hostile client sends
`ipmpstat -g` (or getsockopt) records as fast as the agent takes them and never
reads; meanwhile another client times back-to-back RTM_GETs until the agent has
dropped the hostile connection (or `--window` seconds pass). `--subscribers`
readers must each receive every RTM_GET reply.

    .venv/bin/python -m bench.slow_clients [--flood 2000] [--window 20] [--subscribers 20]
"""
from __future__ import annotations

import argparse
import json
import os
import threading
import time

from bench.common import summary
from rtsock_emul import client
from rtsock_emul.fuzz.flood import flood, hung_up
from rtsock_emul.fuzz.simagent import CONFIG, SimAgent
from rtsock_emul.util.wait import WaitTimeout, wait_until
from rtsock_emul.wire import RtMsg
from rtsock_emul.wire import constants as C

MIN_GETS = 200


class Reader(threading.Thread):
    """One subscriber: the rtm_seq of every RTM_GET reply to this process, as read."""

    def __init__(self, sock):
        super().__init__(daemon=True)
        self.sock, self.seqs, self.stop, self.errors = sock, [], threading.Event(), 0

    def run(self):
        pid = os.getpid()
        while not self.stop.is_set():
            try:
                msg = self.sock.read_msg(timeout=0.2)
            except TimeoutError:
                continue
            except OSError:
                self.errors += 1  # ENOBUFS: it fell behind
                continue
            if msg.type == C.RTM_GET and msg.rtm_pid == pid:
                self.seqs.append(msg.rtm_seq)


def timed_gets(agent, done, window: float, readers: list) -> dict:
    """RTM_GET latencies (ms) until done() or window s; a stalled agent shows as none."""
    out, deadline, seqs = [], time.monotonic() + window, []
    for r in readers:
        r.seqs.clear()

    def run():
        with client.socket(path=agent.path) as s:
            s.setsockopt(C.SOL_SOCKET, C.SO_USELOOPBACK, 0)
            while time.monotonic() < deadline and not (len(out) >= MIN_GETS and done()):
                seq = len(seqs) + 1
                t0 = time.monotonic()
                s.write(RtMsg("RTM_GET", dst="192.0.2.1", seq=seq))
                out.append((time.monotonic() - t0) * 1000)
                seqs.append(seq)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(window + 5)
    try:
        wait_until(lambda: all(r.seqs[-1:] == seqs[-1:] for r in readers), 5, what="every reader's last reply")
    except WaitTimeout:
        pass
    held = sum(r.seqs == seqs and not r.errors for r in readers)
    return {"stalled": t.is_alive(), "gets": summary(out) if out else None, "dropped": done(),
            "subscribers_held": f"{held}/{len(readers)}"}


def during_flood(agent, sock, record, watch, args, readers) -> dict:
    """Flood sock from a thread while timing RTM_GETs; done when the agent hung up `watch`."""
    sent = []
    t = threading.Thread(target=lambda: sent.append(flood(sock, record, args.flood)), daemon=True)
    t.start()
    r = timed_gets(agent, lambda: not t.is_alive() and hung_up(watch), args.window, readers)
    t.join(args.window)
    return dict(sent=sent[0] if sent else None, **r)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--flood", type=int, default=2000)
    ap.add_argument("--window", type=float, default=20.0)
    ap.add_argument("--subscribers", type=int, default=20)
    args = ap.parse_args(argv)
    results = {}
    with SimAgent(dict(CONFIG, mpathd={})) as agent:
        subs = [Reader(client.socket(path=agent.path)) for _ in range(args.subscribers)]
        for r in subs:
            r.start()
        hostile = client.connect_as(agent.path + ".admin", "nobody" if os.geteuid() == 0 else os.geteuid())
        results["admin"] = during_flood(agent, hostile, json.dumps({"argv": ["ipmpstat", "-g"]}).encode(),
                                        hostile, args, subs)
        hostile.close()
        with client.socket(path=agent.path) as spammer:
            record = json.dumps({"op": "getsockopt", "level": C.SOL_SOCKET, "name": C.SO_RCVBUF}).encode()
            results["control"] = during_flood(agent, spammer._core.ctrl, record, spammer._core.data, args, subs)
        for r in subs:
            r.stop.set()
            r.join(2)
            r.sock.close()
    for channel, r in results.items():
        g = r["gets"]
        lat = (f"RTM_GET ms p50 {g['p50']:.2f} p99 {g['p99']:.2f} max {g['max']:.2f} (n {g['n']})"
               if g else "no RTM_GET answered")
        print(f"{channel}: {r['sent']} unread requests; {lat}; stalled {r['stalled']}; "
              f"hostile dropped {r['dropped']}; subscribers held {r['subscribers_held']}")


if __name__ == "__main__":
    main()
