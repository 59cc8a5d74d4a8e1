"""The pure illumos kernel model: interfaces, addresses, routes, IPMP, DAD.

No I/O, no clock of its own, no threads (docs/internals.md "kernel/").
"""
from .clock import AsyncioClock, ManualClock
from .core import Kernel
from .errors import KernelError
from .hooks import KernelHooks
from .tunables import Tunables

__all__ = ["Kernel", "KernelError", "Tunables", "KernelHooks", "ManualClock", "AsyncioClock"]
