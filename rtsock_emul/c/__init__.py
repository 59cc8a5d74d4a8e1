"""The C side: illumos headers (include/) and the LD_PRELOAD shim (shim/) that
let unmodified illumos routing-socket programs run against an agent
(docs/preload.md), plus the explicit header-only API rtsock_emul.h.

    python -m rtsock_emul.c build     # compile the shim if its source changed; print its path

`./ipmp-lab setup` runs that; lab hosts get RTSOCK_INCLUDE=INCLUDE_DIR and
RTSOCK_PRELOAD=preload_path().
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
INCLUDE_DIR = HERE / "include"
SHIM_SOURCE = HERE / "shim" / "rtsock_preload.c"
SHIM_HEADERS = (HERE / "rts_record.h",)     # what the shim includes from this folder
SHIM_NAME = "rtsock_preload.so"
CFLAGS = ("-std=gnu11", "-O2", "-g", "-fPIC", "-shared", "-fvisibility=hidden", "-U_FORTIFY_SOURCE",
          "-Wall", "-Wextra", "-Werror")
ENV_INCLUDE, ENV_PRELOAD = "RTSOCK_INCLUDE", "RTSOCK_PRELOAD"


class BuildError(RuntimeError):
    pass


def preload_path() -> Path:
    """Where the built shim lives: the virtual environment's lib/ (not the source tree)."""
    return Path(sys.prefix) / "lib" / SHIM_NAME


def build(out: Path | None = None, source: Path = SHIM_SOURCE, force: bool = False) -> Path:
    """Compile the shim unless `out` is newer than its source and headers; returns `out`."""
    out = Path(out) if out else preload_path()
    newest = max(p.stat().st_mtime for p in (source, *SHIM_HEADERS))
    if not force and out.exists() and out.stat().st_mtime >= newest:
        return out
    cc = os.environ.get("CC") or shutil.which("gcc") or shutil.which("cc")
    if not cc:
        raise BuildError("no C compiler: install gcc (./ipmp-lab setup installs it)")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.{os.getpid()}")
    res = subprocess.run([cc, *CFLAGS, "-o", str(tmp), str(source), "-ldl", "-lpthread"],
                         capture_output=True, text=True)
    if res.returncode:
        tmp.unlink(missing_ok=True)
        raise BuildError(f"{cc} failed on {source}:\n{res.stderr}")
    os.replace(tmp, out)     # atomic: a program starting now sees the old or the new one
    return out


def env(agent_path: str | None = None) -> dict:
    """RTSOCK_INCLUDE and RTSOCK_PRELOAD (and RTSOCK_AGENT when given) for a lab host."""
    out = {ENV_INCLUDE: str(INCLUDE_DIR), ENV_PRELOAD: str(preload_path())}
    if agent_path:
        out["RTSOCK_AGENT"] = agent_path
    return out


def main(argv: list[str]) -> int:
    if argv[:1] != ["build"] or len(argv) > 2 or argv[1:] not in ([], ["--force"]):
        print("usage: python -m rtsock_emul.c build [--force]", file=sys.stderr)
        return 2
    try:
        print(build(force=argv[1:] == ["--force"]))
    except BuildError as exc:
        print(f"rtsock_emul.c: {exc}", file=sys.stderr)
        return 1
    return 0
