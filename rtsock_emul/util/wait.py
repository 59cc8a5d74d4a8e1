"""The one polling helper: wait for a state, never sleep to synchronise."""
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeout(AssertionError):
    """A waited-for condition did not hold in time; says what and what was last seen."""


def wait_until(probe: Callable[[], T | None], timeout: float, *, interval: float = 0.01, what: str | None = None,
               clock: Callable[[], float] = time.monotonic) -> T:
    """Call probe() until it returns a truthy value; return that value.

    probe: a callable returning a truthy result when the wait is over.
    timeout: seconds. interval: seconds between polls (grows to 0.1 at most).
    On timeout raise WaitTimeout naming `what` and the last value seen
    (or the last exception the probe raised).
    """
    deadline = clock() + timeout
    last, last_exc = None, None
    delay = interval
    while True:
        try:
            last = probe()
            last_exc = None
            if last:
                return last
        except Exception as exc:  # the probe may fail until the state exists
            last_exc = exc
        if clock() >= deadline:
            seen = f"last raised {last_exc!r}" if last_exc else f"last saw {last!r}"
            raise WaitTimeout(f"timed out after {timeout:g}s waiting for {what or probe!r}; {seen}")
        time.sleep(min(delay, max(0.0, deadline - clock())))
        delay = min(delay * 1.5, 0.1)
