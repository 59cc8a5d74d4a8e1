"""The lab checker for the folders here (rtsock_emul/scenario/labcheck.py):
`pytest labs/NN-name` checks the student's exercise, `--lab-solutions` the solution."""
from pathlib import Path

from rtsock_emul.scenario import labcheck

pytest_addoption = labcheck.pytest_addoption
pytest_collect_file = labcheck.collect_file_hook(Path(__file__).resolve().parent)
