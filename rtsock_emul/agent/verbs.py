"""One line of the admin channel, dispatched: platform verbs or Solaris-style verbs."""
from __future__ import annotations

from collections.abc import Awaitable
from typing import Protocol, runtime_checkable

from rtsock_emul import platform as platforms
from rtsock_emul.admin.dispatch import run_verb
from rtsock_emul.context import AgentContext

Result = tuple[int, str, str]


@runtime_checkable
class PlatformVerbs(Protocol):
    """A platform with verbs of its own (`rtsock sim ...`); optional (linux has none)."""

    def admin(self, argv: list[str], uid: int) -> Result: ...


def run_admin(ctx: AgentContext, argv: list[str], uid: int) -> Result | Awaitable[Result]:
    """One admin verb line -> (rc, out, err), or an awaitable of it.

    `sim ...`/`linux ...` go to the platform's `admin`; everything else to
    `rtsock_emul.admin.dispatch.run_verb`. Verbs see uid 0 for a privileged uid.
    """
    uid = 0 if ctx.privileged(uid) else uid
    if argv and argv[0] in platforms.PLATFORMS:
        if argv[0] != ctx.config.get("platform") or not isinstance(ctx.platform, PlatformVerbs):
            return 2, "", f"{argv[0]} verbs need an agent with --platform {argv[0]}\n"
        return ctx.platform.admin(argv[1:], uid)
    return run_verb(ctx, argv, uid)
