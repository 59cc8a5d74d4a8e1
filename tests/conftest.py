"""Sessions started by the tests (pytester) load no hypothesis plugin: none of them
uses hypothesis, and pytest rewrites the asserts of every module of a plugin's
distribution as it imports it, about 1 s of CPU per session where bytecode is not
written (PYTHONDONTWRITEBYTECODE)."""
import pytest


@pytest.fixture
def pytester(pytester, monkeypatch):
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p no:hypothesispytest")
    return pytester
