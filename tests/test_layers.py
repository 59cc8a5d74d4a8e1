"""One layer order for the packages of rtsock_emul (docs/internals.md "Layers").

Every import is read from the source with ast, including imports inside functions
(lazy ones) and imports only for type checking. A module may import from its own
level or below; an import from a higher level fails the test, and so does any import
cycle, between units (packages or top-level modules) or between modules. Imports under
`if TYPE_CHECKING:` must respect the order but do not count for cycles: they never run.
"""
from __future__ import annotations

import ast
import functools
import textwrap
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "rtsock_emul"

# Lowest first. A unit is a subpackage or a top-level module of rtsock_emul.
LAYERS: list[tuple[str, ...]] = [
    ("util", "c"),                      # polling, process helpers; the C header and shim builder
    ("wire",),                          # illumos bytes
    ("kernel",),                        # the pure model
    ("rtsock", "mpathd", "platform", "client", "context"),   # on the model; contracts
    ("linux", "sim"),                   # the platforms
    ("admin",),                         # Solaris-style verbs
    ("agent",),                         # one host's emulation process
    ("lab",),                           # hosts, links, agents
    ("scenario",),                      # scenario files as pytest items, the oracle
    ("app", "fuzz"),                    # the programs a person runs
]
LEVEL = {unit: i for i, units in enumerate(LAYERS) for unit in units}


@dataclass(frozen=True)
class Import:
    source: str          # importing module, dotted
    target: str          # imported module, dotted
    where: str           # file:line
    typing_only: bool    # under `if TYPE_CHECKING:`


def modules(root: Path, package: str) -> dict[str, tuple[Path, bool]]:
    """dotted module name -> (file, is a package __init__)."""
    found = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = path.relative_to(root).with_suffix("").parts
        is_pkg = parts[-1] == "__init__"
        found[".".join(parts[:-1] if is_pkg else parts)] = (path, is_pkg)
    return found


@functools.lru_cache(maxsize=None)
def _parse(text: str, filename: str) -> ast.Module:
    """Parsed once per process: the checks here read the same files."""
    return ast.parse(text, filename)


def _typing_only_nodes(tree: ast.AST) -> set[int]:
    """ids of import nodes inside `if TYPE_CHECKING:` (or `typing.TYPE_CHECKING`)."""
    ids: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else test.attr if isinstance(test, ast.Attribute) else ""
            if name == "TYPE_CHECKING":
                for child in node.body:
                    ids.update(id(n) for n in ast.walk(child))
    return ids


def _resolve(name: str, known: dict) -> str | None:
    """The longest known module that `name` is or lies in."""
    while name:
        if name in known:
            return name
        name = name.rpartition(".")[0]
    return None


def imports(root: Path = ROOT, package: str = PACKAGE) -> list[Import]:
    """Every import of a package module by another, wherever it is written."""
    known = modules(root, package)
    found = []
    for mod, (path, is_pkg) in known.items():
        tree = _parse(path.read_text(), str(path))
        typing_only = _typing_only_nodes(tree)
        here = mod if is_pkg else mod.rpartition(".")[0]
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = here.split(".")
                    parts = parts[:len(parts) - (node.level - 1)]
                    base = ".".join(parts + ([node.module] if node.module else []))
                # `from pkg import mod` imports the module pkg.mod
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
            elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                    and isinstance(node.args[0].value, str):
                func = node.func
                fname = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                if fname in ("import_module", "__import__"):
                    targets = [node.args[0].value]
            for target in targets:
                resolved = _resolve(target, known) if target.startswith(package) else None
                if resolved and resolved != mod:
                    line = node.lineno if isinstance(node, (ast.stmt, ast.expr)) else 0
                    found.append(Import(mod, resolved, f"{path.relative_to(root)}:{line}",
                                        id(node) in typing_only))
    return found


def unit_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def upward(found: list[Import], level: dict[str, int] = LEVEL) -> list[str]:
    """Imports from a higher level, and units no level names."""
    out: list[str] = []
    unplaced: dict[str, str] = {}
    for imp in found:
        src, dst = unit_of(imp.source), unit_of(imp.target)
        if dst == "" or src == dst:
            continue                          # the bare package, or within one unit
        for unit in (src, dst):
            if unit and unit not in level:
                unplaced.setdefault(unit, imp.where)
        if src in level and dst in level and level[dst] > level[src]:
            out.append(f"{imp.where}: {src} (level {level[src]}) imports {imp.target} "
                       f"(level {level[dst]}, above it)")
    out += [f"{where}: {unit} is in no layer: add it to LAYERS (tests/test_layers.py) "
            "and to docs/internals.md 'Layers'" for unit, where in unplaced.items()]
    return sorted(out)


def _cycles(edges: dict[str, dict[str, str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out = []
    nodes = set(edges) | {t for ts in edges.values() for t in ts}
    for start in sorted(nodes):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, {}))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, it = work[-1]
            nxt = next(it, None)
            if nxt is not None:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(edges.get(nxt, {})))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    top = stack.pop()
                    on_stack.discard(top)
                    comp.append(top)
                    if top == node:
                        break
                if len(comp) > 1:
                    out.append(sorted(comp))
    return out


def cycles(found: list[Import]) -> list[str]:
    """Import cycles between units and between modules, each with the imports that make it."""
    out = []
    for key in (unit_of, lambda m: m):
        edges: dict[str, dict[str, str]] = {}
        for imp in found:
            a, b = key(imp.source), key(imp.target)
            if not imp.typing_only and a != b and a and b:
                edges.setdefault(a, {}).setdefault(b, imp.where)
        for comp in _cycles(edges):
            out.append("cycle " + " / ".join(comp) + ": " + _one_loop(comp, edges))
    return out


