"""Agent processes serving shards of hosts (a thread per host): a failing host ends
alone, a dead process reports each of its hosts, every host keeps its own log.
Sim platform: no root needed; the Mininet labs run the same code in namespaces."""
import json
import os
import selectors
import signal
import socket
import sys
import threading
import time

import pytest

import rtsock_emul.lab as lab_api
from rtsock_emul.lab import agents
from rtsock_emul.lab.agents import Zygote
from rtsock_emul.lab.cleanup import Registry
from rtsock_emul.lab.runtime import host_config
from rtsock_emul.lab.topology import load
from rtsock_emul.util.wait import wait_until

from .helpers import pid_alive


def _req(tmp_path, host: str, config: dict) -> dict:
    return {"host": host, "netns_pid": None, "socket": str(tmp_path / f"{host}.sock"),
            "log": str(tmp_path / f"{host}.log"), "platform": "sim", "config": config}


def _configs():
    topo = load("ipmp-pair")
    return {name: host_config(topo, host, {}, sim=True) for name, host in topo.hosts.items()}


def _admin(path: str, argv: list[str]) -> dict:
    with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
        s.settimeout(10)
        s.connect(path + ".admin")
        s.send(json.dumps({"argv": argv, "uid": 0}).encode())
        return json.loads(s.recv(1 << 20))


def _events_until(zyg: Zygote, done, timeout=20.0):
    """Read the zygote's events until done() holds."""
    with selectors.DefaultSelector() as sel:
        sel.register(zyg.proc.stdout, selectors.EVENT_READ)

        def probe():
            if sel.select(0):
                zyg._read_events()
            return done()
        wait_until(probe, timeout, what="zygote events")


@pytest.fixture
def zygote(tmp_path):
    reg = Registry(tmp_path)
    zyg = Zygote(reg, tmp_path)
    yield zyg
    zyg.stop()
    assert reg.teardown(remove_dir=False) == []


def test_a_host_that_fails_ends_alone_and_its_neighbour_keeps_serving(zygote, tmp_path):
    cfg = _configs()
    bad = dict(cfg["h2"], tunables={"no_such_tunable": 1})
    zygote._send({"op": "spawn", "hosts": [_req(tmp_path, "h1", cfg["h1"]), _req(tmp_path, "h2", bad)]})
    zygote.wait_ready(["h1"], logs={"h1": tmp_path / "h1.log"})
    _events_until(zygote, lambda: "h2" in zygote.exited)
    assert zygote.exited == {"h2": 1}
    assert zygote.pids["h1"] == zygote.pids["h2"] and pid_alive(zygote.pids["h1"])
    assert "no_such_tunable" in (tmp_path / "h2.log").read_text()       # the failure is in h2's log
    assert "no_such_tunable" not in (tmp_path / "h1.log").read_text()
    reply = _admin(str(tmp_path / "h1.sock"), ["sim", "show"])
    assert reply["rc"] == 0 and "net0" in reply["out"]


def test_a_killed_agent_process_reports_the_exit_of_each_of_its_hosts(zygote, tmp_path):
    cfg = _configs()
    zygote._send({"op": "spawn", "hosts": [_req(tmp_path, h, cfg[h]) for h in ("h1", "h2")]})
    zygote.wait_ready(["h1", "h2"])
    pid = zygote.pids["h1"]
    assert pid != zygote.proc.pid and zygote.pids["h2"] == pid
    os.kill(pid, signal.SIGKILL)
    _events_until(zygote, lambda: {"h1", "h2"} <= set(zygote.exited))
    assert zygote.exited == {"h1": -signal.SIGKILL, "h2": -signal.SIGKILL}


def test_hosts_share_processes_by_shard_and_keep_their_own_logs(monkeypatch):
    monkeypatch.setattr(agents, "HOSTS_PER_PROCESS", 2)
    lab = lab_api.start("ipmp-triple", mode="sim")
    try:
        pids, tids = lab.agent_pids(), lab.agent_tids()
        assert len(set(pids.values())) == 2                        # 3 hosts, 2 per process
        assert lab.zygote.proc.pid in pids.values()                # the zygote serves the last shard
        assert len(set(tids.values())) == 3
        for host in lab.hosts:
            text = lab.logs()[host].read_text()
            assert f"agent of {host}: pid {pids[host]}, thread {tids[host]}" in text
            assert not any(f"agent of {other}:" in text for other in lab.hosts if other != host)
            assert lab.admin_ok(host, "ipadm show-if") is not None
        shard_pids = set(pids.values())
    finally:
        assert lab.stop() == []
    assert not any(pid_alive(p) for p in shard_pids)


def test_agent_processes_end_when_the_zygote_is_killed_outright(zygote, tmp_path):
    cfg = _configs()
    zygote._send({"op": "spawn", "hosts": [_req(tmp_path, "h1", cfg["h1"])]})
    zygote.wait_ready(["h1"])
    pid = zygote.pids["h1"]
    zygote.proc.kill()                     # SIGKILL: the zygote cannot stop its children itself
    zygote.proc.wait()
    wait_until(lambda: not pid_alive(pid), 10, what=f"agent process {pid} to end after its zygote")
    assert not (tmp_path / "h1.sock").exists()      # it stopped cleanly: serve() removed its socket


class _Stop(Exception):
    pass


def test_a_signal_that_reaches_another_thread_ends_the_ready_wait_at_once(zygote):
    """Python runs signal handlers in the main thread only; the kernel may give a signal to
    any thread. The wait for READY also waits on a wakeup fd, so a signal taken by another
    thread ends it at once, not at the next zygote event or the timeout."""
    main = threading.main_thread()

    def waiting_in_select():     # in the selector's select and asleep: inside the system call
        frame = sys._current_frames().get(main.ident)
        with open(f"/proc/self/task/{main.native_id}/stat") as f:
            asleep = f.read().rsplit(")", 1)[1].split()[0] == "S"
        return frame is not None and frame.f_code.co_name == "select" and asleep

    def signal_this_thread():
        wait_until(waiting_in_select, 10, interval=0.001, what="the main thread in the READY wait")
        signal.pthread_kill(threading.get_ident(), signal.SIGUSR1)

    def raise_stop(signum, frame):
        raise _Stop

    previous = signal.signal(signal.SIGUSR1, raise_stop)
    sender = threading.Thread(target=signal_this_thread)
    try:
        sender.start()
        t0 = time.monotonic()
        with pytest.raises(_Stop):
            zygote.wait_ready(["h1"], timeout=60)     # nothing spawned: no event will come
        assert time.monotonic() - t0 < 30
    finally:
        sender.join()
        signal.signal(signal.SIGUSR1, previous)
