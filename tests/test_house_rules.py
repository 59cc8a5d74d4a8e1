"""House rules the code itself can show (docs/internals.md "Conventions")."""
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
NOT_OURS = {".venv", ".git", "reports", "build", "__pycache__", ".pytest_cache", ".hypothesis"}


def tracked_python_files():
    """The project's own Python files (a checkout need not have git: CI copies, fresh roots)."""
    return [p for p in ROOT.rglob("*.py") if not NOT_OURS & set(p.relative_to(ROOT).parts)]


# Built from pieces so that this file itself does not hold the words it looks for.
BY_NAME = ["mn" + " -c", r"mininet\." + "clean", r"\bkill" + r"all\b", r"\bp" + r"kill\b"]


def test_no_cleanup_by_process_name():
    """Only what a run created is removed, by name and pid: never a cleanup by process name."""
    pattern = re.compile("|".join(BY_NAME))
    offenders = [f"{p.relative_to(ROOT)}:{n}" for p in tracked_python_files()
                 for n, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert not offenders, f"cleanup by name found: {offenders}"


def test_no_sleep_to_synchronise_in_tests_or_runner():
    """Poll with rtsock_emul.util.wait.wait_until; never sleep to synchronise."""
    pattern = re.compile(r"\b(time|asyncio)\.sleep\(")
    places = [p for p in tracked_python_files()
              if p.relative_to(ROOT).parts[0] == "tests" or "scenario" in p.relative_to(ROOT).parts]
    offenders = [f"{p.relative_to(ROOT)}:{n}" for p in places if p.name != "test_house_rules.py"
                 for n, line in enumerate(p.read_text().splitlines(), 1) if pattern.search(line)]
    assert not offenders, f"sleep used to synchronise: {offenders}"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "sudo ./ipmp-lab test" in readme
    assert "./ipmp-lab test" in ci


# Documents that are not in the repository, and words only its builders would know.
# Built from pieces so that this file itself does not hold them.
OUTSIDE = [r"\.\./" + "shared", "/work/" + "shared", "DESIGN" + r"\.md", "STYLE" + r"\.md",
           "spec/" + "illumos", r"\bspec(ification)?\s+" + "§", "§" + r"\s*\d", r"\bspec(ification)?\s+section\b"]
BUILDER_WORDS = [r"\bissue\s*#?" + r"\d+", r"\blab " + r"owner\b"]
TEXT_SUFFIXES = {".py", ".md", ".yaml", ".yml", ".c", ".h", ".txt", ".html", ".toml", ".ini", ".cfg", ".sh", ""}


def project_text_files():
    return [p for p in ROOT.rglob("*") if p.is_file() and p.suffix in TEXT_SUFFIXES
            and not NOT_OURS & set(p.relative_to(ROOT).parts) and p.name != ".gitignore"]


def offenders(patterns, files):
    pattern = re.compile("|".join(patterns), re.IGNORECASE)
    return [f"{p.relative_to(ROOT) if p.is_relative_to(ROOT) else p}:{n}: {m.group(0)}" for p in files
            for n, line in enumerate(p.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
            for m in [pattern.search(line)] if m]


def test_no_reference_to_documents_outside_the_repository():
    """Rules are cited by id (docs/rules.md) or by illumos file and function; design notes
    live in docs/. A clone must read on its own."""
    found = offenders(OUTSIDE, project_text_files())
    assert not found, f"references to documents outside the repository: {found}"


def test_no_words_only_the_builders_know():
    found = offenders(BUILDER_WORDS, project_text_files())
    assert not found, f"words that need the project's history to understand: {found}"


def test_the_reference_patterns_catch_what_they_are_for(tmp_path):
    bad = tmp_path / "bad.md"
    bad.write_text("see " + "../" + "shared/spec/x.md\n(spec " + "§" + "4.4)\nthe " + "§" + "2.8 table\n"
                   + "DESIGN" + ".md\nissue" + " 3 tests\nfine: R45, docs/rules.md#r45\n")
    assert len(offenders(OUTSIDE, [bad])) == 4 and len(offenders(BUILDER_WORDS, [bad])) == 1
