"""Unmodified illumos programs in lab hosts (docs/preload.md): the examples are built
in the host with `cc -I$RTSOCK_INCLUDE` and run with the preload shim; a carrier cut
of an IPMP member reaches the IPMP-aware watchers (C and Python) as an RTM_IFINFO
with IFF_FAILED (R63, R93, M19); the route tool gets EEXIST/ESRCH through errno
(R20, R23, M13). On Mininet, and in sim mode where the lab runs them the same way."""
import re
import sys
from pathlib import Path

import pytest

import rtsock_emul.lab as lab_api

from .helpers import FAST_MPATHD, settle
from .test_failover import DATA

pytestmark = pytest.mark.timeout(120)
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
FAILED = r"^RTM_IFINFO net0 index \d+ flags UP,BROADCAST,MULTICAST,IPV4,FAILED$"


def sh(lab, host, command: str, timeout=60) -> list[str]:
    """A shell line in the host with its environment (RTSOCK_INCLUDE, ...); its output."""
    prog = lab.spawn(host, ["sh", "-c", command], preload=False)
    rc = prog.popen.wait(timeout)
    prog.stop()                  # collects the rest of its output
    out = prog.output()
    assert rc == 0, f"{command}: exit {rc}: {out}"
    return out


@pytest.fixture(params=[pytest.param("mininet", marks=pytest.mark.root("Mininet labs: network namespaces, veths")), "sim"])
def lab(request):
    lab = lab_api.start("ipmp-pair", mode=request.param, config={"mpathd": FAST_MPATHD})
    yield lab
    lab.stop()


def test_R63_R93_M19_watchers_read_iff_failed_after_a_carrier_cut(lab, tmp_path):
    exe = tmp_path / "ipmp_watch"
    sh(lab, "h1", f"cc -Wall -Werror -I\"$RTSOCK_INCLUDE\" -o {exe} {EXAMPLES / 'ipmp_watch.c'}")
    lab.admin_ok("h1", "ipadm create-ip net0")
    lab.admin_ok("h1", "ipadm create-ip net1")
    lab.admin_ok("h1", "ipadm create-ipmp -i net0,net1 ipmp0")
    lab.admin_ok("h1", f"ipadm create-addr -T static -a {DATA}/24 ipmp0/v4")
    settle(lab, "h1")
    watchers = [lab.spawn("h1", [str(exe)]),
                lab.spawn("h1", [sys.executable, str(EXAMPLES / "ipmp_watch.py")])]
    for w in watchers:
        w.wait_line("^watching$", 10)
    lab.link("h1", "net0", False)
    for w in watchers:
        w.wait_line(FAILED, 10)
    lab.link("h1", "net0", True)
    for w in watchers:           # the repair: FAILED cleared on the same interface, v4 then v6 (R93)
        v4 = w.wait_line(r"^RTM_IFINFO net0 index \d+ flags UP,BROADCAST,RUNNING,MULTICAST,IPV4$", 10,
                         start=w.wait_line(FAILED, 1) + 1)
        w.wait_line(r"^RTM_IFINFO net0 index \d+ flags UP,RUNNING,MULTICAST,IPV6$", 10, start=v4)
    c_lines, py_lines = (w.output() for w in watchers)
    assert all(re.match(r"^(watching|RTM_IFINFO \S+ index \d+ flags \S+)$", line) for line in c_lines), c_lines
    assert c_lines == py_lines   # C and Python see the same messages


def test_R20_R23_M13_route_tool_in_a_host_shell(lab, tmp_path):
    """`cc -I$RTSOCK_INCLUDE` and `LD_PRELOAD=$RTSOCK_PRELOAD` typed in the host's
    own shell (Mininet: the shell behind `h1 ...` in the CLI)."""
    def shell(command):
        if lab.net is None:
            return sh(lab, "h1", command)
        out = lab.net["h1"].cmd(f"{command}; echo status=$?").splitlines()
        assert out[-1] == "status=0", out
        return out[:-1]

    exe = tmp_path / "route_tool"
    assert shell(f"cc -I$RTSOCK_INCLUDE -o {exe} {EXAMPLES / 'route_tool.c'}") == []
    lab.admin_ok("h1", "ipadm create-ip net0")
    lab.admin_ok("h1", "ipadm create-ip net1")
    lab.admin_ok("h1", "ipadm create-ipmp -i net0,net1 ipmp0")
    lab.admin_ok("h1", f"ipadm create-addr -T static -a {DATA}/24 ipmp0/v4")
    settle(lab, "h1")
    out = shell(f"for i in 1 2; do LD_PRELOAD=$RTSOCK_PRELOAD {exe} add 198.51.100.0/24 192.0.2.1 "
                        f"|| echo rc=$?; done; LD_PRELOAD=$RTSOCK_PRELOAD {exe} get 198.51.100.1; "
                        f"LD_PRELOAD=$RTSOCK_PRELOAD {exe} delete 198.51.100.0/24 192.0.2.1; "
                        f"LD_PRELOAD=$RTSOCK_PRELOAD {exe} delete 198.51.100.0/24 192.0.2.1 || echo rc=$?")
    assert out == ["add 198.51.100.0/24: done",
                   "add 198.51.100.0/24: EEXIST (route already exists)", "rc=3",
                   "gateway 192.0.2.1 interface ipmp0",
                   "delete 198.51.100.0/24: done",
                   "delete 198.51.100.0/24: ESRCH (no such route)", "rc=4"]
