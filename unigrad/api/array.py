"""``unigrad.Array``: a framework's array with NumPy's operators, methods, indexing and dtypes.

Functions differentiated on torch, jax, tensorflow and mxnet receive their array arguments as
``Array``s, so that the code a user writes once (``X @ w``, ``x[::-1]``, ``x.sum()``, ``x ** 0.0``,
``np_data * x``) means the same on every backend. Every operator and method goes through the
backend's op table (``unigrad.numpy``'s meaning, pins included); nothing is written per
framework here. ``x.native`` is the framework's own array, for calling its own ops; results of
such calls can be mixed with ``Array``s again.

The reference engine (the numpy backend) hands its own tracers instead: they already have NumPy's
semantics.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

import numpy as np

from unigrad import pytree
from unigrad.api.detect import framework_of
from unigrad.errors import (
    IN_PLACE,
    TOLIST_TRACED,
    ForeignArrayError,
    InPlaceError,
    NumpyFunctionUnsupportedError,
    UnigradError,
)


class ArrayConversionError(UnigradError, TypeError):
    """A value being differentiated was handed to plain NumPy, which would drop its derivative."""


class Array:
    """An array of one backend with NumPy's semantics; ``.native`` is the framework's array."""

    __slots__ = ("_b", "_detached", "native")
    __array_priority__ = 10_000.0  # NumPy defers to our reflected operators

    def __init__(self, native: Any, backend: Any, detached: bool = False) -> None:
        self.native = native
        self._b = backend
        self._detached = detached  # made by unigrad.detach: a constant, NumPy may have it

    # ------------------------------------------------------------------------- metadata
    @property
    def backend(self) -> str:
        """The name of the backend this array belongs to."""
        return self._b.name

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(self._b.shape(self.native))

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=int))

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self._b.dtype_name(self.native))

    @property
    def T(self) -> Array:
        return self.transpose()

    @property
    def mT(self) -> Array:
        return self.swapaxes(-1, -2)

    @property
    def real(self) -> Array:
        """The real part (the array itself when it is real)."""
        return self._op("real")

    @property
    def imag(self) -> Array:
        """The imaginary part (zeros, a constant, when the array is real)."""
        return self._op("imag")

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of a 0-d array")
        return self.shape[0]

    def __iter__(self) -> Any:
        return (self[i] for i in range(len(self)))

    def __repr__(self) -> str:
        try:
            body = np.array2string(self._b.to_numpy(self.native), separator=", ")
        except Exception:  # a traced value has no number yet
            body = f"<traced, shape {self.shape}>"
        return f"unigrad.Array({body}, dtype={self.dtype.name}, backend={self.backend!r})"

    # ----------------------------------------------------------------------- conversion
    def _numpy(self) -> np.ndarray:
        return np.asarray(self._b.to_numpy(self._constant()))

    def _constant(self) -> Any:
        # A Python value made from an array is a constant: stop_gradient first, so that JAX's
        # tracers give up their value as torch's and TF's tensors do.
        return self._b.stop_gradient(self.native)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        from unigrad.api import switch

        if not self._detached and switch.in_transform():
            raise ArrayConversionError(
                "a value being differentiated cannot become a NumPy array: np.asarray/np.* "
                "would drop its derivative. Use unigrad.numpy ops (np.* ufuncs on it work), "
                "or np.asarray(unigrad.detach(x)) if you mean a constant."
            )
        a = self._numpy()
        return a if dtype is None else a.astype(dtype)

    # Python control flow on values: the framework's own conversion, so that a compiler
    # tracing the function raises its own error and unigrad runs it eagerly instead.
    def __bool__(self) -> bool:
        return bool(self._constant())

    def __float__(self) -> float:
        return float(self._constant())

    def __int__(self) -> int:
        return int(self._constant())

    def __index__(self) -> int:
        return operator.index(self._numpy()[()])

    def item(self) -> Any:
        """The value of a one-element array as a Python number."""
        v = self._constant()
        return v.item() if hasattr(v, "item") else self._numpy().item()

    def tolist(self) -> Any:
        """The values as nested Python lists (inside a transform, of a detached value only:
        Python numbers are constants, so the derivative through them would be zero)."""
        from unigrad.api import switch

        if not self._detached and switch.in_transform():
            raise ArrayConversionError(TOLIST_TRACED)
        return self._numpy().tolist()

    def __hash__(self) -> int:
        return id(self)

    # ------------------------------------------------------------------------- indexing
    def __getitem__(self, index: Any) -> Array:
        return Array(self._b.ops.getitem(self.native, unwrap(index)), self._b)

    def __setitem__(self, index: Any, value: Any) -> None:
        raise InPlaceError(IN_PLACE)

    # ------------------------------------------------------------------------- protocols
    def _not_foreign(self) -> None:
        """Raise for an array of one backend met inside a transform running on another (made
        under use_backend("torch") and closed over by a function differentiated on numpy)."""
        from unigrad.api import switch

        h = switch.in_context()
        if h is not None and h.name != self._b.name and switch.in_transform():
            raise ForeignArrayError(h.name, f"a {self._b.name} array")

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        from unigrad import numpy as unp

        self._not_foreign()

        name = _UFUNC_NAMES.get(ufunc.__name__, ufunc.__name__)
        if method == "__call__":
            fn = getattr(unp, name, None) if name in unp.__all__ else None
            if fn is not None and not kwargs:
                return fn(*inputs)
            why = f"keywords {sorted(kwargs)}" if fn is not None else "no op of that name"
            capability = f"np.{ufunc.__name__} on unigrad arrays"
        else:
            op = _UFUNC_METHODS.get((ufunc.__name__, method))
            if op is not None and len(inputs) == 1 and set(kwargs) <= {"axis", "keepdims"}:
                kw = {"keepdims": kwargs["keepdims"]} if "keepdims" in kwargs else {}
                return getattr(unp, op)(inputs[0], kwargs.get("axis", 0), **kw)
            why = "no op for it" if op is None else f"these arguments ({sorted(kwargs)})"
            capability = f"np.{ufunc.__name__}.{method} on unigrad arrays"
        raise NumpyFunctionUnsupportedError(
            self._b.name,
            capability,
            f"unigrad.numpy has {why}, and NumPy's own would drop the derivative; use the "
            "unigrad.numpy ops (listed in unigrad.numpy.OPS)",
        )

    def __array_function__(self, func: Any, types: Any, args: tuple, kwargs: dict) -> Any:
        from unigrad import numpy as unp

        self._not_foreign()

        name = _FUNCTION_NAMES.get(func.__name__, func.__name__)
        module = getattr(func, "__module__", "") or ""
        if module.endswith("linalg"):
            fn = getattr(unp.linalg, name, None) if name in unp.linalg.__all__ else None
        elif name in _METADATA:
            fn = func._implementation  # reads x.shape, x.ndim, x.dtype only
        else:
            fn = getattr(unp, name, None) if name in unp.__all__ else None
        if fn is None:
            where = f"np.{name}" if module == "numpy" else f"{module}.{name}"
            raise NumpyFunctionUnsupportedError(
                self._b.name,
                f"{where} on unigrad arrays",
                "unigrad.numpy has no op for it, and NumPy's own would drop the derivative; "
                "use the unigrad.numpy ops (listed in unigrad.numpy.OPS), or unigrad.detach(x) "
                "where you mean a constant",
            )
        return fn(*args, **kwargs)

    @classmethod
    def __torch_function__(cls, func: Any, types: Any, args: tuple = (), kwargs: Any = None) -> Any:
        """torch's own ops on unigrad arrays: they run on the native tensors."""
        owner = next(a._b for a in pytree.tree_leaves(list(args)) if isinstance(a, Array))
        out = func(*unwrap(list(args)), **unwrap(kwargs or {}))
        return wrap(out, owner)

    # --------------------------------------------------------------------------- methods
    def _op(self, name: str, *args: Any, **kwargs: Any) -> Array:
        return getattr(_unp or _numpy_ops(), name)(self, *args, **kwargs)

    def reshape(self, *shape: Any, order: str = "C") -> Array:
        _c_order(order)
        return self._op("reshape", shape[0] if len(shape) == 1 else shape)

    def transpose(self, *axes: Any) -> Array:
        return self._op("transpose", (axes[0] if len(axes) == 1 else axes) or None)

    def swapaxes(self, axis1: int, axis2: int) -> Array:
        return self._op("swapaxes", axis1, axis2)

    def astype(self, dtype: Any, copy: bool = True) -> Array:
        return self._op("astype", dtype)

    def ravel(self, order: str = "C") -> Array:
        _c_order(order)
        return self._op("ravel")

    def flatten(self, order: str = "C") -> Array:
        _c_order(order)
        return self._op("ravel")

    def squeeze(self, axis: Any = None) -> Array:
        return self._op("squeeze", axis)

    def copy(self, order: str = "C") -> Array:
        """This array: unigrad arrays never change in place, so a copy is the same value."""
        return self

    def conjugate(self) -> Array:
        """The complex conjugate (the array itself when it is real)."""
        return self._op("conj")

    def sum(self, axis: Any = None, dtype: Any = None, out: None = None, keepdims: bool = False):
        return self._reduce("sum", axis, dtype, out, keepdims)

    def mean(self, axis: Any = None, dtype: Any = None, out: None = None, keepdims: bool = False):
        return self._reduce("mean", axis, dtype, out, keepdims)

    def prod(self, axis: Any = None, dtype: Any = None, out: None = None, keepdims: bool = False):
        return self._reduce("prod", axis, dtype, out, keepdims)

    def max(self, axis: Any = None, out: None = None, keepdims: bool = False) -> Array:
        return self._reduce("max", axis, None, out, keepdims)

    def min(self, axis: Any = None, out: None = None, keepdims: bool = False) -> Array:
        return self._reduce("min", axis, None, out, keepdims)

    def var(self, axis: Any = None, dtype: Any = None, out: None = None, ddof: int = 0,
            keepdims: bool = False) -> Array:  # fmt: skip
        return self._reduce("var", axis, dtype, out, keepdims, ddof=ddof)

    def std(self, axis: Any = None, dtype: Any = None, out: None = None, ddof: int = 0,
            keepdims: bool = False) -> Array:  # fmt: skip
        return self._reduce("std", axis, dtype, out, keepdims, ddof=ddof)

    def _reduce(self, name: str, axis: Any, dtype: Any, out: Any, keepdims: bool, **kw: Any):
        if out is not None:
            raise TypeError(f"{name}(out=...) cannot hold a unigrad array; use the result")
        r = self._op(name, axis=axis, keepdims=keepdims, **kw)
        return r if dtype is None else r.astype(dtype)

    def dot(self, b: Any) -> Array:
        return self._op("dot", b)

    def clip(self, min: Any = None, max: Any = None) -> Array:
        return self._op("clip", min, max)

    def sort(self, *args: Any, **kwargs: Any) -> None:
        """NumPy sorts in place, and unigrad arrays cannot change: use unigrad.numpy.sort."""
        raise ArrayConversionError(_IN_PLACE.format(name="sort"))

    def partition(self, *args: Any, **kwargs: Any) -> None:
        """NumPy partitions in place, and unigrad arrays cannot change."""
        raise ArrayConversionError(_IN_PLACE.format(name="partition"))

    def __getattr__(self, name: str) -> Callable[..., Any]:
        from unigrad import numpy as unp

        if name.startswith("_") or name not in unp.OPS:
            raise AttributeError(
                f"unigrad.Array has no attribute {name!r}. Use unigrad.numpy ops, or x.native "
                f"for the {self._b.name} array itself"
            )
        fn = getattr(unp, name)
        return lambda *args, **kwargs: fn(self, *args, **kwargs)

    # ------------------------------------------------------------------------ operators
    def __neg__(self) -> Array:
        return self._op("negative")

    def __pos__(self) -> Array:
        return self

    def __abs__(self) -> Array:
        return self._op("abs")

    def __invert__(self) -> Array:
        return self._op("logical_not")

    def __divmod__(self, other: Any) -> tuple[Array, Array]:
        return self // other, self % other

    def __rdivmod__(self, other: Any) -> tuple[Array, Array]:
        return other // self, other % self


