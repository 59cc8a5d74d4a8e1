"""Typed errors of the lab: each says what went wrong and what to do."""


class LabError(RuntimeError):
    """The lab could not do what was asked (start, fault injection, cleanup)."""


class TopologyError(LabError, ValueError):
    """A topology is malformed; the text starts with `file:line:`."""

    def __init__(self, where: str, text: str) -> None:
        self.where, self.text = where, text
        super().__init__(f"{where}: {text}" if where else text)
