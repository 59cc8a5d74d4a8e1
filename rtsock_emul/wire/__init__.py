"""illumos routing-socket bytes: constants, struct tables, messages (route.h, if.h, socket.h; R3-R5)."""
from .build import IfaMsg, IfMsg, RtMsg
from .constants import *  # noqa: F401,F403  C names are the vocabulary of every layer
from .errors import WireError
from .messages import (
                       MESSAGE_TYPES,
                       IfaMsghdr,
                       IfData,
                       IfMsghdr,
                       Message,
                       RtMetrics,
                       RtMsghdr,
                       Timeval32,
                       decode,
                       decode_as,
                       decode_request,
                       encode,
                       encode_sockaddrs,
)
from .render import render, to_json
from .sockaddrs import SockaddrDl, SockaddrIn, SockaddrIn6, SockaddrUnspec, decode_sockaddr, sockaddr_size, to_sockaddr
