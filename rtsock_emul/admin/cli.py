"""The `rtsock` console command: `rtsock VERB ...` against the agent named by
RTSOCK_AGENT. `route monitor|get|add|delete|change` runs here as a
routing-socket client (route(1M) style); `run PROGRAM ARGS...` runs a program
with the preload shim (docs/preload.md); every other verb goes to the agent's
admin channel (`client.admin_call`: RTSOCK_AGENT + ".admin", JSON {"argv"} ->
{"rc", "out", "err"}; the agent knows the caller's uid from SO_PEERCRED)."""
from __future__ import annotations

import os
import sys

from ..client import admin_call
from .ipmpstream import stream, wants_stream
from .route import run_route


def _admin_or_error(path: str, argv: list[str]) -> tuple[int, str, str]:
    try:
        return admin_call(path, argv)
    except OSError as exc:
        return 1, "", f"rtsock: cannot reach the agent at {path}.admin: {exc.strerror or exc}\n"


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    path = os.environ.get("RTSOCK_AGENT")
    if not argv:
        print("usage: rtsock <verb> [args...]  (ipadm, ifconfig, if_mpadm, ipmpstat, "
              "route, kernel, run)", file=sys.stderr)
        return 2
    if not path:
        print("rtsock: RTSOCK_AGENT is not set: run inside a lab host or export the "
              "agent's socket path", file=sys.stderr)
        return 2
    if argv[0] == "run":
        from .runprog import run_program  # here: route and the verbs start without the C build helpers
        return run_program(argv[1:])
    if argv[0] == "route":
        return run_route(path, argv[1:], lambda a: _admin_or_error(path, a))
    if argv[0] == "ipmpstat" and wants_stream(argv[1:]):
        return stream(lambda a: admin_call(path, a), argv[1:])
    try:
        rc, out, err = admin_call(path, argv)
    except OSError as exc:
        print(f"rtsock: cannot reach the agent at {path}.admin: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    sys.stdout.write(out)
    sys.stderr.write(err)
    return rc


if __name__ == "__main__":
    sys.exit(main())
