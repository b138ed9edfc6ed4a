"""The core of the reference engine: primitives, trace levels and the traced-value base class.

A ``Primitive`` wraps a NumPy function and carries its derivative rules as data: a vjp rule and
a jvp rule per differentiable argument, written with other primitives so that they can be
differentiated again, to any order.

Every ``vjp`` or ``jvp`` call opens a trace with a new, higher level. Its inputs become tracers
of that level. When a primitive sees tracers, it hands the call to the trace of the highest
level among its arguments; that trace unwraps its own tracers, calls the primitive again on the
values (which may be tracers of lower levels: that recursion is what nests derivatives), and
wraps the answer.

The engine's modules depend on each other one way only, each on those above it:

- ``tracer`` (this module): ``Primitive``, the ``Tracer`` base class, levels and errors. It
  knows no op: a primitive finds the trace to call through its tracer arguments.
- ``axes`` (axis bookkeeping), then ``elementwise``, ``structural``, ``reductions``,
  ``contractions``, ``linalg`` and ``decompositions``: the primitives and their rules.
- ``operators``: ``ArrayTracer``, the tracer class whose body defines the array operators and
  methods (``+``, ``[]``, ``.T``, ``.sum`` ...) over the op modules, imported above it, as HIPS
  autograd's ``ArrayBox`` does.
- ``reverse`` (the tape) and ``forward`` (batched tangents): the two traces and their
  ``ArrayTracer`` subclasses; their broadcasting bookkeeping uses ``add`` and ``unbroadcast``.
- ``engine`` (vjp, jvp, jacobian, hessian, hvp), ``recorder`` (graphs) and ``ops`` (the table
  behind ``unigrad.numpy``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np

from unigrad.errors import IN_PLACE, TOLIST_TRACED, ForeignArrayError, InPlaceError, UnigradError

_levels = itertools.count(1)


def new_level() -> int:
    """A fresh trace level, higher than every level handed out before."""
    return next(_levels)


class Primitive:
    """A differentiable NumPy operation with its derivative rules beside it.

    ``vjps[i](g, ans, *args, **kw)`` returns the cotangent of argument ``i``;
    ``jvps[i](t, ans, *args, **kw)`` maps a batched tangent of argument ``i`` (leading axis is
    the batch) to a batched tangent of the answer. A variadic primitive gives one rule for
    every position instead: ``vjp_any(i, g, ans, *args, **kw)``, and ``jvp_all(tangents, ans,
    *args, **kw)`` for the tangent of the answer from all the argument tangents at once (None
    where an argument is not traced). ``broadcasts`` marks elementwise ops whose arguments
    broadcast: the traces then sum cotangents back to each argument's shape and line tangents
    up with the answer's rank.
    """

    __slots__ = ("__name__", "broadcasts", "impl", "jvp_all", "jvps", "vjp_any", "vjps")

    def __init__(self, name: str, impl: Callable[..., Any], broadcasts: bool = False) -> None:
        self.__name__ = name
        self.impl = impl
        self.broadcasts = broadcasts
        self.vjps: dict[int, Callable[..., Any]] = {}
        self.jvps: dict[int, Callable[..., Any]] = {}
        self.vjp_any: Callable[..., Any] | None = None
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
                raise op_error(self.__name__, args, exc) from exc
        return top._trace.process(self, args, kwargs)

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

    def vjp_rule(self, argnum: int) -> Callable[..., Any]:
        """The vjp rule of argument ``argnum``; raises if that argument has none."""
        rule = self.vjps.get(argnum)
        if rule is not None:
            return rule
        if self.vjp_any is not None:
            any_rule = self.vjp_any
            return lambda *a, **kw: any_rule(argnum, *a, **kw)
        raise missing_rule(self, argnum, "vjp")

    def jvp_rule(self, argnum: int) -> Callable[..., Any]:
        """The jvp rule of argument ``argnum``; raises if that argument has none."""
        rule = self.jvps.get(argnum)
        if rule is None:
            raise missing_rule(self, argnum, "jvp")
        return rule


def _describe(a: Any) -> str:
    if isinstance(a, np.ndarray | np.generic):
        return f"array{tuple(np.shape(a))} {a.dtype}"
    if isinstance(a, Tracer):
        return f"traced array{tuple(a.shape)}"
    return type(a).__name__ if not isinstance(a, int | float | str | tuple) else repr(a)


def _op_message(name: str, args: tuple, exc: BaseException) -> str:
    described = ", ".join(_describe(a) for a in args)
    return f"unigrad.numpy.{name}({described}) failed: {type(exc).__name__}: {exc}"


class OpError(UnigradError, ValueError):
    """An op of the numpy engine was given arguments it cannot take (shapes, types)."""


class OpIndexError(UnigradError, IndexError):
    """An index out of range, or one NumPy cannot apply, given to an op of the numpy engine."""


def _foreign(a: Any) -> str | None:
    """What ``a`` is when it is another framework's array (or a unigrad array of another
    backend), else None."""
    from unigrad import registry

    t = type(a)
    if t.__module__ == "unigrad.api.array" and getattr(a, "backend", "numpy") != "numpy":
        return f"a {a.backend} array"
    top = t.__module__.partition(".")[0]
    name = next((n for n, s in registry.specs().items() if top in s.array_modules), None)
    if name is None or name == "numpy":
        return None
    return f"a {name} array ({t.__module__}.{t.__qualname__})"


def op_error(name: str, args: tuple, exc: BaseException) -> UnigradError:
    """The unigrad error for ``exc`` raised by op ``name`` on ``args``: an IndexError stays one,
    another framework's array is named."""
    for a in args:
        other = _foreign(a)
        if other is not None:
            return ForeignArrayError("numpy", other)
    cls = OpIndexError if isinstance(exc, IndexError) else OpError
    return cls(_op_message(name, args, exc))


