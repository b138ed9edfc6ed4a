"""The JAX adapter: jax.vjp/jvp/jacrev/jacfwd/hessian; gradients jit-compiled per function.

Every call runs with 64-bit types enabled for its duration (``jax.enable_x64``), so float64
stays float64, without flipping the user's global JAX setting.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import nullcontext
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from unigrad.backends.auxsplit import AuxSplit
from unigrad.backends.base import Backend, Fun

_FLOATS = frozenset(np.dtype(d) for d in ("float16", "float32", "float64")) | {
    jnp.dtype(jnp.bfloat16)
}
_JAX_TYPES: set[type] = set()


def _is_jax_value(x: Any) -> bool:
    # isinstance(x, jax.Array) is a metaclass check (slow, and the only one that also
    # recognises tracers); remember the concrete types once seen.
    tp = type(x)
    if tp in _JAX_TYPES:
        return True
    if isinstance(x, jax.Array):
        _JAX_TYPES.add(tp)
        return True
    return False


_NOT_JITTABLE = object()
# What tracing a function under jit can raise when it branches on values (checked further by
# _jit_refusal): the function then runs eagerly, with the same answer.
_JIT_ERRORS = (
    jax.errors.ConcretizationTypeError,
    jax.errors.TracerBoolConversionError,
    jax.errors.TracerIntegerConversionError,
    jax.errors.TracerArrayConversionError,
    TypeError,
    ValueError,
)
_LEAF_SCALARS = (float, int, bool, np.generic)


def x64() -> Any:
    """A context with 64-bit types on (a no-op when they already are)."""
    return nullcontext() if jax.config.jax_enable_x64 else jax.enable_x64(True)


def _is_jax(x: Any) -> bool:
    return _is_jax_value(x)


class JaxBackend(Backend):
    """JAX, with value_and_grad compiled once per function and argument structure."""

    framework_modules = ("jax", "jaxlib")

    @property
    def version(self) -> str:
        return jax.__version__

    def devices(self) -> list[str]:
        return [f"{d.platform}:{d.id}" for d in jax.devices()]

    def load_ops(self) -> Any:
        from unigrad.backends.jax import ops

        return ops

    def is_array(self, x: Any) -> bool:
        return _is_jax_value(x)

    def is_float(self, x: Any) -> bool:
        return x.dtype in _FLOATS

    def asarray(self, x: Any, dtype: Any = None) -> Any:
        if _is_jax_value(x) and dtype is None:
            return x
        with x64():
            return jnp.asarray(np.asarray(x, dtype=dtype) if not _is_jax(x) else x, dtype=dtype)

    def prepare(self, x: Any) -> Any:
        # jax transforms take NumPy inputs directly; converting first only costs time.
        if type(x) is np.ndarray or _is_jax_value(x) or isinstance(x, np.generic):
            return x
        return np.asarray(x)

    def prepare_constant(self, x: Any) -> Any:
        return x

    def evaluating(self) -> Any:
        return x64()

    def to_numpy(self, x: Any) -> np.ndarray:
        return np.asarray(x)

    def dtype_name(self, x: Any) -> str:
        return x.dtype.name

    def shape(self, x: Any) -> tuple[int, ...]:
        return tuple(np.shape(x))

    def stop_gradient(self, x: Any) -> Any:
        return jax.lax.stop_gradient(x)

    def _arrays(self, fun: Fun, aux: AuxSplit) -> Callable:
        def f(*xs: Any) -> tuple[list, list]:
            outs, a = fun(*xs)
            return [o if _is_jax(o) else jnp.asarray(o) for o in outs], aux.split(a)

        return f

    def vjp(self, fun: Fun, primals: Sequence[Any]) -> tuple[list, Callable[[list], list], Any]:
        aux = AuxSplit(_is_jax)
        with x64():
            outs, fn, a = jax.vjp(self._arrays(fun, aux), *primals, has_aux=True)

        def vjp_fn(cts: list) -> list:
            with x64():
                return list(fn(list(cts)))

        return outs, vjp_fn, aux.join(a)

    def jvp(self, fun: Fun, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple:
        aux = AuxSplit(_is_jax)
        with x64():
            outs, touts, a = jax.jvp(
                self._arrays(fun, aux), tuple(primals), tuple(tangents), has_aux=True
            )
        return outs, touts, aux.join(a)

    def grad_of(self, fun: Fun, primals: Sequence[Any]) -> tuple[Any, list[Any], Any]:
        aux = AuxSplit(_is_jax)
        f = self._arrays(fun, aux)

        def scalar(*xs: Any) -> tuple[Any, list]:
            outs, a = f(*xs)
            return outs[0], a

        argnums = tuple(range(len(primals)))
        with x64():
            (value, a), grads = jax.value_and_grad(scalar, argnums=argnums, has_aux=True)(*primals)
        return value, list(grads), aux.join(a)

    def value_and_grad(self, call: Any, cache: dict | None = None) -> tuple[Any, list, Any]:
        if cache is None:
            return self.grad_of(call.fun, call.leaves)
        key = call.cache_key()
        entry = cache.get(key)
        if entry is _NOT_JITTABLE:
            return self.grad_of(call.fun, call.leaves)
        leaves = call.all_leaves
        static = _static_positions(leaves)
        # Compiled on the first call: eager JAX compiles every small op on its own, which
        # measured 5-13x slower than one jit of the whole function.
        if entry is None or entry[1] != static:
            entry = self._compile(call, static)
        jitted, _, aux, grad_only = entry
        try:
            with x64():
                if grad_only:  # compiled without the value: a grad transform never shows it
                    (value, a), grads = (None, []), jitted(*leaves)
                else:
                    (value, a), grads = jitted(*leaves)
        except _JIT_ERRORS as exc:
            # Python control flow on values, or values jit cannot take: eager, same answer.
            if not _jit_refusal(exc):
                raise
            cache[key] = _NOT_JITTABLE
            return self.grad_of(call.fun, call.leaves)
        if aux.mask and not all(aux.mask):
            cache[key] = _NOT_JITTABLE  # aux holds Python values: they must not be frozen
        else:
            cache[key] = entry
        return value, list(grads), aux.join(a)

    def fast_lane(self, transform: Any, call: Any) -> Callable[[tuple], Any] | None:
        """For a compiled gradient of plain array arguments: a call path with no facade work.

        Arguments of another kind, count or dtype answer MISS, and the full path takes them.
        """
        from unigrad.api.transforms import MISS

        entry = transform.cache.get(call.cache_key())
        if not isinstance(entry, tuple) or entry[1] or call.has_aux:
            return None
        jitted, grad_only = entry[0], entry[3]
        n = len(call.all_leaves)

        # No per-argument checks here: anything jit cannot take, or an integer where a
        # gradient is asked, raises, and the full path then gives the proper error.
        def lane(leaves: list) -> Any:
            if len(leaves) != n:
                return MISS
            try:
                if jax.config.jax_enable_x64:
                    out = jitted(*leaves)
                else:
                    with jax.enable_x64(True):
                        out = jitted(*leaves)
            except Exception:
                return MISS
            if grad_only:
                return None, out
            (value, _), grads = out
            return value, grads

        return lane

    def _compile(self, call: Any, static: tuple[int, ...]) -> tuple:
        aux = AuxSplit(_is_jax)
        f = self._arrays(call.fun_all, aux)

        def scalar(*xs: Any) -> tuple[Any, list]:
            outs, a = f(*xs)
            return outs[0], a

        argnums = tuple(call.diff_pos)
        if call.what == "grad" and not call.has_aux:
            # grad alone: no value or aux to return, which saves work in every call
            def only(*xs: Any) -> Any:
                return f(*xs)[0][0]

            g = jax.grad(only, argnums=argnums)
            return jax.jit(g, static_argnums=static), static, aux, True
        vg = jax.value_and_grad(scalar, argnums=argnums, has_aux=True)
        return jax.jit(vg, static_argnums=static), static, aux, False

    def compiled(self, kind: tuple, call: Any, cache: dict | None, *extra: Any) -> Any:
        """jit-compile a jacobian, hessian, jvp or hvp of ``call``'s function, cached in
        ``cache`` (the transform object's); None when the function branches on values."""
        if cache is None:
            return None
        key = (*kind, *call.cache_key())
        entry = cache.get(key)
        if entry is _NOT_JITTABLE:
            return None
        leaves = list(call.all_leaves) + list(extra[0] if extra else [])
        static = _static_positions(leaves)
        if entry is None or entry[1] != static:
            entry = self._build(kind, call, static)
        jitted, _, holder, aux = entry
        try:
            with x64():
                result, a = jitted(*leaves)
        except _JIT_ERRORS as exc:
            if not _jit_refusal(exc):
                raise
            cache[key] = _NOT_JITTABLE
            return None
        if aux.mask and not all(aux.mask):
            cache[key] = _NOT_JITTABLE
            return None
        cache[key] = entry
        call.out_def = holder["out_def"]
        return result, aux.join(a)

    def _build(self, kind: tuple, call: Any, static: tuple[int, ...]) -> tuple:
        aux = AuxSplit(_is_jax)
        holder: dict[str, Any] = {}
        diff = list(call.diff_pos)
        n = len(call.all_leaves)

        def traced(*leaves: Any) -> tuple:
            base, ts = list(leaves[:n]), list(leaves[n:])

            def fd(*d: Any) -> tuple[list, list]:
                full = list(base)
                for i, v in zip(diff, d):
                    full[i] = v
                outs, a = call.fun_all(*full)
                holder["out_def"] = call.out_def
                return [o if _is_jax(o) else jnp.asarray(o) for o in outs], aux.split(a)

            def scalar(*d: Any) -> Any:
                return fd(*d)[0][0]

            primals = [base[i] for i in diff]
            argnums = tuple(range(len(primals)))
            name = kind[0]
            if name == "jacobian":
                tf = jax.jacfwd if kind[1] == "fwd" else jax.jacrev
                jac, a = tf(fd, argnums=argnums, has_aux=True)(*primals)
                return [list(row) for row in jac], a
            if name == "hessian":
                h = jax.hessian(scalar, argnums=argnums)(*primals)
                return [list(row) for row in h], []
            if name == "jvp":
                outs, touts, a = jax.jvp(fd, tuple(primals), tuple(ts), has_aux=True)
                return (outs, touts), a
            g = jax.grad(scalar, argnums=argnums)  # hvp
            return list(jax.jvp(g, tuple(primals), tuple(ts))[1]), []

        return jax.jit(traced, static_argnums=static), static, holder, aux

    def jacobian(self, fun: Fun, primals: Sequence[Any], mode: str) -> tuple[list, list, Any]:
        aux = AuxSplit(_is_jax)
        transform = jax.jacfwd if mode == "fwd" else jax.jacrev
        argnums = tuple(range(len(primals)))
        with x64():
            jac, a = transform(self._arrays(fun, aux), argnums=argnums, has_aux=True)(*primals)
        return [], [list(row) for row in jac], aux.join(a)

    def hessian(self, fun: Fun, primals: Sequence[Any]) -> list[list[Any]]:
        def scalar(*xs: Any) -> Any:
            (out,), _ = fun(*xs)
            return out

        argnums = tuple(range(len(primals)))
        with x64():
            h = jax.hessian(scalar, argnums=argnums)(*primals)
        return [list(row) for row in h]

    def hvp(self, fun: Fun, primals: Sequence[Any], tangents: Sequence[Any]) -> list[Any]:
        def scalar(*xs: Any) -> Any:
            (out,), _ = fun(*xs)
            return out

        argnums = tuple(range(len(primals)))
        with x64():
            _, touts = jax.jvp(jax.grad(scalar, argnums=argnums), tuple(primals), tuple(tangents))
        return list(touts)


def _static_positions(leaves: Sequence[Any]) -> tuple[int, ...]:
    """Leaves jit must treat as static: anything that is not an array."""
    return tuple(
        i
        for i, x in enumerate(leaves)
        if not (_is_jax_value(x) or isinstance(x, np.ndarray | np.generic))
    )


def _jit_refusal(exc: Exception) -> bool:
    if isinstance(exc, jax.errors.JAXTypeError | jax.errors.ConcretizationTypeError):
        return True
    text = str(exc)
    return any(
        s in text
        for s in ("Tracer", "tracer", "concrete", "Non-hashable static", "not a valid JAX type")
    )
