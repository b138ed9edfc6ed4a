"""Checks of a case's fields, run when a ``Case`` is made.

A field of the wrong type (a tolerance that is not a number, an expected value that is not
numeric) is a ``CaseError``: that case is left out of the run and reported with its file and
line. An unknown name (a transform, a dtype, a backend in ``gaps``) is a ``CaseNameError``: a
usage error, like an unknown ``--backends`` name, with the closest valid name.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from unigrad import pytree

if TYPE_CHECKING:
    from unigrad.compare.case import Case

TOLERANCE_KEYS = ("rtol", "atol")


class CaseError(ValueError):
    """A case whose fields are wrong; ``where`` is file:line of its definition."""

    def __init__(self, where: str, case_id: Any, problems: list[str]) -> None:
        self.where = where
        self.case_id = case_id
        self.problems = problems
        who = f"case {case_id!r}: " if case_id is not None else ""
        super().__init__(f"{where}: {who}" + "; ".join(problems))


class CaseNameError(CaseError):
    """A case that names a transform, dtype or backend that does not exist (a usage error)."""


def suggest(name: Any, valid: Iterable[str], what: str) -> str:
    """``unknown <what> 'x'; did you mean 'y'? (use a, b, c)``."""
    valid = list(valid)
    close = difflib.get_close_matches(str(name), valid, n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"unknown {what} {name!r}{hint} (use {', '.join(valid)})"


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool)


def _numeric_leaf_problem(v: Any) -> str | None:
    if isinstance(v, str | bytes):
        return f"holds {v!r}, not a number"
    try:
        a = np.asarray(v, dtype=np.float64)
    except (TypeError, ValueError):
        return f"holds {type(v).__name__} {v!r:.60}, not numbers"
    del a
    return None


class _Findings:
    """Problems found in one case, split into wrong types and unknown names."""

    def __init__(self) -> None:
        self.typed: list[str] = []
        self.names: list[str] = []

    def names_in(self, field: str, given: Iterable[Any], valid: Iterable[str], what: str) -> None:
        valid = list(valid)
        for name in given:
            if name not in valid:
                self.names.append(f"{field}: {suggest(name, valid, what)}")

    def mapping(self, field: str, value: Any) -> bool:
        if not isinstance(value, dict):
            self.typed.append(f"{field} must be a dict, not {type(value).__name__}")
            return False
        return True

    def sequence_of_names(self, field: str, value: Any, valid: tuple[str, ...], what: str) -> None:
        if isinstance(value, str) or not isinstance(value, list | tuple):
            self.typed.append(
                f"{field} must be a tuple of names such as {valid[:2]}, not {value!r:.60}"
            )
            return
        if not value:
            self.typed.append(
                f"{field} is empty: the case would test nothing; give at least one of "
                f"{', '.join(valid)}"
            )
            return
        self.names_in(field, value, valid, what)


def _backend_names() -> list[str]:
    from unigrad import registry

    return registry.backend_names()


def _check_gaps(found: _Findings, gaps: Any, transforms: tuple[str, ...]) -> None:
    if not found.mapping("gaps", gaps):
        return
    found.names_in("gaps", gaps, _backend_names(), "backend")
    for backend, per in gaps.items():
        field = f"gaps[{backend!r}]"
        if not isinstance(per, dict):
            found.typed.append(
                f"{field} must map transforms to reasons, e.g. {{'hessian': 'why'}}, "
                f"not {type(per).__name__} {per!r:.60}"
            )
            continue
        found.names_in(field, per, (*transforms, "*"), "transform")
        for t, why in per.items():
            if not isinstance(why, str):
                found.typed.append(f"{field}[{t!r}] must be a reason (text), not {why!r:.60}")


def _check_tolerance(found: _Findings, tolerance: Any, dtypes: tuple[str, ...]) -> None:
    if not found.mapping("tolerance", tolerance):
        return
    found.names_in("tolerance", tolerance, dtypes, "dtype")
    for dtype, tol in tolerance.items():
        field = f"tolerance[{dtype!r}]"
        if not isinstance(tol, dict):
            found.typed.append(f"{field} must be a dict such as {{'rtol': 1e-6}}, not {tol!r:.60}")
            continue
        found.names_in(field, tol, TOLERANCE_KEYS, "tolerance")
        for key, v in tol.items():
            if not _is_number(v) or not np.isfinite(v) or v < 0:
                found.typed.append(f"{field}[{key!r}] must be a number >= 0, not {v!r:.60}")


def _check_expected(found: _Findings, case: Case, transforms: tuple[str, ...]) -> None:
    if not found.mapping("expected", case.expected):
        return
    found.names_in("expected", case.expected, transforms, "transform")
    runs = case.transforms if isinstance(case.transforms, list | tuple) else transforms
    for t, value in case.expected.items():
        if t in transforms and t not in runs:
            found.typed.append(f"expected[{t!r}] is given but {t!r} is not in transforms")
        for leaf in pytree.tree_leaves(value):
            problem = _numeric_leaf_problem(leaf)
            if problem:
                found.typed.append(f"expected[{t!r}] {problem}")
                break


def _check_callables(found: _Findings, case: Case) -> None:
    if not callable(case.function):
        found.typed.append(f"function must be callable, not {type(case.function).__name__}")
    if not (callable(case.inputs) or isinstance(case.inputs, list | tuple)):
        found.typed.append(
            "inputs must be a tuple of arguments or a function of a numpy Generator, "
            f"not {type(case.inputs).__name__}"
        )
    if found.mapping("native", case.native):
        found.names_in("native", case.native, _backend_names(), "backend")
        for b, fn in case.native.items():
            if not callable(fn):
                found.typed.append(f"native[{b!r}] must be callable, not {type(fn).__name__}")


def _check_id(found: _Findings, case_id: Any) -> None:
    if not isinstance(case_id, str) or not case_id:
        found.typed.append(f"id must be a non-empty string, not {case_id!r:.60}")
        return
    try:
        case_id.encode("utf-8")
    except UnicodeEncodeError:
        found.typed.append("id holds characters that cannot be written to a file (surrogates)")


def _check_argnums(found: _Findings, argnums: Any) -> None:
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    if not nums or not all(isinstance(n, int) and not isinstance(n, bool) for n in nums):
        found.typed.append(f"argnums must be an int or a tuple of ints, not {argnums!r:.60}")


def check(case: Case, transforms: tuple[str, ...], dtypes: tuple[str, ...]) -> None:
    """Raise ``CaseNameError`` or ``CaseError`` naming every problem of ``case``'s fields."""
    found = _Findings()
    _check_id(found, case.id)
    _check_callables(found, case)
    found.sequence_of_names("transforms", case.transforms, transforms, "transform")
    found.sequence_of_names("dtypes", case.dtypes, dtypes, "dtype")
    _check_argnums(found, case.argnums)
    _check_expected(found, case, transforms)
    _check_tolerance(found, case.tolerance, dtypes)
    _check_gaps(found, case.gaps, transforms)
    for name in ("source", "notes", "no_finite_differences"):
        if not isinstance(getattr(case, name), str):
            found.typed.append(f"{name} must be text, not {type(getattr(case, name)).__name__}")
    if found.names:
        raise CaseNameError(case.where, case.id, found.names + found.typed)
    if found.typed:
        raise CaseError(case.where, case.id, found.typed)
