"""Under pytest-xdist (`-n N`): the heaviest test files first, handed out one test at a time.

xdist's `load` scheduling gives the tests out in collection order, in batches. A slow
file that comes last (a meta-test starting pytest sessions, a soak) then runs alone on
one worker while the others idle. With the files ordered by their recorded duration
(`.test_durations` in the rootdir, pytest-split's record; longest first) and one test
sent per request, the last tests to start are the short ones. A file's tests stay
together and in their order, so module-scoped fixtures start once per worker. A
session without `-n`, or without the record, keeps pytest's order.

`-n auto` starts WORKERS_PER_CPU workers per CPU: labs and scenarios mostly wait on
timers the emulated kernel must keep (DAD spacing, FDT, quiet windows): on 2 CPUs the
whole suite kept them ~50 % busy with one worker per CPU, 76 % with two, 90 % with
three (docs/performance.md). PYTEST_XDIST_AUTO_NUM_WORKERS still decides when set.
"""
import json
import os
from collections import defaultdict

import pytest

DURATIONS = ".test_durations"
WORKERS_PER_CPU = 3


def file_of(nodeid: str) -> str:
    return nodeid.split("::", 1)[0]


def file_weights(durations: dict[str, float]) -> dict[str, float]:
    """Recorded seconds per test file."""
    weights: defaultdict[str, float] = defaultdict(float)
    for nodeid, seconds in durations.items():
        weights[file_of(nodeid)] += seconds
    return weights


def heaviest_files_first(nodeids: list[str], weights: dict[str, float]) -> list[int]:
    """The positions of `nodeids` reordered: files by weight, heaviest first (unrecorded
    files last), each file's tests together in their collected order."""
    first_seen: dict[str, int] = {}
    for i, nodeid in enumerate(nodeids):
        first_seen.setdefault(file_of(nodeid), i)
    return sorted(range(len(nodeids)),
                  key=lambda i: (-weights.get(file_of(nodeids[i]), 0.0), first_seen[file_of(nodeids[i])], i))


def _load(config: pytest.Config) -> dict[str, float] | None:
    path = config.rootpath / DURATIONS
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _distributed(config: pytest.Config) -> bool:
    return bool(getattr(config.option, "numprocesses", None)) or hasattr(config, "workerinput")


@pytest.hookimpl(optionalhook=True, tryfirst=True)     # pytest-xdist's hook; xdist may be absent
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto`: WORKERS_PER_CPU per CPU this process may run on (None: xdist's own
    rule, which reads PYTEST_XDIST_AUTO_NUM_WORKERS)."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    return WORKERS_PER_CPU * len(os.sched_getaffinity(0))


def pytest_configure(config: pytest.Config) -> None:
    """The controller hands out one test per request (only when the order below applies)."""
    if _distributed(config) and not hasattr(config, "workerinput") and _load(config) is not None:
        if getattr(config.option, "maxschedchunk", "absent") is None:
            config.option.maxschedchunk = 1


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    if not hasattr(config, "workerinput"):      # only xdist workers: every worker the same order
        return
    durations = _load(config)
    if not durations:
        return
    order = heaviest_files_first([item.nodeid for item in items], file_weights(durations))
    items[:] = [items[i] for i in order]
