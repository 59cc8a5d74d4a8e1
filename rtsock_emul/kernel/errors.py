"""The model's one error type: an errno plus text that says what to do."""
from __future__ import annotations

import errno as _errno


class KernelError(OSError):
    """An ioctl/route operation failed with `errno` (Python's errno values)."""

    def __init__(self, err: int, text: str = ""):
        super().__init__(err, text or _errno.errorcode.get(err, str(err)))
        self.text = text

    def __str__(self) -> str:
        return f"{_errno.errorcode.get(self.errno or 0, self.errno)}: {self.text}"
