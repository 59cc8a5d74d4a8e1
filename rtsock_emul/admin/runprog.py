"""`rtsock run PROGRAM ARGS...`: run an unmodified illumos routing-socket program
with the preload shim loaded (docs/preload.md). Runs in the `rtsock` command."""
from __future__ import annotations

import os
import sys

from .. import c as cside

USAGE = """usage: rtsock run PROGRAM [ARGS...]
    runs PROGRAM with LD_PRELOAD=$RTSOCK_PRELOAD (the shim ./ipmp-lab setup builds);
    its socket(PF_ROUTE, SOCK_RAW, proto) is then a routing socket of this host's agent
    (RTSOCK_AGENT). Build C with: cc -I$RTSOCK_INCLUDE -o prog prog.c"""


def run_program(args: list[str]) -> int:
    """exec PROGRAM with LD_PRELOAD=$RTSOCK_PRELOAD (the built shim if unset) first."""
    if not args:
        print(USAGE, file=sys.stderr)
        return 2
    preload = os.environ.get(cside.ENV_PRELOAD) or str(cside.preload_path())
    if not os.path.exists(preload):
        print(f"rtsock run: the preload shim {preload} does not exist: build it with "
              f"./ipmp-lab setup (or python -m rtsock_emul.c build)", file=sys.stderr)
        return 1
    env = dict(os.environ)
    env["LD_PRELOAD"] = " ".join(p for p in (preload, env.get("LD_PRELOAD")) if p)
    try:
        os.execvpe(args[0], args, env)
    except OSError as exc:
        print(f"rtsock run: cannot run {args[0]}: {exc.strerror or exc}", file=sys.stderr)
        return 127
