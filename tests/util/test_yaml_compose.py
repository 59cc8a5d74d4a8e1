"""yaml_compose parses with libyaml (collecting the suite composes every scenario) and
gives the same node trees, line marks included, as PyYAML's pure-Python composer;
a syntax error keeps the pure-Python message the bad-file tests declare."""
from pathlib import Path

import pytest
import yaml

from rtsock_emul.util.textfile import yaml_compose

ROOT = Path(__file__).resolve().parents[2]
FILES = sorted([*ROOT.glob("scenarios/**/*.yaml"), *ROOT.glob("topologies/*.yaml"), *ROOT.glob("labs/**/*.yaml")])


def tree(node):
    """A node as nested tuples: kind, tag, value, start and end line and column."""
    if node is None:
        return None
    if isinstance(node, yaml.ScalarNode):
        value = node.value
    elif isinstance(node, yaml.SequenceNode):
        value = tuple(tree(n) for n in node.value)
    else:
        value = tuple((tree(k), tree(v)) for k, v in node.value)
    marks = (node.start_mark.line, node.start_mark.column, node.end_mark.line, node.end_mark.column)
    return type(node).__name__, node.tag, value, marks, getattr(node, "flow_style", None)


def test_every_file_of_the_project_composes_as_pure_python_does():
    assert len(FILES) > 80
    for path in FILES:
        text = path.read_text()
        assert tree(yaml_compose(text)) == tree(yaml.compose(text, Loader=yaml.SafeLoader)), path


def test_libyaml_is_used_where_pyyaml_has_it(monkeypatch):
    if not getattr(yaml, "__with_libyaml__", False):
        pytest.skip("this PyYAML is built without libyaml: the pure-Python composer is the only one")
    used = []
    real = yaml.compose
    monkeypatch.setattr(yaml, "compose", lambda text, Loader: used.append(Loader) or real(text, Loader=Loader))
    yaml_compose("a: 1\n")
    assert used == [yaml.CSafeLoader]


def test_a_syntax_error_has_the_pure_python_message():
    with pytest.raises(yaml.MarkedYAMLError) as err:
        yaml_compose("steps:\n  - {a: 1\n")
    assert "but got '<stream end>'" in str(err.value) and err.value.problem_mark.line == 2
