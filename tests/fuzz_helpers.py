"""What the fuzz tests share: a program judged against the reference engine, and a campaign
run through the command line."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from unigrad.fuzz import execute
from unigrad.fuzz.judge import Candidate, judge
from unigrad.fuzz.program import Program

ROOT = Path(__file__).resolve().parent.parent


def candidates(
    program: Program, backend: str, tamper: Callable[[dict], None] | None = None
) -> tuple[list[Candidate], dict, dict]:
    """The judge's candidates of ``program`` on ``backend`` (float32 and float64), the
    reference's results and the backend's; ``tamper`` may change its float64 results first."""
    with np.errstate(all="ignore"):
        ref = execute.reference_program(program, execute.CHECKS)
        per = {
            backend: {
                dt: execute.run_program(program, backend, dt, execute.CHECKS)
                for dt in ("float32", "float64")
            }
        }
        if tamper is not None:
            tamper(per[backend]["float64"])
        found, _ = judge(0, program, per, ref)
    return found, ref, per


def campaign(out: Path, *args: str) -> tuple[subprocess.CompletedProcess, Path]:
    """``unigrad fuzz *args --out out``: the finished process and its campaign folder."""
    run = subprocess.run(
        [sys.executable, "-m", "unigrad.cli", "fuzz", *args, "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    (run_dir,) = [p for p in out.iterdir() if p.is_dir() and not p.is_symlink()]
    return run, run_dir
