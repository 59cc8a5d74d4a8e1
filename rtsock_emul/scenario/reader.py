"""One selector thread reads every subscriber's data connection and records each message.

It reads a dup of the socket's data fd (RoutingSocket.fileno()), so the
client's control channel stays with the thread that writes requests.
"""
import os
import selectors
import socket
import threading

import struct

from rtsock_emul.wire import decode, decode_request
from rtsock_emul.wire.structs import RT_MSGHDR

MAX_MSG = 1 << 16


class Reader:
    def __init__(self, streams):
        self.streams = streams
        self.sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe()
        self.sel.register(self._wake_r, selectors.EVENT_READ, None)
        self.socks = {}
        self.thread = None
        self._stop = False

    def add(self, name, rsock):
        dup = socket.socket(fileno=os.dup(rsock.fileno()))
        dup.setblocking(False)
        self.socks[name] = dup
        self.sel.register(dup, selectors.EVENT_READ, name)

    def start(self):
        self.thread = threading.Thread(target=self._loop, name="scenario-reader", daemon=True)
        self.thread.start()

    def _loop(self):
        while not self._stop:
            for key, _ in self.sel.select():
                if key.data is None:
                    return
                self._read(key.data, key.fileobj)

    def _read(self, name, sock):
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
            msg = decode(data)
            self.streams.add(name, raw=data, msg=msg)
        except Exception as exc:  # a malformed message is a finding, not a crash (R42)
            echo = echo_of_request(data)
            if echo is not None:
                self.streams.add(name, raw=data, msg=echo)
            else:
                self.streams.add(name, raw=data, error=f"{type(exc).__name__}: {exc}")

    def stop(self):
        self._stop = True
        os.write(self._wake_w, b"x")
        if self.thread:
            self.thread.join(5)
        for sock in self.socks.values():
            sock.close()
        self.sel.close()
        os.close(self._wake_r)
        os.close(self._wake_w)


def echo_of_request(data):
    """The echo of a malformed request is the sender's own bytes (R29) with rtm_pid
    set (R28): read it as the kernel read the request (an rt_msghdr whatever its
    type, rtm_msglen taken as the length read), or None if it is not an echo."""
    if len(data) < RT_MSGHDR.size:
        return None
    fixed = struct.pack("<H", len(data) & 0xFFFF) + data[2:]
    try:
        msg = decode_request(fixed)
    except Exception:
        return None
    return msg if msg.rtm_pid != 0 else None
