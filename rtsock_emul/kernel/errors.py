"""The model's one error type: an errno plus text that says what to do."""
from __future__ import annotations

import errno as _errno

from rtsock_emul.wire.constants import ERRNO_NAMES


class KernelError(OSError):
    """An ioctl/route operation failed with `errno` (Python's errno values).

    `name` is the errno's name as illumos reports it. Linux has one number (95) for
    ENOTSUP and EOPNOTSUPP, which differ on illumos: a raise that means ENOTSUP
    says so with name="ENOTSUP"; otherwise 95 is EOPNOTSUPP.
    """

    def __init__(self, err: int, text: str = "", *, name: str | None = None):
        super().__init__(err, text or _errno.errorcode.get(err, str(err)))
        self.text = text
        self.name = name or ERRNO_NAMES.get(err) or _errno.errorcode.get(err, str(err))

    def __str__(self) -> str:
        return f"{_errno.errorcode.get(self.errno or 0, self.errno)}: {self.text}"
