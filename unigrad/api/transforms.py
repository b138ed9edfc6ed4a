"""The public transforms: grad, value_and_grad, jacobian, hessian, vjp, jvp, hvp.

Written once over the backend protocol. The facade pins one meaning on every backend:
``grad`` needs a scalar; ``J[i, j] = d out_i / d in_j`` with shape ``out.shape + in.shape``;
unconnected inputs get zeros; integer inputs to a differentiated argument raise TypeError;
float32 stays float32 and Python floats are float64; nothing is kept between calls.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from unigrad import pytree
from unigrad.api import switch
from unigrad.api.translate import framework_error
from unigrad.errors import UnigradError

_CONTAINERS = frozenset({tuple, list, dict})
_PLAIN_LEAVES = frozenset({float, int, bool, np.ndarray, np.float64, np.float32})


class ScalarOutputError(UnigradError, ValueError):
    """grad/value_and_grad/hessian was given a function whose output is not a scalar."""


class DifferentiationTypeError(UnigradError, TypeError):
    """A differentiated argument holds integer, bool or complex data."""


class EscapedNumpyError(UnigradError, TypeError):
    """The function computed its output with NumPy instead of the backend: no derivative."""


def _norm_argnums(argnums: int | Sequence[int]) -> tuple[tuple[int, ...], bool]:
    if isinstance(argnums, int):
        return (argnums,), True
    nums = tuple(argnums)
    if not nums or not all(isinstance(a, int) for a in nums):
        raise TypeError(f"argnums must be an int or a non-empty tuple of ints, got {argnums!r}")
    return nums, False


def _fname(f: Callable) -> str:
    return getattr(f, "__qualname__", None) or getattr(f, "__name__", None) or repr(f)


@functools.lru_cache(maxsize=512)
def _param_names(f: Callable) -> tuple[str, ...]:
    try:
        return tuple(inspect.signature(f).parameters)
    except (TypeError, ValueError):
        return ()


def _arg_label(f: Callable, i: int, path: str) -> str:
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


class _Call:
    """One call of a transform: converted inputs and the flat functions the backend sees.

    ``all_leaves`` are the leaves of every positional argument; the differentiated ones sit at
    ``diff_pos`` (already converted and checked) and are also listed in ``leaves``.
    """

    __slots__ = (
        "all_leaves",
        "arg_counts",
        "arg_defs",
        "diff_pos",
        "f",
        "handle",
        "has_aux",
        "impl",
        "kwargs",
        "leaves",
        "nums",
        "out_def",
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
        backend: Any,
    ) -> None:
        self.what = what
        self.f = f
        self.kwargs = kwargs
        self.nums = nums
        self.has_aux = has_aux
        self.scalar = scalar
        self.handle = h = switch.get_backend(backend)
        self.impl = h.impl
        if nums and max(nums) >= len(args):
            raise TypeError(
                f"{what}({_fname(f)}, argnums={nums if len(nums) > 1 else nums[0]}) was "
                f"called with {len(args)} positional argument(s); argnums must index them"
            )
        all_leaves: list[Any] = []
        self.arg_defs: list[Any] = []
        self.arg_counts: list[int] = []
        self.diff_pos: list[int] = []
        self.leaves: list[Any] = []
        for a in args:
            if type(a) in _PLAIN_LEAVES:
                self.arg_defs.append(pytree.LEAF)
                self.arg_counts.append(1)
                all_leaves.append(a)
                continue
            leaves, d = pytree.tree_flatten(a)
            self.arg_defs.append(d)
            self.arg_counts.append(len(leaves))
            all_leaves.extend(leaves)
        self.all_leaves = all_leaves
        if nums != tuple(range(len(args))):
            all_leaves[:] = [backend_constant(self.impl, leaf) for leaf in all_leaves]
        offsets = [0]
        for n in self.arg_counts:
            offsets.append(offsets[-1] + n)
        for i in nums:
            for k in range(offsets[i], offsets[i + 1]):
                x = self._convert(all_leaves[k], i, args[i], k - offsets[i])
                all_leaves[k] = x
                self.diff_pos.append(k)
                self.leaves.append(x)
        self.out_def: Any = None

    def _convert(self, leaf: Any, i: int, arg: Any, k: int) -> Any:
        impl = self.impl
        x = impl.prepare(leaf)
        if not impl.is_float(x):
            dt = impl.dtype_name(x)
            paths = pytree.tree_paths(arg) if self.arg_defs[i] is not pytree.LEAF else [""]
            label = _arg_label(self.f, i, paths[k])
            raise DifferentiationTypeError(
                f"{self.what}: {label} of {_fname(self.f)} has dtype {dt}; a differentiated "
                "argument must hold floating-point data. Pass floats (e.g. 3.0 or "
                "x.astype('float32')), or leave this argument out of argnums."
            )
        return x

    def rebuild_all(self, leaves: Sequence[Any]) -> list[Any]:
        args = []
        pos = 0
        leaf = pytree.LEAF
        for d, n in zip(self.arg_defs, self.arg_counts):
            if d is leaf:
                args.append(leaves[pos])
            else:
                args.append(pytree.tree_unflatten(d, list(leaves[pos : pos + n])))
            pos += n
        return args

    def fun_all(self, *leaves: Any) -> tuple[list[Any], Any]:
        """The flat function of every argument leaf: (output leaves, aux)."""
        token = switch._enter(self.handle)
        try:
            out = self.f(*self.rebuild_all(leaves), **self.kwargs)
        finally:
            switch._exit(token)
        aux = None
        if self.has_aux:
            if not (isinstance(out, tuple | list) and len(out) == 2):
                raise TypeError(
                    f"{self.what}(..., has_aux=True): {_fname(self.f)} must return a pair "
                    f"(output, aux), got {type(out).__name__}"
                )
            out, aux = out
        if type(out) in _CONTAINERS or out is None:
            leaves_out, self.out_def = pytree.tree_flatten(out)
        else:
            leaves_out, self.out_def = [out], pytree.LEAF
        if self.impl.name != "numpy" and self.diff_pos:
            for leaf in leaves_out:
                if isinstance(leaf, np.ndarray | np.generic):
                    raise EscapedNumpyError(
                        f"{self.what}: {_fname(self.f)} returned a NumPy "
                        f"{type(leaf).__name__}, not a {self.impl.name} array, so no derivative "
                        "can reach it: it computed with NumPy (np.*) on its input. Use "
                        "unigrad.numpy ops; for a constant output return a Python float."
                    )
        if self.scalar:
            self.check_scalar(leaves_out)
        return leaves_out, aux

    def cache_key(self) -> Any:
        """What a compiled version of ``fun_all`` depends on besides array shapes and dtypes."""
        return (tuple(self.arg_defs), tuple(self.diff_pos), self.has_aux)

    @property
    def fun(self) -> Callable[..., tuple[list[Any], Any]]:
        """The flat function of the differentiated leaves only: (output leaves, aux)."""
        if len(self.diff_pos) == len(self.all_leaves):
            return self.fun_all
        return self._fun_diff

    def _fun_diff(self, *xs: Any) -> tuple[list[Any], Any]:
        leaves = list(self.all_leaves)
        for p, x in zip(self.diff_pos, xs):
            leaves[p] = x
        return self.fun_all(*leaves)

    def check_scalar(self, leaves: list[Any]) -> None:
        if len(leaves) == 1:
            x = leaves[0]
            shape = tuple(self.impl.shape(x)) if hasattr(x, "shape") else np.shape(x)
        else:
            shape = None
        if shape is not None and (shape == () or leaves[0] is None):
            return
        got = f"an output of shape {shape}" if shape is not None else f"{len(leaves)} outputs"
        raise ScalarOutputError(
            f"{self.what} needs {_fname(self.f)} to return a scalar, but it returned {got}. "
            "Reduce it to a scalar (e.g. unigrad.numpy.sum(...)), use unigrad.vjp for a "
            "weighted sum of the outputs, or unigrad.jacobian for every partial derivative."
        )

    def split(self, flat: Sequence[Any], single: bool) -> Any:
        """Group flat per-leaf results back into one pytree per argnum."""
        out = []
        pos = 0
        for i in self.nums:
            d, n = self.arg_defs[i], self.arg_counts[i]
            if d is pytree.LEAF:
                out.append(flat[pos])
            else:
                out.append(pytree.tree_unflatten(d, list(flat[pos : pos + n])))
            pos += n
        return out[0] if single else tuple(out)

    def guard(self, exc: BaseException) -> BaseException:
        """Translate an exception from inside a framework into a FrameworkError."""
        return framework_error(exc, self.impl, self.what, _fname(self.f))


class _Transform:
    """Base of the callables returned by grad, jacobian, ...; keeps per-function caches."""

    what = "transform"

    def __init__(self, f: Callable, argnums: int | Sequence[int], has_aux: bool, backend: Any):
        if not callable(f):
            raise TypeError(f"{self.what} expects a function, got {type(f).__name__}")
        self.f = f
        self.nums, self.single = _norm_argnums(argnums)
        self.has_aux = has_aux
        self.backend = backend
        # An explicit backend always names the same handle: validate and resolve it once.
        self._handle = switch.get_backend(backend) if backend is not None else None
        self.cache: dict = {}
        functools.update_wrapper(self, f, updated=())

    def __repr__(self) -> str:
        return f"<unigrad.{self.what} of {_fname(self.f)}>"


MISS = object()  # a fast lane's answer when it cannot take a call
_LANE_TRIES = 4


class _Lane:
    """The fast path of a gradient transform that has already succeeded once.

    Arguments are flattened and must have the structure of that first call; the backend's
    lane function gets every leaf and answers (value, differentiated leaves' gradients) or
    MISS, in which case the full path takes the call (and gives any error its message).
    """

    __slots__ = ("counts", "defs", "flat", "fn", "handle", "nums")

    def __init__(self, call: _Call, fn: Callable[[list], Any]) -> None:
        self.handle = call.handle
        self.fn = fn
        self.defs = tuple(call.arg_defs)
        self.counts = tuple(call.arg_counts)
        self.nums = call.nums
        self.flat = all(d is pytree.LEAF for d in self.defs)

    def run(self, args: tuple) -> Any:
        defs = self.defs
        if len(args) != len(defs):
            return MISS
        if self.flat:  # every argument a plain array: no flattening, no regrouping
            for a in args:
                if type(a) in _CONTAINERS:
                    return MISS
            return self.fn(args)
        leaves: list[Any] = []
        leaf = pytree.LEAF
        for a, d in zip(args, defs):
            if d is leaf:
                if type(a) in _CONTAINERS:
                    return MISS
                leaves.append(a)
            else:
                sub, d2 = pytree.tree_flatten(a)
                if d2 != d:
                    return MISS
                leaves.extend(sub)
        r = self.fn(leaves)
        if r is MISS:
            return r
        value, flat = r
        out, pos = [], 0
        for i in self.nums:
            d, n = defs[i], self.counts[i]
            out.append(
                flat[pos] if d is leaf else pytree.tree_unflatten(d, list(flat[pos : pos + n]))
            )
            pos += n
        return value, out


class _ValueAndGrad(_Transform):
    what = "value_and_grad"
    only_grad = False
    _lane: Any = None
    _lane_tries = 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        lane = self._lane
        if lane and not kwargs:
            h = self._handle if self._handle is not None else switch.get_backend()
            if h is lane.handle:
                r = lane.run(args)
                if r is not MISS:
                    value, g = r
                    if self.single:
                        g = g[0]
                    return g if self.only_grad else (value, g)
        call = _Call(self.what, self.f, args, kwargs, self.nums, self.has_aux, True, self.backend)
        try:
            value, grads, aux = call.impl.value_and_grad(call, None if kwargs else self.cache)
        except UnigradError:
            raise
        except Exception as exc:
            raise call.guard(exc) from exc
        if not kwargs and not self.has_aux and lane is None:
            make = getattr(call.impl, "fast_lane", None)
            fn = make(self, call) if make is not None else None
            if fn is not None:
                self._lane = _Lane(call, fn)
            else:
                # compiled paths appear after a call or two; then stop asking
                self._lane_tries += 1
                if self._lane_tries >= _LANE_TRIES:
                    self._lane = False
        g = call.split(grads, self.single)
        if self.only_grad:
            return (g, aux) if self.has_aux else g
        return ((value, aux), g) if self.has_aux else (value, g)


class _Grad(_ValueAndGrad):
    what = "grad"
    only_grad = True


def grad(
    f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False, *, backend: Any = None
) -> Callable:
    """The gradient of scalar-valued ``f`` with respect to the arguments in ``argnums``."""
    return _Grad(f, argnums, has_aux, backend)


def value_and_grad(
    f: Callable, argnums: int | Sequence[int] = 0, has_aux: bool = False, *, backend: Any = None
) -> Callable:
    """Like grad, but returns ``(value, grad)`` (``((value, aux), grad)`` with has_aux)."""
    return _ValueAndGrad(f, argnums, has_aux, backend)


class _Jacobian(_Transform):
    what = "jacobian"

    def __init__(self, f: Callable, argnums: Any, has_aux: bool, mode: str, backend: Any):
        if mode not in ("auto", "rev", "fwd"):
            raise ValueError(f"jacobian mode must be 'auto', 'rev' or 'fwd', not {mode!r}")
        super().__init__(f, argnums, has_aux, backend)
        self.mode = mode

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        call = _Call(self.what, self.f, args, kwargs, self.nums, self.has_aux, False, self.backend)
        try:
            compiled = getattr(call.impl, "compiled", None)
            hit = compiled(("jacobian", self.mode), call, None if kwargs else self.cache)
            if hit is not None:
                jac, aux = hit
            else:
                _, jac, aux = call.impl.jacobian(call.fun, call.leaves, self.mode)
        except UnigradError:
            raise
        except Exception as exc:
            raise call.guard(exc) from exc
        result = _nest(call, jac, self.single)
        return (result, aux) if self.has_aux else result


def _nest(call: _Call, blocks: list[list[Any]], single: bool) -> Any:
    """Blocks [out leaf][in leaf] -> outputs outermost, then one entry per argnum."""
    rows = []
    for row in blocks:
        rows.append(call.split(row, single))
    return pytree.tree_unflatten(call.out_def, rows)


def jacobian(
    f: Callable,
    argnums: int | Sequence[int] = 0,
    has_aux: bool = False,
    *,
    mode: str = "auto",
    backend: Any = None,
) -> Callable:
    """``J[i, j] = d out_i / d in_j`` with shape ``out.shape + in.shape``.

    With a tuple of argnums, a tuple with one entry per argument; with a pytree output, nested
    with the outputs outermost. ``mode`` picks reverse ("rev"), forward ("fwd") or "auto".
    """
    return _Jacobian(f, argnums, has_aux, mode, backend)


class _Hessian(_Transform):
    what = "hessian"

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        call = _Call(self.what, self.f, args, kwargs, self.nums, False, True, self.backend)
        try:
            compiled = getattr(call.impl, "compiled", None)
            hit = compiled(("hessian",), call, None if kwargs else self.cache)
            blocks = hit[0] if hit is not None else call.impl.hessian(call.fun, call.leaves)
        except UnigradError:
            raise
        except Exception as exc:
            raise call.guard(exc) from exc
        # H[i][j] for leaves; regroup rows then columns by argnum.
        rows = [call.split(row, self.single) for row in blocks]
        return call.split(rows, self.single)


def hessian(f: Callable, argnums: int | Sequence[int] = 0, *, backend: Any = None) -> Callable:
    """Second derivatives of scalar ``f``: ``H[i][j]`` for argnums ``(i, j)``."""
    return _Hessian(f, argnums, False, backend)


def vjp(
    f: Callable, *primals: Any, has_aux: bool = False, backend: Any = None
) -> tuple[Any, Callable]:
    """Evaluate ``f(*primals)``; return ``(out, vjp_fn)``.

    ``vjp_fn(cotangent)`` returns a tuple with one entry per primal. With has_aux, returns
    ``(out, vjp_fn, aux)``.
    """
    nums = tuple(range(len(primals)))
    call = _Call("vjp", f, primals, {}, nums, has_aux, False, backend)
    try:
        outs, fn, aux = call.impl.vjp(call.fun, call.leaves)
    except UnigradError:
        raise
    except Exception as exc:
        raise call.guard(exc) from exc
    out = pytree.tree_unflatten(call.out_def, outs)
    impl = call.impl

    def vjp_fn(cotangent: Any) -> tuple:
        cts, ct_def = pytree.tree_flatten(cotangent)
        if ct_def != call.out_def:
            raise ValueError(
                "vjp_fn: the cotangent must have the structure of the output "
                f"({pytree.tree_unflatten(call.out_def, ['*'] * len(outs))})"
            )
        cts = [_like(impl, c, o) for c, o in zip(cts, outs)]
        try:
            grads = fn(cts)
        except UnigradError:
            raise
        except Exception as exc:
            raise call.guard(exc) from exc
        return call.split(grads, False)

    return (out, vjp_fn, aux) if has_aux else (out, vjp_fn)


def _like(impl: Any, c: Any, ref: Any) -> Any:
    x = impl.asarray(c)
    if tuple(impl.shape(x)) != tuple(impl.shape(ref)):
        raise ValueError(
            f"cotangent/tangent shape {tuple(impl.shape(x))} does not match the value's shape "
            f"{tuple(impl.shape(ref))}"
        )
    if impl.dtype_name(x) != impl.dtype_name(ref):
        x = impl.asarray(impl.to_numpy(x).astype(impl.dtype_name(ref)))
    return x


def jvp(
    f: Callable, primals: Sequence[Any], tangents: Sequence[Any], *, backend: Any = None
) -> tuple[Any, Any]:
    """Evaluate ``f(*primals)`` and its directional derivative: ``(out, tangent_out)``."""
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(
            f"jvp needs one tangent per primal: got {len(primals)} primals, "
            f"{len(tangents)} tangents"
        )
    nums = tuple(range(len(primals)))
    call = _Call("jvp", f, primals, {}, nums, False, False, backend)
    t_leaves = _tangent_leaves(call, tangents)
    try:
        compiled = getattr(call.impl, "compiled", None)
        hit = compiled(("jvp",), call, {}, t_leaves)
        if hit is not None:
            (outs, touts), _ = hit
        else:
            outs, touts, _ = call.impl.jvp(call.fun, call.leaves, t_leaves)
    except UnigradError:
        raise
    except Exception as exc:
        raise call.guard(exc) from exc
    return (
        pytree.tree_unflatten(call.out_def, outs),
        pytree.tree_unflatten(call.out_def, touts),
    )


def _tangent_leaves(call: _Call, tangents: Sequence[Any]) -> list[Any]:
    leaves = []
    for t, d in zip(tangents, call.arg_defs):
        tl, td = pytree.tree_flatten(t)
        if td != d:
            raise ValueError("each tangent must have the same structure as its primal")
        leaves.extend(tl)
    return [_like(call.impl, t, p) for t, p in zip(leaves, call.leaves)]


def hvp(
    f: Callable, primals: Sequence[Any], tangents: Sequence[Any], *, backend: Any = None
) -> tuple:
    """Hessian-vector product of scalar ``f``: one entry per primal."""
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError("hvp needs one tangent per primal")
    nums = tuple(range(len(primals)))
    call = _Call("hvp", f, primals, {}, nums, False, True, backend)
    t_leaves = _tangent_leaves(call, tangents)
    try:
        compiled = getattr(call.impl, "compiled", None)
        hit = compiled(("hvp",), call, {}, t_leaves)
        out = hit[0] if hit is not None else call.impl.hvp(call.fun, call.leaves, t_leaves)
    except UnigradError:
        raise
    except Exception as exc:
        raise call.guard(exc) from exc
    return call.split(out, False)
