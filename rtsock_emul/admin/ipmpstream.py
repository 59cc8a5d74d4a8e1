"""`ipmpstat -p` in the rtsock command: streams probes until interrupted, as
ipmpstat.c's probe_output does (it subscribes to in.mpathd's probe events and
prints each acked or lost probe). The agent is asked for the probes that ended
since the last answer (`ipmpstat-events`, admin/ipmpstat.py), through the
project's polling helper."""
from __future__ import annotations

import getopt
import sys

from ..util.wait import WaitTimeout, wait_until

POLL_INTERVAL = 0.05       # seconds between asks; wait_until grows it to 0.1
IDLE_WAIT = 3600.0         # one wait_until round; the loop starts another


def wants_stream(args: list[str]) -> bool:
    """Is this `ipmpstat ... -p ...` (mode p, well formed)?"""
    try:
        opts, rest = getopt.getopt(args, "nLPo:agipt")
    except getopt.GetoptError:
        return False
    return not rest and [o for o, _ in opts if o[1] in "agipt"] == ["-p"]


class _Stop(BaseException):
    """Ends the stream from inside the polled probe (wait_until retries Exceptions)."""

    def __init__(self, rc: int) -> None:
        super().__init__(rc)
        self.rc = rc


def stream(admin, args: list[str], out=None, err=None) -> int:
    """admin(argv) -> (rc, out, err); OSError when the agent is gone."""
    out, err = out or sys.stdout, err or sys.stderr

    def ask(cursor: str, origin: str, header: str) -> str:
        try:
            rc, text, warn = admin(["ipmpstat-events", cursor, origin, header, *args])
        except OSError:
            raise _Stop(0) from None                  # the agent (the lab) stopped
        err.write(warn)
        if rc:
            err.write(text)
            raise _Stop(rc)
        return text

    try:
        cursor, origin = ask("start", "0", "0").split()
        header = "1"
        while True:
            def new_rows(cursor: str = cursor, header: str = header) -> tuple[str, str] | None:
                first, _, rows = ask(cursor, origin, header).partition("\n")
                return (first, rows) if rows else None
            try:
                cursor, rows = wait_until(new_rows, IDLE_WAIT, interval=POLL_INTERVAL,
                                          what="a probe acked or lost")
            except WaitTimeout:
                continue
            out.write(rows)
            out.flush()
            header = "0"
    except _Stop as stop:
        return stop.rc
    except (KeyboardInterrupt, BrokenPipeError):
        return 0


__all__ = ["stream", "wants_stream"]
