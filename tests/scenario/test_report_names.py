"""Two scenario files of one name in different folders would share reports/<run>/<name>/
(under xdist, side by side: one clears and overwrites the other's pcaps); the session
refuses them at collection, naming both files."""
import pytest

SCENARIO = """\
name: {name}
covers: [R30]
topology: ipmp-pair
subscribers:
  s: {{host: h2}}
steps:
  - send: {{by: s, msg: {{type: RTM_ADD, dst: 198.51.100.0/24, gateway: 192.0.2.254}}}}
"""


def test_two_scenarios_of_one_name_are_a_usage_error(pytester):
    for folder in ("dad", "failure-repair"):
        (pytester.path / folder).mkdir()
        (pytester.path / folder / "probes.scenario.yaml").write_text(SCENARIO.format(name=folder))
    result = pytester.runpytest_inprocess("-p", "rtsock_emul.scenario.pytest_plugin", "-p", "no:cacheprovider",
                                          "--collect-only", "-q")
    assert result.ret == pytest.ExitCode.USAGE_ERROR, result.outlines
    result.stderr.fnmatch_lines(["ERROR: failure-repair/probes.scenario.yaml: scenario name 'probes' is also "
                                 "dad/probes.scenario.yaml's; rename one of the files*"])
    (pytester.path / "dad" / "probes.scenario.yaml").rename(pytester.path / "dad" / "dad-probes.scenario.yaml")
    result = pytester.runpytest_inprocess("-p", "rtsock_emul.scenario.pytest_plugin", "-p", "no:cacheprovider",
                                          "--collect-only", "-q")
    assert result.ret == pytest.ExitCode.OK and "2 tests collected" in result.stdout.str(), result.outlines


def test_the_suites_scenarios_have_distinct_names(pytestconfig):
    names = {}
    for path in sorted((pytestconfig.rootpath / "scenarios").rglob("*.scenario.yaml")):
        names.setdefault(path.name, []).append(str(path.relative_to(pytestconfig.rootpath)))
    assert {n: p for n, p in names.items() if len(p) > 1} == {}
