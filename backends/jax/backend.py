"""The JAX adapter: jax.vjp/jvp/jacrev/jacfwd/hessian; whole transforms jit-compiled.

Every call runs with 64-bit types enabled for its duration (``jax.enable_x64``), so float64
stays float64, without flipping the user's global JAX setting. Eager JAX compiles every small op
on its own, which measured 5-13x slower than one jit of the whole transform, so the facade
compiles transforms from their first call (``compile``); a function that branches on values
cannot be traced and runs eagerly, with the same answer.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from unigrad.backends.auxsplit import AuxSplit
from unigrad.backends.base import Backend, Fun
from unigrad.backends.optable import PROMOTING, convert_arguments

_FLOATS = frozenset(np.dtype(d) for d in ("float16", "float32", "float64")) | {
    jnp.dtype(jnp.bfloat16)
}
_JAX_TYPES: set[type] = set()

# What tracing a function under jit raises when it branches on values (checked further by
# compile_refusal): the function then runs eagerly, with the same answer.
_JIT_ERRORS = (
    jax.errors.ConcretizationTypeError,
    jax.errors.TracerBoolConversionError,
    jax.errors.TracerIntegerConversionError,
    jax.errors.TracerArrayConversionError,
    TypeError,
    ValueError,
)
_JIT_TEXT = ("Tracer", "tracer", "concrete", "Non-hashable static", "not a valid JAX type")


def is_jax(x: Any) -> bool:
    """Whether ``x`` is a jax array or tracer."""
    # isinstance(x, jax.Array) is a metaclass check (slow, and the only one that also
    # recognises tracers); remember the concrete types once seen.
    tp = type(x)
    if tp in _JAX_TYPES:
        return True
    if isinstance(x, jax.Array):
        _JAX_TYPES.add(tp)
        return True
    return False


def _real_floats(arrays: Any) -> bool:
    leaves = jax.tree_util.tree_leaves(arrays)
    return bool(leaves) and all(jnp.issubdtype(a.dtype, jnp.floating) and a.size for a in leaves)


def _basis(n: int, dtype: Any) -> Any:
    """The one-hot directions of a Jacobian, hidden from XLA's simplifier: as a compile-time
    constant, XLA folds 0 * inf to 0 in the products with it (jit(jacrev(sqrt)) at [0, 4] gave 0
    where jacrev gives IEEE's nan, as every backend does)."""
    return jax.lax.optimization_barrier(jnp.eye(n, dtype=dtype))


def _jacobian_rev(f: Callable, primals: Sequence[Any]) -> tuple[list, Any] | None:
    """Rows of the Jacobian: the vjps of f's one-hot cotangents, batched (None where an output
    is not a non-empty real float array: jax.jacrev's own handling)."""
    from jax.flatten_util import ravel_pytree

    outs, pullback, a = jax.vjp(f, *primals, has_aux=True)
    if not _real_floats(outs):
        return None
    flat, unravel = ravel_pytree(outs)
    rows = jax.vmap(lambda ct: pullback(unravel(ct)))(_basis(flat.size, flat.dtype))
    jac, start = [], 0
    for o in outs:
        k = o.size
        jac.append([r[start : start + k].reshape(o.shape + p.shape) for r, p in zip(rows, primals)])
        start += k
    return jac, a


def _jacobian_fwd(f: Callable, primals: Sequence[Any]) -> tuple[list, Any] | None:
    """Columns of the Jacobian: the jvps of one-hot tangents, batched (None as above)."""
    from jax.flatten_util import ravel_pytree

    outs, push, a = jax.linearize(f, *primals, has_aux=True)
    if not _real_floats(outs):
        return None
    flat, unravel = ravel_pytree(list(primals))
    cols = jax.vmap(lambda t: push(*unravel(t)))(_basis(flat.size, flat.dtype))
    jac = []
    for o, c in zip(outs, cols):
        row, start = [], 0
        for p in primals:
            k = p.size
            block = jnp.moveaxis(c[start : start + k], 0, -1)  # (*o.shape, k)
            row.append(block.reshape(o.shape + p.shape))
            start += k
        jac.append(row)
    return jac, a


def x64() -> Any:
    """A context with 64-bit types on (a no-op when they already are)."""
    return nullcontext() if jax.config.jax_enable_x64 else jax.enable_x64(True)


def _in_x64(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def op(*args: Any, **kwargs: Any) -> Any:
        if jax.config.jax_enable_x64:
            return fn(*args, **kwargs) if kwargs else fn(*args)
        with jax.enable_x64(True):
            return fn(*args, **kwargs)

    return op


class JaxBackend(Backend):
    """JAX, with whole transforms compiled once per function and argument structure."""

    framework_modules = ("jax", "jaxlib")
    namespace = "jax.numpy"
    departures = "unigrad.backends.jax.ops"
    # measured by the native catalogue: JAX's own ops already follow these pins
    native_pins = frozenset(
        {"maximum", "minimum", "max", "min", "amax", "amin", "prod", "relu", "inner"}
    )

    @property
    def version(self) -> str:
        return jax.__version__

    def devices(self) -> list[str]:
        return [f"{d.platform}:{d.id}" for d in jax.devices()]

    def is_array(self, x: Any) -> bool:
        return is_jax(x)

    def is_float(self, x: Any) -> bool:
        return x.dtype in _FLOATS

    def asarray(self, x: Any, dtype: Any = None) -> Any:
        if is_jax(x) and dtype is None:
            return x
        with x64():
            return jnp.asarray(x if is_jax(x) else np.asarray(x, dtype=dtype), dtype=dtype)

    def prepare(self, x: Any) -> Any:
        # jax transforms take NumPy inputs directly; converting first only costs time.
        if type(x) is np.ndarray or is_jax(x) or isinstance(x, np.generic):
            return x
        return np.asarray(x)

    def prepare_constant(self, x: Any) -> Any:
        return x

    def evaluating(self) -> Any:
        return x64()

    def one_off(self) -> Any:
        # Measured on compare's ops suite: most of a one-off cell's time is XLA compiling jnp's
        # jitted wrappers; op by op, primitives of the same shapes are compiled once for all
        # cells, and JAX's persistent cache keeps those compilations for the next run.
        persistent_cache()
        return jax.disable_jit()

    def compile_one_off(self, fn: Callable[..., Any]) -> Callable[..., Any] | None:
        # Measured on compare's quick ops suite: one XLA program per case (every check, both
        # dtypes) runs it in 10 s warm / 30 s with a cold cache, against 23 s / 60 s op by op.
        persistent_cache()
        return self.compile(fn, ())

    def wrap_op(self, fn: Callable[..., Any], name: str, kind: str) -> Callable[..., Any]:
        # JAX's own promotion gives int64 with float32 float32; NumPy's (unigrad's) float64
        if kind != "convention" and name.rpartition(".")[2] in PROMOTING:
            fn = convert_arguments(self, fn, name)
        return _in_x64(fn)

    def to_numpy(self, x: Any) -> np.ndarray:
        return np.asarray(x)

    def dtype_name(self, x: Any) -> str:
        return x.dtype.name

    def shape(self, x: Any) -> tuple[int, ...]:
        return tuple(np.shape(x))

    def stop_gradient(self, x: Any) -> Any:
        return jax.lax.stop_gradient(x)

    def native_gradient(self, fn: Callable[..., Any], xs: list[np.ndarray]) -> list[Any]:
        with jax.enable_x64(True):
            args = [jnp.asarray(x, dtype=jnp.float64) for x in xs]
            grads = jax.grad(lambda *a: jnp.sum(fn(*a)), argnums=tuple(range(len(xs))))(*args)
            return [np.asarray(g) for g in grads]

    def _arrays(self, fun: Fun, aux: AuxSplit) -> Callable:
        def f(*xs: Any) -> tuple[list, list]:
            outs, a = fun(*xs)
            return [o if is_jax(o) else jnp.asarray(o) for o in outs], aux.split(a)

        return f

    def vjp(self, fun: Fun, primals: Sequence[Any]) -> tuple[list, Callable[[list], list], Any]:
        aux = AuxSplit(is_jax)
        with x64():
            outs, fn, a = jax.vjp(self._arrays(fun, aux), *primals, has_aux=True)

        def vjp_fn(cts: list) -> list:
            with x64():
                return list(fn(list(cts)))

        return outs, vjp_fn, aux.join(a)

    def jvp(self, fun: Fun, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple:
        aux = AuxSplit(is_jax)
        with x64():
            outs, touts, a = jax.jvp(
                self._arrays(fun, aux), tuple(primals), tuple(tangents), has_aux=True
            )
        return outs, touts, aux.join(a)

    def value_and_grad(self, fun: Fun, primals: Sequence[Any]) -> tuple[Any, list[Any], Any]:
        aux = AuxSplit(is_jax)
        f = self._arrays(fun, aux)

        def scalar(*xs: Any) -> tuple[Any, list]:
            outs, a = f(*xs)
            return outs[0], a

        argnums = tuple(range(len(primals)))
        with x64():
            (value, a), grads = jax.value_and_grad(scalar, argnums=argnums, has_aux=True)(*primals)
        return value, list(grads), aux.join(a)

    def jacobian(self, fun: Fun, primals: Sequence[Any], mode: str) -> tuple[list, list, Any]:
        aux = AuxSplit(is_jax)
        f = self._arrays(fun, aux)
        with x64():
            if _real_floats(primals):
                got = (_jacobian_fwd if mode == "fwd" else _jacobian_rev)(f, primals)
                if got is not None:
                    return [], got[0], aux.join(got[1])
            transform = jax.jacfwd if mode == "fwd" else jax.jacrev
            argnums = tuple(range(len(primals)))
            jac, a = transform(f, argnums=argnums, has_aux=True)(*primals)
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

    def compile(self, fn: Callable[..., Any], static: tuple[int, ...]) -> Callable[..., Any]:
        jitted = jax.jit(fn, static_argnums=static)

        # positional only: passing even an empty **kwargs takes jit's slow dispatch path
        def run(*leaves: Any) -> Any:
            if jax.config.jax_enable_x64:
                return jitted(*leaves)
            with jax.enable_x64(True):
                return jitted(*leaves)

        return run

    def compile_refusal(self, exc: BaseException) -> bool:
        if isinstance(exc, jax.errors.JAXTypeError | jax.errors.ConcretizationTypeError):
            return True
        return isinstance(exc, _JIT_ERRORS) and any(s in str(exc) for s in _JIT_TEXT)


_CACHE_SET = False


def persistent_cache() -> None:
    """Keep XLA compilations on disk across runs (``UNIGRAD_JAX_CACHE``: a folder, or ``off``;
    default ``~/.cache/unigrad/jax``), unless the user configured JAX's own cache."""
    global _CACHE_SET
    if _CACHE_SET:
        return
    _CACHE_SET = True
    where = os.environ.get("UNIGRAD_JAX_CACHE", "")
    if where == "off" or jax.config.jax_compilation_cache_dir is not None:
        return
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    jax.config.update("jax_compilation_cache_dir", where or os.path.join(base, "unigrad", "jax"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
