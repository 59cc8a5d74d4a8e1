"""An in-process sim lab (agents as asyncio loops in threads of this process), so a
test can monkeypatch the agent's code and see the scenario runner and oracle react."""
import asyncio
import os
import shlex
import tempfile
import threading

from rtsock_emul import agent, client
from rtsock_emul.lab.runtime import host_config
from rtsock_emul.lab.topology import load


class InProcessLab:
    def __init__(self, topology, mode="sim", config=None):
        self.topology = load(topology)
        self.hosts = list(self.topology.hosts)
        self.dir = tempfile.mkdtemp(prefix="inproc-lab-")
        self.ctxs, self.threads = {}, []
        for host in self.hosts:
            ready = threading.Event()
            cfg = host_config(self.topology, self.topology.hosts[host], config or {}, sim=True)
            log = agent.make_logger(os.path.join(self.dir, f"{host}.log"))

            def main(host=host, cfg=cfg, log=log, ready=ready):
                loop = asyncio.new_event_loop()
                loop.run_until_complete(agent.serve(self.agent_path(host), "sim", cfg, log,
                                                    lambda ctx: (self.ctxs.__setitem__(host, ctx), ready.set())))
                loop.close()
            t = threading.Thread(target=main, daemon=True)
            t.start()
            self.threads.append(t)
            if not ready.wait(10):
                raise RuntimeError(f"in-process agent {host} did not start")

    def agent_path(self, host):
        return os.path.join(self.dir, f"{host}.sock")

    def logs(self):
        return {h: os.path.join(self.dir, f"{h}.log") for h in self.hosts}

    def admin(self, host, command, user=None):
        return client.admin_call(self.agent_path(host), shlex.split(command), user=user)

    def open_socket(self, host, protocol=0, user=None):
        return client.socket(protocol, user=user, path=self.agent_path(host))

    def link(self, host, ifname, up):
        rc, out, err = self.admin(host, f"sim link {ifname} {'up' if up else 'down'}")
        assert rc == 0, err

    def stop(self):
        for ctx in self.ctxs.values():
            ctx.loop.call_soon_threadsafe(ctx.stop, "test over")
        for t in self.threads:
            t.join(5)
