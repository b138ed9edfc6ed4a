"""The public transforms: grad, value_and_grad, jacobian, hessian, vjp, jvp, hvp.

Written once over the backend protocol (``unigrad.backends.base.Backend``). The facade pins one
meaning on every backend: ``grad`` needs a scalar; ``J[i, j] = d out_i / d in_j`` with shape
``out.shape + in.shape``; unconnected inputs get zeros; integer inputs to a differentiated
argument raise TypeError; float32 stays float32 and Python floats are float64; nothing is kept
between calls except compiled versions of the transform (``compiled.py``).

A call goes: arguments -> the backend switch -> ``FlatCall`` (flattened, converted, checked) ->
the adapter's transform (compiled where the backend compiles) -> results regrouped by argnum.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from unigrad import pytree
from unigrad.api import remote, switch
from unigrad.api.array import unwrap
from unigrad.api.call import FlatCall, fname
from unigrad.api.compiled import CompiledCache, FastPath
from unigrad.errors import DifferentiationTypeError, UnigradError


def _norm_argnums(argnums: int | Sequence[int]) -> tuple[tuple[int, ...], bool]:
    if isinstance(argnums, int) and not isinstance(argnums, bool):
        return (argnums,), True
    try:
        nums = tuple(argnums)
    except TypeError:
        nums = ()
    if not nums or not all(isinstance(a, int) and not isinstance(a, bool) for a in nums):
        raise TypeError(f"argnums must be an int or a non-empty tuple of ints, got {argnums!r}")
    return nums, False


_LOCAL = object()  # the answer of _Transform._remote for a backend in this process


class _Transform:
    """Base of the callables returned by grad, jacobian, ...; keeps compiled versions."""

    what = "transform"

    def __init__(self, f: Callable, argnums: int | Sequence[int], has_aux: bool, backend: Any):
        if not callable(f):
            raise TypeError(f"{self.what} expects a function, got {type(f).__name__}")
        self.f = f
        self.nums, self.single = _norm_argnums(argnums)
        self.has_aux = has_aux
        # An explicit backend always names the same handle: validate and resolve it once.
        self._handle = switch.get_backend(backend) if backend is not None else None
        self.compiled = CompiledCache()
        functools.update_wrapper(self, f, updated=())

    def __repr__(self) -> str:
        return f"<unigrad.{self.what} of {fname(self.f)}>"

    def _call(self, args: tuple, kwargs: dict, scalar: bool, has_aux: bool) -> FlatCall:
        h = self._handle if self._handle is not None else switch.get_backend()
        return FlatCall(self.what, self.f, args, kwargs, self.nums, has_aux, scalar, h)

    def _remote(self, args: tuple, kwargs: dict, **options: Any) -> Any:
        """The result from the backend's worker when the backend runs in its own environment
        (MXNet from the main environment); ``_LOCAL`` otherwise."""
        h = self._handle if self._handle is not None else switch.get_backend()
        if not h.remote:
            return _LOCAL
        if kwargs:
            raise TypeError(
                f"{self.what} on {h.name} runs in its worker, which takes positional arguments "
                "only: pass keyword arguments positionally"
            )
        nums = self.nums[0] if self.single else self.nums
        return remote.run(h.name, self.what, self.f, args, {"argnums": nums, **options})

    def _run(self, call: FlatCall, kind: Any, eager: Any, extra: Sequence[Any] = ()) -> Any:
        """Run the transform (compiled where possible); errors from inside the framework come
        back as FrameworkError."""
        try:
            if call.kwargs:  # keyword arguments are not part of a compiled function's key
                return eager(call.function(), call.primals, list(extra))
            return self.compiled.run(kind, call, eager, extra)
        except UnigradError as exc:
            hinted = call.list_hint(exc)
            if hinted is not None:
                raise hinted from exc
            raise
        except Exception as exc:
            raise call.guard(exc) from exc


class _ValueAndGrad(_Transform):
    what = "value_and_grad"
    only_grad = False
    _fast: FastPath | None = None  # once a plain-array call compiled

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        fast = self._fast
        if fast is not None and not kwargs:
            h = self._handle if self._handle is not None else switch.get_backend()
            result = fast(args) if h is fast.handle else None
            if result is not None:
                grads = result if self.only_grad else result[1]
                if fast.split is not None:
                    g = fast.split(grads, self.single)
                else:
                    g = grads[0] if self.single else tuple(grads)
                return g if self.only_grad else (result[0], g)
        r = self._remote(args, kwargs, has_aux=self.has_aux)
        if r is not _LOCAL:
            return r
        call = self._call(args, kwargs, True, self.has_aux)
        impl = call.impl

        def eager(fun: Any, primals: list, extra: list) -> tuple[Any, Any]:
            value, grads, aux = impl.value_and_grad(fun, primals)
            return (grads if self.only_grad else (value, grads)), aux

        result, aux = self._run(call, self.only_grad, eager)
        grads = result if self.only_grad else result[1]
        if not kwargs and self._fast is None:
            entry = self.compiled.entries.get((self.only_grad, call.key))
            if entry is not None and FastPath.possible(entry, call):
                self._fast = FastPath(entry, call, args)
        g = call.present(call.split(grads, self.single))
        if self.only_grad:
            return (g, aux) if self.has_aux else g
        value = call.present(result[0])
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
        r = self._remote(args, kwargs, has_aux=self.has_aux, mode=self.mode)
        if r is not _LOCAL:
            return r
        call = self._call(args, kwargs, False, self.has_aux)
        impl, mode = call.impl, self.mode

        def eager(fun: Any, primals: list, extra: list) -> tuple[Any, Any]:
            _, jac, aux = impl.jacobian(fun, primals, mode)
            return jac, aux

        jac, aux = self._run(call, ("jacobian", mode), eager)
        rows = [call.split(row, self.single) for row in jac]
        result = call.present(pytree.tree_unflatten(call.out_def, rows))
        return (result, aux) if self.has_aux else result


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
        r = self._remote(args, kwargs)
        if r is not _LOCAL:
            return r
        call = self._call(args, kwargs, True, False)
        impl = call.impl

        def eager(fun: Any, primals: list, extra: list) -> tuple[Any, Any]:
            return impl.hessian(fun, primals), None

        blocks, _ = self._run(call, "hessian", eager)
        # H[i][j] for leaves; regroup rows then columns by argnum.
        rows = [call.split(row, self.single) for row in blocks]
        return call.present(call.split(rows, self.single))


def hessian(f: Callable, argnums: int | Sequence[int] = 0, *, backend: Any = None) -> Callable:
    """Second derivatives of scalar ``f``: ``H[i][j]`` for argnums ``(i, j)``."""
    return _Hessian(f, argnums, False, backend)


class _Directional(_Transform):
    """jvp and hvp: tangents beside the primals; a one-off call (compiled as a whole where the
    backend compiles: one jit of the jvp measured faster than eager JAX even for one call)."""

    def __call__(self, primals: tuple, tangents: tuple) -> tuple[FlatCall, Any]:
        if len(primals) != len(tangents):
            raise ValueError(
                f"{self.what} needs one tangent per primal: got {len(primals)} primals, "
                f"{len(tangents)} tangents"
            )
        call = self._call(primals, {}, self.what == "hvp", False)
        leaves = []
        for t, d in zip(tangents, call.arg_defs):
            tl, td = pytree.tree_flatten(t)
            if td != d:
                raise ValueError("each tangent must have the same structure as its primal")
            leaves.extend(tl)
        t_leaves = [_like(call.impl, t, p) for t, p in zip(leaves, call.primals)]
        return call, self._run(call, self.what, self.eager(call.impl), t_leaves)[0]


class _Jvp(_Directional):
    what = "jvp"

    @staticmethod
    def eager(impl: Any) -> Any:
        def run(fun: Any, xs: list, ts: list) -> tuple[Any, Any]:
            outs, touts, _ = impl.jvp(fun, xs, ts)
            return (outs, touts), None

        return run


class _Hvp(_Directional):
    what = "hvp"

    @staticmethod
    def eager(impl: Any) -> Any:
        def run(fun: Any, xs: list, ts: list) -> tuple[Any, Any]:
            return impl.hvp(fun, xs, ts), None

        return run


def _like(impl: Any, c: Any, ref: Any) -> Any:
    """A tangent or cotangent as the backend's array with the shape and dtype of ``ref``."""
    x = impl.asarray(unwrap(c))
    if tuple(impl.shape(x)) != tuple(impl.shape(ref)):
        raise ValueError(
            f"cotangent/tangent shape {tuple(impl.shape(x))} does not match the value's shape "
            f"{tuple(impl.shape(ref))}"
        )
    have, want = impl.dtype_name(x), impl.dtype_name(ref)
    if have != want:
        if have.startswith("complex") and not want.startswith("complex"):
            raise DifferentiationTypeError(
                f"a {have} tangent or cotangent for a real ({want}) value: its imaginary part "
                f"would be dropped; pass a real one (np.real(v)), or make the value complex"
            )
        x = impl.asarray(impl.to_numpy(x).astype(want))
    return x


