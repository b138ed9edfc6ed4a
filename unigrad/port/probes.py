"""Diagnosis by running a framework again with one known porting mistake undone.

``recover`` handles parameters whose shapes do not fit a model but are a permutation of its
shapes: the model runs with them permuted to fit (every fitting permutation is tried, the one
under which most leaves agree is kept), so that its other leaves are still checked, and the
mismatched ones fail as a layout mismatch. ``diagnose`` names, for each failing leaf, the
mistake that makes it agree: first without a new run (``diagnose.value_diagnosis``), then with
the other GELU variant, another normalisation epsilon, or a parameter in another layout.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from unigrad.compare import oracle
from unigrad.compare.records import Status
from unigrad.port import diagnose as dx
from unigrad.port.frameworks import KNOBS
from unigrad.port.layout import suggestion
from unigrad.port.params import is_model
from unigrad.port.paths import PortShapeError
from unigrad.port.report import Leaf
from unigrad.port.runs import Attempt, attempt, framework_params, judge
from unigrad.port.setup import Setup

MAX_FIXES = 24  # permutation combinations tried to fit a model's shapes
MAX_PROBES = 32  # new runs per framework and dtype for a diagnosis
NO_MATCH = "no known porting mistake matched"


@dataclass
class Recovered:
    """A model run with mismatched parameters permuted to fit."""

    attempt: Attempt
    rows: list[Leaf]
    mismatches: list[tuple[str, tuple, tuple]]


def recover(setup: Setup, a: Attempt, r: Attempt) -> Recovered | None:
    """Run a model whose parameters are a permutation of its shapes with them permuted to fit;
    None when some shape is not a permutation, or no fitted run finishes."""
    assert isinstance(a.error, PortShapeError)
    mismatches = a.error.mismatches
    options = []
    for path, want, got in mismatches:
        perms = dx.permutations_to(tuple(got), tuple(want))
        if not perms:
            return None
        options.append([(path, p) for p in perms])
    best: tuple[int, Attempt, list[Leaf]] | None = None
    for combo in itertools.islice(itertools.product(*options), MAX_FIXES):
        b = attempt(setup, a.label, a.dtype, fixes=dict(combo))
        if not b.ok:
            continue
        rows = judge(setup, b, r)
        score = sum(row.passed for row in rows)
        if best is None or score > best[0]:
            best = (score, b, rows)
    if best is None:
        return None
    _, b, rows = best
    _mark(setup, b, rows, mismatches)
    return Recovered(b, rows, mismatches)


def _mark(setup: Setup, b: Attempt, rows: list[Leaf], mismatches: list) -> None:
    """Fail the mismatched leaves as a layout mismatch; note the fit on the others."""
    by_path = {row.path: row for row in rows if row.transform == "grad"}
    fitted = ", ".join(p for p, _, _ in mismatches)
    for row in rows:
        if row.path not in b.fixes:
            row.note = f"judged with {fitted} permuted to fit {b.label}'s model"
    for path, want, got in mismatches:
        perm = b.fixes[path]
        fix = suggestion(setup.layout[b.label].get(path), perm, path, b.label)
        kind = "a transpose" if perm == tuple(reversed(range(len(perm)))) else "a permutation"
        detail = (
            f"layout mismatch: {b.label}'s model holds {path} as {tuple(want)}, the shared "
            f"parameter after its layout is {tuple(got)}: the shapes are {kind} of each other"
        )
        row = by_path.get(path)
        agreed = row is not None and row.passed
        diagnosis = f"layout: {fix} fits the model" + (
            " and the gradient then agrees" if agreed else ""
        )
        if row is None:
            row = Leaf(
                transform="layout",
                path=path,
                framework=b.label,
                against=None,
                dtype=b.dtype,
                status=Status.FAIL,
            )
            rows.append(row)
        row.status, row.detail, row.diagnosis, row.note = Status.FAIL, detail, diagnosis, ""
        # the numbers were measured with the fit, which the layout given does not make
        row.max_abs = row.max_rel = row.ulp = row.got = row.expected = row.index = None


def diagnose(setup: Setup, a: Attempt, r: Attempt, rows: list[Leaf]) -> list[str]:
    """Set the diagnosis of each failing leaf that a known mistake explains; return the
    framework-level findings."""
    failing = [row for row in rows if not row.passed and not row.diagnosis]
    if not failing:
        return []
    weak: set[int] = set()
    for row in failing:
        if row.value is None:
            continue
        row.diagnosis = dx.value_diagnosis(
            row.value, row.reference, a.dtype, setup.tol(a.dtype), setup.sizes, a.label, r.label
        )
        if row.diagnosis.endswith("a constant factor") or row.diagnosis.startswith("precision:"):
            weak.add(id(row))
    open_rows = [row for row in failing if not row.diagnosis or id(row) in weak]
    if not open_rows:
        return _summary(a, failing)
    findings: list[str] = []
    for text, b, loose in _probes(setup, a, r):
        probed = {(x.transform, x.path): x for x in judge(setup, b, r)} if b.ok else {}
        fixed = []
        for row in open_rows:
            x = probed.get((row.transform, row.path))
            if x is not None and x.passed:
                row.diagnosis = text
                fixed.append(row)
            elif x is not None and loose and a.dtype == "float64" and _much_closer(row, x):
                row.diagnosis = text + _float32_rest(setup, a, b)
                fixed.append(row)
        if not fixed:
            continue
        open_rows = [row for row in open_rows if row not in fixed]
        if not a.ok:  # an error: the probe makes the whole function run and agree
            findings.append(f"{a.label} ({a.dtype}) runs and agrees with {r.label} once {text}")
        if not open_rows:
            break
    if a.ok:
        for row in failing:
            row.diagnosis = row.diagnosis or NO_MATCH
    return findings + _summary(a, failing)


def _float32_rest(setup: Setup, a: Attempt, b: Attempt) -> str:
    """Why a float64 run with the mistake undone agrees to float32's tolerance only."""
    why = "the rest is a float32 step inside the float64 run"
    if setup.labels[a.label] == "tensorflow" and dx.flipped_variant(b.hits).startswith("the exact"):
        why = "TensorFlow's exact GELU rounds 1/sqrt(2) to float32, in float64 too"
    return f" to float32's tolerance ({why})"


