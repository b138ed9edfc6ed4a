"""One call of a transform, flattened for the backend: leaves, which of them are
differentiated, and the flat function of them.

The backend sees only ``fun(*primals) -> (output leaves, aux)`` and the primals; how the user's
arguments and outputs were structured stays here, and results are regrouped here.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from unigrad import pytree
from unigrad.api import detect, switch
from unigrad.api.array import Array, unwrap, wrap
from unigrad.api.translate import foreign_framework_error, framework_error
from unigrad.errors import (
    ComplexOutputError,
    DifferentiationTypeError,
    EscapedNumpyError,
    OutputTypeError,
    ScalarOutputError,
    complex_output_message,
)

CONTAINERS = frozenset({tuple, list, dict})
_NUMBERS = (bool, int, float, complex, np.ndarray, np.generic)
_NUMPY = frozenset({np.ndarray, np.float64, np.float32})


def _what_it_is(x: Any) -> str:
    if x is None:
        return "None"
    text = repr(x)
    name = type(x).__name__
    article = "an" if name[0].lower() in "aeiou" else "a"
    return f"{article} {name} ({text[:40]}{'...' if len(text) > 40 else ''})"


#: a framework's own way to a NumPy array, for messages
_TO_NUMPY = {
    "torch": "x.detach().numpy()",
    "tensorflow": "x.numpy()",
    "jax": "np.asarray(x)",
    "mxnet": "x.asnumpy()",
}

PLAIN_LEAVES = frozenset({float, int, bool, np.ndarray, np.float64, np.float32})


def fname(f: Callable) -> str:
    """A readable name of a function for messages."""
    return getattr(f, "__qualname__", None) or getattr(f, "__name__", None) or repr(f)


@functools.lru_cache(maxsize=512)
def _param_names(f: Callable) -> tuple[str, ...]:
    try:
        return tuple(inspect.signature(f).parameters)
    except (TypeError, ValueError):
        return ()


def arg_label(f: Callable, i: int, path: str) -> str:
    """'argument 1 ('w')['b']': a differentiated leaf named for an error message."""
    try:
        names = _param_names(f)
    except TypeError:  # unhashable callable
        names = ()
    name = f" ({names[i]!r})" if i < len(names) else ""
    return f"argument {i}{name}{path}"


def backend_constant(impl: Any, v: Any) -> Any:
    """A NumPy array held by a non-differentiated argument, as the backend wants it (so that
    operators between it and backend arrays work); anything else unchanged."""
    if isinstance(v, np.ndarray | np.generic) and v.dtype.kind in "fiub":
        return impl.prepare_constant(v)
    return v


def _hold_constant(what: str) -> str:
    """How to keep an argument out of ``what``'s derivative."""
    if what in ("vjp", "jvp", "hvp"):  # every argument is differentiated: close over the rest
        return "hold it constant by closing over it (lambda x: f(x, c))"
    return "leave this argument out of argnums"


