"""The simulated platform: same kernel hooks as linux/, no system calls."""
from .platform import SimPlatform, SimProber, make_platform

__all__ = ["SimPlatform", "SimProber", "make_platform"]
