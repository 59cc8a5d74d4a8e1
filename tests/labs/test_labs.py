"""The teaching labs (labs/NN-name): the starters, their hints, the checker
(rtsock_emul/scenario/labcheck.py, installed by labs/conftest.py) and every
reference solution, so the labs cannot rot.

Each solution runs through the scenario plugin exactly as a student's filled-in
exercise would: on Mininet as root, on the sim platform otherwise (lab 03
pings, so it needs Mininet).
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from rtsock_emul.scenario import labcheck
from rtsock_emul.scenario.loader import load_file
from rtsock_emul.scenario.schema import parse_scenario

ROOT = Path(__file__).resolve().parents[2]
LABS = ROOT / "labs"
LAB_NAMES = ["01-route-monitor", "02-normal-vs-aware", "03-failover", "04-probe-detection", "05-dad"]
FILES = ["README.md", "ANSWERS.md", "exercise.scenario.yaml", "solution.scenario.yaml", "hints.yaml"]
IS_ROOT = os.geteuid() == 0




def _code_lines(text):
    """(lineno, code) of lines that hold YAML, comments dropped."""
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        code = labcheck.split_comment(line)[0].rstrip()
        if code.strip():
            out.append((n, code))
    return out


def fill(exercise_text, solution_text):
    """The answers of the exercise's blanks, taken from the solution: {number: text}.
    Fails unless the exercise is the solution with some tokens blanked, line for line."""
    ex, sol = _code_lines(exercise_text), _code_lines(solution_text)
    assert len(ex) == len(sol), f"exercise has {len(ex)} YAML lines, solution {len(sol)}"
    blanks = {b.line: [] for b in labcheck.find_blanks(exercise_text)}
    for b in labcheck.find_blanks(exercise_text):
        blanks[b.line].append(b.number)
    answers = {}
    for (n, code), (m, want) in zip(ex, sol):
        parts = [re.escape(p) for p in re.split(r"_{3,}", code)]
        match = re.fullmatch("(.+?)".join(parts), want)
        assert match, f"exercise line {n} {code!r} does not fit solution line {m} {want!r}"
        for number, value in zip(blanks.get(n, []), match.groups()):
            answers[number] = value
    return answers


def run_pytest(*args, cwd=ROOT, timeout=240):
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    # no hypothesis plugin: the labs do not use it, and loading it rewrites all of hypothesis (~1 s of CPU)
    res = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:hypothesispytest", *args],
                         cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env)
    return res.returncode, res.stdout + res.stderr


def _rc_ok(rc, out):
    """rc 0; or rc 1 only from the root conftest's leftover check, which also sees other
    runs' labs on a shared machine (the outer session checks this run's leftovers)."""
    return rc == 0 or (rc == 1 and "lab leftovers after the session" in out)


def _summary(out):
    return next(line for line in reversed(out.strip().splitlines()) if " in " in line and "s" in line)


def _passed_cleanly(rc, out, n):
    summary = _summary(out)
    assert f"{n} passed" in summary and "failed" not in summary and "error" not in summary, out[-4000:]
    assert _rc_ok(rc, out), out[-4000:]


# --- the files ------------------------------------------------------------------

@pytest.mark.parametrize("lab", LAB_NAMES)
def test_lab_folder_has_every_part(lab):
    folder = LABS / lab
    missing = [f for f in FILES if not (folder / f).is_file()]
    assert not missing, f"labs/{lab} lacks {missing}"
    assert (LABS / "README.md").is_file()
    assert sorted(p.name for p in LABS.iterdir() if p.is_dir() and p.name[:2].isdigit()) == LAB_NAMES


@pytest.mark.parametrize("lab", LAB_NAMES)
def test_solution_is_a_valid_scenario_without_blanks(lab):
    path = LABS / lab / "solution.scenario.yaml"
    assert labcheck.find_blanks(path.read_text()) == []
    sc = parse_scenario(load_file(path), str(path))
    assert sc.covers, "a lab names the rules it teaches in covers:"


@pytest.mark.parametrize("lab", LAB_NAMES)
def test_exercise_is_the_solution_with_numbered_blanks_and_hints(lab):
    """Every blank has a marker (N), N runs 1..k in file order, has a hint, and the
    exercise filled with the solution's words is the solution (so it is solvable)."""
    folder = LABS / lab
    text = (folder / "exercise.scenario.yaml").read_text()
    yaml.safe_load(text)                                  # the starter is valid YAML
    blanks = labcheck.find_blanks(text)
    assert len(blanks) >= 3
    assert [b.number for b in blanks] == list(range(1, len(blanks) + 1))
    hints = labcheck.load_hints(folder)
    assert sorted(hints) == list(range(1, len(blanks) + 1)), "one hint per blank, keyed by number"
    answers = fill(text, (folder / "solution.scenario.yaml").read_text())
    assert sorted(answers) == list(range(1, len(blanks) + 1))
    assert all(a.strip() and "___" not in a for a in answers.values())


@pytest.mark.parametrize("lab", LAB_NAMES)
def test_readme_quotes_the_manpage_and_the_rules(lab):
    readme = (LABS / lab / "README.md").read_text()
    sc = parse_scenario(load_file(LABS / lab / "solution.scenario.yaml"), "solution")
    m_rules = [r for r in sc.covers if r.startswith("M")]
    assert m_rules and all(r in readme for r in m_rules), f"README should cite {m_rules}"
    assert "route(4P)" in readme and "> " in readme      # the quoted manpage sentence
    assert f"pytest labs/{lab}" in readme
    answers = (LABS / lab / "ANSWERS.md").read_text()
    assert "(1)" in answers