class TracerConversionError(UnigradError, TypeError):
    """A traced value was handed to plain NumPy, which would drop its derivative."""


class NotDifferentiableError(UnigradError, TypeError):
    """A traced value reached an argument that has no derivative rule."""


def missing_rule(prim: Primitive, argnum: int, mode: str) -> NotDifferentiableError:
    """The error for a traced argument ``argnum`` of ``prim`` that has no ``mode`` rule."""
    return NotDifferentiableError(
        f"unigrad's numpy engine has no {mode} rule for argument {argnum} of "
        f"'{prim.__name__}'; that argument cannot depend on a differentiated input"
    )


class Tracer:
    """A value being traced at some level: what every trace's tracers have in common.

    Array metadata reads through to the value, and Python conversions see the value, so that
    control flow on values works. The array operators are defined on ``ArrayTracer`` (module
    ``operators``), the class every trace's tracers derive from.
    """

    __slots__ = ("_trace", "level", "value")
    __array_priority__ = 1000.0

    value: Any
    level: int
    _trace: Any  # the trace this value belongs to (`.trace()` is NumPy's trace method)

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

    def __bool__(self) -> bool:
        return bool(self.value)

    def __float__(self) -> float:
        return float(self.value)

    def __int__(self) -> int:
        return int(self.value)

    def __index__(self) -> int:
        return int(self.value)

    def item(self) -> Any:
        """The value as a Python scalar (a constant: no derivative flows through it)."""
        return np.asarray(primal(self)).item()

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        raise TracerConversionError(
            "a traced value cannot become a NumPy array inside a differentiated function: "
            "np.asarray/np.* would drop its derivative. Use unigrad.numpy ops on it (build "
            "arrays from traced values with unigrad.numpy.asarray or stack), or "
            "np.asarray(unigrad.detach(x)) if you mean a constant."
        )

    def tolist(self) -> Any:
        raise TracerConversionError(TOLIST_TRACED)

    def __setitem__(self, index: Any, value: Any) -> None:
        raise InPlaceError(IN_PLACE)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(level={self.level}, value={self.value!r})"


def primal(x: Any) -> Any:
    """Strip every tracer level and return the plain NumPy value underneath."""
    while isinstance(x, Tracer):
        x = x.value
    return x


def shape_of(x: Any) -> tuple[int, ...]:
    """The shape of an array, tracer or scalar."""
    try:
        return x.shape
    except AttributeError:
        return np.shape(x)
