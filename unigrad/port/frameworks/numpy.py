"""Native runs on NumPy, differentiated by unigrad's reference engine (``unigrad.vjp`` on the
numpy backend): a NumPy implementation as the reference of a port."""

from __future__ import annotations

from typing import Any

import numpy as np

from unigrad import pytree
from unigrad.port.frameworks import Raw, cast_input, cotangents
from unigrad.port.paths import flatten


def run(
    entry: Any, params: Any, inputs: Any, dtype: str, want_grad: bool, knobs: dict[str, Any]
) -> Raw:
    """One run of ``entry``, a function of (params, inputs), on the reference engine."""
    import unigrad

    ps = pytree.tree_map(lambda a: cast_input(a, dtype), params)
    xs = pytree.tree_map(lambda a: cast_input(a, dtype), inputs)
    if not want_grad:
        out = unigrad.to_numpy(entry(ps, xs))
        return Raw(_outputs(out))
    out, vjp_fn = unigrad.vjp(lambda p: entry(p, xs), ps, backend="numpy")
    out = unigrad.to_numpy(out)
    outputs = _outputs(out)
    cts = cotangents(outputs)
    paths = list(flatten(out, "output", what="the outputs"))
    ct_tree = pytree.tree_unflatten(
        pytree.tree_flatten(out)[1],
        [cts.get(p, np.zeros_like(outputs[p], dtype=float)) for p in paths],
    )
    (g,) = vjp_fn(ct_tree)
    return Raw(outputs, [np.asarray(v) for v in pytree.tree_leaves(unigrad.to_numpy(g))])


def _outputs(out: Any) -> dict[str, np.ndarray]:
    return {k: np.asarray(v) for k, v in flatten(out, "output", what="the outputs").items()}
