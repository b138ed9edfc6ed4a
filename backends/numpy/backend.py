"""The numpy adapter: unigrad's own engine behind the backend protocol."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from unigrad.backends import conventions
from unigrad.backends.base import Backend, Fun
from unigrad.backends.numpy import engine
from unigrad.backends.numpy.tracer import Tracer, primal


class NumpyBackend(Backend):
    """Reference backend: reverse and forward mode on NumPy, any order, batched jacobians."""

    framework_modules = ("numpy",)
    namespace = "unigrad.backends.numpy.ops"
    # The engine is the reference: its own primitives implement every pinned convention.
    native_pins = frozenset(conventions.PINS) | {f"linalg.{n}" for n in conventions.LINALG_PINS}
    wraps_arrays = False  # its tracers have NumPy's operators and methods already

    @property
    def version(self) -> str:
        return np.__version__

    def is_array(self, x: Any) -> bool:
        return isinstance(x, np.ndarray | np.generic | Tracer)

    def asarray(self, x: Any, dtype: Any = None) -> Any:
        if isinstance(x, Tracer):
            return x if dtype is None else self.ops.astype(x, dtype)
        a = np.asarray(x, dtype=dtype)
        return a[()] if a.ndim == 0 else a  # NumPy scalars are much faster than 0-d arrays

    def prepare_constant(self, x: Any) -> Any:
        return x

    def to_numpy(self, x: Any) -> np.ndarray:
        return np.asarray(primal(x))

    def prepare(self, x: Any) -> Any:
        t = type(x)
        if t is float:
            return np.float64(x)
        if t is np.ndarray:
            return x[()] if x.ndim == 0 else x
        return self.asarray(x)

    def is_float(self, x: Any) -> bool:
        try:
            return x.dtype.kind == "f"
        except AttributeError:
            return np.result_type(primal(x)).kind == "f"

    def dtype_name(self, x: Any) -> str:
        return np.result_type(primal(x)).name

    def shape(self, x: Any) -> tuple[int, ...]:
        return np.shape(x)

    def stop_gradient(self, x: Any) -> Any:
        return primal(x)

    def vjp(self, fun: Fun, primals: Sequence[Any]) -> tuple[list, Callable[[list], list], Any]:
        return engine.vjp(fun, primals)

    def jvp(self, fun: Fun, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple:
        return engine.jvp(fun, primals, tangents)

    def value_and_grad(self, fun: Fun, primals: Sequence[Any]) -> tuple[Any, list[Any], Any]:
        outs, vjp_fn, aux = engine.vjp(fun, primals)
        (out,) = outs
        return out, vjp_fn([engine.ones_cotangent(out)]), aux

    def jacobian(self, fun: Fun, primals: Sequence[Any], mode: str) -> tuple[list, list, Any]:
        # "auto" is reverse mode, as on every other backend: where a zero direction meets an
        # infinite partial (0 * inf = nan), the two modes put the nan in different places
        if mode == "fwd":
            return engine.jacobian_fwd(fun, primals)
        return engine.jacobian_rev(fun, primals)

    def hessian(self, fun: Fun, primals: Sequence[Any]) -> list[list[Any]]:
        return engine.hessian(fun, primals)

    def hvp(self, fun: Fun, primals: Sequence[Any], tangents: Sequence[Any]) -> list[Any]:
        return engine.hvp(fun, primals, tangents)
