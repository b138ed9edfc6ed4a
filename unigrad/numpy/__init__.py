"""``import unigrad.numpy as unp``: one NumPy-like ops namespace for every backend.

Each op runs on the backend in force: inside a transform, the transform's backend; outside,
the framework of the first non-NumPy array argument, else the active backend (see
``unigrad.get_backend``). Ops accept backend arrays mixed with NumPy arrays and Python
scalars, and return backend arrays. Derivatives at kinks follow the conventions in the README
("Derivatives at kinks"), the same on every backend.
"""

from __future__ import annotations

import builtins  # any and all are ops here
from collections.abc import Callable
from typing import Any

from unigrad import registry
from unigrad.api import switch
from unigrad.api.array import Array, unwrap, wrap
from unigrad.api.detect import owning_backend
from unigrad.backends.layout import einsum_from_sublists
from unigrad.backends.optable import ARRAY_ARGS
from unigrad.errors import ArgumentError, ArgumentTypeError
from unigrad.numpy import linalg

# name -> one-line description. Every backend's ops table provides all of these.
OPS: dict[str, str] = {
    # creation
    "asarray": "Convert to a backend array (Python floats become float64).",
    "zeros": "An array of zeros (float64 unless dtype is given).",
    "ones": "An array of ones (float64 unless dtype is given).",
    "arange": "Evenly spaced values, like numpy.arange.",
    "eye": "The identity matrix.",
    "zeros_like": "Zeros with the shape and dtype of x.",
    "ones_like": "Ones with the shape and dtype of x.",
    "astype": "Cast x to dtype.",
    # arithmetic
    "add": "x + y, broadcasting.",
    "subtract": "x - y, broadcasting.",
    "multiply": "x * y, broadcasting.",
    "divide": "x / y, broadcasting.",
    "negative": "-x.",
    "power": "x ** y; for a constant c, d/dx x**c = c*x**(c-1), and x**0 has derivative 0.",
    "square": "x * x.",
    "reciprocal": "1 / x.",
    # elementwise math
    "exp": "e**x.",
    "log": "Natural logarithm.",
    "log1p": "log(1 + x), accurate near 0.",
    "expm1": "exp(x) - 1, accurate near 0.",
    "sqrt": "Square root.",
    "sin": "Sine.",
    "cos": "Cosine.",
    "tan": "Tangent.",
    "arcsin": "Inverse sine.",
    "arccos": "Inverse cosine.",
    "arctan": "Inverse tangent.",
    "sinh": "Hyperbolic sine.",
    "cosh": "Hyperbolic cosine.",
    "tanh": "Hyperbolic tangent.",
    "arcsinh": "Inverse hyperbolic sine.",
    "arccosh": "Inverse hyperbolic cosine.",
    "arctanh": "Inverse hyperbolic tangent.",
    "abs": "Absolute value; abs'(0) = 0.",
    "sign": "Sign; derivative 0.",
    "floor": "Floor; derivative 0.",
    "ceil": "Ceiling; derivative 0.",
    "round": "Round half to even; derivative 0.",
    "maximum": "Elementwise maximum; at a tie each side gets half the derivative.",
    "minimum": "Elementwise minimum; at a tie each side gets half the derivative.",
    "clip": "Clip to [lo, hi]; derivative 1 on the closed interval, bounds included.",
    "sigmoid": "Logistic function 1 / (1 + exp(-x)), computed stably.",
    "softplus": "log(1 + exp(x)), computed stably.",
    "relu": "max(x, 0); relu'(0) = 0.",
    "where": "Select from x where cond, else y; NaN from the branch not taken still flows.",
    # reductions
    "sum": "Sum over axis.",
    "mean": "Mean over axis.",
    "prod": "Product over axis; its derivative is exact with zeros.",
    "max": "Maximum over axis; tied elements share the derivative evenly.",
    "min": "Minimum over axis; tied elements share the derivative evenly.",
    "var": "Variance over axis (ddof supported).",
    "std": "Standard deviation over axis (ddof supported).",
    "logsumexp": "log(sum(exp(x))) over axis, computed stably.",
    # shapes and indexing
    "reshape": "Give x a new shape.",
    "transpose": "Permute axes.",
    "swapaxes": "Swap two axes.",
    "moveaxis": "Move one axis to a new position.",
    "expand_dims": "Insert a unit axis.",
    "squeeze": "Remove unit axes.",
    "ravel": "Flatten to 1-D.",
    "broadcast_to": "Broadcast x to a shape.",
    "stack": "Join arrays along a new axis.",
    "concatenate": "Join arrays along an existing axis.",
    "diagonal": "diagonal(a, offset=0, axis1=0, axis2=1): NumPy's diagonal, as a last axis.",
    # contractions
    "matmul": "Matrix product (the @ operator).",
    "dot": "NumPy's dot product.",
    "outer": "Outer product.",
    "inner": "Inner product over the last axes.",
    "einsum": "Einstein summation: einsum(subscripts, *operands).",
    "trace": "trace(a, offset=0, axis1=0, axis2=1): the sum of NumPy's diagonal.",
    # comparisons (not differentiable: they return booleans)
    "greater": "x > y.",
    "greater_equal": "x >= y.",
    "less": "x < y.",
    "less_equal": "x <= y.",
    "equal": "x == y.",
    "not_equal": "x != y.",
    "isfinite": "Elementwise finiteness test.",
    "isnan": "Elementwise NaN test.",
    "isinf": "Elementwise infinity test.",
    "stop_gradient": "A constant copy of x at every order of differentiation.",
    # constants and pass-throughs (the tester's findings on methods users call)
    "argmax": "Index of the first largest element (along axis): a constant.",
    "argmin": "Index of the first smallest element (along axis): a constant.",
    "any": "any(a, axis=None, keepdims=False): whether any element is nonzero: a constant.",
    "all": "all(a, axis=None, keepdims=False): whether every element is nonzero: a constant.",
    "real": "The real part (x itself for a real array).",
    "imag": "The imaginary part (zeros, a constant, for a real array).",
    "conj": "The complex conjugate (x itself for a real array).",
    "copy": "x itself: unigrad's arrays never change in place, so a copy is the same value.",
    # issue 16: structure (NumPy's signatures; README, "The structure family")
    "tensordot": "Sum of products over the given axes of a and b.",
    "repeat": "Repeat each element (of the flattened array when axis is None).",
    "tile": "Repeat the whole array reps times along each axis.",
    "tril": "Zero the elements above the k-th diagonal (last two axes).",
    "triu": "Zero the elements below the k-th diagonal (last two axes).",
    "diag": "A matrix with v on its k-th diagonal (v 1-D), or the k-th diagonal (v 2-D).",
    "roll": "Shift elements cyclically along axis (the flattened array when None).",
    "flip": "Reverse the order of elements along axis (every axis when None).",
    "fliplr": "Reverse the order along axis 1.",
    "flipud": "Reverse the order along axis 0.",
    "rot90": "Rotate by 90 degrees k times in the plane of axes.",
    "pad": "Pad in mode constant, edge, reflect, symmetric or wrap.",
    "append": "Join values after arr along axis (both flattened when None).",
    "split": "Split into equal sections or at indices along axis: a list of arrays.",
    "array_split": "As split; sections may differ in length by one.",
    "hsplit": "Split along axis 1 (axis 0 for 1-D arrays).",
    "vsplit": "Split along axis 0.",
    "dsplit": "Split along axis 2.",
    "hstack": "Join along the second axis (the first for 1-D arrays).",
    "vstack": "Join along the first axis, 1-D arrays as rows.",
    "row_stack": "vstack.",
    "column_stack": "Join 1-D arrays as columns, 2-D arrays as they are.",
    "atleast_1d": "Each array with at least one dimension.",
    "atleast_2d": "Each array with at least two dimensions.",
    "atleast_3d": "Each array with at least three dimensions.",
    "rollaxis": "Move axis to just before position start.",
    "kron": "Kronecker product.",
    "cross": "Cross product of 3- (or 2-) component vectors.",
    "diff": "n-th discrete difference along axis.",
    "cumsum": "Cumulative sum along axis (of the flattened array when None).",
    "cumprod": "Cumulative product along axis; its derivative is exact with zeros.",
    "sort": "Sorted copy; the derivative is the permutation of a stable sort (ties keep order).",
    "argsort": "The indices of a stable sort (ties keep their order, NaN last): a constant.",
    "partition": "Partitioned copy around kth: the full stable sort, with sort's derivative.",
    "linspace": "Evenly spaced numbers, differentiable in start and stop.",
    "nonzero": "Indices of the nonzero elements, one integer array per axis: constants.",
    # issue 16: elementwise
    "remainder": "x % y with the sign of y (NumPy's mod); derivatives 1 and -(x // y).",
    "mod": "x % y with the sign of y, as remainder; derivatives 1 and -(x // y).",
    "floor_divide": "x // y, rounded toward -inf; derivative 0.",
    "arctan2": "The angle of the point (x, y): arctan2(y, x); derivative 0 at the origin.",
    "hypot": "sqrt(x**2 + y**2) without overflow; derivative 0 at the origin.",
    "log2": "Base-2 logarithm.",
    "log10": "Base-10 logarithm.",
    "exp2": "2**x.",
    "logaddexp": "log(exp(x) + exp(y)), computed stably.",
    "logaddexp2": "log2(2**x + 2**y), computed stably.",
    "fmax": "Elementwise maximum ignoring NaN; a tie splits the derivative 0.5/0.5.",
    "fmin": "Elementwise minimum ignoring NaN; a tie splits the derivative 0.5/0.5.",
    "fabs": "Absolute value of real numbers; fabs'(0) = 0.",
    "sinc": "sin(pi x) / (pi x), 1 at 0; exact derivatives at 0 (odd ones 0).",
    "nan_to_num": "NaN and infinities replaced by numbers; derivative 0 where replaced.",
    "deg2rad": "Degrees to radians.",
    "rad2deg": "Radians to degrees.",
    "radians": "Degrees to radians.",
    "degrees": "Radians to degrees.",
}


