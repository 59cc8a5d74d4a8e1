"""SIGINT, SIGTERM and SIGHUP held back where one would leave something unrecorded or half
removed: while a process the cleanup registry does not know yet is started, and while a lab
tears down. Held signals land when the block ends."""
from __future__ import annotations

import contextlib
import os
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


@contextlib.contextmanager
def wakeup() -> Iterator[int | None]:
    """A pipe's read end that turns readable when a signal arrives, whichever thread the
    kernel gives it to: Python runs the handler in the main thread, at its next step, so a
    main thread blocked in select() must wait on this fd too. None off the main thread, or
    when a wakeup fd is set already (an event loop's): that one wakes the thread."""
    if threading.current_thread() is not threading.main_thread():
        yield None
        return
    r, w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    previous = signal.set_wakeup_fd(w, warn_on_full_buffer=False)
    if previous != -1:
        signal.set_wakeup_fd(previous)
    try:
        yield r if previous == -1 else None
    finally:
        if previous == -1:
            signal.set_wakeup_fd(-1)
        os.close(r)
        os.close(w)
