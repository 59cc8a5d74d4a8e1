"""The session-end check of the root conftest.py: after the whole test session no
interface, bridge, namespace or process of the session's labs is left."""
import os
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the leftover check runs only as root")

LEAKY = """
from rtsock_emul import lab

def test_forgets_to_stop():
    lab.start("ipmp-pair", mode="sim")   # never stopped: its zygote and agents live on
"""

TIDY = """
from rtsock_emul import lab

def test_stops():
    with lab.start("ipmp-pair", mode="sim"):
        pass
"""


def run(pytester, body):
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    pytester.makepyfile(body)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")


def test_a_leaked_lab_fails_the_session(pytester):
    result = run(pytester, LEAKY)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*lab leftovers after the session*", "*process *rtsock_emul*"])


def test_a_tidy_session_passes(pytester):
    result = run(pytester, TIDY)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
