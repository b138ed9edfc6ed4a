"""unigrad installed from a wheel, run from a folder outside the source tree.

Case discovery, workers, repro scripts and ``unigrad graph`` must not depend on the checkout:
nothing at run time edits sys.path or PYTHONPATH to reach it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

USER_MODULE = """
import unigrad
import unigrad.numpy as unp


def f(x):
    return unp.sum(x * x * x)


def where(payload):
    return {"unigrad": unigrad.__file__, "cwd_module": __file__}
"""

USER_CASES = """
import numpy as np

import unigrad.numpy as unp
from unigrad.case import Case

CASES = [
    Case(
        id="mine.cube_wrong",
        function=lambda x: unp.sum(x**3),
        inputs=(np.array([1.0, 2.0]),),
        transforms=("grad",),
        expected={"grad": [3.0, 12.5]},
    )
]
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A fresh venv holding unigrad's wheel; its other packages come from this environment."""
    tmp = tmp_path_factory.mktemp("installed")
    src = tmp / "src"
    shutil.copytree(
        ROOT,
        src,
        ignore=shutil.ignore_patterns(
            ".venv*", ".git", "reports", "build", "*.egg-info", ".pytest_cache", ".ruff_cache"
        ),
    )
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp), str(src)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp.glob("unigrad-*.whl")
    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    # numpy, torch, click, ... from this environment, listed after the venv's own site-packages
    # (a path in a .pth file is appended; the editable install's own .pth files are not read)
    (Path(site) / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [*pip, "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )
    shutil.rmtree(src)
    return venv


def run(venv: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("UNIG")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(args, capture_output=True, text=True, cwd=cwd, env=env, timeout=240)


@pytest.fixture
def work(tmp_path) -> Path:
    (tmp_path / "userfn.py").write_text(USER_MODULE)
    return tmp_path


def test_compare_finds_the_installed_case_library(installed, work):
    out = run(
        installed,
        "unigrad",
        "compare",
        "--backends",
        "numpy",
        "--cases",
        "seed001.partials",
        "--out",
        "reports",
        cwd=work,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    rows = [
        json.loads(x) for x in (work / "reports/latest/results.jsonl").read_text().split("\n")[:-1]
    ]
    assert rows and {r["status"] for r in rows} == {"pass"}
    assert all(r["file"].startswith(str(installed)) for r in rows), rows[0]["file"]
    assert str(ROOT) not in (work / "reports/latest/summary.json").read_text()


def test_worker_and_repro_scripts_run_from_the_wheel(installed, work):
    probe = (
        "import json\nimport numpy as np\n"
        "from unigrad.workers.client import call, get_worker\n"
        "from unigrad.workers.interpreters import SOURCE_ROOT\n"
        "x = np.array([1.0, 2.0])\n"
        "print(json.dumps({'grad': call('numpy', 'userfn:f', [x], 'grad').tolist(),"
        " 'where': get_worker('numpy').invoke('userfn:where'),"
        " 'python': get_worker('numpy').ping()['python'],"
        " 'checkout': str(SOURCE_ROOT)}))\n"
    )
    out = run(installed, str(installed / "bin" / "python"), "-c", probe, cwd=work)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["grad"] == [3.0, 12.0]
    assert got["where"]["unigrad"].startswith(str(installed))  # the worker's unigrad: the wheel
    assert got["where"]["cwd_module"] == str(work / "userfn.py")
    assert got["python"].startswith(str(installed))
    assert got["checkout"] == "None"  # no .venv-mxnet lookup in a checkout that is not there

    (work / "mycases.py").write_text(USER_CASES)
    out = run(
        installed,
        *("unigrad", "compare", "--backends", "numpy", "--dtype", "float64"),
        *("--cases", "mycases.py"),
        cwd=work,
    )
    assert out.returncode == 1, out.stdout + out.stderr
    (repro,) = (work / "reports/latest/repro").glob("*.py")
    elsewhere = work / "elsewhere"
    elsewhere.mkdir()
    out = run(installed, str(installed / "bin" / "python"), str(repro), cwd=elsewhere)
    assert out.returncode == 1, out.stderr  # it shows the disagreement
    assert "numpy float64: [ 3. 12.]" in out.stdout and "exact: [3.0, 12.5]" in out.stdout


def test_graph_imports_from_the_working_directory(installed, work):
    # the console script's sys.path[0] is the venv's bin folder: the cwd lookup is unigrad's own
    out = run(installed, "unigrad", "graph", "userfn:f", "[1.0, 2.0]", cwd=work)
    assert out.returncode == 0, out.stderr
    assert "input x" in out.stdout and "sum" in out.stdout
    out = run(installed, "unigrad", "graph", "nosuchmod:f", "1.0", cwd=work)
    assert out.returncode == 2 and "cannot import 'nosuchmod'" in out.stderr


def test_graph_lookup_leaves_sys_path_alone(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from unigrad.cli import cli

    pkg = tmp_path / "userpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "model.py").write_text("def f(x, y):\n    return x * y + x\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delitem(sys.modules, "userpkg", raising=False)
    monkeypatch.delitem(sys.modules, "userpkg.model", raising=False)
    before = list(sys.path)
    result = CliRunner().invoke(cli, ["graph", "userpkg.model:f", "3.0", "4.0"])
    assert result.exit_code == 0, result.output
    assert "input x" in result.output and "multiply" in result.output
    assert sys.path == before
    result = CliRunner().invoke(cli, ["graph", "userpkg.model:g", "3.0"])
    assert result.exit_code == 2 and "'userpkg.model' has no 'g'" in result.output
