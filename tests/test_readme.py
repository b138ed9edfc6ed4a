"""Issue 14: every Python code block in the README runs, as a user would run it.

A block that defines ``CASES`` is a case file: it is written to a file and run by ``unigrad
compare``. A block with ``def test_`` is a test module for the pytest plugin: it runs under pytest
with the ``mypkg.model`` it imports. Any other block runs as a script.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UNIGRAD = [sys.executable, "-m", "unigrad.cli"]
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
FOUR = "numpy,torch,jax,tensorflow"
BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(), flags=re.S)
MODEL = """import unigrad.numpy as unp


def loss(x):
    return unp.sum(unp.tanh(x) * x + 0.5 * x**2)
"""


def kind(block: str) -> str:
    if "CASES = [" in block:
        return "case-file"
    if "def test_" in block:
        return "pytest"
    return "script"


def run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(cwd)}
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_the_readme_has_python_blocks():
    assert {kind(b) for b in BLOCKS} == {"case-file", "pytest", "script"}


@pytest.mark.parametrize("block", BLOCKS, ids=[f"{i}-{kind(b)}" for i, b in enumerate(BLOCKS)])
def test_readme_block_runs(block: str, tmp_path: Path) -> None:
    k = kind(block)
    if k == "script":
        (tmp_path / "block.py").write_text(block)
        done = run([sys.executable, "block.py"], tmp_path)
    elif k == "case-file":
        (tmp_path / "my_cases.py").write_text(block)
        done = run(
            [*UNIGRAD, "compare", "--cases", "my_cases.py", "--backends", FOUR, "--out", "out"],
            tmp_path,
        )
    else:
        (tmp_path / "mypkg").mkdir()
        (tmp_path / "mypkg" / "__init__.py").write_text("")
        (tmp_path / "mypkg" / "model.py").write_text(MODEL)
        (tmp_path / "test_mine.py").write_text(block)
        done = run(
            [*PYTEST, "test_mine.py", "--unigrad-backends", FOUR, "--unigrad-dtypes", "both"],
            tmp_path,
        )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]


def test_ids_pick_from_the_library_and_the_given_files(tmp_path: Path) -> None:
    """The README's `--cases 'seed00*' --cases 'mine.*' --cases my_cases/` (giving a path once
    dropped the shipped library, and the seed pattern matched nothing)."""
    from unigrad.compare.selection import select_cases

    (tmp_path / "my_cases").mkdir()
    (tmp_path / "my_cases" / "mine.py").write_text(
        "from unigrad.case import Case\n"
        "CASES = [Case(id='mine.square', function=lambda x: x * x, inputs=(2.0,)),\n"
        "         Case(id='other.cube', function=lambda x: x ** 3, inputs=(2.0,))]\n"
    )
    mine = str(tmp_path / "my_cases")
    ids = {c.id for c in select_cases(["seed00*", "mine.*", mine]).cases}
    assert "mine.square" in ids and "other.cube" not in ids
    assert any(i.startswith("seed000") for i in ids)
    assert {c.id for c in select_cases([mine]).cases} == {"mine.square", "other.cube"}


def test_assert_agree_takes_all_backends():
    import numpy as np

    from tests.user_functions import softmax_cross_entropy
    from unigrad.testing import assert_agree

    # "all" is every available backend (MXNet through its worker): not iterated letter by letter
    w = np.random.default_rng(0).normal(size=(3, 3))
    assert_agree(softmax_cross_entropy, w, backends="all", transforms=("value", "grad"))
    with pytest.raises(ValueError, match="not a backend"):
        assert_agree(lambda x: x, 1.0, backends="numpy,pytorchh")