def target(args: tuple) -> tuple[Any, bool]:
    """(the backend adapter that runs an op on ``args``, whether results are ``Array``s).

    An ``Array`` argument decides, then a running transform (or ``use_backend``), then the
    framework of a native array argument (native arrays in give native arrays out), then the
    active backend. On backends that wrap arrays, results are ``unigrad.Array``s unless the
    inputs were the framework's own arrays.
    """
    found = _array_backend(args)
    if found is not None:
        return found, True
    h = switch.in_context()
    if h is not None:
        return h.impl, h.impl.wraps_arrays
    name = owning_backend(args)
    if name is not None:
        return registry.handle(name).impl, False
    impl = switch.get_backend().impl
    return impl, impl.wraps_arrays


def _array_backend(args: Any) -> Any:
    for a in args:
        t = type(a)
        if t is Array:
            return a._b
        if t is list or t is tuple:
            found = _array_backend(a)
            if found is not None:
                return found
    return None


def ops_for(args: tuple) -> Any:
    """The ops table of the backend that should run an op on ``args``."""
    return target(args)[0].ops


# ops whose first argument is a sequence of arrays by design
_SEQUENCE_OPS = frozenset(
    {"asarray", "stack", "concatenate", "hstack", "vstack", "row_stack", "column_stack"}
)


