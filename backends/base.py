"""The protocol every adapter implements, and the transforms derived from it once, here.

An adapter supplies conversion, ``stop_gradient``, its ops table and the two differentiation
primitives ``vjp`` (and ``jvp`` where the framework has one). ``value_and_grad``,
``jacobian``, ``hessian`` and ``hvp`` have generic versions below, built from those
primitives; an adapter overrides one when its framework has a faster native path.

Functions handed to these methods take positional arrays and return ``(outputs, aux)`` with
``outputs`` a list of arrays.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from unigrad import capabilities as C
from unigrad.errors import UnsupportedError

Fun = Callable[..., tuple[list[Any], Any]]

#: dtypes a differentiated input may hold
FLOAT_DTYPES = frozenset({"float16", "bfloat16", "float32", "float64"})


class Backend:
    """Base adapter. Subclasses live in ``backends/<name>/backend.py``."""

    #: top-level module names whose exceptions count as coming from inside the framework
    framework_modules: tuple[str, ...] = ()

    def __init__(self, spec: Any) -> None:
        self.spec = spec
        self.name: str = spec.name
        self.capabilities: dict[str, str] = dict(spec.capabilities)
        self._ops: Any = None

    def __repr__(self) -> str:
        return f"<unigrad {self.name} adapter>"

    # ------------------------------------------------------------------ what adapters supply
    @property
    def version(self) -> str:
        """The framework's version string."""
        raise NotImplementedError

    def devices(self) -> list[str]:
        """Devices the framework sees, e.g. ['cpu']."""
        return ["cpu"]

    def load_ops(self) -> Any:
        """Import and return the adapter's ops table (a module)."""
        raise NotImplementedError

    @property
    def ops(self) -> Any:
        """The adapter's table of ops behind ``unigrad.numpy``."""
        if self._ops is None:
            self._ops = self.load_ops()
        return self._ops

    def is_array(self, x: Any) -> bool:
        """True if ``x`` is this framework's array (or tracer) type."""
        raise NotImplementedError

    def asarray(self, x: Any, dtype: Any = None) -> Any:
        """Convert ``x`` to this framework's array; Python floats become float64."""
        raise NotImplementedError

    def evaluating(self) -> Any:
        """A context for running user code on this backend outside a transform."""
        import contextlib

        return contextlib.nullcontext()

    def prepare_constant(self, x: Any) -> Any:
        """Convert a NumPy array given to a non-differentiated argument."""
        return self.asarray(x)

    def prepare(self, x: Any) -> Any:
        """Convert a differentiated input for the transforms (may stay NumPy when cheaper)."""
        return self.asarray(x)

    def to_numpy(self, x: Any) -> np.ndarray:
        """Convert one of this framework's arrays to a NumPy array."""
        raise NotImplementedError

    def dtype_name(self, x: Any) -> str:
        """The NumPy-style dtype name of an array of this framework, e.g. 'float32'."""
        raise NotImplementedError

    def is_float(self, x: Any) -> bool:
        """Whether ``x`` holds floating-point data (what differentiated inputs must hold)."""
        return self.dtype_name(x) in FLOAT_DTYPES

    def shape(self, x: Any) -> tuple[int, ...]:
        """The shape of an array of this framework."""
        return tuple(x.shape)

    def stop_gradient(self, x: Any) -> Any:
        """A copy of ``x`` that is constant at every order of differentiation."""
        raise NotImplementedError

    def vjp(self, fun: Fun, primals: Sequence[Any]) -> tuple[list, Callable[[list], list], Any]:
        """Evaluate ``fun``; return (outputs, vjp_fn, aux). vjp_fn(cotangents) -> grads."""
        raise NotImplementedError

    def jvp(self, fun: Fun, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple:
        """Evaluate ``fun`` and push tangents forward: (outputs, output tangents, aux)."""
        raise UnsupportedError(self.name, "forward mode (jvp)")

    # --------------------------------------------------------------- helpers on top of ops
    def ones_like(self, x: Any) -> Any:
        return self.ops.ones_like(x)

    def zeros_like(self, x: Any) -> Any:
        return self.ops.zeros_like(x)

    def reshape(self, x: Any, shape: tuple[int, ...]) -> Any:
        return self.ops.reshape(x, shape)

    def stack(self, xs: list[Any]) -> Any:
        return self.ops.stack(xs)

    def compiled(self, kind: tuple, call: Any, cache: dict | None, *extra: Any) -> Any:
        """A compiled version of a transform for ``call``, or None to take the generic path.

        ``kind`` names the transform ("jacobian", mode), ("hessian",), ("jvp",), ("hvp",);
        ``extra`` holds the tangents for jvp and hvp. Returns (result, aux).
        """
        return None

    # ------------------------------------------------------------- derived transforms
    def value_and_grad(self, call: Any, cache: dict | None = None) -> tuple[Any, list, Any]:
        """Value and gradient for a facade call (``call.fun`` of ``call.leaves``).

        ``call.fun_all`` / ``call.all_leaves`` / ``call.diff_pos`` give the same function of
        every argument leaf, and ``cache`` (owned by the caller's transform object) may hold
        compiled versions keyed by ``call.cache_key()``.
        """
        return self.grad_of(call.fun, call.leaves)

    def grad_of(self, fun: Fun, primals: Sequence[Any]) -> tuple[Any, list[Any], Any]:
        """Value and gradient of scalar ``fun`` with respect to every primal."""
        outs, vjp_fn, aux = self.vjp(fun, primals)
        (out,) = outs
        return out, vjp_fn([self.ones_like(out)]), aux

    def jacobian(self, fun: Fun, primals: Sequence[Any], mode: str) -> tuple[list, list, Any]:
        """J[i][j] = d out_i / d in_j, shape out_i.shape + in_j.shape. Loops over rows here."""
        if mode == "fwd" and self.capabilities.get(C.FORWARD) == C.NATIVE:
            return self._jacobian_fwd_loop(fun, primals)
        return self._jacobian_rev_loop(fun, primals)

    def _jacobian_rev_loop(self, fun: Fun, primals: Sequence[Any]) -> tuple[list, list, Any]:
        outs, vjp_fn, aux = self.vjp(fun, primals)
        jac = []
        for i, o in enumerate(outs):
            shape = self.shape(o)
            n = int(np.prod(shape, dtype=int))
            rows: list[list[Any]] = [[] for _ in primals]
            for k in range(n):
                cts = [self.zeros_like(q) for q in outs]
                e = np.zeros(n, dtype=self.dtype_name(o))
                e[k] = 1
                cts[i] = self.asarray(e.reshape(shape))
                for j, g in enumerate(vjp_fn(cts)):
                    rows[j].append(g)
            jac.append(
                [self._assemble(rows[j], shape, self.shape(p), p) for j, p in enumerate(primals)]
            )
        return outs, jac, aux

    def _assemble(self, rows: list, out_shape: tuple, in_shape: tuple, like: Any) -> Any:
        if not rows:
            return self.asarray(np.zeros((*out_shape, *in_shape), dtype=self.dtype_name(like)))
        return self.reshape(self.stack(rows), (*out_shape, *in_shape))

    def _jacobian_fwd_loop(self, fun: Fun, primals: Sequence[Any]) -> tuple[list, list, Any]:
        cols: list[list[list[Any]]] = []
        outs: list = []
        aux = None
        for j, p in enumerate(primals):
            in_shape = self.shape(p)
            n = int(np.prod(in_shape, dtype=int))
            per_out: list[list[Any]] = []
            for k in range(n):
                tangents = [self.zeros_like(q) for q in primals]
                e = np.zeros(n, dtype=self.dtype_name(p))
                e[k] = 1
                tangents[j] = self.asarray(e.reshape(in_shape))
                outs, touts, aux = self.jvp(fun, primals, tangents)
                per_out.append(touts)
            cols.append(per_out)
        if not primals:
            outs, _, aux = self.vjp(fun, primals)
        jac = []
        for i, o in enumerate(outs):
            row = []
            for j, p in enumerate(primals):
                cols_ij = [c[i] for c in cols[j]]  # n_in tangents of shape out
                m = self.stack(cols_ij)  # (n_in, *out)
                m = self.reshape(m, (len(cols_ij), -1))
                m = self.ops.transpose(m)
                row.append(self.reshape(m, (*self.shape(o), *self.shape(p))))
            jac.append(row)
        return outs, jac, aux

    def hessian(self, fun: Fun, primals: Sequence[Any]) -> list[list[Any]]:
        """H[i][j] = d^2 f / d in_i d in_j, as the jacobian of the gradient."""

        def grads(*xs: Any) -> tuple[list, Any]:
            _, g, _ = self.grad_of(fun, xs)
            return list(g), None

        mode = "fwd" if self.capabilities.get(C.FORWARD) == C.NATIVE else "rev"
        _, jac, _ = self.jacobian(grads, primals, mode)
        return jac

    def hvp(self, fun: Fun, primals: Sequence[Any], tangents: Sequence[Any]) -> list[Any]:
        """Hessian-vector product: forward over reverse, or reverse over reverse."""

        def grads(*xs: Any) -> tuple[list, Any]:
            _, g, _ = self.grad_of(fun, xs)
            return list(g), None

        if self.capabilities.get(C.FORWARD) == C.NATIVE:
            _, touts, _ = self.jvp(grads, primals, tangents)
            return touts

        def gv(*xs: Any) -> tuple[list, Any]:
            g, _ = grads(*xs)
            total = None
            for gi, ti in zip(g, tangents):
                term = self.ops.sum(gi * ti)
                total = term if total is None else total + term
            return [total], None

        _, h, _ = self.grad_of(gv, primals)
        return h
