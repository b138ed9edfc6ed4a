"""The op table of a backend: ``unigrad.numpy`` names resolved to callables on first use.

Lookup order for a name (the autoray idea: register only where a framework departs):

1. ``conventions.PINS``: ops whose meaning unigrad pins (ties, kinks, the norm at 0, default
   dtypes, ...), written once over other ops of the same table, unless the backend lists the
   name in ``native_pins`` (its own op already follows the pin);
2. the backend's ``departures`` module: where the framework's op has another name or signature
   than NumPy's;
3. the framework's NumPy-like namespace, under the NumPy name;
4. ``conventions.FALLBACKS``: compositions for ops the framework lacks.

Whatever is found is passed through ``backend.wrap_op`` once (argument conversion for
frameworks whose ops take only their own arrays, 64-bit mode for JAX, ...) and cached.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import numpy as np
from unigrad.backends import conventions

from unigrad.errors import UnsupportedError

#: how many leading positional arguments of an op are arrays (default 1) ...
ARRAY_ARGS = {
    "add": 2,
    "subtract": 2,
    "multiply": 2,
    "divide": 2,
    "true_divide": 2,
    "power": 2,
    "maximum": 2,
    "minimum": 2,
    "matmul": 2,
    "dot": 2,
    "outer": 2,
    "inner": 2,
    "where": 3,
    "greater": 2,
    "greater_equal": 2,
    "less": 2,
    "less_equal": 2,
    "equal": 2,
    "not_equal": 2,
    "solve": 2,
    "take": 2,
    "clip": 3,
    "stack": 1,
    "concatenate": 1,
    "zeros": 0,
    "ones": 0,
    "eye": 0,
    "arange": 0,
    # issue 16: elementwise
    **dict.fromkeys(
        ("remainder", "mod", "floor_divide", "arctan2", "hypot", "logaddexp", "logaddexp2"), 2
    ),
    **dict.fromkeys(("fmax", "fmin"), 2),
    "conv": 2,  # nn's convolution kernel: (x, w)
}
#: ... and which of them promote their operands to one dtype as NumPy does
PROMOTING = frozenset(
    {
        "add",
        "subtract",
        "multiply",
        "divide",
        "true_divide",
        "power",
        "maximum",
        "minimum",
        "matmul",
        "dot",
        "outer",
        "inner",
        "where",
        "greater",
        "greater_equal",
        "less",
        "less_equal",
        "equal",
        "not_equal",
        "solve",
        "stack",
        "concatenate",
        "einsum",
        "clip",
    }
    # issue 16: elementwise
    | {"remainder", "mod", "floor_divide", "arctan2", "hypot", "logaddexp", "logaddexp2"}
    | {"fmax", "fmin"}
)
#: ops that take Python scalars beside arrays in every framework (kept weak, and MXNet keeps
#: its scalar operators, which have second derivatives where its array operators have none)
TAKES_SCALARS = frozenset(
    {"add", "subtract", "multiply", "divide", "true_divide", "power", "where", "remainder", "clip"}
)
# Python's own scalar types, exactly: np.float64 (a float subclass) is a NumPy scalar, strong
_SCALARS = frozenset({bool, int, float, complex})
_WEAK = frozenset({int, float})
#: ops whose result is floating-point for integer operands (NumPy's int / int is float64)
TRUE_DIVISION = frozenset({"divide", "true_divide"})


#: the sub-tables of an op table: name -> (pins, fallbacks, whether the framework's namespace
#: holds them under that name). NumPy has no ``nn``: its ops come from the pins, the adapter's
#: departures (an ``nn`` class) and the fallbacks, never from ``torch.nn`` or the like.
SUBTABLES = {
    "": (conventions.PINS, conventions.FALLBACKS, True),
    "linalg": (conventions.LINALG_PINS, {}, True),
    "nn": (conventions.NN_PINS, conventions.NN_FALLBACKS, False),
}


class OpTable:
    """The ops of one backend, resolved by name on first use and then plain attributes."""

    def __init__(self, backend: Any, sub: str = "") -> None:
        self.backend = backend
        self._sub = sub  # "" for the main table, "linalg" or "nn" for a sub-table
        pins, fallbacks, in_namespace = SUBTABLES[sub]
        dep = importlib.import_module(backend.departures) if backend.departures else None
        ns = importlib.import_module(backend.namespace) if in_namespace else None
        if sub:
            dep = getattr(dep, sub, None)
            ns = getattr(ns, sub, None)
        self._departures = dep
        self._namespace = ns
        self._natives: dict[str, Callable[..., Any]] = {}
        self._pins = pins
        self._fallbacks = fallbacks

    def __repr__(self) -> str:
        return f"<unigrad {self.backend.name} ops{'.' + self._sub if self._sub else ''}>"

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        if name in SUBTABLES and name and not self._sub:
            value: Any = OpTable(self.backend, name)
        else:
            kind, fn = self._resolve(name)
            value = self.backend.wrap_op(fn, self._qualified(name), kind)
        self.__dict__[name] = value
        return value

    def _qualified(self, name: str) -> str:
        return f"{self._sub}.{name}" if self._sub else name

    def _resolve(self, name: str) -> tuple[str, Callable[..., Any]]:
        """(kind, callable) with kind "convention", "departure" or "native"."""
        pin = self._pins.get(name)
        if pin is not None and self._qualified(name) not in self.backend.native_pins:
            return "convention", partial(pin, self)
        own = self._own(name)
        if own is not None:
            return own
        fallback = self._fallbacks.get(name)
        if fallback is not None:
            return "convention", partial(fallback, self)
        where = self.backend.namespace + (f".{self._sub}" if self._sub else "")
        raise UnsupportedError(
            self.backend.name,
            self._public(name),
            f"{where} has no {name!r} and the adapter defines no departure for it",
        )

    def _public(self, name: str) -> str:
        return (
            f"unigrad.nn.{name}" if self._sub == "nn" else f"unigrad.numpy.{self._qualified(name)}"
        )

    def _own(self, name: str) -> tuple[str, Callable[..., Any]] | None:
        dep = getattr(self._departures, name, None) if self._departures is not None else None
        if dep is not None:
            return "departure", dep
        fn = getattr(self._namespace, name, None) if self._namespace is not None else None
        return ("native", fn) if fn is not None else None

    def own(self, name: str) -> Callable[..., Any]:
        """The framework's own version of an op (a departure, or the namespace's), with no
        convention and no argument conversion: for conventions built on top of it."""
        fn = self._natives.get(name)
        if fn is None:
            found = self._own(name)
            if found is None:
                raise UnsupportedError(self.backend.name, self._public(name), "no such op")
            fn = self._natives[name] = found[1]
        return fn


# ------------------------------------------------------------------ argument conversion


def convert_arguments(backend: Any, fn: Callable[..., Any], name: str) -> Callable[..., Any]:
    """Wrap a framework op so that it takes NumPy arrays, Python scalars and mixed dtypes.

    For frameworks whose ops accept only their own arrays (torch, MXNet): the leading array
    arguments (see ``ARRAY_ARGS``) become the backend's arrays, ``dtype=`` becomes the framework's
    dtype, and promoting ops first cast their operands to NumPy's result dtype (Python scalars
    are weak: they take the dtype of the arrays they meet).
    """
    short = name.rpartition(".")[2]
    n_arrays = ARRAY_ARGS.get(short, 1)
    promote = short in PROMOTING
    scalars = short in TAKES_SCALARS
    sequence = name in ("stack", "concatenate")
    divides = short in TRUE_DIVISION
    is_array = backend.is_array

    def op(*args: Any, **kwargs: Any) -> Any:
        if kwargs.get("dtype") is not None:
            kwargs["dtype"] = backend.native_dtype(kwargs["dtype"])
        if sequence and args:
            items = operands(backend, list(args[0]), promote=True)
            return fn(items, *args[1:], **kwargs)
        if name == "einsum":
            return fn(args[0], *operands(backend, list(args[1:]), promote=True), **kwargs)
        k = n_arrays
        if k == 1:
            x = args[0] if args else kwargs.pop("x")
            if not is_array(x):
                x = backend.asarray(x)
            return fn(x, *args[1:], **kwargs)
        if k == 0:
            return fn(*args, **kwargs)
        if k == 2 and len(args) >= 2 and not divides:  # the common case first: nothing to do
            a, b = args[0], args[1]
            if is_array(a):
                if is_array(b) and a.dtype == b.dtype:
                    return fn(*args, **kwargs)
                # a Python float meeting an integer array makes float64, not the default float
                if scalars and type(b) in _WEAK and (type(b) is int or backend.is_float(a)):
                    return fn(*args, **kwargs)
            elif (
                scalars
                and type(a) in _WEAK
                and is_array(b)
                and (type(a) is int or backend.is_float(b))
            ):
                return fn(*args, **kwargs)
        head = operands(
            backend, list(args[:k]), promote=promote, keep_scalars=scalars, divides=divides
        )
        return fn(*head, *args[k:], **kwargs)

    op.__name__ = name
    op.__doc__ = getattr(fn, "__doc__", None)
    return op


def result_dtype(backend: Any, values: Sequence[Any]) -> np.dtype | None:
    """NumPy's result dtype of ``values`` with Python scalars weak (None when all are scalars).

    Only Python's own int, float, complex and bool are weak: a NumPy scalar (np.float64(2.0),
    a float subclass) has its dtype, as in NumPy 2.
    """
    dtypes = []
    weak = []
    for v in values:
        if type(v) in _SCALARS or v is None:
            weak.append(v)
        elif backend.is_array(v):
            dtypes.append(np.dtype(backend.dtype_name(v)))
        else:
            dtypes.append(np.asarray(v).dtype)
    if not dtypes:
        return None
    common = np.result_type(*dtypes)
    if common.kind in "biu" and any(isinstance(w, float) for w in weak):
        common = np.dtype(np.float64)
    if common.kind != "c" and any(isinstance(w, complex) for w in weak):
        common = np.result_type(common, np.complex64)
    return common


def operands(
    backend: Any,
    values: list[Any],
    promote: bool = True,
    keep_scalars: bool = False,
    divides: bool = False,
) -> list[Any]:
    """``values`` as the backend's arrays; with ``promote``, all of NumPy's result dtype.

    With ``keep_scalars``, Python scalars beside a backend array stay Python scalars (weak).
    With ``divides`` (true division), integer operands become float64, as NumPy's.
    """
    target = result_dtype(backend, values) if promote else None
    if divides and (target is None or target.kind in "biu"):
        target = np.dtype(np.float64)
    if keep_scalars:
        keep_scalars = any(backend.is_array(v) for v in values)
    out = []
    for v in values:
        if v is None or (keep_scalars and type(v) in _SCALARS):
            out.append(v)
            continue
        if backend.is_array(v):
            if target is not None and backend.dtype_name(v) != target.name:
                v = backend.asarray(v, target)
            out.append(v)
        else:
            out.append(backend.asarray(np.asarray(v, dtype=target)))
    return out
