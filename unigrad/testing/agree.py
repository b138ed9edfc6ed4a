"""``assert_agree``: one function's derivatives compared across backends."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from unigrad import pytree

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
    """
    from unigrad import registry
    from unigrad.compare import oracle
    from unigrad.compare.case import cast
    from unigrad.compare.records import show

    if backends is None or backends == "all":
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
            results = {b: _on_backend(f, args, transform, b, argnums) for b in names}
            first = names[0]
            tol = oracle.tolerance(dtype, tolerance)
            for b in names[1:]:
                v = oracle.compare(results[b], results[first], dtype, tol, against=first)
                if not v.passed:
                    raise AssertionError(
                        f"{transform} of {getattr(f, '__qualname__', f)} disagrees between "
                        f"{b} and {first} ({dtype}): {v.status}: {v.detail}\n"
                        f"  tolerance: |{b} - {first}| <= {tol['atol']:g} * max(1, max|{first}|)"
                        f" + {tol['rtol']:g} * |{first}|\n"
                        f"  {b}: {show(results[b])}\n  {first}: {show(results[first])}"
                    )
