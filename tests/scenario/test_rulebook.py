"""docs/rules.md: one entry per rule id, every id used anywhere has one, and the
generated lists (scenarios, tests, oracle) are current."""
import re

from rtsock_emul.scenario import rulebook
from rtsock_emul.scenario.coverage import ROOT, all_rule_ids

NOT_OURS = {".venv", ".git", "reports", "build", "__pycache__", ".pytest_cache", ".hypothesis"}
TEXT_SUFFIXES = {".py", ".md", ".yaml", ".yml", ".c", ".h", ".txt", ".html", ".cfg", ".ini", ".toml"}


def project_text_files():
    return [p for p in ROOT.rglob("*") if p.is_file() and p.suffix in TEXT_SUFFIXES
            and not NOT_OURS & set(p.relative_to(ROOT).parts)]


def test_one_entry_per_rule_id_in_order():
    assert list(rulebook.load()) == all_rule_ids()


def test_every_entry_names_its_source():
    """M rules quote the manual page sentence; R rules name an illumos file and function."""
    for rule, entry in rulebook.load().items():
        assert entry.get("text", "").strip(), f"{rule} has no statement"
        key = "manpage" if rule.startswith("M") else "source"
        assert entry.get(key, "").strip(), f"{rule} lacks `{key}`"
        if key == "source":
            assert re.search(r"\w+\.(c|h|4p)\b|manual page", entry["source"]), f"{rule}: {entry['source']}"


def test_every_rule_id_in_use_has_an_entry():
    book = set(rulebook.load())
    unknown = {}
    for path in project_text_files():
        for rule in rulebook.ids_in(path.read_text(encoding="utf-8", errors="replace")):
            if rule not in book:
                unknown.setdefault(rule, []).append(str(path.relative_to(ROOT)))
    assert not unknown, f"rule ids with no entry in docs/rules.md: {unknown}"


def test_ids_in_reads_ranges():
    assert rulebook.ids_in("R99-R101, R123–R126 and M17") == {
        "R99", "R100", "R101", "R123", "R124", "R125", "R126", "M17"}


def test_rule_book_is_current():
    """Regenerate with `python -m rtsock_emul.scenario.rulebook --write`."""
    assert rulebook.DOC.read_text(encoding="utf-8") == rulebook.render(), (
        "docs/rules.md is stale: run .venv/bin/python -m rtsock_emul.scenario.rulebook --write")


def test_entries_have_stable_anchors():
    text = rulebook.DOC.read_text(encoding="utf-8")
    for rule in all_rule_ids():
        assert f'<a id="{rule.lower()}"></a>' in text, rule
    assert rulebook.rule_ref("R56a") == "docs/rules.md#r56a"


def test_generated_parts_follow_their_sources(tmp_path):
    """A scenario covering a rule and an oracle check show up in that rule's entry."""
    text = rulebook.render(scenarios={"R45": ["scenarios/x.scenario.yaml"]},
                           tests={"R45": ["tests/t.py::test_flags"]}, checked={"R45"})
    entry = text.split('<a id="r45"></a>')[1].split("<a id=")[0]
    assert "`scenarios/x.scenario.yaml`" in entry and "`tests/t.py::test_flags`" in entry
    assert "checked on every stream" in entry
    other = text.split('<a id="r44"></a>')[1].split("<a id=")[0]
    assert "Scenarios: none" in other and "not checked" in other


def test_tests_are_found_by_docstring_comment_and_module(tmp_path):
    (tmp_path / "test_demo.py").write_text(
        '"""About R3."""\n\n\ndef test_sizes():\n    """R4 offsets."""\n\n\n'
        'def test_other():\n    x = 1  # R8\n\n\ndef helper():\n    """R9"""\n')
    table = rulebook.collect_tests(tmp_path, base=tmp_path)
    assert table == {"R3": ["test_demo.py"], "R4": ["test_demo.py::test_sizes"],
                     "R8": ["test_demo.py::test_other"]}


def test_violations_point_to_the_rule_book():
    """A failure report, the exception text and the timeline name the rule's entry."""
    from rtsock_emul.scenario.errors import OracleViolation
    from rtsock_emul.scenario.oracle import Violation
    from rtsock_emul.scenario.report import violation_lines
    v = Violation("R45", "aware", "RTM_IFINFO net0 has flags <UP>")
    assert "(see docs/rules.md#r45)" in violation_lines(v)[1]
    assert "R45 (docs/rules.md#r45)" in str(OracleViolation([v]))


def test_rule_coverage_links_each_rule():
    text = (ROOT / "docs" / "rule-coverage.md").read_text(encoding="utf-8")
    assert "| [M16](rules.md#m16) |" in text
    assert "[R56a](rules.md#r56a)" in text
