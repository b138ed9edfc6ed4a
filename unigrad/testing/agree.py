"""``assert_agree``: one function's derivatives compared across backends."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from typing import Any

from unigrad import pytree
from unigrad.errors import UnsupportedError

AGREE_TRANSFORMS = ("value", "grad", "jacobian", "hessian")


def _on_backend(
    f: Callable, inputs: Sequence[Any], transform: str, backend: str, argnums: Any
) -> Any:
    """One transform of ``f`` on ``backend``: in this process, or through the backend's worker."""
    from unigrad import registry
    from unigrad.workers import client as worker

    spec = registry.specs()[registry.check_name(backend, "assert_agree(backends=...)")]
    if spec.availability().runs_in == "worker":
        name = getattr(f, "__qualname__", "")
        if "<" in name or not getattr(f, "__module__", None):
            raise TypeError(
                f"assert_agree reaches {backend} through its worker process, which imports the "
                f"function by name; define {name or f!r} at module level (not a lambda or a "
                "nested function)"
            )
        nums = list(argnums) if isinstance(argnums, tuple) else argnums
        return worker.call(
            backend, f"{f.__module__}:{name}", list(inputs), transform, {"argnums": nums}
        )
    import unigrad
    from unigrad.api.dispatch import apply

    return unigrad.to_numpy(apply(transform, f, inputs, argnums, backend))


def _results(
    f: Callable, args: list, transform: str, names: list[str], argnums: Any, skip_gaps: bool
) -> dict[str, Any]:
    """Each backend's result; with ``skip_gaps``, a backend's declared gap is a warning."""
    out = {}
    for b in names:
        try:
            out[b] = _on_backend(f, args, transform, b, argnums)
        except UnsupportedError as exc:
            if not skip_gaps:
                raise
            warnings.warn(
                f"assert_agree: {b} left out of {transform} of "
                f"{getattr(f, '__qualname__', f)}: {exc}",
                UnsupportedWarning,
                stacklevel=3,
            )
    return out


class UnsupportedWarning(UserWarning):
    """``assert_agree(backends="all")`` left out a backend that declares a gap."""


def assert_agree(
    f: Callable,
    *inputs: Any,
    transforms: Sequence[str] = ("grad",),
    backends: Sequence[str] | str | None = None,
    dtypes: Sequence[str] = ("float64",),
    argnums: int | tuple[int, ...] = 0,
    tolerance: dict[str, dict[str, float]] | None = None,
) -> None:
    """Check that ``f``'s derivatives agree across backends (MXNet through its worker).

    Each backend's result is compared with the first backend's, with the tolerances of
    ``unigrad compare`` (per dtype; ``tolerance`` overrides them). On failure the message names
    both backends, the transform, the worst element, both values and the tolerance, like
    ``torch.testing.assert_close``.

    With ``backends="all"`` (or None), a backend that raises ``UnsupportedError`` (a declared
    gap, such as MXNet's second order) is left out of that transform with a warning naming it;
    a backend named explicitly must run. Fewer than two backends left to compare raises
    ``UnsupportedError``.
    """
    from unigrad import registry
    from unigrad.compare import oracle
    from unigrad.compare.case import cast
    from unigrad.compare.records import show

    every = backends is None or backends == "all"
    if every:
        names = registry.available_backends()
    elif isinstance(backends, str):
        names = [b.strip() for b in backends.split(",") if b.strip()]
    else:
        names = list(backends)
    for b in names:
        registry.check_name(b, "assert_agree(backends=...)")
    if len(names) < 2:
        raise ValueError(f"assert_agree needs at least two backends, got {names}")
    for transform in transforms:
        if transform not in AGREE_TRANSFORMS:
            raise ValueError(f"assert_agree transforms are {AGREE_TRANSFORMS}, not {transform!r}")
        for dtype in dtypes:
            args = [pytree.tree_map(lambda v, d=dtype: cast(v, d), a) for a in inputs]
            results = _results(f, args, transform, names, argnums, every)
            ran = list(results)
            if len(ran) < 2:
                raise UnsupportedError(
                    ", ".join(b for b in names if b not in ran),
                    transform,
                    f"assert_agree({getattr(f, '__qualname__', f)}, backends='all'): only "
                    f"{', '.join(ran) or 'no backend'} can run {transform} ({dtype}) here; "
                    "nothing to compare",
                )
            first = ran[0]
            tol = oracle.tolerance(dtype, tolerance)
            for b in ran[1:]:
                v = oracle.compare(results[b], results[first], dtype, tol, against=first)
                if not v.passed:
                    raise AssertionError(
                        f"{transform} of {getattr(f, '__qualname__', f)} disagrees between "
                        f"{b} and {first} ({dtype}): {v.status}: {v.detail}\n"
                        f"  tolerance: |{b} - {first}| <= {tol['atol']:g} * max(1, max|{first}|)"
                        f" + {tol['rtol']:g} * |{first}|\n"
                        f"  {b}: {show(results[b])}\n  {first}: {show(results[first])}"
                    )
