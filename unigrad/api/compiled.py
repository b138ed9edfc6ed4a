"""Compiled transforms: one cache per transform object, one entry per argument structure.

A backend that compiles (``Backend.compile``: jax.jit, tf.function) gets the whole transform
(the eager computation of ``grad``, ``jacobian``, ...) as one function of the argument leaves;
unigrad keeps the result here and calls it on later calls. A function that cannot be compiled
(it branches on array values) is marked ``refused`` and runs eagerly from then on, with the same
answer. Aux values that are not arrays would be frozen into a compiled function, so a call whose
aux holds Python values is not compiled either.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from unigrad.api.call import FlatCall
from unigrad.backends.auxsplit import AuxSplit

#: an eager transform: (flat function, primals, extra arrays) -> (result arrays, aux)
Eager = Callable[[Callable[..., Any], list[Any], list[Any]], tuple[Any, Any]]


@dataclass
class Compiled:
    """One transform compiled by its backend for one argument structure."""

    fn: Callable[..., Any] | None = None  #: the compiled function of every leaf (and extras)
    static: tuple[int, ...] = ()  #: leaf positions compiled as constants (non-arrays)
    out_def: Any = None  #: the output structure, recorded while tracing
    aux: AuxSplit | None = None  #: how aux was split into arrays and the rest while tracing
    calls: int = 0  #: calls so far (a backend may compile only from its Nth call)
    refused: bool = False  #: cannot be compiled: run eagerly from now on
    n_args: int = 0  #: positional arguments, for the plain-array fast path
    plain: bool = False  #: every argument a single array, no aux: the fast path may call fn


@dataclass
class CompiledCache:
    """The compiled versions a transform object keeps, keyed by kind and argument structure."""

    entries: dict[Any, Compiled] = field(default_factory=dict)

    def run(self, kind: Any, call: FlatCall, eager: Eager, extra: Sequence[Any] = ()) -> Any:
        """``eager(call.function(), call.primals, extra)``, compiled where the backend can."""
        impl = call.impl
        key = (kind, call.key)
        entry = self.entries.get(key)
        if entry is None:
            entry = self.entries[key] = Compiled(n_args=len(call.arg_defs))
        if entry.refused:
            return eager(call.function(), call.primals, list(extra))
        entry.calls += 1
        if entry.calls <= impl.compile_after:
            return eager(call.function(), call.primals, list(extra))
        leaves = [*call.leaves, *extra]
        static = static_positions(impl, leaves)
        if entry.fn is None or entry.static != static:
            entry.fn = impl.compile(_traceable(entry, call, eager), static)
            entry.static = static
            if entry.fn is None:
                entry.refused = True
                return eager(call.function(), call.primals, list(extra))
        try:
            out = entry.fn(*leaves)
        except Exception as exc:
            if not impl.compile_refusal(exc):
                raise
            entry.refused = True
            return eager(call.function(), call.primals, list(extra))
        call.out_def = entry.out_def
        if not call.has_aux:
            entry.plain = not static and all(d is None for d in call.arg_defs)
            return out, None
        assert entry.aux is not None
        if not all(entry.aux.mask):
            entry.refused = True  # aux holds Python values: they must not be frozen
            return eager(call.function(), call.primals, list(extra))
        result, aux_arrays = out
        return result, entry.aux.join(aux_arrays)


def _traceable(entry: Compiled, call: FlatCall, eager: Eager) -> Callable[..., Any]:
    """The function the backend compiles: every leaf (then the extras) in, arrays out."""
    n = len(call.leaves)
    entry.aux = aux = AuxSplit(call.impl.is_array)

    def traced(*leaves: Any) -> Any:
        base = list(leaves[:n])
        result, a = eager(call.function(base), [base[i] for i in call.diff], list(leaves[n:]))
        entry.out_def = call.out_def
        # without has_aux the result alone: fewer outputs make every compiled call cheaper
        return (result, aux.split(a)) if call.has_aux else result

    return traced


def static_positions(impl: Any, leaves: Sequence[Any]) -> tuple[int, ...]:
    """Leaves a compiler must treat as constants: anything that is not an array."""
    return tuple(
        i
        for i, x in enumerate(leaves)
        if not (isinstance(x, np.ndarray | np.generic) or impl.is_array(x))
    )
