"""Read a *.scenario.yaml file keeping the line of every key and list item.

yaml.compose gives nodes with marks; we build plain dicts/lists that remember
where each value came from, so schema errors can name file:line.
"""
from __future__ import annotations

import os
from typing import Any

import yaml

from rtsock_emul.util.textfile import MAX_FILE_BYTES, read_text, yaml_compose  # noqa: F401 (MAX_FILE_BYTES: tests)

from .errors import ScenarioError

MAX_VALUES = 10_000             # values after aliases are expanded (`&a [*b, *b, ...]` bombs)


class LMap(dict):
    """A mapping that knows its own line and the line of each key."""
    line = end_line = 0
    key_lines: dict


class LList(list):
    """A list that knows its own line and the line of each item."""
    line = end_line = 0
    item_lines: list


_SCALARS = yaml.SafeLoader("")  # only its scalar constructors are used


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _end_line(node: yaml.Node) -> int:
    """Last line holding text of node (a block's end mark is where the next token starts)."""
    if isinstance(node, (yaml.MappingNode, yaml.SequenceNode)) and not node.flow_style and node.value:
        last = node.value[-1]
        return _end_line(last[1] if isinstance(last, tuple) else last)
    end = node.end_mark
    return end.line if end.column == 0 and end.line > node.start_mark.line else end.line + 1


class _TooMany(Exception):
    """The alias budget ran out; `line` becomes the outermost key being built."""
    line = 0


class _Budget:
    """Counts the values built; aliases make one node count each time it is used."""

    def __init__(self) -> None:
        self.left = MAX_VALUES

    def take(self, node: yaml.Node) -> None:
        self.left -= 1
        if self.left < 0:
            raise _TooMany()


def _build(node: yaml.Node, path: str, budget: _Budget) -> Any:
    budget.take(node)
    if isinstance(node, yaml.MappingNode):
        out = LMap()
        out.line, out.end_line, out.key_lines = _line(node), _end_line(node), {}
        for knode, vnode in node.value:
            key = _build(knode, path, budget)
            if isinstance(key, (LMap, LList)):
                raise ScenarioError(path, _line(knode), "a mapping key must be a plain value",
                                    "write the key as text, e.g. `h1:` or `expect:`")
            if key in out:
                raise ScenarioError(path, _line(knode), f"duplicate key {key!r}",
                                    f"it was already given at line {out.key_lines[key]}; keep one")
            try:
                out[key] = _build(vnode, path, budget)
            except _TooMany as exc:
                exc.line = _line(knode)
                raise
            out.key_lines[key] = _line(knode)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = LList(_build(n, path, budget) for n in node.value)
        items.line, items.end_line = _line(node), _end_line(node)
        items.item_lines = [_line(n) for n in node.value]
        return items
    if node.tag == "tag:yaml.org,2002:str":
        return node.value
    return _SCALARS.construct_object(node, deep=True)


def yaml_error_place(exc: Any) -> tuple[int, str]:
    """(line, text) of a PyYAML error: where it was noticed, and where the construct it was
    reading began (an unclosed bracket is noticed lines later)."""
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else 0
    text = f"YAML syntax error: {exc.problem or exc}"
    if exc.context and exc.context_mark and exc.problem_mark and \
            exc.context_mark.line != exc.problem_mark.line:
        text += f" ({exc.context.removeprefix('while ')} that starts at line {exc.context_mark.line + 1})"
    return line, text


def line_of(container: Any, key: Any, default: int = 0) -> int:
    """Line of container[key] (a key of an LMap or an index of an LList)."""
    if isinstance(container, LMap):
        return container.key_lines.get(key, container.line)
    if isinstance(container, LList) and isinstance(key, int) and key < len(container.item_lines):
        return container.item_lines[key]
    return getattr(container, "line", default)


def load_text(text: str, path="<string>"):
    """Parse YAML text into LMap/LList/scalars; YAML syntax errors become ScenarioError."""
    try:
        node = yaml_compose(text)
    except yaml.MarkedYAMLError as exc:
        raise ScenarioError(path, *yaml_error_place(exc),
                            "check indentation and quoting; `:` inside a value needs quotes") from None
    except yaml.YAMLError as exc:
        raise ScenarioError(path, 0, f"YAML error: {exc}", "fix the YAML syntax") from None
    if node is None:
        raise ScenarioError(path, 1, "the file is empty",
                            "a scenario needs at least name, topology and steps")
    try:
        return _build(node, path, _Budget())
    except _TooMany as exc:
        raise ScenarioError(path, exc.line or _line(node), f"more than {MAX_VALUES} values once aliases "
                            "are expanded", "a scenario is small: write the values out, without nested aliases") from None


def load_file(path: str | os.PathLike) -> Any:
    """Parse one scenario file (not yet validated; see schema.parse_scenario)."""
    text = read_text(path, "scenario", lambda line, what, hint: ScenarioError(path, line, what, hint))
    return load_text(text, path)
