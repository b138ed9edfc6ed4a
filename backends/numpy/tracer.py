"""Tracing machinery of the reference engine: primitives, tracers, and the two kinds of trace.

A ``Primitive`` wraps a NumPy function and carries its derivative rules as data: a vjp rule and
a jvp rule per differentiable argument, written with other primitives so that they can be
differentiated again, to any order.

Every ``vjp`` or ``jvp`` call opens a trace with a new, higher level. Its inputs become tracers
of that level. When a primitive sees tracers, it handles the highest level among its
arguments: it unwraps those tracers, calls itself on the values (which may be tracers of lower
levels; that recursion is what nests derivatives), and wraps the answer again.

- A reverse trace records each step on a flat tape. The tape is already in topological order,
  so the backward pass walks it once, backwards, without sorting a graph.
- A forward trace carries tangents with a leading batch axis, so one pass pushes many tangent
  directions at once (a whole Jacobian). A single jvp is a batch of one.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from unigrad.errors import UnigradError

_levels = itertools.count(1)


def new_level() -> int:
    """A fresh trace level, higher than every level handed out before."""
    return next(_levels)


class Primitive:
    """A differentiable NumPy operation with its derivative rules beside it.

    ``vjps[i](g, ans, *args, **kw)`` returns the cotangent of argument ``i``;
    ``jvps[i](t, ans, *args, **kw)`` maps a batched tangent of argument ``i`` (leading axis is
    the batch) to a batched tangent of the answer. ``broadcasts`` marks elementwise ops whose
    arguments broadcast: the machinery then sums cotangents back to each argument's shape and
    lines tangents up with the answer's rank.
    """

    __slots__ = ("__name__", "broadcasts", "impl", "jvp_all", "jvps", "vjps")

    def __init__(self, name: str, impl: Callable[..., Any], broadcasts: bool = False) -> None:
        self.__name__ = name
        self.impl = impl
        self.broadcasts = broadcasts
        self.vjps: dict[int, Callable[..., Any]] = {}
        self.jvps: dict[int, Callable[..., Any]] = {}
        self.jvp_all: Callable[..., Any] | None = None

    def __repr__(self) -> str:
        return f"<primitive {self.__name__}>"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        top = None
        for a in args:
            if isinstance(a, Tracer) and (top is None or a.level > top.level):
                top = a
        if top is None:
            try:
                return self.impl(*args, **kwargs)
            except (ValueError, TypeError, IndexError) as exc:
                raise OpError(self, args, exc) from exc
        return top.trace.process(self, args, kwargs)

    def defvjp(self, *rules: Callable[..., Any] | None) -> Primitive:
        """Set the vjp rule of each argument, in order (None: not differentiable)."""
        for i, rule in enumerate(rules):
            if rule is not None:
                self.vjps[i] = rule
        return self

    def defjvp(self, *rules: Callable[..., Any] | None) -> Primitive:
        """Set the jvp rule of each argument, in order (None: not differentiable)."""
        for i, rule in enumerate(rules):
            if rule is not None:
                self.jvps[i] = rule
        return self


def _describe(a: Any) -> str:
    if isinstance(a, np.ndarray | np.generic):
        return f"array{tuple(np.shape(a))} {a.dtype}"
    return type(a).__name__ if not isinstance(a, int | float | str | tuple) else repr(a)


class OpError(UnigradError, ValueError):
    """An op of the numpy engine was given arguments it cannot take (shapes, types, indices)."""

    def __init__(self, prim: Primitive, args: tuple, exc: BaseException) -> None:
        described = ", ".join(_describe(a) for a in args)
        super().__init__(
            f"unigrad.numpy.{prim.__name__}({described}) failed: {type(exc).__name__}: {exc}"
        )


class TracerConversionError(UnigradError, TypeError):
    """A traced value was handed to plain NumPy, which would drop its derivative."""


class NotDifferentiableError(UnigradError, TypeError):
    """A traced value reached an argument that has no derivative rule."""


def _missing_rule(prim: Primitive, argnum: int, mode: str) -> NotDifferentiableError:
    return NotDifferentiableError(
        f"unigrad's numpy engine has no {mode} rule for argument {argnum} of "
        f"'{prim.__name__}'; that argument cannot depend on a differentiated input"
    )


class Tracer:
    """A value being traced at some level. Operators and methods route to primitives."""

    __slots__ = ("level", "trace", "value")
    __array_priority__ = 1000.0

    value: Any
    level: int
    trace: Any

    # --- array metadata, read through to the value ---
    @property
    def shape(self) -> tuple[int, ...]:
        return np.shape(self.value)

    @property
    def ndim(self) -> int:
        return np.ndim(self.value)

    @property
    def size(self) -> int:
        return int(np.size(self.value))

    @property
    def dtype(self) -> np.dtype:
        return self.value.dtype

    def __len__(self) -> int:
        return len(self.value)

    def __hash__(self) -> int:
        return id(self)

    # Comparisons and conversions see through to the value, so Python control flow works.
    def __bool__(self) -> bool:
        return bool(self.value)

    def __float__(self) -> float:
        return float(self.value)

    def __int__(self) -> int:
        return int(self.value)

    def __index__(self) -> int:
        return int(self.value)

    def item(self) -> Any:
        return np.asarray(primal(self)).item()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise TracerConversionError(
            "a traced value cannot become a NumPy array inside a differentiated function: "
            "np.asarray/np.* would drop its derivative. Use unigrad.numpy ops on it, or "
            "unigrad.detach(x) if you mean a constant."
        )

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        from unigrad.backends.numpy import ops

        fn = ops.UFUNCS.get(ufunc.__name__) if method == "__call__" and not kwargs else None
        if fn is None:
            raise TracerConversionError(
                f"np.{ufunc.__name__} cannot trace derivatives; use unigrad.numpy."
                f"{ufunc.__name__} (or another unigrad.numpy op) inside differentiated functions"
            )
        return fn(*inputs)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(level={self.level}, value={self.value!r})"


def _shape(x: Any) -> tuple[int, ...]:
    try:
        return x.shape
    except AttributeError:
        return np.shape(x)


class _LazyOps:
    """The ops module, imported on first use (it imports this module)."""

    def __getattr__(self, name: str) -> Any:
        from unigrad.backends.numpy import ops

        globals()["_ops"] = ops
        return getattr(ops, name)


_ops: Any = _LazyOps()


def primal(x: Any) -> Any:
    """Strip every tracer level and return the plain NumPy value underneath."""
    while isinstance(x, Tracer):
        x = x.value
    return x


# --------------------------------------------------------------------------- reverse mode


class RevTracer(Tracer):
    """A value on a reverse trace; ``idx`` is its entry on the tape."""

    __slots__ = ("idx",)

    def __init__(self, value: Any, trace: RevTrace, idx: int) -> None:
        self.value = value
        self.level = trace.level
        self.trace = trace
        self.idx = idx


class RevTrace:
    """A reverse-mode trace: a flat tape of (primitive, args, kwargs, answer, parents)."""

    __slots__ = ("entries", "level", "n_inputs")

    def __init__(self) -> None:
        self.level = new_level()
        self.entries: list[tuple] = []
        self.n_inputs = 0

    def new_input(self, value: Any) -> RevTracer:
        """A tracer for a differentiated input (inputs take the first tape entries)."""
        idx = len(self.entries)
        self.entries.append((None, (), None, value, ()))
        self.n_inputs += 1
        return RevTracer(value, self, idx)

    def process(self, prim: Primitive, args: tuple, kwargs: dict) -> Any:
        vals = list(args)
        parents = []
        lower = False
        for i, a in enumerate(args):
            if isinstance(a, Tracer):
                if a.trace is self:
                    vals[i] = a.value
                    parents.append((i, a.idx))
                    if isinstance(a.value, Tracer):
                        lower = True
                else:
                    lower = True
        if lower:
            ans = prim(*vals, **kwargs)
        else:  # no lower-level tracers left: run the NumPy function directly
            try:
                ans = prim.impl(*vals, **kwargs)
            except (ValueError, TypeError, IndexError) as exc:
                raise OpError(prim, tuple(vals), exc) from exc
        entries = self.entries
        idx = len(entries)
        entries.append((prim, vals, kwargs, ans, parents))
        return RevTracer(ans, self, idx)

    def backward(self, seeds: list[tuple[int, Any]]) -> list[Any]:
        """Propagate cotangents ``seeds`` [(tape index, cotangent)] back to the inputs.

        Returns one cotangent per input, None where the outputs do not depend on it.
        """
        add, unbroadcast = _ops.add, _ops.unbroadcast
        entries = self.entries
        grads: list[Any] = [None] * len(entries)
        for idx, ct in seeds:
            grads[idx] = ct if grads[idx] is None else add(grads[idx], ct)
        n_in = self.n_inputs
        for i in range(len(entries) - 1, n_in - 1, -1):
            g = grads[i]
            if g is None:
                continue
            grads[i] = None  # free cotangents as soon as they are consumed
            prim, vals, kwargs, ans, parents = entries[i]
            for argnum, pidx in parents:
                rule = prim.vjps.get(argnum)
                if rule is None:
                    raise _missing_rule(prim, argnum, "vjp")
                gi = rule(g, ans, *vals, **kwargs) if kwargs else rule(g, ans, *vals)
                if prim.broadcasts:
                    want = _shape(vals[argnum])
                    if _shape(gi) != want:
                        gi = unbroadcast(gi, want)
                prev = grads[pidx]
                grads[pidx] = gi if prev is None else add(prev, gi)
        return grads[:n_in]


# --------------------------------------------------------------------------- forward mode


class FwdTracer(Tracer):
    """A value on a forward trace with its batched tangent (leading axis: the batch)."""

    __slots__ = ("tangent",)

    def __init__(self, value: Any, trace: FwdTrace, tangent: Any) -> None:
        self.value = value
        self.level = trace.level
        self.trace = trace
        self.tangent = tangent


class FwdTrace:
    """A forward-mode trace pushing ``batch`` tangent directions at once."""

    __slots__ = ("batch", "level")

    def __init__(self, batch: int) -> None:
        self.level = new_level()
        self.batch = batch

    def new_input(self, value: Any, tangent: Any) -> FwdTracer:
        return FwdTracer(value, self, tangent)

    def process(self, prim: Primitive, args: tuple, kwargs: dict) -> Any:
        level = self.level
        vals = list(args)
        tans: list[Any] = [None] * len(args)
        any_t = False
        for i, a in enumerate(args):
            if isinstance(a, Tracer) and a.level == level:
                vals[i] = a.value
                tans[i] = a.tangent
                any_t = True
        ans = prim(*vals, **kwargs)
        if not any_t:
            return ans
        if prim.jvp_all is not None:
            t_out = prim.jvp_all(tans, ans, *vals, **kwargs)
        else:
            add, expand_batched = _ops.add, _ops.expand_batched
            t_out = None
            nd = np.ndim(ans)
            for i, t in enumerate(tans):
                if t is None:
                    continue
                rule = prim.jvps.get(i)
                if rule is None:
                    raise _missing_rule(prim, i, "jvp")
                if prim.broadcasts:
                    t = expand_batched(t, nd)
                ti = rule(t, ans, *vals, **kwargs)
                t_out = ti if t_out is None else add(t_out, ti)
        if prim.broadcasts and _shape(t_out)[1:] != _shape(ans):
            t_out = _ops.broadcast_to(t_out, (self.batch, *_shape(ans)))
        return FwdTracer(ans, self, t_out)
