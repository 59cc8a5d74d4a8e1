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


@pytest.fixture
def strict_agent():
    """Only uid 0 is privileged (the shared agent also trusts an unprivileged runner)."""
    a = AgentProcess(dict(SIM_CONFIG, privileged_uids=[0]))
    try:
        wait_addresses_up(a.path)
        yield a
    finally:
        a.stop()
