"""``ArrayTracer``: the traced value as an array, with Python's operators and NumPy's methods.

Every operator and method is defined in the class body over the op modules, which are fully
imported before this one (they know nothing of it), as HIPS autograd's ``ArrayBox`` is. The
tracers of both traces (``reverse.RevTracer``, ``forward.FwdTracer``) derive from this class.
Comparisons and predicates give plain (constant) boolean arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from unigrad.backends.numpy.contractions import dot, matmul, matrix_transpose
from unigrad.backends.numpy.elementwise import UFUNCS as ELEMENTWISE_UFUNCS
from unigrad.backends.numpy.elementwise import (
    abs,
    add,
    astype,
    conj,
    divide,
    equal,
    floor_divide,
    greater,
    greater_equal,
    imag,
    less,
    less_equal,
    multiply,
    nan_to_num,
    negative,
    not_equal,
    power,
    real,
    remainder,
    sinc,
    subtract,
)
from unigrad.backends.numpy.elementwise import clip as clip_p
from unigrad.backends.numpy.elementwise import round as round_p
from unigrad.backends.numpy.rearrange import diagonal, repeat, trace
from unigrad.backends.numpy.reductions import max, mean, min, prod, std, var
from unigrad.backends.numpy.scans import cumprod, cumsum
from unigrad.backends.numpy.sorting import argsort, nonzero
from unigrad.backends.numpy.structural import (
    getitem,
    index,
    ravel,
    reshape,
    squeeze,
    sum,
    swapaxes,
    transpose,
)
from unigrad.backends.numpy.tracer import Tracer, TracerConversionError, primal

from unigrad.errors import NumpyFunctionUnsupportedError

_IN_PLACE = (
    "x.{name}() changes x in place, and a traced value cannot change; "
    "use y = unigrad.numpy.{name}(x, ...) instead"
)

# np.<ufunc>(tracer) routes here through ArrayTracer.__array_ufunc__.
UFUNCS: dict[str, Callable[..., Any]] = {**ELEMENTWISE_UFUNCS, "matmul": matmul}
# np.<function>(tracer) routes here through ArrayTracer.__array_function__: NumPy's function
# name (``linalg.norm`` for np.linalg.norm) -> the engine's op of that name. ``ops``, the table
# of every op (a module above this one), fills it when imported; ``engine`` imports it first.
FUNCTIONS: dict[str, Callable[..., Any]] = {"sinc": sinc, "nan_to_num": nan_to_num}
# NumPy functions whose own implementation only reads the tracer's attributes (np.shape(x) is
# x.shape), and reductions whose NumPy function calls the tracer's method with NumPy's keywords
# (np.sum(x, dtype=...) is x.sum(dtype=...))
_READ_ATTRIBUTES = frozenset({"shape", "ndim", "size", "iscomplexobj", "isrealobj"})
_CALL_METHOD = frozenset({"sum", "mean", "prod", "max", "min", "amax", "amin", "var", "std"})
_FUNCTION_NAMES = {"round_": "round"}  # NumPy 1's np.round


def _keepdims(kwargs: dict) -> dict:
    return {"keepdims": kwargs["keepdims"]} if "keepdims" in kwargs else {}


def _accumulate(fn: Callable[..., Any]) -> Callable[..., Any]:
    return lambda x, axis, keepdims=False: fn(x, axis)


# np.add.reduce(x) and the like: ufunc methods the engine has ops for (axis 0 by default)
_UFUNC_METHODS: dict[tuple[str, str], Callable[..., Any]] = {
    ("add", "reduce"): sum,
    ("multiply", "reduce"): prod,
    ("maximum", "reduce"): max,
    ("minimum", "reduce"): min,
    ("add", "accumulate"): _accumulate(cumsum),
    ("multiply", "accumulate"): _accumulate(cumprod),
}
_UFUNC_NAMES = {"absolute": "abs", "true_divide": "divide", "conjugate": "conj", "rint": "round"}


def _reduction(fn: Callable[..., Any], ddof: bool = False) -> Callable[..., Any]:
    """A reduction method taking NumPy's keywords (``np.sum(tracer)`` calls ``tracer.sum``)."""

    def method(
        self: Any,
        axis: Any = None,
        dtype: Any = None,
        out: Any = None,
        keepdims: bool = False,
        **kwargs: Any,
    ) -> Any:
        if out is not None:
            raise TracerConversionError(
                f"{fn.__name__}(out=...) cannot hold a traced value; drop out="
            )
        extra = {"ddof": kwargs.pop("ddof", 0)} if ddof else {}
        if kwargs:
            raise TracerConversionError(
                f"unigrad.numpy.{fn.__name__} on a traced value does not take "
                f"{', '.join(sorted(kwargs))}; select with unigrad.numpy.where first"
            )
        r = fn(self, axis, keepdims=keepdims, **extra)
        return r if dtype is None else astype(r, dtype)

    method.__name__ = fn.__name__
    method.__doc__ = f"``{fn.__name__}`` over ``axis``, with NumPy's keywords."
    return method


