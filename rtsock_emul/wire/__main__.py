"""python -m rtsock_emul.wire decode|render HEX...

HEX may be split by spaces, newlines, colons or dashes (pasted from a capture),
or be "-" to read it from stdin. A malformed message prints the WireError and
exits 2.
"""
from __future__ import annotations

import argparse
import json
import string
import sys

from .errors import WireError
from .messages import decode, decode_request
from .render import render, to_json


def parse_hex(text: str) -> bytes:
    """bytes from hex text with any separators (spaces, newlines, ':', '-', '0x')."""
    cleaned = text.replace("0x", "").replace("0X", "")
    digits = "".join(c for c in cleaned if c not in string.whitespace + ":-,.")
    bad = sorted({c for c in digits if c not in string.hexdigits})
    if bad:
        raise WireError("hex", None, f"not hex digits: {''.join(bad)!r}")
    if len(digits) % 2:
        raise WireError("hex", None, f"odd number of hex digits ({len(digits)})")
    return bytes.fromhex(digits)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rtsock_emul.wire",
                                     description="Decode illumos routing-socket messages.")
    parser.add_argument("command", choices=("decode", "render"),
                        help="decode: print JSON; render: print like `route -n monitor`")
    parser.add_argument("hex", nargs="+", help='the message bytes in hex, or "-" for stdin')
    parser.add_argument("--request", action="store_true",
                        help="read as an rt_msghdr whatever rtm_type says, as the kernel reads requests")
    args = parser.parse_args(argv)
    text = sys.stdin.read() if args.hex == ["-"] else " ".join(args.hex)
    try:
        buf = parse_hex(text)
        msg = decode_request(buf) if args.request else decode(buf)
    except WireError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.command == "decode":
        print(json.dumps(to_json(msg), indent=2))
    else:
        print(render(msg))
    return 0


if __name__ == "__main__":
    sys.exit(main())
