"""The lab checker: `pytest labs/NN-name` checks the student's exercise
(labs/conftest.py installs these hooks for its folder).

For each lab folder (labs/NN-name/ holding exercise.scenario.yaml):
1. every `___` blank still in exercise.scenario.yaml fails the check with its
   line, its number (the `# (N)` marker on that line) and the hint for it
   from the folder's hints.yaml;
2. once no blank remains, the exercise runs as a scenario through the
   project's scenario plugin (same runner, same expected-vs-observed report).
`--lab-solutions` runs solution.scenario.yaml instead (for teachers and the suite).

The scenario plugin would collect these files as ordinary scenarios; the
`pytest_collect_file` wrapper made by `collect_file_hook` replaces its collector
for files in lab folders with ours, so only the exercise (or only the solution)
is collected.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from rtsock_emul.scenario.errors import ScenarioError
from rtsock_emul.scenario.loader import load_file
from rtsock_emul.scenario.pytest_plugin import ScenarioFile, ScenarioItem
from rtsock_emul.scenario.schema import parse_scenario

EXERCISE, SOLUTION, HINTS = "exercise.scenario.yaml", "solution.scenario.yaml", "hints.yaml"
BLANK = "___"
_MARKER = re.compile(r"\((\d+)\)")
_LINE_KEY = re.compile(r"^line\s+(\d+)$")


def pytest_addoption(parser) -> None:
    parser.getgroup("labs", "ipmp-lab teaching labs").addoption(
        "--lab-solutions", action="store_true",
        help="check each lab's solution.scenario.yaml instead of the student's exercise")


def _display(path) -> str:
    """A path as the student typed it: relative to the current directory when inside it."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def lab_of(path: Path, labs: Path) -> Path | None:
    """The lab folder of a file directly inside `labs`/NN-name/, else None."""
    folder = Path(path).resolve().parent
    if folder.parent == labs.resolve() and (folder / EXERCISE).exists():
        return folder
    return None


def collect_file_hook(labs: Path) -> Callable[..., Generator[None, list, list]]:
    """labs/conftest.py's `pytest_collect_file`: the lab folders under `labs` are checked."""
    @pytest.hookimpl(wrapper=True)
    def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> Generator[None, list, list]:
        collected = yield
        if lab_of(file_path, labs) is None or not file_path.name.endswith(".scenario.yaml"):
            return collected
        kept = [c for c in collected if not isinstance(c, ScenarioFile)]
        wanted = SOLUTION if parent.config.getoption("lab_solutions", False) else EXERCISE
        named = parent.session.isinitpath(file_path) and file_path.name in (EXERCISE, SOLUTION)
        if file_path.name == wanted or named:
            kept.append(LabFile.from_parent(parent, path=file_path))
        return kept
    return pytest_collect_file


# --- blanks -------------------------------------------------------------------

@dataclass(frozen=True)
class Blank:
    line: int
    number: int | None      # from the `# (N)` marker on its line
    text: str               # the line, stripped


def split_comment(line: str) -> tuple[str, str]:
    """(code, comment) of one YAML line: a `#` outside quotes that starts the
    line or follows a blank begins the comment."""
    quote = None
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i], line[i:]
    return line, ""


def find_blanks(text: str) -> list[Blank]:
    """Every `___` outside comments, in file order; a line's `(N)` markers
    number its blanks left to right."""
    blanks = []
    for lineno, line in enumerate(text.splitlines(), 1):
        code, comment = split_comment(line)
        numbers = [int(n) for n in _MARKER.findall(comment)]
        for i in range(len(re.findall(r"_{3,}", code))):
            blanks.append(Blank(lineno, numbers[i] if i < len(numbers) else None, line.strip()))
    return blanks


def load_hints(folder: Path) -> dict:
    """hints.yaml: {N: text} by blank number, or {"line N": text} by line."""
    path = folder / HINTS
    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise ScenarioError(str(path), 1, "hints.yaml must be a mapping",
                            "write `1: hint for blank (1)` or `line 12: hint` entries")
    return data


def hint_for(hints: dict, blank: Blank) -> str:
    if blank.number is not None and blank.number in hints:
        return str(hints[blank.number]).strip()
    for key, text in hints.items():
        m = _LINE_KEY.match(str(key))
        if m and int(m.group(1)) == blank.line:
            return str(text).strip()
    return "no hint for this blank: read the lab's README.md"


def blanks_report(folder: Path, path: Path, blanks: list[Blank]) -> str:
    hints = load_hints(folder)
    shown = _display(path)
    out = [f"lab {folder.name}: {len(blanks)} blank(s) `___` left to fill in {shown}"]
    for b in blanks:
        label = f"blank ({b.number})" if b.number is not None else "blank"
        out.append(f"  {shown}:{b.line}: {label}: {hint_for(hints, b)}")
        out.append(f"      {b.text}")
    out.append(f"-> replace each ___ with your answer (README.md says what goes where), "
               f"then run `pytest {_display(folder)}` again")
    return "\n".join(out)


class LabIncomplete(Exception):
    """Blanks remain; the text is the whole report."""


# --- collection -----------------------------------------------------------------

class LabFile(ScenarioFile):
    """One lab's exercise or solution: a blanks check, or the scenario itself."""

    def collect(self) -> Iterator[pytest.Item]:
        folder = self.path.resolve().parent
        kind = "solution" if self.path.name == SOLUTION else "exercise"
        name = f"lab-{folder.name}" + ("-solution" if kind == "solution" else "")
        blanks = find_blanks(self.path.read_text(encoding="utf-8"))
        if blanks:
            yield BlanksItem.from_parent(self, name=name, report=blanks_report(folder, self.path, blanks))
            return
        # the plugin's item (runner, skips, failure report); named per lab so
        # each lab keeps its own reports/<run>/<name>/ folder
        sc = parse_scenario(load_file(self.path), _display(self.path))
        item = ScenarioItem.from_parent(self, name=name, scenario=sc)
        for rule in sc.covers:
            item.add_marker(rule)
        item.extra_keyword_matches.add(sc.name)
        yield item


class BlanksItem(pytest.Item):
    def __init__(self, *, report, **kwargs) -> None:
        super().__init__(**kwargs)
        self.report = report

    def runtest(self) -> None:
        raise LabIncomplete(self.report)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, LabIncomplete):
            return str(excinfo.value)
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"lab {self.path.parent.name}: blanks left"
