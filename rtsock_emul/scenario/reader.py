"""One selector thread reads every subscriber's data connection and records each message.

It reads a dup of the socket's data fd (RoutingSocket.fileno()), so the
client's control channel stays with the thread that writes requests.
A held subscriber (`hold: true`) is not read until `release`: its messages stay
in the agent-side buffer (SO_RCVBUF), as for a process busy elsewhere.
"""
from __future__ import annotations

import os
import selectors
import socket
import struct
import threading
from typing import Any

from rtsock_emul.wire import WireError, decode, decode_request
from rtsock_emul.wire.structs import RT_MSGHDR

MAX_MSG = 1 << 16
DECODED_KEPT = 256       # recent distinct messages whose decode is shared by the subscribers


class Reader:
    def __init__(self, streams) -> None:
        self.streams = streams
        self.sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe()
        self.sel.register(self._wake_r, selectors.EVENT_READ, None)
        self.socks: dict[str, Any] = {}
        self.thread: threading.Thread | None = None
        self._stop = False
        self._lock = threading.Lock()
        self._want_read: dict[str, bool] = {}          # name -> bool, applied by the reader thread
        self._applied = threading.Condition(self._lock)
        self._generation = self._done = 0
        # the hub sends one message's same bytes to every subscriber it selects: decoded once
        # (the decode is a pure function of the bytes; nothing changes a recorded message)
        self._decoded: dict[bytes, Any] = {}

    def add(self, name: str, rsock, hold=False) -> None:
        dup = socket.socket(fileno=os.dup(rsock.fileno()))
        dup.setblocking(False)
        self.socks[name] = dup
        if not hold:
            self.sel.register(dup, selectors.EVENT_READ, name)

    def hold(self, name: str) -> None:
        self._set_reading(name, False)

    def release(self, name: str) -> None:
        self._set_reading(name, True)

    def _set_reading(self, name: str, on) -> None:
        """Ask the reader thread to (un)register `name` and wait until it has, so a
        `hold` returns only once no further message of `name` will be read."""
        with self._lock:
            self._want_read[name] = on
            self._generation += 1
            gen = self._generation
        if self.thread is None or not self.thread.is_alive():
            self._apply()
            return
        os.write(self._wake_w, b"c")
        with self._applied:
            self._applied.wait_for(lambda: self._done >= gen or self._stop, 5)

    def _apply(self) -> None:
        with self._lock:
            for name, on in self._want_read.items():
                registered = self.sock_registered(name)
                if on and not registered:
                    self.sel.register(self.socks[name], selectors.EVENT_READ, name)
                elif not on and registered:
                    self.sel.unregister(self.socks[name])
            self._want_read.clear()
            self._done = self._generation
            self._applied.notify_all()

    def sock_registered(self, name: str) -> bool:
        try:
            self.sel.get_key(self.socks[name])
            return True
        except KeyError:
            return False

    def start(self) -> None:
        thread = self.thread = threading.Thread(target=self._loop, name="scenario-reader", daemon=True)
        thread.start()

    def _loop(self) -> None:
        while not self._stop:
            for key, _ in self.sel.select():
                if key.data is None:
                    if os.read(self._wake_r, 512) and not self._stop:
                        self._apply()
                        break       # the key set changed: select again
                    return
                self._read(key.data, key.fileobj)

    def _read(self, name: str, sock) -> None:
        try:
            data = sock.recv(MAX_MSG)
        except BlockingIOError:
            return
        except OSError as exc:
            self.streams.add(name, error=f"read failed: {exc}")
            self.sel.unregister(sock)
            return
        if not data:   # the agent closed the connection (or a SHUT_RD client side)
            self.sel.unregister(sock)
            return
        try:
            msg = self._decoded.get(data)
            if msg is None:
                msg = decode(data)
                if len(self._decoded) >= DECODED_KEPT:
                    self._decoded.clear()
                self._decoded[data] = msg
            self.streams.add(name, raw=data, msg=msg)
        except Exception as exc:  # a malformed message is a finding, not a crash (R42)
            echo = echo_of_request(data)
            if echo is not None:
                self.streams.add(name, raw=data, msg=echo)
            else:
                self.streams.add(name, raw=data, error=f"{type(exc).__name__}: {exc}")

    def stop(self) -> None:
        self._stop = True
        os.write(self._wake_w, b"x")
        if self.thread:
            self.thread.join(5)
        for sock in self.socks.values():
            sock.close()
        self.sel.close()
        os.close(self._wake_r)
        os.close(self._wake_w)


def echo_of_request(data: bytes) -> Any:
    """The echo of a malformed request is the sender's own bytes (R29) with rtm_pid
    set (R28): read it as the kernel read the request (an rt_msghdr whatever its
    type, rtm_msglen taken as the length read), or None if it is not an echo."""
    if len(data) < RT_MSGHDR.size:
        return None
    fixed = struct.pack("<H", len(data) & 0xFFFF) + data[2:]
    addrs = RT_MSGHDR.unpack(fixed)["rtm_addrs"]
    bits = [1 << i for i in range(addrs.bit_length()) if addrs >> i & 1]
    # the kernel stops at a sockaddr it refuses (R15, R12): keep those before it,
    # the rest of the bytes become the trailer
    for keep in range(len(bits), -1, -1):
        try:
            msg = decode_request(RT_MSGHDR.patch(fixed, rtm_addrs=sum(bits[:keep])))
        except WireError:   # refused there: try with fewer sockaddrs
            continue
        return msg if msg.rtm_pid != 0 else None
    return None