_unp: Any = None  # unigrad.numpy, once imported (it imports this module)


def _numpy_ops() -> Any:
    """unigrad.numpy, imported on first use: an import statement in every ``_op`` call costs
    more than the op's own bookkeeping."""
    global _unp
    from unigrad import numpy as unp

    _unp = unp
    return unp


_IN_PLACE = (
    "x.{name}() changes x in place, and unigrad arrays cannot change (as in JAX); "
    "use y = unigrad.numpy.{name}(x, ...) instead"
)


def _c_order(order: str) -> None:
    if order != "C":
        raise NotImplementedError(f"order={order!r}: unigrad arrays support order='C' only")


# NumPy ufunc names that unigrad.numpy spells another way
_UFUNC_NAMES = {"absolute": "abs", "true_divide": "divide", "conjugate": "conj", "rint": "round"}
# np.add.reduce(x) and the like: ufunc methods unigrad.numpy has an op for (axis 0 by default)
_UFUNC_METHODS = {
    ("add", "reduce"): "sum",
    ("multiply", "reduce"): "prod",
    ("maximum", "reduce"): "max",
    ("minimum", "reduce"): "min",
    ("add", "accumulate"): "cumsum",
    ("multiply", "accumulate"): "cumprod",
}
# NumPy functions that unigrad.numpy spells another way (NumPy 1's np.round is round_)
_FUNCTION_NAMES = {"round_": "round"}
# NumPy functions that only read an array's shape, ndim or dtype: NumPy's own is right
_METADATA = frozenset({"shape", "ndim", "size", "iscomplexobj", "isrealobj"})
_OPERATORS = {
    "add": "add",
    "sub": "subtract",
    "mul": "multiply",
    "truediv": "divide",
    "floordiv": "floor_divide",
    "mod": "remainder",
    "pow": "power",
    "matmul": "matmul",
    "lt": "less",
    "le": "less_equal",
    "gt": "greater",
    "ge": "greater_equal",
    "eq": "equal",
    "ne": "not_equal",
    "and": "logical_and",
    "or": "logical_or",
    "xor": "logical_xor",
}
_OPERANDS = (int, float, complex, bool, np.ndarray, np.generic, list, tuple)


