"""The lab: one interface over Mininet and sim (docs/internals.md "Lab")."""
from __future__ import annotations

import atexit
import json
import os
import shlex
import signal
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn

from rtsock_emul import client

from . import faults, forkserver, naming, programs, stopsignals
from .agents import READY_TIMEOUT, Zygote
from .cleanup import Registry
from .errors import LabError
from .topology import SWITCH_KEYS, Host, Topology, load

RUN_DIR_BASE = Path(os.environ.get("RTSOCK_LAB_DIR", "/tmp"))
ADMIN_TIMEOUT = 30.0
MODES = ("mininet", "sim")
VENV_BIN = Path(sys.executable).parent
_live: set = set()
STARTED_RUN_IDS: list[str] = []   # every run this process started (the session leftover check reads it)
_hooks_installed = False




class Interrupted(KeyboardInterrupt):
    """SIGTERM or SIGHUP, raised where the main thread is: it unwinds like Ctrl-C, so every
    `finally` stops its lab, and pytest ends the whole session instead of failing one test."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(f"{signal.Signals(signum).name}: stopping after tearing down every lab")


def _stop_all() -> None:
    for lab in list(_live):
        lab.stop()


def _on_sigterm(signum: int, frame: FrameType | None) -> NoReturn:
    """Outside pytest: exit 128+signum after the finally blocks and atexit stop the labs."""
    raise SystemExit(128 + signum)


def raise_interrupted(signum: int, frame: FrameType | None) -> NoReturn:
    """The pytest session's handler (the scenario plugin installs it)."""
    raise Interrupted(signum)


def _install_hooks() -> None:
    """atexit, SIGTERM and SIGHUP (a closed terminal; SIGINT already raises KeyboardInterrupt)
    end every live lab; a handler someone else installed is kept."""
    global _hooks_installed
    if _hooks_installed:
        return
    _hooks_installed = True
    atexit.register(_stop_all)
    if threading.current_thread() is threading.main_thread():
        for signum in (signal.SIGTERM, signal.SIGHUP):
            if signal.getsignal(signum) in (signal.SIG_DFL, None):
                signal.signal(signum, _on_sigterm)


def _make_run_dir(run_id: str | None) -> tuple[str, Path]:
    """Claim a run id: the exclusive mkdir is the lock; a prefix already used by
    links in the root namespace (another run) is skipped."""
    from .cleanup import _root_links
    links = _root_links()
    for _ in range(64):
        rid = naming.check_run_id(run_id) if run_id else naming.new_run_id()
        run_dir = RUN_DIR_BASE / f"ipmp-lab-{rid}"
        in_use = any(name.startswith(naming.prefix(rid)) for name in links)
        if not in_use:
            try:
                run_dir.mkdir(mode=0o755)
                return rid, run_dir
            except FileExistsError:
                pass
        if run_id:
            raise LabError(f"run id {rid} is in use ({run_dir} or links {naming.prefix(rid)}*); "
                           f"pick another, or `python -m rtsock_emul.lab.cleanup {run_dir}` if it crashed")
    raise LabError("no free run id after 64 tries; clean old runs with python -m rtsock_emul.lab.cleanup DIR")


def _check_config(config) -> dict:
    """The lab config's shape, checked before a run directory exists."""
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise LabError(f"config must be a mapping of agent settings, not {type(config).__name__}")
    for key in ("mpathd", "switches"):
        value = config.get(key, {})
        if not isinstance(value, dict) and not (key == "mpathd" and value is False):
            raise LabError(f"config {key}: {value!r} must be a mapping"
                           + (" or false (no in.mpathd)" if key == "mpathd" else ""))
    return dict(config)


def host_config(topology: Topology, host: Host, config: dict, sim: bool = False) -> dict:
    """The agent config of one host: lab config + the host's mpathd/options + its
    interfaces (in sim mode with `targets`: the other hosts' addresses on that switch)."""
    cfg = json.loads(json.dumps(config or {}))
    if cfg.get("mpathd", {}) is not False:    # `mpathd: false` runs no in.mpathd at all
        cfg["mpathd"] = {**cfg.get("mpathd", {}), **host.mpathd}
    for key, value in host.options.items():
        if key in SWITCH_KEYS:
            cfg.setdefault("switches", {})[key] = value
        elif key != "forwarding":          # forwarding is a sysctl the lab sets
            cfg[key] = value
    cfg["host"] = host.name
    cfg["interfaces"] = [i.to_config() for i in host.interfaces.values()]
    if sim:
        for entry, intf in zip(cfg["interfaces"], host.interfaces.values()):
            entry["targets"] = [str(a.ip) for h, other in topology.links()
                                if h != host.name and other.switch == intf.switch for a in other.addresses]
            entry["conflicts"] = list(entry["targets"])   # those hosts defend them in DAD (R104)
    cfg["routes"] = [{"dst": r.dst, "gateway": r.gateway} for r in host.routes]
    return cfg