def _make(name: str, doc: str) -> Callable[..., Any]:
    # a list as the first argument is an array, except for sequence ops and shape arguments
    takes_sequence = name in _SEQUENCE_OPS or ARRAY_ARGS.get(name, 1) == 0

    def op(*args: Any, **kwargs: Any) -> Any:
        if type(args[0]) is Array if args else False:
            first = args[0]
            if len(args) == 1 and (
                not kwargs or not builtins.any(type(v) is Array for v in kwargs.values())
            ):
                # the common case, unp.tanh(x) or x.sum(axis=0): nothing else to look at
                b = first._b
                return wrap(getattr(b.ops, name)(first.native, **kwargs), b)
        impl, wrapping = target(args)
        fn = getattr(impl.ops, name)
        if wrapping:
            args, kwargs = unwrap(args), unwrap(kwargs)
        if args and not takes_sequence and type(args[0]) in (list, tuple):
            # a list holding traced values (unp.mean([x, y])) is stacked first, as NumPy would
            # make it an array, so that the derivative reaches them
            args = (impl.ops.asarray(args[0]), *args[1:])
        out = fn(*args, **kwargs)
        return wrap(out, impl) if wrapping else out

    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    op.__module__ = __name__
    return op


for _name, _doc in OPS.items():
    globals()[_name] = _make(_name, _doc)

