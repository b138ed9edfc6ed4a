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
from unigrad.backends.aux import AuxSplit
from unigrad.backends.base import Backend, Fun

_NOT_JITTABLE = object()
_COMPILE_AFTER = 1  # eager calls of one transform before it is jit-compiled
_LEAF_SCALARS = (float, int, bool, np.generic)


def x64() -> Any:
    """A context with 64-bit types on (a no-op when they already are)."""
    return nullcontext() if jax.config.jax_enable_x64 else jax.enable_x64(True)


def _is_jax(x: Any) -> bool:
    return isinstance(x, jax.Array)


class JaxBackend(Backend):
    """JAX, with value_and_grad compiled once per function and argument structure."""

    framework_modules = ("jax", "jaxlib")

    @property
    def version(self) -> str:
        return jax.__version__

    def devices(self) -> list[str]:
        return [f"{d.platform}:{d.id}" for d in jax.devices()]

    def load_ops(self) -> Any:
        from . import ops

        return ops

    def is_array(self, x: Any) -> bool:
        return isinstance(x, jax.Array)

    def asarray(self, x: Any, dtype: Any = None) -> Any:
        if isinstance(x, jax.Array) and dtype is None:
            return x
        with x64():
            return jnp.asarray(np.asarray(x, dtype=dtype) if not _is_jax(x) else x, dtype=dtype)

    def prepare(self, x: Any) -> Any:
        # jax transforms take NumPy inputs directly; converting first only costs time.
        if isinstance(x, jax.Array | np.ndarray | np.generic):
            return x
        return np.asarray(x)

    def prepare_constant(self, x: Any) -> Any:
        return x

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
        static = tuple(
            i
            for i, x in enumerate(leaves)
            if not isinstance(x, jax.Array | np.ndarray | np.generic)
        )
        if entry is None or isinstance(entry, int):
            count = (entry or 0) + 1
            if count <= _COMPILE_AFTER:
                cache[key] = count
                return self.grad_of(call.fun, call.leaves)
            entry = self._compile(call, static)
        elif entry[1] != static:
            entry = self._compile(call, static)
        jitted, _, aux = entry
        try:
            with x64():
                (value, a), grads = jitted(*leaves)
        except (
            jax.errors.ConcretizationTypeError,
            jax.errors.TracerBoolConversionError,
            jax.errors.TracerIntegerConversionError,
            jax.errors.TracerArrayConversionError,
            TypeError,
            ValueError,
        ) as exc:
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

    def _compile(self, call: Any, static: tuple[int, ...]) -> tuple:
        aux = AuxSplit(_is_jax)
        f = self._arrays(call.fun_all, aux)

        def scalar(*xs: Any) -> tuple[Any, list]:
            outs, a = f(*xs)
            return outs[0], a

        vg = jax.value_and_grad(scalar, argnums=tuple(call.diff_pos), has_aux=True)
        return jax.jit(vg, static_argnums=static), static, aux

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


def _jit_refusal(exc: Exception) -> bool:
    if isinstance(exc, jax.errors.JAXTypeError | jax.errors.ConcretizationTypeError):
        return True
    text = str(exc)
    return any(
        s in text
        for s in ("Tracer", "tracer", "concrete", "Non-hashable static", "not a valid JAX type")
    )
