"""The `root` marker (pytest.ini, implemented by the root conftest.py): a marked test is
skipped, with the reason it names, before any of its fixtures run, when not root."""
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ROLLED_OWN = "skipif(os.geteuid()"

MARKED = '''
import pytest

@pytest.fixture
def lab():
    raise AssertionError("a fixture of a skipped test ran")

@pytest.mark.root("Mininet labs: network namespaces")
def test_marked(lab):
    pass

@pytest.mark.root
def test_marked_bare():
    pass

def test_unmarked():
    pass
'''


@pytest.fixture
def project_conftest(pytester):
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    pytester.makeini((ROOT / "pytest.ini").read_text())
    pytester.makepyfile(test_marked=MARKED)
    return pytester


def test_as_another_user_marked_tests_skip_saying_why(project_conftest, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    result = project_conftest.runpytest_inprocess("-rs", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=2)
    result.stdout.fnmatch_lines([
        "*test_marked.py:* needs root (Mininet labs: network namespaces): run it as root, e.g. `sudo ./ipmp-lab test`",
        "*test_marked.py:* needs root (network namespaces, veths, bridges): run it as root*",
    ])


def test_as_root_marked_tests_run(project_conftest, monkeypatch):
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    result = project_conftest.runpytest_inprocess("-p", "no:cacheprovider", "-k", "bare or unmarked")
    result.assert_outcomes(passed=2)


def test_no_test_file_rolls_its_own_root_skip():
    """One marker, no copies: a `skipif(os.geteuid() ...)` would drift from it."""
    copies = [str(p.relative_to(ROOT)) for p in (ROOT / "tests").rglob("*.py")
              if p.name != Path(__file__).name and ROLLED_OWN in p.read_text()]
    assert copies == []