class FlatCall:
    """One call of a transform: converted inputs and the flat function the backend sees.

    ``leaves`` are the leaves of every positional argument, in order; ``diff`` lists the
    positions of the differentiated ones (already converted and dtype-checked).
    """

    __slots__ = (
        "arg_counts",
        "arg_defs",
        "arrays_in",
        "diff",
        "everything",
        "f",
        "handle",
        "has_aux",
        "impl",
        "kwargs",
        "leaves",
        "nums",
        "out_def",
        "plain",
        "scalar",
        "what",
    )

    def __init__(
        self,
        what: str,
        f: Callable,
        args: tuple,
        kwargs: dict,
        nums: tuple[int, ...],
        has_aux: bool,
        scalar: bool,
        handle: Any,
    ) -> None:
        self.what = what
        self.f = f
        self.kwargs = kwargs
        self.nums = nums
        self.has_aux = has_aux
        self.scalar = scalar
        self.handle = handle
        self.impl = impl = handle.impl
        shown = nums if len(nums) > 1 else nums[0] if nums else nums
        if any(not -len(args) <= i < len(args) for i in nums):
            message = (
                f"{what}({fname(f)}, argnums={shown}) was called with {len(args)} positional "
                f"argument(s); argnums must index them"
            )
            if kwargs:
                try:
                    names = _param_names(f)
                except TypeError:  # unhashable callable
                    names = ()
                wanted = [names[i] for i in nums if 0 <= i < len(names) and names[i] in kwargs]
                which = " and ".join(repr(n) for n in wanted) or "the differentiated argument"
                named = ", ".join(f"{k}=" for k in kwargs)
                message += (
                    f". Keyword arguments ({named}) are held constant, never differentiated: "
                    f"pass {which} positionally, as in {what}(f)(x, c=2.0) rather than "
                    f"{what}(f)(x=x, c=2.0)"
                )
            raise TypeError(message)
        nums = tuple(i % len(args) for i in nums)
        if len(set(nums)) < len(nums):
            raise ValueError(
                f"{what}({fname(f)}, argnums={shown}) names one argument twice; name each "
                f"argument once and use its result where you need it twice"
            )
        leaves: list[Any] = []
        defs: list[Any] = []
        counts: list[int] = []
        arrays_in = False
        for a in args:
            t = type(a)
            if t in PLAIN_LEAVES or t is Array:
                defs.append(pytree.LEAF)
                counts.append(1)
                if t is Array:
                    arrays_in = True
                    a = a.native
                leaves.append(a)
                continue
            sub, d = pytree.tree_flatten(a)
            defs.append(d)
            counts.append(len(sub))
            for leaf in sub:
                if type(leaf) is Array:
                    arrays_in = True
                    leaf = leaf.native
                leaves.append(leaf)
        #: inputs were unigrad Arrays (a transform inside a differentiated function): results
        #: are Arrays too
        self.arrays_in = arrays_in
        self.arg_defs = defs
        self.arg_counts = counts
        #: every argument a single leaf: no pytree to rebuild
        self.plain = all(d is pytree.LEAF for d in defs)
        if nums != tuple(range(len(args))):
            leaves = [backend_constant(impl, leaf) for leaf in leaves]
        diff: list[int] = []
        start = 0
        starts = []
        for n in counts:
            starts.append(start)
            start += n
        for i in nums:
            if not counts[i]:
                raise DifferentiationTypeError(
                    f"{what}: {arg_label(f, i, '')} of {fname(f)} is {_what_it_is(args[i])}, "
                    "which holds no array to differentiate. Pass a float array (e.g. "
                    f"np.array([1.0, 2.0])) or number, or {_hold_constant(what)}."
                )
            for k in range(starts[i], starts[i] + counts[i]):
                leaves[k] = self._convert(leaves[k], i, args[i], k - starts[i])
                diff.append(k)
        self.leaves = leaves
        self.diff = tuple(diff)
        #: every leaf differentiated, in leaf order (argnums (1, 0) differentiates every leaf,
        #: in another order): the flat function is fun_all itself
        self.everything = self.diff == tuple(range(len(leaves)))
        self.out_def: Any = None

    def _convert(self, leaf: Any, i: int, arg: Any, k: int) -> Any:
        impl = self.impl
        numeric = isinstance(leaf, _NUMBERS) or impl.is_array(leaf)
        if numeric and isinstance(leaf, np.ndarray | np.generic):
            numeric = leaf.dtype.kind in "biufc"
        if not numeric:
            owner = detect.framework_of(leaf)
            if owner not in (None, "numpy", impl.name):  # NumPy data goes to every backend
                raise DifferentiationTypeError(
                    f"{self.what}: {self._label(i, arg, k)} of {fname(self.f)} is a {owner} "
                    f"tensor ({type(leaf).__module__}.{type(leaf).__qualname__}), but this call "
                    f"runs on backend {impl.name!r}. Pass backend={owner!r} to differentiate "
                    f"it with {owner}, or convert it to a NumPy array first "
                    f"({_TO_NUMPY.get(owner, 'np.asarray(x)')} or unigrad.to_numpy(x))."
                )
            what = (
                f"an array of {leaf.dtype} ({_what_it_is(leaf)[3:]}), not of numbers"
                if isinstance(leaf, np.ndarray | np.generic)
                else f"{_what_it_is(leaf)}, not a number or an array"
            )
            raise DifferentiationTypeError(
                f"{self.what}: {self._label(i, arg, k)} of {fname(self.f)} is {what}. Pass "
                f"floats (e.g. 3.0 or np.array([1.0, 2.0])), or {_hold_constant(self.what)}."
            )
        if not impl.is_array(leaf) and np.asarray(leaf).dtype.kind != "f":
            # checked before the backend converts it: MXNet has no complex dtype to convert to
            dt = np.asarray(leaf).dtype.name
            raise DifferentiationTypeError(
                f"{self.what}: {self._label(i, arg, k)} of {fname(self.f)} has dtype "
                f"{dt}; a differentiated argument must hold floating-point data. "
                f"Pass floats (e.g. 3.0 or x.astype('float32')), or {_hold_constant(self.what)}."
            )
        x = impl.prepare(leaf)
        if not impl.is_float(x):
            raise DifferentiationTypeError(
                f"{self.what}: {self._label(i, arg, k)} of {fname(self.f)} has dtype "
                f"{impl.dtype_name(x)}; a differentiated argument must hold floating-point data. "
                f"Pass floats (e.g. 3.0 or x.astype('float32')), or {_hold_constant(self.what)}."
            )
        return x

    def _label(self, i: int, arg: Any, k: int) -> str:
        paths = pytree.tree_paths(arg) if self.arg_defs[i] is not pytree.LEAF else [""]
        return arg_label(self.f, i, paths[k])

    @property
    def primals(self) -> list[Any]:
        """The differentiated leaves."""
        return [self.leaves[i] for i in self.diff]

    @property
    def key(self) -> Any:
        """What a compiled version of this call depends on besides array shapes and dtypes
        (the backend too: a transform made once is called again after a switch)."""
        return (tuple(self.arg_defs), self.diff, self.has_aux, self.handle)

    def rebuild(self, leaves: Sequence[Any]) -> list[Any]:
        """The positional arguments from their leaves."""
        if self.plain:
            return list(leaves)
        args = []
        pos = 0
        leaf = pytree.LEAF
        for d, n in zip(self.arg_defs, self.arg_counts):
            args.append(
                leaves[pos] if d is leaf else pytree.tree_unflatten(d, leaves[pos : pos + n])
            )
            pos += n
        return args

    def fun_all(self, *leaves: Any) -> tuple[list[Any], Any]:
        """The flat function of every argument leaf: (output leaves, aux)."""
        impl = self.impl
        args = self.rebuild(leaves) if not self.plain else leaves
        if impl.wraps_arrays:
            is_array = impl.is_array
            args = [
                Array(a, impl) if is_array(a) and type(a) not in _NUMPY else wrap(a, impl)
                for a in args
            ]
        token = switch.activate(self.handle)
        try:
            out = self.f(*args, **self.kwargs)
        finally:
            switch.deactivate(token)
        if impl.wraps_arrays:
            out = out.native if type(out) is Array else unwrap(out)
        aux = None
        if self.has_aux:
            if not (isinstance(out, tuple | list) and len(out) == 2):
                raise TypeError(
                    f"{self.what}(..., has_aux=True): {fname(self.f)} must return a pair "
                    f"(output, aux), got {type(out).__name__}"
                )
            out, aux = out
            aux = unwrap(aux)
        if type(out) in CONTAINERS or out is None or pytree.is_namedtuple(out):
            outs, self.out_def = pytree.tree_flatten(out)
        else:
            outs, self.out_def = [out], pytree.LEAF
            # the common case first: one scalar float array, which _output and check_scalar
            # would both pass
            if self.scalar and impl.is_array(out) and impl.is_float(out) and not impl.shape(out):
                return outs, aux
        for k, leaf in enumerate(outs):
            outs[k] = self._output(leaf)
        if self.scalar:
            self.check_scalar(outs)
        return outs, aux

    def _output(self, leaf: Any) -> Any:
        """An output leaf checked: numbers and float (or complex) arrays of the backend pass;
        a Python int or bool is a constant (a float); anything else is an error that says what
        the function returned, never a silent zero derivative."""
        t = type(leaf)
        if t is float:
            return leaf
        if t is int or t is bool:
            return float(leaf)
        impl = self.impl
        if impl.is_array(leaf):
            if impl.is_float(leaf):  # the common case, first
                return leaf
            kind = getattr(leaf, "dtype", None)
            kind = kind.kind if isinstance(kind, np.dtype) else np.dtype(impl.dtype_name(leaf)).kind
        elif isinstance(leaf, np.ndarray | np.generic):
            if self.diff and leaf.dtype.kind in "biufc":
                raise EscapedNumpyError(
                    f"{self.what}: {fname(self.f)} returned a NumPy {t.__name__}, not a "
                    f"{impl.name} array, so no derivative can reach it: it computed with NumPy "
                    "(np.*) on its input. Use unigrad.numpy ops; for a constant output return a "
                    "Python float."
                )
            kind = leaf.dtype.kind
        else:
            raise OutputTypeError(
                f"{self.what}: {fname(self.f)} returned {_what_it_is(leaf)}, not a number or an "
                "array; return the value to differentiate (a float array or number)."
            )
        if kind not in "fc":
            raise OutputTypeError(
                f"{self.what}: {fname(self.f)} returned an array of dtype "
                f"{impl.dtype_name(leaf) if impl.is_array(leaf) else leaf.dtype}; derivatives need "
                "floating-point outputs: cast it (x.astype(float)) or return a float expression."
            )
        return leaf

    def function(self, base: Sequence[Any] | None = None) -> Callable[..., tuple[list, Any]]:
        """The flat function of the differentiated leaves, the others taken from ``base``
        (default: this call's leaves)."""
        if self.everything:  # base is unused
            return self.fun_all
        fixed = list(self.leaves if base is None else base)
        diff = self.diff

        def fun(*xs: Any) -> tuple[list[Any], Any]:
            leaves = list(fixed)
            for p, x in zip(diff, xs):
                leaves[p] = x
            return self.fun_all(*leaves)

        return fun

    def check_scalar(self, leaves: list[Any]) -> None:
        """Raise ScalarOutputError unless ``leaves`` is one scalar."""
        impl = self.impl
        one = leaves[0] if len(leaves) == 1 else None
        if impl.is_array(one) and not len(impl.shape(one)) and impl.is_float(one):
            return  # the common case, first
        if len(leaves) == 1:
            x = leaves[0]
            shape = tuple(self.impl.shape(x)) if hasattr(x, "shape") else np.shape(x)
        else:
            shape = None
        if shape is not None and (shape == () or leaves[0] is None):
            x = leaves[0]
            if x is not None and hasattr(x, "dtype") and not self.impl.is_float(x):
                dtype = self.impl.dtype_name(x)
                if dtype.startswith("complex"):
                    raise ComplexOutputError(complex_output_message(dtype))
            return
        got = f"an output of shape {shape}" if shape is not None else f"{len(leaves)} outputs"
        raise ScalarOutputError(
            f"{self.what} needs {fname(self.f)} to return a scalar, but it returned {got}. "
            "Reduce it to a scalar (e.g. unigrad.numpy.sum(...)), use unigrad.vjp for a "
            "weighted sum of the outputs, or unigrad.jacobian for every partial derivative."
        )

    def split(self, flat: Sequence[Any], single: bool) -> Any:
        """Group flat per-leaf results back into one pytree per argnum."""
        out = []
        pos = 0
        for i in self.nums:
            d, n = self.arg_defs[i], self.arg_counts[i]
            out.append(
                flat[pos] if d is pytree.LEAF else pytree.tree_unflatten(d, flat[pos : pos + n])
            )
            pos += n
        return out[0] if single else tuple(out)

    def present(self, result: Any) -> Any:
        """A result as the caller gave its inputs: ``Array``s in, ``Array``s out."""
        return wrap(result, self.impl) if self.arrays_in else result

    def guard(self, exc: BaseException) -> BaseException:
        """Translate an exception from inside a framework into a FrameworkError; a TypeError
        of a function given a list where it wanted an array gets the fix."""
        translated = framework_error(exc, self.impl, self.what, fname(self.f))
        if translated is exc:
            return (
                self.list_hint(exc)
                or foreign_framework_error(exc, self.impl, self.what, fname(self.f))
                or exc
            )
        return translated

    def list_hint(self, exc: BaseException) -> BaseException | None:
        """For a TypeError of a function given a list where it wanted an array (X @ [1., 2.]
        becomes np.asarray of traced values): the error that says to pass np.array(...)."""
        if isinstance(exc, TypeError | AttributeError):
            for i in self.nums:
                if self.arg_defs[i] is not pytree.LEAF and self.arg_defs[i][0] in (list, tuple):
                    kind = self.arg_defs[i][0].__name__
                    return DifferentiationTypeError(
                        f"{self.what}: {arg_label(self.f, i, '')} of {fname(self.f)} is a {kind}"
                        f", which unigrad (like JAX) takes as a pytree of {self.arg_counts[i]} "
                        f"separate values, and {fname(self.f)} failed on it: "
                        f"{type(exc).__name__}: {str(exc).rstrip('.')}. For an array, pass "
                        "np.array(...)."
                    )
        return None
