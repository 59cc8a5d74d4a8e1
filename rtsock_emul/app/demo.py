"""The live demonstration behind `sudo ./ipmp-lab demo`.

On the default topology (ipmp-pair): h1 groups net0 and net1 into ipmp0 with a
data address, a normal and an IPMP-aware routing socket on h1 print what they
receive as it arrives, h2 pings the data address every 10 ms, h1:net0 loses
carrier, the data address moves to net1, the ping survives, the link returns.
"""
from __future__ import annotations

import argparse
import sys
import threading
import time
from typing import Any

from rtsock_emul import client
from rtsock_emul.lab import LabError, start
from rtsock_emul.util.wait import wait_until
from rtsock_emul.wire import constants as C
from rtsock_emul.wire.messages import decode
from rtsock_emul.wire.render import render

DATA_ADDR = "192.0.2.10"
PING_COUNT, PING_INTERVAL = 300, 0.01


class Printer:
    """Prints each subscriber's messages as they arrive, one lane label each."""

    def __init__(self, out) -> None:
        self.out, self.lock = out, threading.Lock()
        self.counts: dict[str, int] = {}

    def say(self, text: str) -> None:
        with self.lock:
            print(text, file=self.out, flush=True)

    def follow(self, name: str, sock: client.RoutingSocket, stop: threading.Event) -> threading.Thread:
        def run() -> None:
            while not stop.is_set():
                try:
                    data = sock.read(timeout=0.2)
                except TimeoutError:
                    continue
                except OSError as exc:
                    self.say(f"[{name}] read: {exc}")
                    continue
                self.counts[name] = self.counts.get(name, 0) + 1
                lines = render(decode(data)).rstrip().splitlines()
                self.say("\n".join(f"[{name:6}] {line}" for line in lines))
        thread = threading.Thread(target=run, name=f"follow-{name}", daemon=True)
        thread.start()
        return thread


def banner(printer: Printer, text: str) -> None:
    printer.say(f"\n=== {text}")


def admin(printer: Printer, lab, host: str, command: str) -> str:
    printer.say(f"{host}# {command}")
    rc, out, err = lab.admin(host, command)
    if out.strip():
        printer.say(out.rstrip())
    if rc != 0:
        raise LabError(f"{host}: '{command}' failed (rc {rc}): {err.strip()}")
    return out


def settle(printer: Printer, lab, host: str, command: str, needle: str, timeout: float = 10.0) -> None:
    """Wait (by polling the agent's state, never by sleeping) until command's output holds needle."""
    wait_until(lambda: needle in lab.admin(host, command)[1], timeout, what=f"'{needle}' in {host} {command}")


def run_demo(topology: str = "ipmp-pair", out=sys.stdout) -> int:
    printer = Printer(out)
    stop = threading.Event()
    config = {"mpathd": {"failure_detection_time": 1000}}
    with start(topology, mode="mininet", config=config) as lab:
        banner(printer, f"lab '{topology}' is up: hosts {', '.join(lab.hosts)}; agents ready")
        normal = lab.open_socket("h1")
        aware = lab.open_socket("h1")
        aware.setsockopt(C.SOL_ROUTE, C.RT_AWARE, C.RTAW_UNDER_IPMP)
        threads = [printer.follow("normal", normal, stop), printer.follow("aware", aware, stop)]
        try:
            banner(printer, "h1 boots with net0 and net1 as bare datalinks; ipadm makes them IP interfaces")
            admin(printer, lab, "h1", "dladm show-link")
            admin(printer, lab, "h1", "ipadm create-ip net0")
            admin(printer, lab, "h1", "ipadm create-ip net1")
            banner(printer, "h1 forms IPMP group ipmp0 from net0 and net1, with data address " + DATA_ADDR)
            admin(printer, lab, "h1", "ipadm create-ipmp -i net0,net1 ipmp0")
            admin(printer, lab, "h1", f"ipadm create-addr -T static -a {DATA_ADDR}/24 ipmp0/v4")
            settle(printer, lab, "h1", "ipadm show-addr -p -o state ipmp0/v4", "ok")  # DAD done
            admin(printer, lab, "h1", "ipmpstat -g")
            admin(printer, lab, "h1", "ipmpstat -a -n")

            banner(printer, f"h2 pings {DATA_ADDR} every {PING_INTERVAL * 1000:.0f} ms while h1:net0 loses carrier")
            result: dict[str, Any] = {}

            def pinger_run() -> None:
                try:
                    result["ping"] = lab.ping("h2", DATA_ADDR, PING_COUNT, PING_INTERVAL)
                except LabError as exc:
                    result["error"] = exc
            pinger = threading.Thread(target=pinger_run, daemon=True)
            pinger.start()
            time.sleep(0.5)  # let the ping get going before the cut: part of the show, not a synchronisation
            printer.say("link h1:net0 down")
            lab.link("h1", "net0", up=False)
            settle(printer, lab, "h1", "ipmpstat -i", "failed")
            admin(printer, lab, "h1", "ipmpstat -i")
            admin(printer, lab, "h1", "ipmpstat -a -n")
            pinger.join()
            if "error" in result:
                raise result["error"]
            ping = result["ping"]
            printer.say(f"h2 -> {DATA_ADDR}: {ping.sent} sent, {ping.received} received, "
                        f"{ping.lost} lost across the failover")

            banner(printer, "the link returns: net0 is repaired and takes its share again")
            printer.say("link h1:net0 up")
            lab.link("h1", "net0", up=True)
            settle(printer, lab, "h1", "ipmpstat -g", "ok")
            admin(printer, lab, "h1", "ipmpstat -i")
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=2)
            normal.close()
            aware.close()
        banner(printer, "messages seen: " + ", ".join(f"{k} {v}" for k, v in sorted(printer.counts.items()))
               + " (the normal socket never sees a member fail: M16)")
    banner(printer, "lab stopped; everything it created is removed")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="ipmp-lab demo", description=__doc__.splitlines()[0])
    parser.add_argument("topology", nargs="?", default="ipmp-pair")
    args = parser.parse_args(argv)
    try:
        return run_demo(args.topology)
    except LabError as exc:
        print(f"ipmp-lab demo: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
