"""The failure report: the step's YAML lines, expected vs observed per subscriber
(decoded, `route monitor` style, first difference marked), oracle rule texts,
and the tail of the agents' logs."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from rtsock_emul.wire.render import render as render_msg

from .errors import OracleViolation, StepFailure
from .rulebook import rule_ref
from .truth import TruthFailure

if TYPE_CHECKING:
    from .matcher import Diff
    from .oracle import Violation
    from .runner import RunResult
    from .streams import Record

LOG_TAIL = 15
MARK = ">>> "


def yaml_lines(path: str, first: int, last: int, context: int = 0) -> list[str]:
    try:
        lines = Path(path).read_text().splitlines()
    except OSError:
        return []
    lo, hi = max(1, first - context), min(len(lines), last + context)
    return [f"{path}:{n}: {lines[n - 1]}" for n in range(lo, hi + 1)]


def _render(rec: Record) -> str:
    if rec.overflow:
        return "read() -> ENOBUFS (the agent dropped messages for this socket: buffer full)"
    if rec.msg is None:
        return f"(undecodable: {rec.error}) {rec.raw.hex()}"
    try:
        return render_msg(rec.msg, size=len(rec.raw))
    except Exception as exc:  # a render bug must not hide the finding
        return f"{rec.msg!r} (render failed: {exc})"


def _indent(text: str, prefix: str):
    return [prefix + line for line in text.splitlines()]


def diff_lines(diff: Diff) -> list[str]:
    exp = diff.exp
    out = [f"subscriber {exp.sub} (match: {exp.mode}, line {exp.line}): {diff.reason}", "  expected:"]
    if not exp.messages:
        out.append("      (nothing)")
    for i, pat in enumerate(exp.messages):
        out.append(("  " + MARK if i == diff.exp_index else "      ") + str(pat))
    for pat in exp.absent:
        out.append(f"      absent: {pat}")
    out.append(f"  observed ({len(diff.observed)} message(s)):")
    if not diff.observed:
        out.append("      (nothing)")
    for i, rec in enumerate(diff.observed):
        marked = i == diff.obs_index
        out.append(("  " + MARK if marked else "      ") + f"[{i}] t={rec.t:.3f}s")
        out.extend(_indent(_render(rec), "  " + MARK if marked else "      "))
    return out


def violation_lines(v: Violation) -> list[str]:
    out = [f"rule {v.rule} broken on subscriber {v.sub}: {v.what}",
           f"  {v.rule}: \"{v.text}\" (see {rule_ref(v.rule)})"]
    if v.record is not None:
        out.append(f"      (t={v.record.t:.3f}s, during step {v.record.step})")
        out.extend(_indent(_render(v.record), "      "))
    return out


def judged_lines(res: RunResult) -> list[str]:
    """How many messages each rule judged in this run; rules that judged none are named."""
    judged = res.judged or {}
    if not judged:
        return ["rule oracle: judged nothing (no journal was read)"]
    done = ", ".join(f"{r} {n}" for r, n in sorted(judged.items(), key=_rule_key) if n)
    idle = ", ".join(r for r, n in sorted(judged.items(), key=_rule_key) if not n)
    return [f"rule oracle judged (messages per rule): {done or 'none'}",
            f"rule oracle: rules that judged nothing in this run: {idle or 'none'}"]


def _rule_key(item: tuple[str, int]) -> tuple[str, int, str]:
    rule = item[0]
    digits = "".join(ch for ch in rule[1:] if ch.isdigit())
    return rule[0], int(digits or 0), rule


def log_tails(log_text: dict[str, str], n: int = LOG_TAIL) -> list[str]:
    out = []
    for host, text in sorted((log_text or {}).items()):
        lines = text.splitlines()[-n:]
        out.append(f"--- {host} agent log, last {len(lines)} lines ---")
        out.extend("  " + line for line in lines)
    return out


def failure_summary(res: RunResult) -> str:
    """One line for the failure: CI's message next to the test's name."""
    sc, exc = res.scenario, res.failure
    if isinstance(exc, StepFailure):
        line = f"{exc.step.describe()} at {sc.path}:{exc.step.line}: {exc.summary}"
    elif isinstance(exc, OracleViolation):
        line = "rule oracle: " + "; ".join(f"{v.rule} {v.sub}: {v.what}" for v in res.violations[:3])
    else:
        line = f"{type(exc).__name__}: {exc}"
    return " ".join(line.split())


def format_failure(res: RunResult) -> str:
    """The whole report for a failed RunResult, as text."""
    sc, exc = res.scenario, res.failure
    out = [f"scenario {sc.name!r} ({sc.path}) failed in {res.mode} mode"]
    if isinstance(exc, StepFailure):
        st = exc.step
        out.append(f"{st.describe()} at {sc.path}:{st.line}: {exc.summary}")
        out.extend("  " + line for line in yaml_lines(sc.path, st.line, st.end_line))
        for line in exc.details:
            out.extend("  " + x for x in str(line).splitlines())
        for diff in exc.diffs:
            out.extend(diff_lines(diff))
    elif exc is not None and not isinstance(exc, (OracleViolation, TruthFailure)):
        out.append(f"{type(exc).__name__}: {exc}")
    if res.truth_failure is not None:
        out.extend(res.truth_failure.lines())  # type: ignore[attr-defined]
    if res.violations:
        out.append(f"rule oracle: {len(res.violations)} violation(s) the scenario's expectations do not mention:")
        for v in res.violations[:10]:
            out.extend(violation_lines(v))
    out.extend(judged_lines(res))
    if res.artifacts:
        out.append("artifacts: " + ", ".join(f"{k}={v}" for k, v in sorted(res.artifacts.items())))
    out.extend(log_tails(res.log_text))
    return "\n".join(out)
