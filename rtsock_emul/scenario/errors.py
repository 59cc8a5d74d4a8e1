"""Typed errors of the scenario layer: each names the place and what to do."""
import difflib
from collections.abc import Iterable
from typing import Any

from .ruleref import rule_ref


def did_you_mean(key: object, allowed: Iterable[str]) -> str:
    """' (did you mean 'x'?)' for the nearest allowed key, or ''."""
    near = difflib.get_close_matches(str(key), list(allowed), n=1)
    return f" (did you mean {near[0]!r}?)" if near else ""


class ScenarioError(Exception):
    """A scenario file is wrong: file:line, what is wrong and what would be right."""

    def __init__(self, path, line, what, hint="") -> None:
        self.path, self.line, self.what, self.hint = str(path), line, what, hint
        text = f"{self.path}:{line}: {what}" if line else f"{self.path}: {what}"   # 0: the whole file
        if hint:
            text += f"\n    -> {hint}"
        super().__init__(text)


class StepFailure(AssertionError):
    """A step did not do what the scenario says; carries what report.py shows."""

    def __init__(self, step, summary, details=(), diffs=()) -> None:
        self.step, self.summary = step, summary
        self.details = list(details)   # extra text lines
        self.diffs = list(diffs)       # matcher.Diff objects, one per subscriber
        super().__init__(summary)


class OracleViolation(AssertionError):
    """A recorded stream breaks a manpage or delivery rule, whatever the scenario says."""

    def __init__(self, violations: Iterable[Any]) -> None:
        self.violations = list(violations)
        super().__init__("; ".join(f"{v.rule} ({rule_ref(v.rule)}): {v.what}" for v in self.violations[:5]))
