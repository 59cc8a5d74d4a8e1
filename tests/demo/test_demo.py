"""The demo of `sudo ./ipmp-lab demo`: its output shows the failover
and each subscriber's stream as it arrived."""
import io
import re

import pytest

from rtsock_emul.app.demo import run_demo

pytestmark = pytest.mark.root("the demo builds a Mininet lab")


def lanes(text, name):
    return [line[len(f"[{name:6}] "):] for line in text.splitlines() if line.startswith(f"[{name:6}] ")]


def test_demo_shows_failover_and_streams():
    out = io.StringIO()
    assert run_demo(out=out) == 0
    text = out.getvalue()
    aware, normal = "\n".join(lanes(text, "aware")), "\n".join(lanes(text, "normal"))
    # h1 boots with bare datalinks (dladm lists them) and plumbs them as the guide does.
    assert re.search(r"net0\s+phys\s+1500\s+up\s+--\s+--", text), text
    assert "ipadm create-ip net0" in text and "ipadm create-ip net1" in text
    # M19/R93: the aware socket reads net0 losing RUNNING, then FAILED.
    assert re.search(r"RTM_IFINFO.*flags:<UP,BROADCAST,MULTICAST,IPv4,FAILED>", aware), aware
    # M16/R39: the normal socket never hears of a member's failure.
    assert "FAILED" not in normal, normal
    # The data address came up on ipmp0 for everyone (R69) and moved to net1 (R88).
    assert "192.0.2.10" in normal
    assert re.search(r"192\.0\.2\.10\s+up\s+ipmp0\s+net1\s+net1", text), text
    ping = re.search(r"(\d+) sent, (\d+) received, (\d+) lost across the failover", text)
    assert ping and int(ping.group(3)) <= 5, text
    assert "lab stopped" in text
