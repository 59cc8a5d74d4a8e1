"""The emulation agent of one host: kernel model + routing sockets + in.mpathd + platform.

`python -m rtsock_emul.agent --socket PATH --platform sim|linux [--config JSON] [--log FILE]`,
or `run_agent(...)` in a forked child (the lab's zygote). One asyncio loop runs
everything; READY is printed once the listeners are up and the platform has
synchronised the kernel with the host's interfaces.
"""
from __future__ import annotations

import asyncio
import inspect
import logging
import os
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import fields

from rtsock_emul import platform as platforms
from rtsock_emul.context import AgentContext
from rtsock_emul.kernel import Kernel
from rtsock_emul.kernel.clock import AsyncioClock
from rtsock_emul.kernel.tunables import Tunables
from rtsock_emul.mpathd import Mpathd
from rtsock_emul.rtsock.hub import RtsHub
from rtsock_emul.rtsock.journal import Journal, kernel_state

from .server import Server

__all__ = ["AgentContext", "ConfigError", "make_logger", "make_tunables", "run_agent", "serve"]


class ConfigError(ValueError):
    """The agent config is wrong; the text names the key."""


def make_tunables(config: dict) -> Tunables:
    """Tunables.profile(dad_profile) with `tunables` and `switches` overrides."""
    overrides = dict(config.get("tunables", {}))
    overrides.update(config.get("switches", {}))
    known = {f.name for f in fields(Tunables)}
    unknown = set(overrides) - known
    if unknown:
        raise ConfigError(f"unknown tunables/switches {sorted(unknown)}; known: {sorted(known)}")
    try:
        return Tunables.profile(config.get("dad_profile", "fast"), **overrides)
    except ValueError as exc:
        raise ConfigError(f"dad_profile: {exc}") from None


def make_logger(log_path: str | None, name: str = "rtsock_emul.agent") -> logging.Logger:
    """The agent's logger; a process serving several hosts names one per host."""
    log = logging.getLogger(name)
    for handler in list(log.handlers):  # a forked child must not write to its parent's files
        log.removeHandler(handler)
        handler.close()
    handler = logging.FileHandler(log_path) if log_path else logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.DEBUG if log_path else logging.WARNING)
    log.propagate = False
    return log


def _make_mpathd(ctx: AgentContext) -> Mpathd | None:
    if ctx.config.get("mpathd", {}) is False:
        ctx.log.info("in.mpathd disabled by config (mpathd: false)")
        return None
    mpathd = Mpathd(ctx)
    mpathd.start()
    return mpathd


async def serve(socket_path: str, platform_name: str, config: dict, log: logging.Logger,
                ready: Callable[[AgentContext], None] | None = None) -> None:
    """Run the agent until SIGTERM/SIGINT (or `ctx.stop()`); `ready(ctx)` is called once READY."""
    loop = asyncio.get_running_loop()
    config = dict(config, platform=platform_name)
    clock = AsyncioClock(loop)
    hub = RtsHub(defer=loop.call_soon, log=log)
    platform = platforms.load(platform_name, config, log)
    kernel = Kernel(clock, platforms.PlatformHooks(hub, platform), make_tunables(config))
    key, state = kernel_state(kernel)
    hub.journal = Journal(state, key=key)
    ctx = AgentContext(kernel=kernel, hub=hub, platform=platform, clock=clock,
                       config=config, log=log, loop=loop, socket_path=socket_path)
    server = Server(ctx, loop, socket_path)
    stop: asyncio.Future[str] = loop.create_future()

    def stop_agent(reason: str = "stop") -> None:
        if not stop.done():
            stop.set_result(reason)

    ctx.stop = stop_agent
    signals = (signal.SIGTERM, signal.SIGINT) if threading.current_thread() is threading.main_thread() else ()
    for sig in signals:
        loop.add_signal_handler(sig, stop_agent, f"signal {sig}")
    try:
        server.start()
        started = platform.start(ctx)
        if inspect.isawaitable(started):
            await started
        ctx.mpathd = _make_mpathd(ctx)
        log.info("READY %s (platform %s, pid %d)", socket_path, platform_name, os.getpid())
        if ready:
            ready(ctx)
        log.info("stopping: %s", await stop)
    finally:
        for sig in signals:
            loop.remove_signal_handler(sig)
        if ctx.mpathd is not None:
            ctx.mpathd.stop()
        platform.stop()
        server.close()


def run_agent(socket_path: str, platform: str = "sim", config: dict | None = None,
              log_path: str | None = None, ready_fd: int | None = None) -> int:
    """Run an agent in this process (also a freshly forked child); returns the exit status."""
    log = make_logger(log_path)

    def ready(ctx: AgentContext) -> None:
        print(f"READY {socket_path}", flush=True)
        if ready_fd is not None:
            os.write(ready_fd, f"READY {socket_path}\n".encode())
            os.close(ready_fd)

    asyncio.events._set_running_loop(None)  # a fork from inside a running loop inherits it
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(serve(socket_path, platform, config or {}, log, ready))
    finally:
        loop.close()
    return 0