def _much_closer(row: Leaf, probed: Leaf) -> bool:
    """Whether a probe's leaf agrees to float32's tolerance, at least 10 times closer to the
    reference than the leaf was (a float64 run with a float32 step in it cannot do better;
    a leaf already that close is a precision matter, not this mistake)."""
    if probed.value is None or probed.max_abs is None or row.max_abs is None:
        return False
    tol = oracle.tolerance("float32")
    return probed.max_abs * 10 <= row.max_abs and dx.agrees(
        probed.value, probed.reference, "float32", tol
    )


def _summary(a: Attempt, failing: list[Leaf]) -> list[str]:
    told = {row.diagnosis for row in failing if row.diagnosis}
    if len(told) == 1 and all(row.diagnosis for row in failing):
        return [f"{a.label} ({a.dtype}), every failing leaf: {told.pop()}"]
    return []


def _probes(setup: Setup, a: Attempt, r: Attempt):
    """(what was changed, the run with it changed, whether float32's tolerance is enough in
    float64) for each try, cheapest first. Only the GELU's may be loose: TensorFlow's exact
    GELU is float32 in float64, so flipping to it cannot do better."""
    budget = MAX_PROBES
    knobs = KNOBS.get(setup.labels[a.label], ())
    if a.ok and "gelu" in knobs:
        b = attempt(setup, a.label, a.dtype, fixes=a.fixes, knobs={"gelu": "flip"})
        budget -= 1
        if b.hits.get("gelu"):
            yield (
                (
                    f"GELU variant: {a.label} uses {dx.gelu_variant(b.hits)}; with "
                    f"{dx.flipped_variant(b.hits)} it agrees with {r.label}"
                ),
                b,
                True,
            )
    if a.ok and "epsilon" in knobs:
        seen = attempt(setup, a.label, a.dtype, fixes=a.fixes, knobs={"epsilon": None})
        own = dx.recorded(seen.hits, "epsilon")
        theirs: list[float] = []
        if own and "epsilon" in KNOBS.get(setup.labels[r.label], ()):
            theirs = dx.recorded(
                attempt(setup, r.label, r.dtype, knobs={"epsilon": None}).hits, "epsilon"
            )
            budget -= 1
        budget -= 1
        for eps in dx.epsilon_candidates(theirs, own) if own else []:
            b = attempt(setup, a.label, a.dtype, fixes=a.fixes, knobs={"epsilon": eps})
            budget -= 1
            was = ", ".join(f"{e:g}" for e in own)
            text = f"normalisation epsilon: {a.label} has {was}; with {eps:g} it agrees"
            yield f"{text} with {r.label}", b, False
    shapes = {p: np.shape(v) for p, v in framework_params(setup, a.label, a.dtype, a.fixes).items()}
    for path, perm in dx.layout_candidates(
        shapes, is_model(setup.entry(a.label, a.dtype)), max(budget, 0)
    ):
        fixes = {**a.fixes, path: _compose(a.fixes.get(path), perm)}
        b = attempt(setup, a.label, a.dtype, fixes=fixes)
        fix = suggestion(setup.layout[a.label].get(path), fixes[path], path, a.label)
        yield (
            f"layout: {a.label} reads {path} in another axis order; {fix} makes it agree",
            b,
            False,
        )


def _compose(first: tuple[int, ...] | None, then: tuple[int, ...]) -> tuple[int, ...]:
    """The permutation ``then`` applied after ``first``."""
    return then if first is None else tuple(first[i] for i in then)
