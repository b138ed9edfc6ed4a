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

from unigrad.api.call import FlatCall, backend_constant
from unigrad.api.environment import Environment
from unigrad.backends.auxsplit import AuxSplit
from unigrad.errors import DifferentiationTypeError
from unigrad.pytree import tree_flatten

_MAX_CHANGES = 2  # recompilations for changed outside values before a transform runs eagerly
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
    plain: bool = False  #: every leaf an array, no aux: the fast path may call fn
    #: the outside values the function reads, which a compiler bakes in (None: not compiled)
    env: Environment | None = None
    env_state: tuple = ()  #: their fingerprint when it was compiled
    changes: int = 0  #: times an outside value changed (then compiling again costs too much)

    def stale(self) -> bool:
        """Whether an outside value the compiled function baked in has changed since."""
        return self.env is not None and self.env.fingerprint() != self.env_state


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
        if entry.stale():
            entry.changes += 1
            if entry.changes > _MAX_CHANGES:  # outside values keep changing: run eagerly
                entry.refused, entry.env, entry.fn = True, None, None
                return eager(call.function(), call.primals, list(extra))
            entry.fn = None
        if entry.fn is None or entry.static != static:
            traced = _traceable(entry, call, eager)
            entry.fn = impl.compile(traced, static)
            entry.static = static
            if entry.fn is None:
                entry.refused = True
                return eager(call.function(), call.primals, list(extra))
            # a real compiler bakes in what the function reads from outside: watch it
            entry.env = Environment(call.f) if entry.fn is not traced else None
            entry.env_state = entry.env.fingerprint() if entry.env else ()
            if entry.env is not None and not entry.env:
                entry.env = None
        try:
            out = entry.fn(*leaves)
        except Exception as exc:
            if not impl.compile_refusal(exc):
                raise
            entry.refused = True
            return eager(call.function(), call.primals, list(extra))
        call.out_def = entry.out_def
        if not call.has_aux:
            entry.plain = not static
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

    impl = call.impl
    is_float = impl.is_float

    def traced(*leaves: Any) -> Any:
        if call.everything and len(leaves) == n:  # the plain call: no base, no extras
            primals, fun, extra = list(leaves), call.fun_all, []
        else:
            base = list(leaves[:n])
            primals = [base[i] for i in call.diff]
            fun, extra = call.function(base), list(leaves[n:])
        for x in primals:  # checked while tracing: a call with other dtypes traces again
            if not is_float(x):
                raise DifferentiationTypeError(f"{call.what}: a differentiated leaf is not float")
        result, a = eager(fun, primals, extra)
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


class FastPath:
    """Calls of a compiled gradient with arrays, alone or in lists, tuples and dicts, straight
    to the compiled function.

    It remembers the argument structure and leaf types of the call that compiled it and how
    each leaf is converted; a call with another structure or other types, or any error, answers
    None and takes the full path (which gives errors their messages).
    """

    __slots__ = ("convert", "defs", "entry", "handle", "split", "types")

    def __init__(self, entry: Compiled, call: FlatCall, args: tuple) -> None:
        impl = call.impl
        self.entry = entry
        self.handle = call.handle
        #: the arguments' structures, None when each is one array (nothing to flatten)
        self.defs = None if call.plain else tuple(call.arg_defs)
        #: results regrouped by argnum (None: one array per argnum, as they come)
        self.split = None if call.plain else call.split
        leaves = list(args) if call.plain else _leaves(args, call.arg_defs)
        assert leaves is not None
        owners = [i for i, n in enumerate(call.arg_counts) for _ in range(n)]
        self.types = tuple(type(a) for a in leaves)
        convert: list[Callable[[Any], Any] | None] = []
        for i, a in zip(owners, leaves):
            if i in call.nums:
                convert.append(None if impl.prepare(a) is a else impl.prepare)
            elif isinstance(a, np.ndarray | np.generic):  # as FlatCall converts constants
                convert.append(lambda v, impl=impl: backend_constant(impl, v))
            else:
                convert.append(None)
        self.convert = tuple(convert) if any(c is not None for c in convert) else None

    @staticmethod
    def possible(entry: Compiled, call: FlatCall) -> bool:
        """Whether later calls of this entry like ``call`` can take the fast path."""
        return entry.plain and entry.fn is not None and not call.arrays_in

    def __call__(self, args: tuple) -> Any:
        entry = self.entry
        if self.defs is not None:
            if len(args) != len(self.defs):
                return None
            leaves = _leaves(args, self.defs)
            if leaves is None:
                return None
        else:
            leaves = args
        if entry.refused or tuple(map(type, leaves)) != self.types or entry.stale():
            return None
        convert = self.convert
        if convert is not None:
            leaves = [a if c is None else c(a) for c, a in zip(convert, leaves)]
        try:
            return entry.fn(*leaves)
        except Exception:
            return None


def _leaves(args: tuple, defs: Sequence[Any]) -> list[Any] | None:
    """The leaves of ``args`` when their structures are ``defs`` (else None)."""
    leaves: list[Any] = []
    for a, d in zip(args, defs):
        if d is None:  # pytree.LEAF: a single leaf (its type is checked with the others)
            leaves.append(a)
            continue
        sub, got = tree_flatten(a)
        if got != d:
            return None
        leaves.extend(sub)
    return leaves
