"""The cleanup registry: everything a lab run creates, removed exactly.

Every process (by pid and start time, so a reused pid is never killed), root
namespace link and bridge (by name), and in-namespace nft table / tc qdisc is
recorded before it is created, in memory and in RUN_DIR/registry.json, so
`python -m rtsock_emul.lab.cleanup RUN_DIR` can finish the job of a crashed run.
Nothing here ever kills or deletes by name pattern: only what the registry recorded.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

from ..util.wait import WaitTimeout, wait_until

REGISTRY = "registry.json"
TERM_TIMEOUT = 3.0          # seconds a process gets between SIGTERM and SIGKILL
PROCESS_KINDS = ("pcap", "agent", "zygote", "process", "host")   # teardown order
LINK_KINDS = ("link", "bridge")


def proc_starttime(pid: int) -> int | None:
    """Field 22 of /proc/PID/stat (clock ticks since boot), None if gone/zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    rest = stat[stat.rindex(")") + 2:].split()
    if rest[0] in ("Z", "X"):
        return None
    return int(rest[19])


def alive(entry: dict) -> bool:
    start = proc_starttime(entry["pid"])
    return start is not None and start == entry.get("starttime", start)


class Registry:
    def __init__(self, run_dir: str | Path, items: list | None = None) -> None:
        self.run_dir = Path(run_dir)
        self.items: list[dict] = list(items or [])
        self._lock = threading.Lock()

    @classmethod
    def load(cls, run_dir) -> "Registry":
        path = Path(run_dir) / REGISTRY
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise FileNotFoundError(f"{path}: no registry here; is {run_dir} a lab run directory?") from None
        return cls(run_dir, data["items"])

    # --- recording ----------------------------------------------------------
    def add(self, kind: str, **fields) -> dict:
        entry = {"kind": kind, **fields}
        with self._lock:
            self.items.append(entry)
            self._save()
        return entry

    def add_many(self, kind: str, entries: list[dict]) -> list[dict]:
        """Record several items with one write of the registry file."""
        added = [{"kind": kind, **fields} for fields in entries]
        with self._lock:
            self.items.extend(added)
            self._save()
        return added

    def process(self, pid: int, kind: str = "process", **fields) -> dict:
        return self.add(kind, pid=pid, starttime=proc_starttime(pid), **fields)

    def forget(self, entry: dict) -> None:
        with self._lock:
            if entry in self.items:
                self.items.remove(entry)
                self._save()

    def _save(self) -> None:
        if not self.run_dir.is_dir():
            return
        tmp = self.run_dir / (REGISTRY + ".tmp")
        tmp.write_text(json.dumps({"items": self.items}, indent=1))
        os.replace(tmp, self.run_dir / REGISTRY)

    # --- removal ------------------------------------------------------------
    def teardown(self, *, remove_dir: bool = True, keep: tuple = ()) -> list[str]:
        """Remove everything recorded; return what could not be removed.
        Idempotent: what is already gone is skipped. `keep` names files of the
        run directory to leave (logs)."""
        problems: list[str] = []
        with self._lock:
            items = list(self.items)
        for kind in PROCESS_KINDS:
            for entry in reversed([e for e in items if e["kind"] == kind]):
                problems += _stop_process(entry)
        for entry in reversed([e for e in items if e["kind"] in ("nft", "tc")]):
            problems += _remove_in_ns(entry)
        links = [e for e in items if e["kind"] in LINK_KINDS]
        present = set(_root_links()) if links else set()    # one listing, not one `ip` per gone link
        for entry in reversed(links):
            if entry["name"] in present:
                problems += _remove_link(entry["name"])
        if remove_dir and self.run_dir.is_dir():
            if keep:
                for child in self.run_dir.iterdir():
                    if child.name not in keep:
                        _unlink(child)
            else:
                shutil.rmtree(self.run_dir, ignore_errors=True)
        with self._lock:
            self.items = [] if not problems else self.items
            self._save()
        return problems

    def leftovers(self) -> list[str]:
        """What of this run still exists (for tests and the cleanup command)."""
        left = [f"{e['kind']} pid {e['pid']}" for e in self.items
                if "pid" in e and e["kind"] in PROCESS_KINDS and alive(e)]
        names = set(_root_links())
        left += [f"{e['kind']} {e['name']}" for e in self.items
                 if e["kind"] in LINK_KINDS and e["name"] in names]
        return left


def _unlink(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _stop_process(entry: dict) -> list[str]:
    pid = entry["pid"]
    if not alive(entry):
        _reap(pid)
        return []
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return []
        try:
            wait_until(lambda: _reap(pid) or not alive(entry), TERM_TIMEOUT,
                       what=f"{entry['kind']} pid {pid} to exit after {sig.name}")
            return []
        except WaitTimeout:
            continue
    return [f"{entry['kind']} pid {pid} survived SIGKILL"]


def _reap(pid: int) -> bool:
    """Collect our own dead child (a zombie keeps /proc/PID)."""
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
        return done == pid
    except ChildProcessError:
        return False


def _root_links() -> list[str]:
    out = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    return [line.split(":")[1].strip().split("@")[0] for line in out.splitlines() if ":" in line]


def _remove_link(name: str) -> list[str]:
    res = subprocess.run(["ip", "link", "del", "dev", name], capture_output=True, text=True)
    if res.returncode == 0 or "Cannot find device" in res.stderr or "does not exist" in res.stderr:
        return []
    return [f"link {name}: {res.stderr.strip()}"]


def _remove_in_ns(entry: dict) -> list[str]:
    """nft tables and qdiscs live in a host namespace and vanish with it;
    remove them only while that namespace's owner is still the same process."""
    if not alive({"pid": entry["ns_pid"], "starttime": entry.get("ns_starttime")}):
        return []
    if entry["kind"] == "nft":
        argv = ["nft", "delete", "table", entry["family"], entry["name"]]
    else:
        argv = ["tc", "qdisc", "del", "dev", entry["dev"], "root"]
    from .faults import ns_argv
    res = subprocess.run(ns_argv(entry["ns_pid"], argv), capture_output=True, text=True)
    if res.returncode and not any(s in res.stderr for s in ("No such file", "Cannot find", "not exist")):
        return [f"{entry['kind']} {entry.get('name') or entry.get('dev')}: {res.stderr.strip()}"]
    return []


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m rtsock_emul.lab.cleanup RUN_DIR   (e.g. /tmp/ipmp-lab-3fa2)", file=sys.stderr)
        return 2
    try:
        reg = Registry.load(argv[0])
    except FileNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 1
    problems = reg.teardown()
    for p in problems:
        print(f"cleanup: {p}", file=sys.stderr)
    print(f"cleanup: {argv[0]}: {'done' if not problems else f'{len(problems)} left'}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
