"""The session-end check of the root conftest.py: after the whole test session no
interface, bridge, namespace or process of the session's labs is left."""
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.root("the leftover check runs only as root")

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


PARALLEL = [pytest.param((), id="serial"), pytest.param(("-n", "2"), id="xdist")]


def run(pytester, body, args=()):
    pytester.makeconftest((ROOT / "conftest.py").read_text())
    pytester.makepyfile(body + body.replace("def test_", "def test_also_"))   # one per worker
    return pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", *args)


@pytest.mark.parametrize("args", PARALLEL)
def test_a_leaked_lab_fails_the_session(pytester, args):
    """Under xdist the leak happens in a worker; its findings reach the controller."""
    result = run(pytester, LEAKY, args)
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    result.stdout.fnmatch_lines(["*lab leftovers after the session*", "*process *rtsock_emul*"])
    assert "2 passed" in result.stdout.str()


@pytest.mark.parametrize("args", PARALLEL)
def test_a_tidy_session_passes(pytester, args):
    result = run(pytester, TIDY, args)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