def _operator(py: str, op: str, reflected: bool) -> Callable[[Array, Any], Any]:
    native_op = getattr(operator, f"{py}_" if py in ("and", "or") else py)
    power = op == "power"

    def method(self: Array, other: Any) -> Any:
        b = self._b
        x = self.native
        t = type(other)
        if t is Array:
            if other._b is not b:
                raise ForeignArrayError(b.name, f"a {other._b.name} array")
            other = other.native
            same = not power and other.dtype == x.dtype
        elif t is float or t is int:
            # a Python number meets a float array as NumPy's would; x ** 0 keeps its pin
            same = (not power or (other != 0 and not reflected)) and b.is_float(x)
        elif isinstance(other, _OPERANDS) or b.is_array(other):
            same = False
        else:
            name = framework_of(other)
            if name is not None and name != b.name:  # a torch.Tensor closed over, say
                kind = f"a {name} array ({t.__module__}.{t.__qualname__})"
                raise ForeignArrayError(b.name, kind)
            return NotImplemented
        if same and op in b.native_operators:  # the framework's operator already means this
            return Array(native_op(other, x) if reflected else native_op(x, other), b)
        fn = getattr(b.ops, op)
        return Array(fn(other, x) if reflected else fn(x, other), b)

    return method


for _py, _name in _OPERATORS.items():
    setattr(Array, f"__{_py}__", _operator(_py, _name, False))
    if _py not in ("lt", "le", "gt", "ge", "eq", "ne"):
        setattr(Array, f"__r{_py}__", _operator(_py, _name, True))


