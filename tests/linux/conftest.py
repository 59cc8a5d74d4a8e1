import os

import pytest

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="needs root: network namespaces, raw and packet sockets")
