"""docs/commands.md is generated from the verbs' usage texts and must not drift."""
from rtsock_emul.admin import reference


def test_commands_reference_is_current():
    assert reference.DOC.read_text() == reference.render(), \
        "docs/commands.md is stale: run .venv/bin/python -m rtsock_emul.admin.reference"


def test_every_verb_has_a_section():
    text = reference.render()
    for verb in ("ipadm", "ifconfig", "if_mpadm", "ipmpstat", "route", "kernel"):
        assert f"## {verb}\n" in text
