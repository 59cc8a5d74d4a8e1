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
