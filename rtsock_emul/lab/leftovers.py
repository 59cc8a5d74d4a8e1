"""What a lab run in a child process may leave behind, found by exact marks, never by name
patterns of other runs: links with the run's prefix, run directories under the child's
own RTSOCK_LAB_DIR, and live processes that inherited the child's marker variable.
Used by the signal tests and bench/signals.py."""
import os
import pathlib
import uuid

from . import naming
from .cleanup import _root_links

MARK = "IPMP_LAB_CHILD_MARK"


def child_env(run_base: pathlib.Path) -> dict:
    """Environment for a child lab: its run directories under run_base, a unique marker."""
    run_base.mkdir(parents=True, exist_ok=True)
    return dict(os.environ, RTSOCK_LAB_DIR=str(run_base), **{MARK: uuid.uuid4().hex},
                PYTHONPATH=str(pathlib.Path(__file__).resolve().parents[2]))   # the checkout


def run_ids(run_base: pathlib.Path) -> set:
    return {p.name.removeprefix("ipmp-lab-") for p in run_base.glob("ipmp-lab-*")}


def marked_processes(env: dict) -> list:
    """Live processes (not zombies) whose environment holds this child's marker."""
    needle = f"{MARK}={env[MARK]}".encode()
    found = []
    for proc in pathlib.Path("/proc").glob("[0-9]*"):
        try:
            if needle in (proc / "environ").read_bytes().split(b"\0") and \
                    (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] not in "ZX":
                found.append(f"{proc.name}: " + (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    return found


def leftovers(env: dict, rids: set) -> list:
    """Everything of the runs `rids` (and of the child) that still exists."""
    base = pathlib.Path(env["RTSOCK_LAB_DIR"])
    prefixes = tuple(naming.prefix(r) for r in rids)
    links = sorted(n for n in _root_links() if prefixes and n.startswith(prefixes))
    dirs = sorted(str(p) for p in base.glob("ipmp-lab-*"))
    return [f"link {n}" for n in links] + [f"run dir {d}" for d in dirs] + \
        [f"process {p}" for p in marked_processes(env)]