def _all(n: int) -> tuple[int, ...] | int:
    return tuple(range(n)) if n else 0


def _per_argument(what: str, primals: Any, tangents: Any) -> tuple[tuple, tuple]:
    """``primals`` and ``tangents`` as tuples with one entry per argument of ``f``; an array in
    their place is refused (iterating it would pass its rows as arguments)."""
    for name, v in (("primals", primals), ("tangents", tangents)):
        if not isinstance(v, tuple | list):
            raise TypeError(
                f"{what}: {name} must be a tuple or list with one entry per argument of f, not "
                f"{type(v).__name__}; for a function of one array x write "
                f"{what}(f, (x,), (v,))"
            )
    return tuple(primals), tuple(tangents)


def jvp(
    f: Callable, primals: Sequence[Any], tangents: Sequence[Any], *, backend: Any = None
) -> tuple[Any, Any]:
    """Evaluate ``f(*primals)`` and its directional derivative: ``(out, tangent_out)``."""
    primals, tangents = _per_argument("jvp", primals, tangents)
    t = _Jvp(f, _all(len(primals)), False, backend)
    r = t._remote(primals, {}, tangents=list(tangents))
    if r is not _LOCAL:
        return tuple(r)
    call, (outs, touts) = t(primals, tangents)
    out_def = call.out_def
    return call.present(pytree.tree_unflatten(out_def, outs)), call.present(
        pytree.tree_unflatten(out_def, touts)
    )


