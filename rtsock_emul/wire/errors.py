"""WireError: a message that does not follow the illumos layout."""
from __future__ import annotations


class WireError(ValueError):
    """A malformed routing message: which field, at which byte offset, and why.

    When the whole buffer is known the text ends with a reproducer,
    `decode(bytes.fromhex('...'))`, to paste into a test or `python -m rtsock_emul.wire`.
    """

    def __init__(self, field: str, offset: int | None, reason: str,
                 buf: bytes | bytearray | memoryview | None = None):
        self.field, self.offset, self.reason, self.buf = field, offset, reason, buf
        where = f"{field} at offset {offset}" if offset is not None else field
        text = f"{where}: {reason}"
        if buf is not None:
            text += f"; reproduce with decode(bytes.fromhex('{bytes(buf).hex()}'))"
        super().__init__(text)

    def with_buf(self, buf: bytes | bytearray | memoryview, base: int = 0) -> WireError:
        """The same error located in the whole message buf (offset shifted by base)."""
        if self.buf is not None:
            return self
        offset = None if self.offset is None else self.offset + base
        return WireError(self.field, offset, self.reason, buf)
