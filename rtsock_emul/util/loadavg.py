"""The machine's load, for timeout messages: a lab or scenario that timed out on a busy
machine says so. Kept apart from the --cpu-load pytest plugin, which imports pytest (~0.15 s
of CPU a program such as the lab CLI would pay for nothing)."""
from __future__ import annotations

import os


def load_average() -> str:
    """'load average 1.97 1.20 0.88 on 2 CPUs', for timeout messages."""
    try:
        one, five, fifteen = os.getloadavg()
    except OSError:
        return "load average unknown"
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} CPUs"
