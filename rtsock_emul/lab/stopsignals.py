"""SIGINT, SIGTERM and SIGHUP held back where one would leave something unrecorded or half
removed: while a process the cleanup registry does not know yet is started, and while a lab
tears down. Held signals land when the block ends."""
from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

STOP_SIGNALS = frozenset({signal.SIGINT, signal.SIGTERM, signal.SIGHUP})


@contextlib.contextmanager
def held() -> Iterator[set[int] | None]:
    """Block the stop signals in the main thread (Python runs handlers there only; other
    threads' masks do not matter). Yields the mask before, for a forked child to restore,
    or None off the main thread."""
    previous = (signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
                if threading.current_thread() is threading.main_thread() else None)
    try:
        yield previous
    finally:
        if previous is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
