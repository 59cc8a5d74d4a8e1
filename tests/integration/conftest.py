"""Fixtures of the Mininet integration tests (tests/integration/helpers.py)."""
import pytest

import rtsock_emul.lab as lab_api

from .helpers import Recorder


@pytest.fixture
def start_lab():
    """start_lab(topology, **config) -> Lab; every lab is stopped at teardown."""
    labs = []

    def start(topology, **config):
        lab = lab_api.start(topology, mode="mininet", config=config)
        labs.append(lab)
        return lab

    yield start
    for lab in labs:
        lab.stop()

@pytest.fixture
def recorders():
    """recorders(lab, host, aware=..., protocol=...) -> Recorder, closed at teardown."""
    made = []

    def open_(lab, host, **kw):
        rec = Recorder(lab, host, **kw)
        made.append(rec)
        return rec

    yield open_
    for rec in made:
        rec.close()
