"""What every admin verb shares: typed failures, privilege, option parsing,
the address-object table (ipadm's addrobj names, kept per agent)."""
from __future__ import annotations

import errno as _errno
import getopt
import os
from typing import Any

from ..context import AddrObjs, AgentContext
from ..kernel import Kernel
from ..kernel.errors import KernelError
from ..wire.constants import AF_INET, IFF_LOOPBACK

# The agent's context (AgentContext, agent/__init__.py) as the verbs see it: the agent is a
# layer above, so the verbs name it by this alias.
Ctx = Any

# ipadm_status2str: IPADM_DLPI_FAILURE (no datalink of that name), IPADM_IF_EXISTS
DLPI_FAILURE = "Could not open DLPI link"
IF_EXISTS = "Interface already exists"


class AdminError(Exception):
    """A verb failed: `text` goes to stderr as is, `rc` is the exit status."""

    def __init__(self, text: str, rc: int = 1) -> None:
        super().__init__(text)
        self.text, self.rc = text if text.endswith("\n") else text + "\n", rc


class Usage(AdminError):
    def __init__(self, text: str) -> None:
        super().__init__(text, rc=2)


def strerror(exc) -> str:
    """illumos-like strerror text for a KernelError/OSError errno."""
    err = getattr(exc, "errno", None)
    if err == _errno.ENOTSUP:
        return "Operation not supported"
    return os.strerror(err) if err else str(exc)


def need_root(prog: str, uid: int) -> None:
    if uid != 0:
        raise AdminError(f"{prog}: insufficient privileges")


def parse(prog: str, args: list[str], shortopts: str, usage: str, longopts=()):
    """getopt with a usage error naming the program and what it accepts."""
    try:
        return getopt.getopt(args, shortopts, list(longopts))
    except getopt.GetoptError as exc:
        raise Usage(f"{prog}: {exc.msg}\n{usage}") from None


def _booted(kernel: Kernel) -> AddrObjs:
    """The table as boot leaves it: lo0/v4 and lo0/v6, the names
    svc:/network/loopback gives 127.0.0.1 and ::1."""
    objs = AddrObjs()
    for ipif in kernel.lifs():
        if ipif.flags & IFF_LOOPBACK and ipif.unit == 0 and not ipif.unspecified:
            objs.table[f"{ipif.ill.name}/{'v4' if ipif.af == AF_INET else 'v6'}"] = (ipif.name, ipif.af)
    return objs


def addrobjs(ctx: AgentContext) -> AddrObjs:
    """This agent's ipadm address-object table."""
    if ctx.admin.addrobjs is None:
        ctx.admin.addrobjs = _booted(ctx.kernel)
    return ctx.admin.addrobjs


def sync_mpathd(ctx: AgentContext) -> None:
    """Let in.mpathd re-read the kernel after a verb changed it."""
    if ctx.mpathd is not None:
        ctx.mpathd.sync()


__all__ = ["AddrObjs", "AdminError", "Usage", "KernelError", "need_root", "parse", "strerror", "addrobjs"]
