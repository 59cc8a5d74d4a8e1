"""Where a person reads a rule: its entry in the rule book docs/rules.md (rulebook.py writes it)."""

DOC_PATH = "docs/rules.md"


def anchor(rule: object) -> str:
    """The HTML anchor of a rule's entry: "R56a" -> "r56a"."""
    return str(rule).lower()


def rule_ref(rule: object) -> str:
    """Where a person reads rule `rule`, relative to the repository root."""
    return f"{DOC_PATH}#{anchor(rule)}"
