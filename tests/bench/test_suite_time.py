"""bench.suite_time renders a run's JUnit XML: folders, every scenario, the slowest tests."""
from bench import suite_time

JUNIT = """<?xml version="1.0" encoding="utf-8"?>
<testsuites><testsuite name="pytest" time="12.5" timestamp="2026-01-01T00:00:00">
<testcase classname="scenarios.failure-repair.quiet-period.scenario.yaml" name="quiet-period" time="9.5"/>
<testcase classname="scenarios.dad.probes-on-the-wire.scenario.yaml" name="probes-on-the-wire" time="3.0">
  <failure message="gap">gap</failure></testcase>
<testcase classname="tests.lab.test_soak" name="test_a_soak" time="20.25"/>
<testcase classname="tests.kernel.test_dad" name="test_x" time="0.01"><skipped message="why"/></testcase>
</testsuite></testsuites>
"""


def test_scenarios_folders_and_slowest_from_junit(tmp_path):
    path = tmp_path / "junit.xml"
    path.write_text(JUNIT)
    cases = suite_time.read_junit(path)
    assert cases[0] == ("scenarios/failure-repair/quiet-period.scenario.yaml::quiet-period", 9.5, "passed")
    assert cases[1][2] == "failure" and cases[3] == ("tests/kernel/test_dad.py::test_x", 0.01, "skipped")
    page = suite_time.render(cases, {"command": "./ipmp-lab test -n auto", "wall": 21.0, "cpus": 2,
                                     "load_before": "0.10", "load_after": "1.50", "date": "today"})
    assert "**21 s** for 4 tests (sum of test times 33 s)" in page
    assert "| failure-repair/quiet-period | 9.50 | passed |\n| dad/probes-on-the-wire | 3.00 | failure |" in page
    assert "## Scenarios (2, 12 s)" in page and "| scenarios/failure-repair | 1 | 9.5 |" in page
    slowest = page.split("## The slowest")[1]
    assert slowest.index("test_soak.py::test_a_soak") < slowest.index("quiet-period.scenario.yaml")
    assert "load average (1 min) 0.10 before, 1.50 after" in page


def test_junit_only_render_writes_the_page(tmp_path, capsys):
    path = tmp_path / "junit.xml"
    path.write_text(JUNIT)
    assert suite_time.main(["--junit", str(path), "--write", str(tmp_path / "page.md")]) == 0
    assert "wall clock: **12 s**" in (tmp_path / "page.md").read_text()


def test_store_durations_in_pytest_splits_format(tmp_path):
    path = tmp_path / "junit.xml"
    path.write_text(JUNIT)
    suite_time.store_durations(suite_time.read_junit(path), tmp_path / "durations")
    import json
    stored = json.loads((tmp_path / "durations").read_text())
    assert stored["tests/lab/test_soak.py::test_a_soak"] == 20.25 and len(stored) == 4
    assert list(stored) == sorted(stored)