class ArrayTracer(Tracer):
    """A traced array: arithmetic, indexing and array methods route to the engine's ops."""

    __slots__ = ()
    __hash__ = Tracer.__hash__  # defining __eq__ below would otherwise drop it

    def __add__(self, other: Any) -> Any:
        return add(self, other)

    def __radd__(self, other: Any) -> Any:
        return add(other, self)

    def __sub__(self, other: Any) -> Any:
        return subtract(self, other)

    def __rsub__(self, other: Any) -> Any:
        return subtract(other, self)

    def __mul__(self, other: Any) -> Any:
        return multiply(self, other)

    def __rmul__(self, other: Any) -> Any:
        return multiply(other, self)

    def __truediv__(self, other: Any) -> Any:
        return divide(self, other)

    def __rtruediv__(self, other: Any) -> Any:
        return divide(other, self)

    def __pow__(self, other: Any) -> Any:
        return power(self, other)

    def __rpow__(self, other: Any) -> Any:
        return power(other, self)

    def __mod__(self, other: Any) -> Any:
        return remainder(self, other)

    def __rmod__(self, other: Any) -> Any:
        return remainder(other, self)

    def __floordiv__(self, other: Any) -> Any:
        return floor_divide(self, other)

    def __rfloordiv__(self, other: Any) -> Any:
        return floor_divide(other, self)

    def __divmod__(self, other: Any) -> Any:
        return floor_divide(self, other), remainder(self, other)

    def __rdivmod__(self, other: Any) -> Any:
        return floor_divide(other, self), remainder(other, self)

    def __matmul__(self, other: Any) -> Any:
        return matmul(self, other)

    def __rmatmul__(self, other: Any) -> Any:
        return matmul(other, self)

    def __neg__(self) -> Any:
        return negative(self)

    def __pos__(self) -> Any:
        return self

    def __abs__(self) -> Any:
        return abs(self)

    def __lt__(self, other: Any) -> Any:
        return less(self, other)

    def __le__(self, other: Any) -> Any:
        return less_equal(self, other)

    def __gt__(self, other: Any) -> Any:
        return greater(self, other)

    def __ge__(self, other: Any) -> Any:
        return greater_equal(self, other)

    def __eq__(self, other: Any) -> Any:  # type: ignore[override]
        return equal(self, other)

    def __ne__(self, other: Any) -> Any:  # type: ignore[override]
        return not_equal(self, other)

    def __getitem__(self, idx: Any) -> Any:
        return index(self, idx)

    def __iter__(self) -> Iterator[Any]:
        return (getitem(self, i) for i in range(len(self)))

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        name = ufunc.__name__
        if method == "__call__":
            fn = UFUNCS.get(name)
            if fn is not None and not kwargs:
                return fn(*inputs)
            why = f"keywords {sorted(kwargs)}" if fn is not None else "no op of that name"
            capability = f"np.{name} on traced values"
        else:
            fn = _UFUNC_METHODS.get((name, method))
            if fn is not None and len(inputs) == 1 and set(kwargs) <= {"axis", "keepdims"}:
                return fn(inputs[0], kwargs.get("axis", 0), **_keepdims(kwargs))
            why = "no op for it" if fn is None else f"these arguments ({sorted(kwargs)})"
            capability = f"np.{name}.{method} on traced values"
        raise NumpyFunctionUnsupportedError(
            "numpy",
            capability,
            f"the reference engine has {why}, and NumPy's own would drop the derivative; "
            f"use the unigrad.numpy ops (unigrad.numpy.{_UFUNC_NAMES.get(name, name)} ...)",
        )

    def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
        name = _FUNCTION_NAMES.get(func.__name__, func.__name__)
        module = getattr(func, "__module__", "") or ""
        if module.endswith("linalg"):
            name = f"linalg.{name}"
        elif name in _READ_ATTRIBUTES or (
            name in _CALL_METHOD and args and isinstance(args[0], Tracer)
        ):
            return func._implementation(*args, **kwargs)
        fn = FUNCTIONS.get(name) if module.startswith("numpy") else None
        if fn is None:
            where = f"np.{func.__name__}" if module == "numpy" else f"{module}.{func.__name__}"
            raise NumpyFunctionUnsupportedError(
                "numpy",
                f"{where} on traced values",
                "the reference engine has no op for it, and NumPy's own would drop the "
                "derivative. Use the unigrad.numpy ops (listed in unigrad.numpy.OPS), or "
                "unigrad.detach(x) where you mean a constant",
            )
        return fn(*args, **kwargs)

    T = property(transpose, doc="The array with its axes reversed.")
    mT = property(matrix_transpose, doc="The array with its last two axes swapped.")
    real = property(real, doc="The real part.")
    imag = property(imag, doc="The imaginary part.")

    def reshape(self, *shape: Any) -> Any:
        """This array with a new shape (one tuple, or the sizes as arguments)."""
        return reshape(self, shape[0] if len(shape) == 1 else shape)

    def transpose(self, *axes: Any) -> Any:
        """This array with its axes permuted (reversed when none are given)."""
        return transpose(self, (axes[0] if len(axes) == 1 else axes) or None)

    def astype(self, dtype: Any) -> Any:
        """This array cast to ``dtype`` (derivatives are cast back)."""
        return astype(self, dtype)

    def ravel(self) -> Any:
        """This array flattened to 1-D."""
        return ravel(self)

    flatten = ravel

    def squeeze(self, axis: Any = None) -> Any:
        """This array without its unit axes (or only those in ``axis``)."""
        return squeeze(self, axis)

    def conj(self) -> Any:
        """The complex conjugate."""
        return conj(self)

    conjugate = conj

    def dot(self, other: Any) -> Any:
        """NumPy's dot of this array with ``other``."""
        return dot(self, other)

    def cumsum(self, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
        """Cumulative sums along ``axis`` (of the flattened array when None)."""
        return cumsum(self, axis, dtype, out)

    def cumprod(self, axis: Any = None, dtype: Any = None, out: Any = None) -> Any:
        """Cumulative products along ``axis``, exact with zeros."""
        return cumprod(self, axis, dtype, out)

    def repeat(self, repeats: Any, axis: Any = None) -> Any:
        """Each element repeated ``repeats`` times."""
        return repeat(self, repeats, axis)

    def diagonal(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
        """NumPy's diagonal of the (axis1, axis2) planes."""
        return diagonal(self, offset, axis1, axis2)

    def trace(
        self, offset: int = 0, axis1: int = 0, axis2: int = 1, dtype: Any = None, out: Any = None
    ) -> Any:
        """The sum of NumPy's diagonal."""
        return trace(self, offset, axis1, axis2, dtype, out)

    def copy(self, order: str = "C") -> Any:
        """This value itself: traced values never change, so a copy is the same value."""
        return self

    def round(self, decimals: int = 0, out: Any = None) -> Any:
        """Rounded to ``decimals`` (half to even); derivative 0."""
        if out is not None:
            raise TracerConversionError("round(out=...) cannot hold a traced value; drop out=")
        return round_p(self, decimals)

    def swapaxes(self, axis1: int, axis2: int) -> Any:
        """This array with two axes swapped."""
        return swapaxes(self, axis1, axis2)

    def argmax(self, axis: Any = None, out: Any = None, *, keepdims: bool = False) -> Any:
        """The index of the largest element (along ``axis``): a constant."""
        return self._constant_method(np.argmax, axis, out, keepdims)

    def argmin(self, axis: Any = None, out: Any = None, *, keepdims: bool = False) -> Any:
        """The index of the smallest element (along ``axis``): a constant."""
        return self._constant_method(np.argmin, axis, out, keepdims)

    def any(self, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
        """Whether any element (along ``axis``) is nonzero: a constant."""
        return self._constant_method(np.any, axis, out, keepdims)

    def all(self, axis: Any = None, out: Any = None, keepdims: bool = False) -> Any:
        """Whether every element (along ``axis``) is nonzero: a constant."""
        return self._constant_method(np.all, axis, out, keepdims)

    def _constant_method(self, fn: Callable[..., Any], axis: Any, out: Any, keepdims: bool) -> Any:
        if out is not None:
            raise TracerConversionError(
                f"{fn.__name__}(out=...) cannot hold a traced value; drop out="
            )
        return fn(primal(self), axis, keepdims=keepdims)

    def clip(self, min: Any = None, max: Any = None) -> Any:
        """Clip to [min, max]; derivative 1 on the closed interval."""
        return clip_p(self, min, max)

    def argsort(self, axis: Any = -1, kind: Any = None, order: Any = None) -> Any:
        """The indices of a stable sort along ``axis`` (a constant)."""
        return argsort(self, axis, kind, order)

    def nonzero(self) -> Any:
        """The indices of the nonzero elements (constants)."""
        return nonzero(self)

    def sort(self, *args: Any, **kwargs: Any) -> Any:
        """NumPy sorts in place; traced values cannot change: use unigrad.numpy.sort."""
        raise TracerConversionError(_IN_PLACE.format(name="sort"))

    def partition(self, *args: Any, **kwargs: Any) -> Any:
        """NumPy partitions in place; traced values cannot change: use unigrad.numpy.partition."""
        raise TracerConversionError(_IN_PLACE.format(name="partition"))

    sum = _reduction(sum)
    mean = _reduction(mean)
    prod = _reduction(prod)
    max = _reduction(max)
    min = _reduction(min)
    var = _reduction(var, ddof=True)
    std = _reduction(std, ddof=True)
