"""The in-process agent context as a fixture (tests/admin/helpers.py)."""
import pytest

from .helpers import Lab


@pytest.fixture
def lab():
    return Lab()
