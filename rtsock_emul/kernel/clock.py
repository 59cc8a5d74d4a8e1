"""Clocks for the pure kernel model: the model never reads time itself.

`ManualClock` is for tests (time moves only with `advance`); `AsyncioClock`
wraps an event loop for the agent. Both satisfy the `Clock` protocol of
docs/internals.md: `now()`, `call_later(delay, fn) -> handle`, `cancel(handle)`.
"""
from __future__ import annotations

import heapq
import itertools
from typing import Callable, Protocol


class Clock(Protocol):
    def now(self) -> float: ...
    def call_later(self, delay: float, fn: Callable[[], object]) -> object: ...
    def cancel(self, handle: object) -> None: ...


class _Timer:
    __slots__ = ("when", "seq", "fn", "cancelled")

    def __init__(self, when: float, seq: int, fn: Callable[[], object]):
        self.when, self.seq, self.fn, self.cancelled = when, seq, fn, False

    def __lt__(self, other: "_Timer") -> bool:
        return (self.when, self.seq) < (other.when, other.seq)


class ManualClock:
    """Deterministic clock: timers fire only inside `advance`, in time order
    (ties in scheduling order), including timers scheduled by timers."""

    def __init__(self, start: float = 0.0):
        self._now = start
        self._heap: list[_Timer] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self._now

    def call_later(self, delay: float, fn: Callable[[], object]) -> _Timer:
        timer = _Timer(self._now + max(0.0, delay), next(self._seq), fn)
        heapq.heappush(self._heap, timer)
        return timer

    def cancel(self, handle: object) -> None:
        if isinstance(handle, _Timer):
            handle.cancelled = True

    def pending(self) -> int:
        return sum(1 for t in self._heap if not t.cancelled)

    def next_due(self) -> float | None:
        live = [t.when for t in self._heap if not t.cancelled]
        return min(live) if live else None

    def advance(self, seconds: float) -> None:
        """Move time forward by `seconds`, firing every timer due on the way."""
        end = self._now + seconds
        while self._heap and self._heap[0].when <= end:
            timer = heapq.heappop(self._heap)
            if timer.cancelled:
                continue
            self._now = max(self._now, timer.when)
            timer.fn()
        self._now = end


class AsyncioClock:
    """The agent's clock: an asyncio loop's monotonic time and timers."""

    def __init__(self, loop):
        self._loop = loop

    def now(self) -> float:
        return self._loop.time()

    def call_later(self, delay: float, fn: Callable[[], object]):
        return self._loop.call_later(max(0.0, delay), fn)

    def cancel(self, handle) -> None:
        if handle is not None:
            handle.cancel()
