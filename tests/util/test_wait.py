"""The one polling helper: returns the first truthy value, and on
timeout says what it waited for and what it last saw."""
import pytest

from rtsock_emul.util.wait import WaitTimeout, wait_until


class FakeClock:
    def __init__(self):
        self.t = 0.0

    def __call__(self):
        self.t += 0.05
        return self.t


def test_returns_first_truthy_value():
    seen = iter([0, None, "", "done", "later"])
    assert wait_until(lambda: next(seen), 5, interval=0) == "done"


def test_timeout_names_the_wait_and_the_last_value():
    with pytest.raises(WaitTimeout) as info:
        wait_until(lambda: [], 0.2, interval=0, what="net0 failed", clock=FakeClock())
    assert "net0 failed" in str(info.value)
    assert "last saw []" in str(info.value)


def test_timeout_reports_the_last_exception():
    def probe():
        raise KeyError("net9")

    with pytest.raises(WaitTimeout, match="KeyError"):
        wait_until(probe, 0.2, interval=0, clock=FakeClock())