def test_split_comment_and_blanks():
    assert labcheck.split_comment('a: "x # y"  # c') == ('a: "x # y"  ', "# c")
    text = "a: ___   # (2)\nb: [___, x, ___]  # (3) (4)\n# ___ in a comment\nc: ____\n"
    assert [(b.line, b.number) for b in labcheck.find_blanks(text)] == [(1, 2), (2, 3), (2, 4), (4, None)]


# --- the checker ----------------------------------------------------------------

def test_starters_fail_with_each_blank_line_and_hint():
    """`pytest labs/` on the untouched starters: one failure per lab listing every blank."""
    rc, out = run_pytest("labs/", "-q")
    assert rc == 1, out
    assert "5 failed" in _summary(out), out
    for lab in LAB_NAMES:
        folder = LABS / lab
        blanks = labcheck.find_blanks((folder / "exercise.scenario.yaml").read_text())
        hints = labcheck.load_hints(folder)
        assert f"lab {lab}: {len(blanks)} blank(s)" in out, out
        for b in blanks:
            line = f"labs/{lab}/exercise.scenario.yaml:{b.line}: blank ({b.number}): {str(hints[b.number]).strip()}"
            assert line in out, f"missing {line!r} in\n{out}"


def test_one_lab_can_be_checked_alone():
    rc, out = run_pytest("labs/05-dad", "-q")
    assert rc == 1 and "1 failed" in _summary(out), out
    assert "lab 05-dad:" in out and "lab 01-route-monitor" not in out


def test_plain_pytest_does_not_collect_the_exercises():
    """The root's testpaths leave labs/ out; the suite checks the labs here instead."""
    # the exercises are scenario files: the collection of the YAML is what is checked, so no
    # test module is imported (-p no:python: ~1.2 s of CPU less) and none rewritten
    rc, out = run_pytest("--collect-only", "-q", "--assert=plain", "-p", "no:python")
    assert _rc_ok(rc, out) and "tests collected" in out, out[-3000:]
    ours = [line for line in out.splitlines() if line.startswith("labs/")]
    assert not ours, ours


def _copy_lab(tmp_path, lab):
    labs = tmp_path / "labs"
    labs.mkdir()
    shutil.copy(LABS / "conftest.py", labs / "conftest.py")
    shutil.copytree(LABS / lab, labs / lab)
    return labs / lab


def _filled(folder, change=None):
    text = (folder / "exercise.scenario.yaml").read_text()
    answers = fill(text, (folder / "solution.scenario.yaml").read_text())
    answers.update(change or {})
    numbers = iter(b.number for b in labcheck.find_blanks(text))
    lines = []
    for line in text.splitlines(keepends=True):
        code, comment = labcheck.split_comment(line)
        lines.append(re.sub(r"_{3,}", lambda m: answers[next(numbers)], code) + comment)
    return "".join(lines)


def test_a_malformed_answer_gets_the_plugins_file_line_error(tmp_path):
    folder = _copy_lab(tmp_path, "05-dad")
    (folder / "exercise.scenario.yaml").write_text(_filled(folder, {5: "RTM_BOGUS"}))
    rc, out = run_pytest("-p", "rtsock_emul.scenario.pytest_plugin", "labs/05-dad", cwd=tmp_path)
    assert rc != 0, out
    assert "unknown message type 'RTM_BOGUS'" in out and "exercise.scenario.yaml:28" in out, out


def test_solutions_flag_checks_the_solution_not_the_exercise(tmp_path):
    """With --lab-solutions the blanks of the exercise do not matter (sim: no root needed)."""
    _copy_lab(tmp_path, "05-dad")
    rc, out = run_pytest("-p", "rtsock_emul.scenario.pytest_plugin", "labs/", "--lab-solutions",
                         "--rtsock-mode=sim", "-q", cwd=tmp_path)
    assert "blank" not in out
    _passed_cleanly(rc, out, 1)


# --- the reference solutions ----------------------------------------------------------

@pytest.mark.skipif(IS_ROOT, reason="as root the Mininet run below covers every solution")
def test_solutions_pass_on_the_sim_platform(tmp_path):
    """Without root: every solution that needs no real packets (all but lab 03)."""
    rc, out = run_pytest("labs/", "--lab-solutions", "--rtsock-mode=sim", "-q",
                         "--rtsock-reports", str(tmp_path))
    _passed_cleanly(rc, out, 4)


@pytest.mark.root("Mininet labs: network namespaces, veths, bridges")
@pytest.mark.root
def test_solutions_pass_on_mininet(tmp_path):
    rc, out = run_pytest("labs/", "--lab-solutions", "--rtsock-mode=mininet", "-q",
                         "--rtsock-reports", str(tmp_path))
    _passed_cleanly(rc, out, 5)


@pytest.mark.root("Mininet labs: network namespaces, veths, bridges")
@pytest.mark.root
def test_a_wrong_answer_fails_with_expected_and_observed(tmp_path):
    """Lab 05 filled in with NEWADDR and ADD swapped: the plugin's report shows both lists."""
    folder = _copy_lab(tmp_path, "05-dad")
    (folder / "exercise.scenario.yaml").write_text(_filled(folder, {6: "RTM_ADD", 7: "RTM_NEWADDR"}))
    rc, out = run_pytest("-p", "rtsock_emul.scenario.pytest_plugin", "labs/05-dad",
                         "--rtsock-reports", str(tmp_path / "reports"), cwd=tmp_path)
    assert rc == 1, out
    assert "expected:" in out and "observed" in out and ">>> " in out, out
    assert "exercise.scenario.yaml:29" in out and "type is RTM_NEWADDR, expected RTM_ADD" in out, out
