"""Issue 11: adding a backend takes one folder and one entry point.

tests/toy_backend/ is a backend over HIPS autograd, packaged on its own (a spec, an adapter with
conversion, stop_gradient, vjp and jvp: no op table, no conventions). It is installed into a
temporary folder and found through the entry-point group; the API and kink tests then run on it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PIP = [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation"]
PYTEST = [sys.executable, "-m", "pytest", "-q", "-o", "addopts=", "-p", "no:cacheprovider", "-x"]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("toy")
    shutil.copytree(ROOT / "tests" / "toy_backend", tmp / "src")
    target = tmp / "site"
    subprocess.run(
        [*PIP, "--target", str(target), str(tmp / "src")],
        check=True,
        capture_output=True,
    )
    return target


def _env(site: Path) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(site), "UNIGRAD_TEST_BACKENDS": "toy"}


def test_the_installed_backend_is_found_through_its_entry_point(site: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "unigrad.cli", "backends", "--json", "--no-probe"],
        env=_env(site),
        capture_output=True,
        text=True,
        check=True,
    )
    assert '"name": "toy"' in out.stdout


def test_the_api_kink_and_protocol_tests_pass_on_the_toy_backend(site: Path) -> None:
    run = subprocess.run(
        [
            *PYTEST,
            "tests/test_api.py",
            "tests/test_kinks.py",
            "tests/test_protocol.py",
            "-k",
            "toy",
        ],
        cwd=ROOT,
        env=_env(site),
        capture_output=True,
        text=True,
    )
    tail = run.stdout[-3000:]
    assert run.returncode == 0, tail
    summary = tail.strip().splitlines()[-1]
    assert " passed" in summary and "failed" not in summary and "skipped" not in summary, tail
