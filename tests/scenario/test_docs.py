"""docs/scenario-language.md names every key and step kind the schema knows; the
committed rule-coverage table is the one the covers: lists generate."""
from pathlib import Path

import pytest

from rtsock_emul.scenario import coverage, schema
from rtsock_emul.scenario.packets import PACKETS_KEYS
from rtsock_emul.scenario.patterns import MAPPING_KEYS

DOC = (Path(__file__).resolve().parents[2] / "docs" / "scenario-language.md").read_text()
NAMES = (list(schema.TOP_KEYS) + list(schema.SUBSCRIBER_KEYS) + list(schema.STEP_KINDS)
         + [k for keys in schema.STEP_KEYS.values() for k in keys] + list(schema.EXPECT_SUB_KEYS)
         + list(schema.SEND_MSG_KEYS) + list(MAPPING_KEYS) + ["exact", "ordered", "unordered"]
         + list(PACKETS_KEYS))


@pytest.mark.parametrize("name", sorted(set(NAMES)))
def test_doc_mentions(name):
    assert any(form in DOC for form in (f"`{name}", f"{name}:", f"match: {name}")), f"{name} is not documented"


def test_rule_coverage_table_is_fresh():
    """Regenerate with `python -m rtsock_emul.scenario.coverage --write`."""
    assert coverage.DOC.read_text() == coverage.render_table(coverage.collect())
