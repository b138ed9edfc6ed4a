"""Native runs on JAX: ``jax.vjp`` of the function of the parameter pytree (float64 with 64-bit
types on for the run only, as unigrad's JAX backend does).

Knobs: ``epsilon`` sets the epsilon of ``jax.nn.standardize``; ``gelu`` flips ``jax.nn.gelu``
between exact and tanh-approximate (JAX's default is the approximation).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from unigrad import pytree
from unigrad.port.frameworks import Patch, Raw, cast_input, cotangents, rebinding
from unigrad.port.paths import flatten, leaf_paths


@contextlib.contextmanager
def knobs_applied(knobs: dict[str, Any], hits: dict[str, int]) -> Iterator[None]:
    """Apply the diagnosis knobs to ``jax.nn`` for the length of the block."""
    with Patch() as patch:
        if "epsilon" in knobs:
            eps = knobs["epsilon"]
            change = (lambda was: was) if eps is None else (lambda _: eps)
            patch.set(
                jax.nn,
                "standardize",
                rebinding(jax.nn.standardize, "epsilon", change, hits, "epsilon"),
            )
        if knobs.get("gelu") == "flip":
            patch.set(jax.nn, "gelu", rebinding(jax.nn.gelu, "approximate", _not, hits, "gelu"))
        yield


def _not(approximate: Any) -> bool:
    return not approximate


def _x64(dtype: str) -> Any:
    if dtype == "float64" and not jax.config.jax_enable_x64:
        return jax.enable_x64(True)
    return contextlib.nullcontext()


def run(
    entry: Any, params: Any, inputs: Any, dtype: str, want_grad: bool, knobs: dict[str, Any]
) -> Raw:
    """One run of ``entry``, a function of (params, inputs), in JAX."""
    hits: dict[str, int] = {}
    with _x64(dtype), knobs_applied(knobs, hits):
        ps = pytree.tree_map(lambda a: jnp.asarray(cast_input(a, dtype)), params)
        xs = pytree.tree_map(lambda a: jnp.asarray(cast_input(a, dtype)), inputs)
        if not want_grad:
            out = entry(ps, xs)
            return Raw(_outputs(out), None, hits)
        out, vjp_fn = jax.vjp(lambda p: entry(p, xs), ps)
        outputs = _outputs(out)
        cts = cotangents(outputs)
        paths = leaf_paths(out, "output")
        leaves, treedef = jax.tree_util.tree_flatten(out)
        ct_leaves = [
            jnp.asarray(cts[p]) if p in cts else np.zeros(np.shape(v), jax.dtypes.float0)
            for p, v in zip(_paths_in_jax_order(out, paths), leaves)
        ]
        (g,) = vjp_fn(jax.tree_util.tree_unflatten(treedef, ct_leaves))
        by_path = {k: np.asarray(v) for k, v in flatten(g, what="the gradients").items()}
    return Raw(outputs, [by_path[p] for p in leaf_paths(params)], hits)


def _outputs(out: Any) -> dict[str, np.ndarray]:
    return {k: np.asarray(v) for k, v in flatten(out, "output", what="the outputs").items()}


def _paths_in_jax_order(out: Any, paths: list[str]) -> list[str]:
    """Our leaf paths reordered as JAX flattens (it sorts dict keys)."""
    tagged = pytree.tree_unflatten(pytree.tree_flatten(out)[1], paths)
    return jax.tree_util.tree_leaves(tagged)