class Lab:
    def __init__(self, topology, mode: str, config: dict | None, run_id: str | None) -> None:
        if mode not in MODES:
            raise LabError(f"mode {mode!r}: use one of {', '.join(MODES)}")
        self.topology = load(topology)
        self.mode, self.config = mode, _check_config(config)
        # every agent config is built before anything exists, so a bad config leaves nothing
        self.host_configs = {name: host_config(self.topology, host, self.config, sim=mode == "sim")
                             for name, host in self.topology.hosts.items()}
        self.run_id, self.run_dir = _make_run_dir(run_id)
        STARTED_RUN_IDS.append(self.run_id)
        self.registry = Registry(self.run_dir)
        self.registry.add("dir", path=str(self.run_dir))
        self.hosts = list(self.topology.hosts)
        self.net: Any = None          # the Mininet network (mininet mode)
        self.zygote: Zygote | None = None
        self.keep_logs = bool(os.environ.get("RTSOCK_LAB_KEEP"))
        self._impair: dict[str, faults.Impairments] = {}
        self._programs: list[programs.Program] = []
        self.start_times: dict[str, float] = {}   # seconds: network (Mininet), agents (to READY)
        self._stopped = False
        self._stop_lock = threading.Lock()

    # --- lifecycle ----------------------------------------------------------
    def _start(self, ready_timeout: float) -> "Lab":
        _install_hooks()
        _live.add(self)
        try:
            programs.ensure_shim()
            # the process's first lab: the fork server imports the agent stack while Mininet builds
            t0 = time.perf_counter()
            forkserver.start_soon()
            if self.mode == "mininet":
                from . import mnet
                self.net = mnet.build(self.topology, self.run_id, self.registry, self.run_dir)
            t1 = time.perf_counter()
            self.zygote = Zygote(self.registry, self.run_dir)
            self.zygote.spawn([{"host": name, "netns_pid": self.net[name].pid if self.net else None,
                                "socket": self.agent_path(name), "log": str(self.logs()[name]),
                                "platform": "linux" if self.net else "sim",
                                "config": self.host_configs[name]} for name in self.hosts])
            self.zygote.wait_ready(self.hosts, ready_timeout, logs=self.logs())
            self.start_times = {"network": t1 - t0, "agents": time.perf_counter() - t1}
            if self.net:
                for name in self.hosts:
                    exports = "; ".join(f"export {k}={shlex.quote(v)}" for k, v in self.host_env(name).items())
                    self.net[name].cmd(f"{exports}; export PATH={shlex.quote(str(VENV_BIN))}:$PATH")
        except Exception:
            self.keep_logs = True      # the error names these logs
            self.stop()
            raise
        except BaseException:          # Ctrl-C, SIGTERM, SIGHUP: nothing to diagnose, remove all
            self.stop()
            if getattr(self, "run_dir_kept", False):
                print(f"ipmp-lab: interrupted while starting; run directory {self.run_dir} remains: "
                      f"python -m rtsock_emul.lab.cleanup {self.run_dir}", file=sys.stderr)
            raise
        return self

    def stop(self) -> list[str]:
        """Remove exactly what this run made; idempotent; returns leftovers (none)."""
        with self._stop_lock:
            if self._stopped:
                return []
            self._stopped = True
            with stopsignals.held():
                try:
                    return self._teardown()
                finally:
                    _live.discard(self)

    def _teardown(self) -> list[str]:
        for prog in self._programs:      # before their hosts and agents go
            prog.stop()
        if self.zygote:
            self.zygote.stop()
        if self.net is not None:
            try:
                self.net.stop()
            except Exception as exc:   # the registry below still removes what is left
                print(f"ipmp-lab: mininet stop: {exc!r}; removing by registry", file=sys.stderr)
        keep = tuple(p.name for p in self.logs().values()) + ("zygote.log",) if self.keep_logs else ()
        self.run_dir_kept = bool(keep)
        problems = self.registry.teardown(keep=keep)
        if problems:
            print(f"ipmp-lab: run {self.run_id} left: {'; '.join(problems)}; "
                  f"retry with python -m rtsock_emul.lab.cleanup {self.run_dir}", file=sys.stderr)
        return problems

    def __enter__(self) -> Lab:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    # --- queries ------------------------------------------------------------
    def _host(self, host: str) -> str:
        if host not in self.topology.hosts:
            raise LabError(f"no host {host} in topology {self.topology.name} (hosts are: {', '.join(self.hosts)})")
        return host

    def _intf(self, host: str, ifname: str):
        intfs = self.topology.hosts[self._host(host)].interfaces
        if ifname not in intfs:
            raise LabError(f"host {host} has no interface {ifname} (it has: {', '.join(intfs)})")
        return intfs[ifname]

    def agent_path(self, host: str) -> str:
        return str(self.run_dir / f"{self._host(host)}.sock")

    def logs(self) -> dict:
        return {h: self.run_dir / f"{h}.log" for h in self.hosts}

    def capture_paths(self) -> list[str]:
        return sorted(str(p) for p in self.run_dir.glob("*.pcap"))

    def agent_pids(self) -> dict:
        """host -> pid of the process serving its agent (a process serves a shard of hosts)."""
        return dict(self.zygote.pids) if self.zygote else {}

    def agent_tids(self) -> dict:
        """host -> the thread running its agent (in its network namespace: /proc/PID/task/TID/net)."""
        return dict(self.zygote.tids) if self.zygote else {}

    # --- talking to agents --------------------------------------------------
    def admin(self, host: str, command: str, user: int | str | None = None) -> tuple[int, str, str]:
        """A Solaris-style verb line on that host's agent: (rc, out, err). With
        `user` (a uid or name) the line runs as that user: the agent takes the
        caller's uid from SO_PEERCRED, so the connection is made as that user."""
        argv = shlex.split(command)
        if argv and argv[0] == "rtsock":
            argv = argv[1:]
        if argv and argv[0] == "route":      # a routing-socket client, not an agent verb
            # a process of its own (its pid is the rtm_pid), forked warm by the fork server
            env = forkserver.server_env(dict(os.environ, RTSOCK_AGENT=self.agent_path(host)))
            as_user = client.resolve_user(user) if user is not None else None
            return forkserver.run_command(argv, env, str(self.run_dir), as_user, ADMIN_TIMEOUT)
        try:
            return client.admin_call(self.agent_path(host), argv, user=user, timeout=ADMIN_TIMEOUT)
        except OSError as exc:
            raise LabError(f"{host}: cannot reach the agent's admin channel "
                           f"{self.agent_path(host)}.admin: {exc}") from None

    def admin_ok(self, host: str, command: str) -> str:
        rc, out, err = self.admin(host, command)
        if rc:
            raise LabError(f"{host}: {command!r} failed with rc {rc}: {err.strip() or out.strip()}")
        return out

    def open_socket(self, host: str, protocol: int = 0, user=None):
        return client.socket(protocol, user=user, path=self.agent_path(host))

    def host_env(self, host: str) -> dict:
        """RTSOCK_AGENT, RTSOCK_INCLUDE and RTSOCK_PRELOAD of that host, and
        RTSOCK_RUN_DIR: scratch space (e.g. for a build) removed when the lab stops."""
        return dict(programs.host_env(self.agent_path(host)), RTSOCK_RUN_DIR=str(self.run_dir))

    def spawn(self, host: str, argv: list[str], preload: bool = True, cwd: str | None = None) -> programs.Program:
        """Start a program in the host (in sim mode: here, with the host's RTSOCK_AGENT),
        with the preload shim unless preload=False; stopped by stop() if still running."""
        env = programs.program_env(dict(os.environ), self.host_env(host), preload)
        if self.net:       # the host's network namespace only, as for admin commands (works in a chroot)
            argv = faults.ns_argv(self.net[host].pid, list(argv))
        prog = programs.spawn(host, argv, env, cwd=cwd)
        self._programs.append(prog)
        return prog

    # --- faults (Mininet only) -----------------------------------------------
    def _need_net(self, what: str):
        if self.net is None:
            raise LabError(f"{what} needs mininet mode (real links); this lab runs in {self.mode} mode")

    def link(self, host: str, ifname: str, up: bool) -> None:
        """Carrier: the far (switch) end of host:ifname goes down/up."""
        self._intf(host, ifname)
        if self.net is None:
            self.admin_ok(host, f"sim link {ifname} {'up' if up else 'down'}")
            return
        faults.set_carrier(naming.port_name(self.run_id, host, ifname), up)

    def _impairments(self, host: str) -> faults.Impairments:
        if host not in self._impair:
            h = self.net[host]
            self._impair[host] = faults.Impairments(host, h.pid, self.registry, h.registry_entry)
        return self._impair[host]

    def loss(self, host: str, ifname: str, percent: float) -> None:
        self._intf(host, ifname)
        if self.net is None:   # the sim platform drops in.mpathd's probes only
            self.admin_ok(host, f"sim loss {ifname} {round(percent)}")
            return
        self._impairments(host).set_loss(ifname, percent)

    def delay(self, host: str, ifname: str, ms: float) -> None:
        self._intf(host, ifname)
        self._need_net("delay")
        self._impairments(host).set_delay(ifname, ms)

    def ping(self, src_host: str, dst_addr: str, count: int = 3, interval: float = 0.2) -> faults.PingResult:
        self._host(src_host)
        self._need_net("ping")
        return faults.ping(self.net[src_host].pid, dst_addr, count, interval, src_host=src_host)


def start(topology, mode: str = "mininet", config: dict | None = None, run_id: str | None = None,
          *, ready_timeout: float = READY_TIMEOUT) -> Lab:
    """Start a lab with every agent READY; also a context manager."""
    return Lab(topology, mode, config, run_id)._start(ready_timeout)
