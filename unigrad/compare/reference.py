"""The reference of ``unigrad compare``: every cell on the numpy engine in float64, each result
checked against central finite differences in float64."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from unigrad import pytree
from unigrad.api.dispatch import closed_over
from unigrad.compare import oracle
from unigrad.compare.case import Case, directions
from unigrad.compare.cells import run_cell
from unigrad.compare.records import Outcome
from unigrad.testing.gradcheck import assemble_jacobian, numerical_jacobian


@dataclass
class Reference:
    """The reference engine's float64 results, keyed by (case id, transform), and their
    finite-difference check; a cell the reference could not compute has an error instead."""

    values: dict[tuple[str, str], Any] = field(default_factory=dict)
    errors: dict[tuple[str, str], str] = field(default_factory=dict)
    fd: dict[tuple[str, str], str] = field(default_factory=dict)


def _flat(v: Any) -> np.ndarray:
    leaves = pytree.tree_leaves(v)
    if not leaves:
        return np.zeros(0)
    return np.concatenate([np.ravel(np.asarray(x, np.float64)) for x in leaves])


def _sizes(tree: Any) -> list[int]:
    return [int(np.size(v)) for v in pytree.tree_leaves(tree)]


def fd_check(case: Case, transform: str, ref: Any) -> str:
    """Check a reference result against central finite differences: 'ok', 'n/a' or why not."""
    if transform == "value":
        return "n/a"
    if case.no_finite_differences:
        return f"n/a ({case.no_finite_differences})"
    import unigrad

    args = case.make_inputs("float64")
    nums = [case.argnums] if isinstance(case.argnums, int) else list(case.argnums)
    partial = closed_over(case.function, args, nums, "numpy")
    primals = [args[i] for i in nums]
    if any(np.asarray(v).dtype.kind != "f" for v in pytree.tree_leaves(primals)):
        return "n/a"
    try:
        if transform in ("hessian", "hvp"):

            def fn(*d: Any) -> Any:
                return unigrad.grad(partial, tuple(range(len(d))), backend="numpy")(*d)

        else:
            fn = partial
        jac = numerical_jacobian(fn, *primals, backend="numpy")
    except Exception as exc:  # the function cannot be evaluated off its inputs
        return f"n/a ({type(exc).__name__})"
    got = _flat(ref)
    in_sizes = _sizes(primals)
    if transform == "grad":
        want = jac.T.ravel()
    elif transform == "hessian":
        got = assemble_jacobian(ref, in_sizes, in_sizes).ravel()
        want = jac.ravel()
    elif transform == "jacobian":
        out_sizes = _sizes(unigrad.to_numpy(partial(*primals)))
        got = assemble_jacobian(ref, out_sizes, in_sizes).ravel()
        want = jac.ravel()
    elif transform == "vjp":
        out0 = unigrad.to_numpy(partial(*primals))
        cts = directions(case, [np.shape(v) for v in pytree.tree_leaves(out0)], "vjp", "float64")
        want = _flat(cts) @ jac
    else:  # jvp, hvp
        shapes = [np.shape(v) for v in pytree.tree_leaves(primals)]
        want = jac @ _flat(directions(case, shapes, transform, "float64"))
    verdict = oracle.compare(got, want, "float64", oracle.FD_TOLERANCE)
    return "ok" if verdict.passed else f"mismatch: {verdict.detail}"


def reference(cases: Sequence[Case]) -> Reference:
    """Run every case on the reference engine in float64, and check it by finite differences."""
    ref = Reference()
    with np.errstate(all="ignore"):  # nan and inf at edge points are results, not accidents
        for case in cases:
            for t in case.transforms:
                cell = run_cell(case, t, "numpy", "float64")
                if cell.outcome == Outcome.OK:
                    ref.values[(case.id, t)] = cell.value
                    ref.fd[(case.id, t)] = fd_check(case, t, cell.value)
                else:
                    ref.errors[(case.id, t)] = cell.error or cell.outcome.value
    return ref
