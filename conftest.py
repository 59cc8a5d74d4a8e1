"""Loads the scenario plugin (every scenarios/**/*.scenario.yaml is a pytest item)
and pytester (tests/scenario run pytest on scenario files)."""
pytest_plugins = ["rtsock_emul.scenario.pytest_plugin", "pytester"]
