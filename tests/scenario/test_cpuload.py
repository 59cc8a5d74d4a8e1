"""--cpu-load N: bounded busy workers for contended runs, stopped by pid."""
import os

from rtsock_emul.scenario.cpuload import BusyWorkers
from rtsock_emul.util.loadavg import load_average
from rtsock_emul.util.wait import wait_until


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_workers_spin_and_stop_by_pid():
    workers = BusyWorkers(2, seconds=60).start()
    pids = workers.pids()
    try:
        assert len(pids) == 2 and all(_alive(p) for p in pids)
        assert all(os.getppid() != p for p in pids)
    finally:
        workers.stop()
    assert not any(_alive(p) for p in pids)
    assert workers.pids() == []


def test_workers_are_bounded_in_time():
    workers = BusyWorkers(1, seconds=0.3).start()
    proc = workers.procs[0]
    try:
        wait_until(lambda: proc.poll() is not None, 10, what="a busy worker past its deadline to exit")
        assert proc.returncode == 0
    finally:
        workers.stop()


def test_load_average_text():
    assert load_average().startswith("load average ") and "CPUs" in load_average()


def test_session_option_starts_and_stops_workers(pytester):
    """The option starts the workers before the tests and no worker outlives the session."""
    pytester.makepyfile(test_busy="""
        def test_sees_workers(request):
            workers = request.config._rtsock_busy
            assert len(workers.pids()) == 2
            open("pids.txt", "w").write(" ".join(map(str, workers.pids())))
    """)
    result = pytester.runpytest_inprocess("-p", "rtsock_emul.scenario.pytest_plugin", "-p", "no:cacheprovider",
                                          "--cpu-load", "2", "--cpu-load-seconds", "120")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["--cpu-load: 2 busy worker(s), pids *"])
    pids = [int(p) for p in (pytester.path / "pids.txt").read_text().split()]
    assert pids and not any(_alive(p) for p in pids)


NEVER = """\
name: an expectation that never comes true
topology: ipmp-pair
subscribers:
  s: {host: h1}
steps:
  - expect:
      s: [RTM_IFINFO net0 +FAILED]
    within: 0.3s
"""


def test_a_timed_out_expect_says_within_exceeded_with_the_load_average(tmp_path):
    from rtsock_emul.scenario.errors import StepFailure
    from rtsock_emul.scenario.loader import load_text
    from rtsock_emul.scenario.runner import Runner
    from rtsock_emul.scenario.schema import parse_scenario

    from .inproc import InProcessLab
    path = tmp_path / "n.scenario.yaml"
    path.write_text(NEVER)
    sc = parse_scenario(load_text(NEVER, str(path)), str(path))
    res = Runner(sc, "sim", lab_start=InProcessLab, reports_dir=tmp_path / "rep").run()
    assert isinstance(res.failure, StepFailure)
    assert "`within: 0.3s` exceeded (load average " in res.failure.summary