absolute = globals()["abs"]
array = globals()["asarray"]
amax = globals()["max"]
amin = globals()["min"]
around = globals()["round"]
conjugate = globals()["conj"]
true_divide = globals()["divide"]


def _call(name: str, args: tuple) -> Any:
    impl, wrapping = target(args)
    fn = getattr(impl.ops, name)
    if not wrapping:
        return fn(*args)
    return wrap(fn(*unwrap(args)), impl)


def einsum(*operands: Any) -> Any:
    """Einstein summation: einsum(subscripts, *operands), or the sublist form
    einsum(a, [0, 1], b, [1, 2], [0, 2])."""
    if operands and not isinstance(operands[0], str):
        operands = einsum_from_sublists(operands)
        operands = (operands[0], *operands[1])
    return _call("einsum", operands)


_NO_VALUE: Any = object()


def where(condition: Any, x: Any = _NO_VALUE, y: Any = _NO_VALUE) -> Any:
    """Select from x where condition, else y; NaN from the branch not taken still flows.
    ``where(condition)`` alone is ``nonzero(condition)``: index arrays, constants."""
    if x is _NO_VALUE and y is _NO_VALUE:
        return globals()["nonzero"](condition)
    if x is _NO_VALUE or y is _NO_VALUE:
        raise ArgumentError("unigrad.numpy.where: give both x and y, or neither")
    return _where(condition, x, y)


def clip(
    a: Any,
    a_min: Any = _NO_VALUE,
    a_max: Any = _NO_VALUE,
    out: Any = None,
    *,
    min: Any = _NO_VALUE,
    max: Any = _NO_VALUE,
) -> Any:
    """Clip to [a_min, a_max] (or NumPy 2.1's min=, max=); derivative 1 on the closed interval,
    bounds included."""
    if out is not None:
        raise ArgumentTypeError("unigrad.numpy.clip(out=...): arrays cannot be written in place")
    if min is not _NO_VALUE:
        if a_min is not _NO_VALUE:
            raise ArgumentTypeError("unigrad.numpy.clip: give a_min or min, not both")
        a_min = min
    if max is not _NO_VALUE:
        if a_max is not _NO_VALUE:
            raise ArgumentTypeError("unigrad.numpy.clip: give a_max or max, not both")
        a_max = max
    if a_min is _NO_VALUE or a_max is _NO_VALUE:
        raise ArgumentTypeError("unigrad.numpy.clip needs a_min and a_max (either may be None)")
    return _clip(a, a_min, a_max)


def swapaxes(a: Any, axis1: int, axis2: int) -> Any:
    """Swap two axes."""
    return _swapaxes(a, axis1, axis2)


_where, _clip, _swapaxes = (
    _make("where", OPS["where"]),
    _make("clip", OPS["clip"]),
    _make("swapaxes", OPS["swapaxes"]),
)


def __getattr__(name: str) -> Any:
    raise AttributeError(
        f"unigrad.numpy has no op {name!r}. The ops are listed in unigrad.numpy.OPS; "
        "combine them, or open an issue to add one."
    )


__all__ = [
    *OPS,
    "absolute",
    "amax",
    "amin",
    "around",
    "array",
    "conjugate",
    "linalg",
    "true_divide",
]
