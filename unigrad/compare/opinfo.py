"""One declarative entry per op (PyTorch's OpInfo idea): how to call it, on what, and what to
expect. ``cases/opinfos/`` holds the table; the per-op suite (tests/test_ops.py, and ``unigrad
compare``'s ops suite) runs every entry on every backend.

An entry says which samples to draw (ordinary points inside the op's domain, and edge points:
zeros, ties, boundaries), which dtypes it runs in, up to which derivative order it is checked,
its reference value (a NumPy function), and the gaps a backend declares for it.

``unigrad fuzz`` composes ops from the same table into random programs. What it needs beyond
the samples is optional, so that an entry with samples alone joins the fuzzer as it is (its
shapes and constant arguments are taken from its samples, its domain checked by its reference):

- ``shapes``: ``"samples"`` (default: shapes as in the samples), ``"elementwise"`` (any shape,
  broadcasting the differentiated arguments) or ``"reduction"`` (any rank, ``axis`` and
  ``keepdims`` drawn);
- ``domains``: one ``Domain`` per differentiated argument (where the op is defined and smooth,
  where ordinary points are drawn, and its edge points);
- ``native``: each framework's own op, where its name differs from NumPy's
  (``{"torch": "torch.clamp"}``); ``unigrad fuzz --native`` differentiates it with the
  framework's own idiom;
- ``fuzz``: False keeps an entry out of generated programs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

#: the checks the suite runs for one sample
CHECKS = ("value", "grad", "jvp_vjp", "hvp")


@dataclass(frozen=True)
class Sample:
    """Arguments for one call of an op (float64 NumPy; cast to each dtype where float)."""

    args: tuple
    kwargs: dict[str, Any] = field(default_factory=dict)
    argnums: tuple[int, ...] = (0,)  #: the differentiated arguments
    label: str = "ordinary"  #: "ordinary", or what edge it probes ("edge: tie", ...)
    kink: bool = False  #: the op is not smooth here: no finite-difference check

    def call(self, fn: Callable[..., Any], *diff: Any) -> Any:
        """``fn`` with the differentiated arguments replaced by ``diff``."""
        args = list(self.args)
        for i, v in zip(self.argnums, diff):
            args[i] = v
        return fn(*args, **self.kwargs)

    def cast(self, dtype: str) -> Sample:
        """This sample with its float arrays and floats in ``dtype``."""

        def c(v: Any) -> Any:
            if isinstance(v, float | np.floating) and not isinstance(v, bool):
                return np.asarray(v, dtype=np.float64).astype(dtype)
            if isinstance(v, np.ndarray) and v.dtype.kind == "f":
                return v.astype(dtype)
            if isinstance(v, list | tuple):
                return type(v)(c(e) for e in v)
            return v

        return Sample(c(self.args), self.kwargs, self.argnums, self.label, self.kink)


#: how the fuzzer may shape an op's arguments
SHAPE_RULES = ("samples", "elementwise", "reduction")


@dataclass(frozen=True)
class Domain:
    """Where one differentiated argument of an op may be drawn.

    ``lo``/``hi`` bound the op's domain (``closed``: the bounds belong to it, as 0 does for
    sqrt); ``ordinary`` is the interval ordinary points are drawn from (default: the domain cut
    to [-2, 2]); ``edges`` are points where the op is not smooth or meets a bound (abs at 0,
    sqrt at 0): there its derivative is unigrad's pinned convention.
    """

    lo: float = -math.inf
    hi: float = math.inf
    ordinary: tuple[float, float] | None = None
    edges: tuple[float, ...] = ()
    closed: bool = False

    def interval(self) -> tuple[float, float]:
        """The interval ordinary points are drawn from."""
        if self.ordinary is not None:
            return self.ordinary
        return (max(self.lo, -2.0), min(self.hi, 2.0))

    def contains(self, values: Any) -> bool:
        """Whether every value lies in the domain (NaN never does)."""
        v = np.asarray(values, dtype=np.float64)
        if self.closed:
            return bool(np.all((v >= self.lo) & (v <= self.hi)))
        return bool(np.all((v > self.lo) & (v < self.hi)))


@dataclass(frozen=True)
class OpInfo:
    """What the suite needs to know about one op of ``unigrad.numpy`` (or ``unigrad.nn``)."""

    name: str  #: the op's name: "sin", "linalg.solve", "nn.conv2d"
    samples: Callable[[np.random.Generator], Sequence[Sample]]
    #: the value by NumPy (default: numpy's function of the same name)
    reference: Callable[..., Any] | None = None
    #: how to call the unigrad op (default: the op of that name)
    function: Callable[..., Any] | None = None
    dtypes: tuple[str, ...] = ("float32", "float64")
    orders: int = 2  #: the highest derivative order checked (0: value only)
    #: declared gaps: {backend: {check or "*": reason}}
    gaps: dict[str, dict[str, str]] = field(default_factory=dict)
    #: per-dtype tolerance overrides, as in cases ({"float32": {"rtol": ...}})
    tolerance: dict[str, dict[str, float]] = field(default_factory=dict)
    notes: str = ""
    #: the fuzzer's shape rule (see SHAPE_RULES)
    shapes: str = "samples"
    #: one Domain per differentiated argument (empty: checked by the reference's finiteness)
    domains: tuple[Domain, ...] = ()
    #: each framework's own op where its name differs from NumPy's: {"torch": "torch.clamp"}
    native: dict[str, str] = field(default_factory=dict)
    #: whether generated programs may use this op
    fuzz: bool = True

    def __post_init__(self) -> None:
        if self.shapes not in SHAPE_RULES:
            raise ValueError(
                f"OpInfo {self.name!r}: shapes must be one of {', '.join(SHAPE_RULES)}, "
                f"not {self.shapes!r}"
            )

    def domain(self, k: int) -> Domain:
        """The domain of the k-th differentiated argument (unbounded when not declared)."""
        if k < len(self.domains):
            return self.domains[k]
        return self.domains[-1] if self.domains else Domain()

    def op(self) -> Callable[..., Any]:
        """The unigrad callable under test."""
        if self.function is not None:
            return self.function
        import importlib

        head, _, rest = self.name.partition(".")
        if head == "nn":
            obj: Any = importlib.import_module("unigrad.nn")
            path = rest.split(".")
        else:
            obj = importlib.import_module("unigrad.numpy")
            path = self.name.split(".")
        for part in path:
            obj = getattr(obj, part)
        return obj

    def expected(self, sample: Sample) -> Any:
        """The reference value at ``sample`` in float64."""
        ref = self.reference
        if ref is None:
            obj: Any = np
            for part in self.name.split("."):
                obj = getattr(obj, part)
            ref = obj
        return ref(*sample.args, **sample.kwargs)

    def gap(self, backend: str, check: str) -> str | None:
        """The declared reason ``backend`` cannot run ``check`` for this op, if any."""
        per = self.gaps.get(backend, {})
        return per.get(check) or per.get("*")

    @property
    def id(self) -> str:
        return f"op.{self.name}"
