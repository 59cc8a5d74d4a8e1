"""The agents as module fixtures (tests/agent/agents.py)."""
import pytest

from .agents import SIM_CONFIG, AgentProcess, InprocAgent, wait_addresses_up


@pytest.fixture(scope="module")
def agent():
    a = AgentProcess(SIM_CONFIG)
    try:
        wait_addresses_up(a.path)
        yield a
    finally:
        a.stop()

@pytest.fixture(scope="module")
def inproc():
    a = InprocAgent(SIM_CONFIG)
    try:
        wait_addresses_up(a.path)
        yield a
    finally:
        a.stop()
