"""Fixtures of the kernel tests (tests/kernel/helpers.py holds the helpers)."""
import pytest

from rtsock_emul.kernel import Kernel, ManualClock, Tunables

from .helpers import Recorder


@pytest.fixture
def clock():
    return ManualClock()

@pytest.fixture
def hooks():
    return Recorder()

@pytest.fixture
def kernel(clock, hooks):
    return Kernel(clock, hooks, Tunables.fast())
