"""What subscribers received: one Record per read, kept per subscriber with a condition."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Sequence

from rtsock_emul.wire import Message


@dataclass
class Record:
    t: float                 # seconds since the run started (time.monotonic based)
    sub: str
    raw: bytes = b""
    msg: Message | None = None      # decoded message, or None when decoding failed
    error: str = ""          # decode error text, or "ENOBUFS" for an overflow notice
    step: int = 0            # index of the step running when it was read (0 = before steps)

    @property
    def overflow(self) -> bool:
        return self.error == "ENOBUFS"


class Streams:
    """Per-subscriber lists of Records; readers append, the runner waits on new ones."""

    def __init__(self, names: Sequence[str], t0=None) -> None:
        self.t0 = time.monotonic() if t0 is None else t0
        self.cond = threading.Condition()
        self.by_sub: dict[str, list[Record]] = {name: [] for name in names}
        self.step = 0

    def now(self) -> float:
        return time.monotonic() - self.t0

    def add(self, sub: str, raw: bytes = b"", msg: Any = None, error: str = "") -> Record:
        with self.cond:
            rec = Record(self.now(), sub, raw, msg, error, self.step)
            self.by_sub[sub].append(rec)
            self.cond.notify_all()
            return rec

    def snapshot(self, sub: str, start: int = 0) -> list[Record]:
        with self.cond:
            return list(self.by_sub[sub][start:])

    def count(self, sub: str) -> int:
        with self.cond:
            return len(self.by_sub[sub])

    def wait(self, predicate, timeout) -> bool:
        """Wait until predicate() is true or timeout passes; re-checked on every new Record."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while not predicate():
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cond.wait(left)
            return True

    def hold(self, seconds) -> None:
        """Keep recording for a quiet window (an observation window, not a synchronisation)."""
        deadline = time.monotonic() + seconds
        with self.cond:
            while (left := deadline - time.monotonic()) > 0:
                self.cond.wait(left)

    def all_records(self) -> list[Record]:
        with self.cond:
            return sorted((r for recs in self.by_sub.values() for r in recs), key=lambda r: r.t)