def hvp(
    f: Callable, primals: Sequence[Any], tangents: Sequence[Any], *, backend: Any = None
) -> tuple:
    """Hessian-vector product of scalar ``f``: one entry per primal."""
    primals, tangents = _per_argument("hvp", primals, tangents)
    t = _Hvp(f, _all(len(primals)), False, backend)
    r = t._remote(primals, {}, tangents=list(tangents))
    if r is not _LOCAL:
        return tuple(r)
    call, out = t(primals, tangents)
    return call.present(call.split(out, False))


def vjp(
    f: Callable, *primals: Any, has_aux: bool = False, backend: Any = None
) -> tuple[Any, Callable]:
    """Evaluate ``f(*primals)``; return ``(out, vjp_fn)``.

    ``vjp_fn(cotangent)`` returns a tuple with one entry per primal. With has_aux, returns
    ``(out, vjp_fn, aux)``.
    """
    h = switch.get_backend(backend)
    if h.remote:
        return _remote_vjp(h.name, f, primals, has_aux)
    call = FlatCall("vjp", f, primals, {}, tuple(range(len(primals))), has_aux, False, h)
    impl = call.impl
    try:
        outs, fn, aux = impl.vjp(call.function(), call.primals)
    except UnigradError:
        raise
    except Exception as exc:
        raise _primals_in_one_tuple(f, primals, exc) or call.guard(exc) from exc
    out = call.present(pytree.tree_unflatten(call.out_def, outs))

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
        return call.present(call.split(grads, False))

    return (out, vjp_fn, aux) if has_aux else (out, vjp_fn)


def _primals_in_one_tuple(f: Callable, primals: tuple, exc: Exception) -> Exception | None:
    """The fix for ``vjp(f, (x, y))`` (primals in one tuple, where unigrad's vjp, like
    jax.vjp, takes them separately) when ``f`` then fails; None where that cannot be the cause
    (a tuple primal is also a legitimate pytree argument, so only a failure points to it)."""
    if len(primals) != 1 or type(primals[0]) not in (tuple, list):
        return None
    if not isinstance(exc, TypeError | IndexError | AttributeError | ValueError):
        return None
    kind, n = type(primals[0]).__name__, len(primals[0])
    spread = ", ".join(f"x{i}" for i in range(n)) if n > 1 else "x"
    fix = (
        f"unigrad.vjp takes the primals as separate arguments, like jax.vjp: "
        f"vjp(f, {spread}), not vjp(f, ({spread}{',' if n == 1 else ''}))"
    )
    failed = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, TypeError) and "positional argument" in str(exc):
        return DifferentiationTypeError(
            f"vjp: {fname(f)} was called with the {kind} of {n} as its one argument "
            f"({failed}). {fix}."
        )
    return DifferentiationTypeError(
        f"vjp: {fname(f)} failed on its one argument, a {kind} of {n}, which f gets as it is "
        f"(a pytree) ({failed}). If the {kind} was meant to hold the primals: {fix}."
    )


def _remote_vjp(backend: str, f: Callable, primals: tuple, has_aux: bool) -> Any:
    """vjp through the backend's worker: the output now, each cotangent in another call."""
    if has_aux:
        raise TypeError(
            f"vjp(..., has_aux=True) on {backend} from this environment is not supported: its "
            "worker runs one transform per call; return the aux value from a separate function"
        )
    try:
        out = remote.run(backend, "value", f, primals, {})
    except UnigradError:
        raise
    except Exception as exc:
        hint = _primals_in_one_tuple(f, primals, exc)
        if hint is None:
            raise
        raise hint from exc

    def vjp_fn(cotangent: Any) -> tuple:
        _, grads = remote.run(backend, "vjp", f, primals, {"cotangent": unwrap(cotangent)})
        return tuple(grads)

    return out, vjp_fn
