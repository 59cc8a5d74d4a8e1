"""in.mpathd for the emulated illumos kernel (R110-R122)."""
from .config import MpathdConfig
from .core import Mpathd
from .prober import FakeProber, Prober
from .state import MpathdError, PgState, PiState

__all__ = ["Mpathd", "MpathdConfig", "MpathdError", "PiState", "PgState", "Prober", "FakeProber"]
