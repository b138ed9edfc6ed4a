"""The numerical-stability filter: a disagreement that rounding, range or a kink explains is
not a finding (the idea of ∇Fuzz). Every filtered candidate is counted with its reason.

Reasons, tried in order:

- ``finite differences undefined``: the candidate disagrees with finite differences that are
  not finite themselves (a step that leaves the domain, as sqrt's at 0; an input that is inf or
  nan): there they are no oracle.
- ``finite differences cross a kink``: the candidate disagrees with finite differences only at
  elements where the differences at the two steps (h and h/2) disagree with each other beyond
  the tolerance: the step crosses a point where the program is not smooth (norm or abs at 0 of
  an input smaller than the step, a tie, a jump), and the differences measure the jump, not the
  derivative (``judge.fd_compare``). On a smooth program the two steps agree to O(h²).
- ``nan placed by mode (0 × inf)``: the backend's reverse and forward mode disagree only in
  where IEEE 0 × inf puts a nan (a direction that does not move an element, meeting that
  element's infinite derivative: ``where(x > 0, sqrt(x), y)`` at 0 is nan in reverse mode and
  a number in forward mode), exactly as the reference engine puts it: the documented
  convention (README, "Derivatives at kinks"), the same on every backend. The judge marks such
  a "jvp/vjp" candidate only when the reference shows the same nan at the same positions and
  the same number on the other side; the backend's jvp and vjp are still each compared with
  the reference's, nan by position.
- ``ill-conditioned``: the difference is within what rounding explains. The reference worker
  measures the program's rounding sensitivity (how much L = sum(out * W), or a projection of
  its gradient, moves when every intermediate value is off by one relative unit); a difference
  of at most ``CONDITIONING_FACTOR * eps * (sensitivity + |value|)`` is rounding, not a bug.
  Differences against finite differences use the step's own error in place of eps.
- ``float32 precision``: recomputed in float64, the same backend agrees, and the float32
  difference is within a thousand times the rounding bound, or the program's values leave
  float32's range (overflow to inf, underflow to 0).
- ``vanishes under perturbation``: moved by a small relative perturbation (twice), the
  disagreement is gone: the program sat on a kink, a tie or a boundary by accident. Programs
  whose inputs sit on an edge an op declares (its pinned convention) are not filtered this way:
  there the convention must hold on every backend.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from unigrad.fuzz.judge import FD_KINK, PLACED_BY_MODE, Candidate
from unigrad.fuzz.program import Program

EPS = {"float32": float(np.finfo(np.float32).eps), "float64": float(np.finfo(np.float64).eps)}
CONDITIONING_FACTOR = 32.0
FLOAT32_FACTOR = 1000.0
FD_EPS = 1e-7  #: the relative error of a central difference with a step of about 1e-6
FLOAT32_RANGE = (1e-37, 1e37)
PERTURBATION = (1e-5, 1e-4)  #: relative size of the perturbation
REASONS = (
    "finite differences undefined",
    "finite differences cross a kink",
    "nan placed by mode (0 × inf)",
    "ill-conditioned",
    "float32 precision",
    "vanishes under perturbation",
)


def by_differences(c: Candidate) -> str | None:
    """``finite differences undefined`` when ``c`` is judged by finite differences that are
    inf or nan somewhere, else None."""
    if not c.against.startswith(("finite", "itself (hvp")) or c.extra.get("want_finite", True):
        return None
    return "finite differences undefined"


def by_kink(c: Candidate) -> str | None:
    """``finite differences cross a kink`` when the judge found the candidate's disagreement
    with finite differences only where their two steps disagree (``judge.FD_KINK``)."""
    if not c.extra.get(FD_KINK):
        return None
    return "finite differences cross a kink"


def by_mode(c: Candidate) -> str | None:
    """``nan placed by mode (0 × inf)`` when the judge found the reverse-vs-forward nan to be
    the documented placement (``judge.PLACED_BY_MODE``), else None."""
    if c.transform != "jvp/vjp" or c.kind != "nan" or not c.extra.get(PLACED_BY_MODE):
        return None
    return "nan placed by mode (0 × inf)"


def _sensitivity(c: Candidate, sens: dict[str, float]) -> float:
    return sens.get("value" if c.order == 0 else "grad", float("inf"))


def by_rounding(c: Candidate, sens: dict[str, float] | None) -> str | None:
    """``ill-conditioned`` when rounding explains the difference, else None."""
    if sens is None or c.kind != "wrong value" or not np.isfinite(c.error):
        return None
    eps = FD_EPS if c.against.startswith(("finite", "itself (hvp")) else EPS[c.dtype]
    bound = CONDITIONING_FACTOR * eps * (_sensitivity(c, sens) + c.scale)
    if c.error <= bound:
        return "ill-conditioned"
    return None


def by_float64(c: Candidate, sens: dict[str, float] | None, agrees_in_float64: bool) -> str | None:
    """``float32 precision`` when the float64 run agrees and float32 explains the rest."""
    if c.dtype != "float32" or not agrees_in_float64 or sens is None:
        return None
    lo, hi = FLOAT32_RANGE
    if sens.get("max_magnitude", 0.0) > hi or sens.get("min_magnitude", 1.0) < lo:
        return "float32 precision"
    if c.kind == "wrong value" and np.isfinite(c.error):
        bound = FLOAT32_FACTOR * EPS["float32"] * (_sensitivity(c, sens) + c.scale)
        if c.error <= bound:
            return "float32 precision"
    return None


def perturbable(c: Candidate, program: Program) -> bool:
    """Whether the perturbation test applies (not at a declared edge; a value disagreement)."""
    return c.kind in ("wrong value", "nan") and not any(i.kink for i in program.inputs)


def perturbed(program: Program, k: int) -> Program:
    """``program`` with its inputs moved by a small relative amount (the k-th such move);
    zeros move up, so that a closed lower bound (sqrt at 0) stays inside the domain."""
    rng = np.random.default_rng([k, *map(ord, program.key[-16:])])
    lo, hi = PERTURBATION
    moved = []
    for inp in program.inputs:
        x = np.asarray(inp.value, np.float64)
        step = rng.uniform(lo, hi, x.shape) * (np.abs(x) + 1e-3)
        sign = np.where(x == 0, 1.0, rng.choice([-1.0, 1.0], x.shape))
        moved.append(x + sign * step)
    out = program.with_inputs(moved)
    return replace(out, key=program.key)


def sensitivity_of(ref: dict[str, Any]) -> dict[str, float] | None:
    """The reference worker's sensitivity measurement, if it has one."""
    s = ref.get("sensitivity")
    return s["value"] if s and s.get("ok") else None
