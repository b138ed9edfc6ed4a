"""The per-op suite: every OpInfo of cases/opinfos/ on every backend, in float32 and float64.

For each op and sample: the value against NumPy's, and the gradient, the jvp/vjp consistency
and the hvp against the reference engine in float64; the reference engine itself against
central finite differences. ``UNIGRAD_OPS_LEVEL=full`` runs every sample (default: the first,
and the edge samples).
"""

from __future__ import annotations

import functools
import os

import numpy as np
import pytest
from unigrad.cases.opinfos import OPINFOS

import unigrad
from unigrad import capabilities as C
from unigrad import pytree
from unigrad.compare import opchecks, oracle
from unigrad.compare.opinfo import CHECKS, OpInfo, Sample

FULL = os.environ.get("UNIGRAD_OPS_LEVEL", "quick") == "full"


def _samples(info: OpInfo) -> list[tuple[int, Sample]]:
    drawn = list(info.samples(np.random.default_rng(sum(map(ord, info.name)))))
    return [(i, s) for i, s in enumerate(drawn) if FULL or i == 0 or s.kink]


CELLS = [
    pytest.param(info, i, s, check, id=f"{info.name}-{i}-{check}")
    for info in OPINFOS
    for i, s in _samples(info)
    for check in CHECKS
    if check == "value" or (info.orders >= (2 if check == "hvp" else 1) and s.argnums)
]


@functools.cache
def _reference(name: str, index: int, check: str):
    info = next(o for o in OPINFOS if o.name == name)
    sample = _samples_all(info)[index]
    return opchecks.run(info, sample, check, "numpy", "float64")


def _samples_all(info: OpInfo) -> list[Sample]:
    return list(info.samples(np.random.default_rng(sum(map(ord, info.name)))))


def _close(got, want, dtype: str, info: OpInfo, what: str) -> None:
    tol = oracle.tolerance(dtype, info.tolerance)
    if dtype == "float32":  # float32 results against float64 references: derivatives lose more
        tol = {"rtol": max(tol["rtol"], 1e-4), "atol": max(tol["atol"], 1e-4)}
    verdict = oracle.compare(got, want, dtype, tol)
    assert verdict.passed, f"{info.name} {what}: {verdict.detail}"


@pytest.mark.parametrize(("info", "index", "sample", "check"), CELLS)
def test_op(info: OpInfo, index: int, sample: Sample, check: str, backend: str, dtype: str):
    if dtype not in info.dtypes:
        pytest.skip(f"{info.name} runs in {info.dtypes}")
    gap = info.gap(backend, check)
    try:
        got = opchecks.run(info, sample, check, backend, dtype)
    except unigrad.UnsupportedError as exc:
        partial = unigrad.get_backend(backend).capabilities.get(C.HIGHER_ORDER) != C.NATIVE
        if gap or (check == "hvp" and partial):
            pytest.skip(f"declared gap: {gap or exc}")
        raise
    if check == "value":
        _close(got, info.expected(sample), dtype, info, "value against NumPy")
        return
    if check == "jvp_vjp":
        forward, backward = got
        scale = max(1.0, abs(forward))
        tol = 1e-4 if dtype == "float32" else 1e-9
        assert abs(forward - backward) <= tol * scale, f"vᵀ(J u): jvp {forward}, vjp {backward}"
        return
    _close(got, _reference(info.name, index, check), dtype, info, f"{check} against the engine")


@pytest.mark.parametrize(
    ("info", "index", "sample", "check"),
    [c for c in CELLS if c.values[3] in ("grad", "hvp") and not c.values[2].kink],
)
def test_reference_engine_against_finite_differences(info, index, sample, check):
    want = opchecks.finite_differences(info, sample, check)
    got = _reference(info.name, index, check)
    for g, w in zip(pytree.tree_leaves(got), pytree.tree_leaves(want)):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6, err_msg=f"{info.name} {check}")