# --------------------------------------------------------------------- wrapping pytrees


def wrap(tree: Any, backend: Any) -> Any:
    """Every ``backend`` array leaf of ``tree`` as an ``Array`` (other leaves unchanged)."""
    if backend.is_array(tree) and not isinstance(tree, np.ndarray | np.generic):
        return Array(tree, backend)
    t = type(tree)
    if t in (list, tuple, dict) or (isinstance(tree, tuple) and hasattr(tree, "_fields")):
        return pytree.tree_map(lambda v: wrap(v, backend), tree)
    return tree


def unwrap(tree: Any) -> Any:
    """Every ``Array`` leaf of ``tree`` (also inside lists, tuples, dicts and slices) as its
    native array."""
    t = type(tree)
    if t is Array:
        return tree.native
    if t is list or t is tuple:
        return t(unwrap(v) for v in tree)
    if t is dict:
        return {k: unwrap(v) for k, v in tree.items()}
    if t is slice:
        return slice(unwrap(tree.start), unwrap(tree.stop), unwrap(tree.step))
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return t(*(unwrap(v) for v in tree))
    return tree


def holds_array(tree: Any) -> bool:
    """Whether ``tree`` has an ``Array`` leaf (looking into lists, tuples and dicts)."""
    t = type(tree)
    if t is Array:
        return True
    if t is list or t is tuple:
        return any(holds_array(v) for v in tree)
    if t is dict:
        return any(holds_array(v) for v in tree.values())
    return False
