"""`sudo pytest` as typed: a pytest started by another interpreter (Debian's
/usr/bin/pytest, `python3 -m pytest`, an older pytest in the user's site packages or
on PYTHONPATH) runs again inside .venv, with the same arguments, output and exit code
as `.venv/bin/python -m pytest`, and says so in one line."""
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
VENV_PY = ROOT / ".venv" / "bin" / "python"
SYSTEM_PY = Path("/usr/bin/python3")
SYSTEM_PYTEST = Path("/usr/bin/pytest")
DIST = Path("/usr/lib/python3/dist-packages")
NOTICE = re.compile(r"^ipmp-lab: \S+ is not the project's Python; running again as \S+/\.venv/bin/python -m pytest$")

pytestmark = [
    pytest.mark.skipif(not SYSTEM_PYTEST.exists() or not (DIST / "_pytest").is_dir(),
                       reason="Debian's python3-pytest is not installed (`./ipmp-lab setup` installs it)"),
    pytest.mark.skipif(not VENV_PY.exists(), reason="no .venv: run `./ipmp-lab setup`"),
]

# every session here starts without the hypothesis plugin: the probe does not use it, and
# loading it costs 0.25-1 s of CPU per session (its modules' asserts are rewritten)
QUIET = ["-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-q"]

PROBE = '''
import os, sys
from pathlib import Path
import pytest
import pytest_timeout   # only .venv has it

VENV = Path({venv!r})

def test_inside_the_venv():
    assert Path(sys.prefix).resolve() == VENV.resolve()
    assert Path(pytest.__file__).resolve().is_relative_to(VENV.resolve()), pytest.__file__

def test_fails_on_purpose():
    observed = {{"flags": ["UP", "RUNNING"]}}
    assert observed == {{"flags": ["UP", "FAILED"]}}
'''


@pytest.fixture(scope="module")
def probe_dir():
    """A tiny test folder inside the project (so the root conftest.py is its conftest)."""
    d = Path(tempfile.mkdtemp(prefix="tmp-reexec-", dir=ROOT))
    (d / "test_probe.py").write_text(PROBE.format(venv=str(ROOT / ".venv")))
    yield d
    shutil.rmtree(d)


def _env(**extra):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST_", "IPMP_LAB_", "PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"    # sudo's secure_path
    env.update(extra)
    return env


def _run(argv, cwd, **env):
    p = subprocess.run(argv, cwd=cwd, env=_env(**env), capture_output=True, text=True, timeout=120)
    return p.returncode, _same_shape(p.stdout), p.stderr


def _same_shape(out):
    """Durations differ from run to run; nothing else may."""
    return re.sub(r"\b\d+\.\d+s\b", "N.NNs", out)


def _compare(system_argv, venv_args, cwd, **env):
    """The system-started run and the .venv run: same code and output; one notice line."""
    rc, out, err = _run(system_argv, cwd, **env)
    want_rc, want_out, _ = _run([str(VENV_PY), "-m", "pytest", *venv_args], cwd)
    notices = [line for line in err.splitlines() if line.startswith("ipmp-lab:")]
    assert len(notices) == 1 and NOTICE.match(notices[0]), err
    assert (rc, out) == (want_rc, want_out)
    return rc, out


def test_debian_pytest_reruns_in_venv_passing_and_failing(probe_dir):
    rel = probe_dir.name
    common = [*QUIET]
    rc, out = _compare([str(SYSTEM_PYTEST), *common, f"{rel}/test_probe.py::test_inside_the_venv"],
                       [*common, f"{rel}/test_probe.py::test_inside_the_venv"], ROOT)
    assert rc == 0 and "1 passed" in out
    rc, out = _compare([str(SYSTEM_PYTEST), *common, rel, "-k", "on_purpose"],
                       [*common, rel, "-k", "on_purpose"], ROOT)
    assert rc == 1 and "1 failed, 1 deselected" in out and "'RUNNING'" in out


def test_python3_m_pytest_from_a_subfolder(probe_dir):
    args = [*QUIET, "test_probe.py"]
    rc, out = _compare([str(SYSTEM_PY), "-m", "pytest", *args], args, probe_dir)
    assert rc == 1 and "1 failed, 1 passed" in out


@pytest.fixture(scope="module")
def older_pytest(tmp_path_factory):
    """A copy of Debian's pytest relabelled 7.0.0: 'an older pytest' the user installed."""
    d = tmp_path_factory.mktemp("oldpytest")
    for name in ("pytest", "_pytest", "pluggy", "iniconfig", "py", "packaging", "attr"):
        if (DIST / name).is_dir():
            shutil.copytree(DIST / name, d / name)
    (d / "_pytest" / "_version.py").write_text("version = __version__ = '7.0.0'\nversion_tuple = (7, 0, 0)\n")
    return d


@pytest.mark.parametrize("where", ["PYTHONPATH", "user site"])
def test_older_pytest_of_the_user_is_not_used(probe_dir, older_pytest, tmp_path, where):
    if where == "PYTHONPATH":
        env = {"PYTHONPATH": str(older_pytest)}
    else:
        site = tmp_path / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
        shutil.copytree(older_pytest, site)
        env = {"PYTHONUSERBASE": str(tmp_path)}
    shown = _run([str(SYSTEM_PY), "-c", "import pytest; print(pytest.__version__)"], ROOT, **env)[1]
    assert shown.strip() == "7.0.0", "the older pytest is not what the system Python imports"
    args = [*QUIET, f"{probe_dir.name}/test_probe.py"]
    rc, out = _compare([str(SYSTEM_PY), "-m", "pytest", *args], args, ROOT, **env)
    assert rc == 1 and "1 failed, 1 passed" in out


def test_never_loops(probe_dir):
    """A run that was re-executed once is not re-executed again, even if still outside .venv."""
    rc, out, err = _run([str(SYSTEM_PYTEST), *QUIET, probe_dir.name, "-k", "inside"],
                        ROOT, IPMP_LAB_REEXEC="/usr/bin/python3")
    assert "going on without re-running again" in out + err and "running again as" not in out + err
    assert rc != 0      # the probe sees it is not inside .venv