def _one_loop(comp: list[str], edges: dict[str, dict[str, str]]) -> str:
    """A shortest loop through comp[0], as `a -> b (file:line)` links."""
    start, members = comp[0], set(comp)
    came: dict[str, str] = {}
    frontier = [start]
    while frontier:
        nxt = []
        for node in frontier:
            for b in sorted(edges.get(node, {})):
                if b in members and b not in came:
                    came[b] = node
                    nxt.append(b)
        if start in came:
            break
        frontier = nxt
    path, node = [start], came[start]
    while node != start:
        path.append(node)
        node = came[node]
    path.append(start)
    path.reverse()
    return "; ".join(f"{a} -> {b} ({edges[a][b]})" for a, b in zip(path, path[1:]))


def test_every_unit_has_a_layer():
    units = {unit_of(m) for m in modules(ROOT, PACKAGE)} - {""}
    assert units <= set(LEVEL), f"units in no layer: {sorted(units - set(LEVEL))}"


def test_no_import_goes_up_the_layers():
    bad = upward(imports())
    assert not bad, "imports against the layer order:\n" + "\n".join(bad)


def test_no_import_cycles():
    bad = cycles(imports())
    assert not bad, "import cycles:\n" + "\n".join(bad)


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / PACKAGE / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return tmp_path


def test_the_checker_sees_lazy_upward_imports_and_cycles(tmp_path):
    """The checks themselves can fail: a lazy upward import, a relative-import cycle
    inside a package, a cycle through `import_module`, a type-only import."""
    root = _tree(tmp_path, {
        "__init__.py": "",
        "wire/__init__.py": "",
        "wire/a.py": "def f():\n    from rtsock_emul.lab import x\n",          # lazy, upward
        "lab/__init__.py": "",
        "lab/x.py": "from . import y\n",
        "lab/y.py": "def g():\n    from .x import h\n",                         # lab.x <-> lab.y
        "kernel/__init__.py": "import importlib\nimportlib.import_module('rtsock_emul.wire.a')\n",
        "kernel/t.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from rtsock_emul.admin import v\n",
        "admin/__init__.py": "",
        "admin/v.py": "",
    })
    found = imports(root)
    bad = upward(found)
    assert any(b.startswith("rtsock_emul/wire/a.py:2: wire (level 1) imports rtsock_emul.lab") for b in bad), bad
    assert any("kernel/t.py:3: kernel (level 2) imports rtsock_emul.admin.v" in b for b in bad), bad
    assert not any("kernel/__init__.py" in b for b in bad)           # kernel -> wire is downward
    found_cycles = cycles(found)
    assert any("rtsock_emul.lab.x / rtsock_emul.lab.y" in c for c in found_cycles), found_cycles
    assert not any("admin" in c for c in found_cycles)            # type-only: no cycle
    # the wire -> lab -> ... chain is not a cycle; add lab -> wire to make one between units
    (root / PACKAGE / "lab" / "z.py").write_text("from rtsock_emul.wire import a\n")
    assert any(c.startswith("cycle lab / wire") for c in cycles(imports(root))), cycles(imports(root))


def test_internals_doc_names_the_same_layers():
    """docs/internals.md "Layers" is the table LAYERS holds, row by row."""
    text = (ROOT / "docs" / "internals.md").read_text()
    section = text.split("\n## Layers\n", 1)[1].split("\n## ", 1)[0]
    rows = [line.split("|") for line in section.splitlines() if line.startswith("| ") and line[2].isdigit()]
    documented = [tuple(name.strip().strip("`").rstrip("/").removesuffix(".py") for name in row[2].split(","))
                  for row in rows]
    assert documented == LAYERS


def import_time_closure(start: str, root: Path = ROOT, package: str = PACKAGE) -> dict[str, str]:
    """Every module importing `start` imports, project or not: {name: the first file:line
    that imports it}. Only imports that run at import time count (not those in functions
    or under `if TYPE_CHECKING:`); a package's parents count too, as Python runs them."""
    known = modules(root, package)
    seen: dict[str, str] = {}
    todo = [start]
    while todo:
        mod = todo.pop()
        path, is_pkg = known[mod]
        tree = _parse(path.read_text(), str(path))
        typing_only = _typing_only_nodes(tree)
        here = mod if is_pkg else mod.rpartition(".")[0]
        for node in _run_at_import(tree):
            if id(node) in typing_only or not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                base = node.module or ""
                if node.level:
                    parts = here.split(".")
                    base = ".".join(parts[:len(parts) - (node.level - 1)] + ([node.module] if node.module else []))
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
            for target in targets:
                parts = target.split(".")
                for name in (".".join(parts[:i]) for i in range(1, len(parts) + 1)):
                    name = _resolve(name, known) or name if name.startswith(package) else name
                    if name not in seen:
                        seen[name] = f"{path.relative_to(root)}:{node.lineno}"
                        if name in known:
                            todo.append(name)
    return seen


def _run_at_import(node: ast.AST):
    """The nodes under `node` outside function bodies (class bodies run at import)."""
    for child in ast.iter_child_nodes(node):
        if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            yield child
            yield from _run_at_import(child)


def test_the_lab_cli_and_labs_do_not_import_pytest():
    """A program that starts labs (the lab CLI, a script calling lab.start, the soak run)
    pays ~0.15 s of CPU per process for importing pytest: only the pytest plugins may."""
    for start in ("rtsock_emul.app.cli", "rtsock_emul.app.soak", "rtsock_emul.lab"):
        seen = import_time_closure(start)
        assert "pytest" not in seen and "_pytest" not in seen, \
            f"{start} imports pytest at import time, through {seen.get('pytest') or seen.get('_pytest')}"
