"""The `lab` fixture: an in-process agent context (tests/admin/helpers.py)."""
import pytest

from .helpers import Lab


@pytest.fixture
def lab():
    return Lab()
