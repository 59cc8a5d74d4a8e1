"""Under xdist the heaviest test files (by the recorded .test_durations) start first, each
file's tests together; without -n or without the record pytest's order is kept."""
import json

from rtsock_emul.scenario.suite_order import file_weights, heaviest_files_first


def test_files_by_recorded_weight_each_file_together_in_order():
    ids = ["a.py::t1", "a.py::t2", "b.py::t1", "c.py::t1", "c.py::t2", "new.py::t1"]
    weights = file_weights({"a.py::t1": 1.0, "a.py::t2": 1.0, "b.py::t1": 0.5,
                            "c.py::t1": 0.1, "c.py::t2": 9.0, "gone.py::t": 50.0})
    assert weights["c.py"] == 9.1 and weights["a.py"] == 2.0
    order = [ids[i] for i in heaviest_files_first(ids, weights)]
    assert order == ["c.py::t1", "c.py::t2", "a.py::t1", "a.py::t2", "b.py::t1", "new.py::t1"]


def _executed(result):
    return [line.split()[-1] for line in result.outlines if " PASSED " in line]


def test_an_xdist_worker_runs_the_heaviest_file_first(pytester):
    pytester.makepyfile(test_a="def test_1(): pass\ndef test_2(): pass\n",
                        test_b="def test_1(): pass\n")
    pytester.makeconftest("def pytest_sessionfinish(session):\n"        # the controller's chunk size
                          "    if not hasattr(session.config, 'workerinput'):\n"
                          "        open('chunk', 'w').write(str(session.config.option.maxschedchunk))\n")
    ids = ["test_a.py::test_1", "test_a.py::test_2", "test_b.py::test_1"]
    args = ("-p", "rtsock_emul.scenario.pytest_plugin", "-p", "no:cacheprovider", "-n", "1", "-v")
    result = pytester.runpytest_inprocess(*args)
    assert _executed(result) == ids, result.outlines          # no record: collected order
    assert (pytester.path / "chunk").read_text() == "None"
    (pytester.path / ".test_durations").write_text(json.dumps({"test_b.py::test_1": 5.0, "test_a.py::test_1": 1.0}))
    result = pytester.runpytest_inprocess(*args)
    assert _executed(result) == [ids[2], ids[0], ids[1]], result.outlines
    assert (pytester.path / "chunk").read_text() == "1"        # one test per request, not batches


def test_n_auto_starts_three_workers_per_cpu_unless_the_environment_says(pytester, monkeypatch):
    """The suite mostly waits on the emulated kernel's timers: `-n auto` is three workers
    per CPU; PYTEST_XDIST_AUTO_NUM_WORKERS (xdist's own setting) still wins."""
    import os
    monkeypatch.delenv("PYTEST_XDIST_AUTO_NUM_WORKERS", raising=False)
    config = pytester.parseconfigure("-p", "rtsock_emul.scenario.pytest_plugin", "-p", "no:cacheprovider")
    assert config.hook.pytest_xdist_auto_num_workers(config=config) == 3 * len(os.sched_getaffinity(0))
    monkeypatch.setenv("PYTEST_XDIST_AUTO_NUM_WORKERS", "3")
    assert config.hook.pytest_xdist_auto_num_workers(config=config) == 3
