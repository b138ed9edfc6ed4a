"""The MXNet 1.9 adapter (mxnet.np / npx and mxnet.autograd), with MXNet's habits normalised.

- Each call differentiates fresh copies of the inputs, so ``grad_req='write'`` cannot leave a
  stale gradient on an input the output does not reach: unconnected inputs get zeros.
- Cotangents are always passed explicitly; MXNet never sums a non-scalar head on its own.
- A constant function (MXNet raises on its backward) has a zero gradient.
- ``mx.np.array`` keeps float64 (``nd.array`` would have cast it to float32).
- jvp and forward jacobians are emulated through one vjp per output element.
- Hessians and hvps use ``autograd.grad(create_graph=True)``. MXNet lacks second-order
  gradients for most operators; then UnsupportedError names the operator MXNet refused, and
  functions using an op listed in ``second_order.NO_SECOND_ORDER`` are refused up front, so a
  wrong number never comes back.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

import mxnet as mx
import numpy as onp
from mxnet import autograd, npx
from mxnet import np as mnp
from unigrad.backends.base import ARITHMETIC_OPERATORS, Backend, Fun
from unigrad.backends.mxnet import second_order
from unigrad.backends.mxnet.second_order import NO_SECOND_ORDER
from unigrad.backends.optable import convert_arguments

from unigrad.errors import ComplexUnsupportedError, FrameworkError, UnsupportedError

npx.set_np()

_REFUSED = re.compile(r"Operator (\S+) is non-differentiable")
_UNREACHABLE = re.compile(r"with respect to the (\d+)-th variable because it is unreachable")


def _is_mx(x: Any) -> bool:
    return isinstance(x, mnp.ndarray)


def _unconnected(exc: Exception) -> bool:
    text = str(exc)
    return any(
        s in text
        for s in (
            "computational graph",
            "no inputs in computation graph",
            "Cannot differentiate node",
        )
    )


#: names of the ops used since the last clear (a second-order request checks them)
USED: set[str] = set()


def _no_complex(dtype: str) -> ComplexUnsupportedError:
    return ComplexUnsupportedError(
        "mxnet",
        "complex numbers",
        f"MXNet 1.9 has no complex dtypes, so a {dtype} value cannot exist in it. Compute "
        "with real numbers (the real and imaginary parts as separate arrays), or run this "
        "function on another backend",
    )


def _product(j: onp.ndarray, u: onp.ndarray) -> onp.ndarray:
    """``j @ u`` for rows ``j`` of a Jacobian taken in reverse mode (see ``MxnetBackend.jvp``)."""
    moving = u != 0
    if onp.isnan(j[:, moving]).any() and onp.isfinite(u[moving]).all():
        raise UnsupportedError(
            "mxnet",
            "forward mode at this point",
            "MXNet has no forward mode and unigrad emulates it from one vjp per output element; "
            "a row here holds nan (0 * inf where a derivative is infinite, or a nan "
            "derivative), which reverse mode cannot tell apart: use vjp or grad, or another "
            "backend for the jvp",
        )
    still = onp.where(onp.isinf(j[:, ~moving]), onp.nan, 0.0).sum(axis=1)
    return j[:, moving] @ u[moving] + still


class MxnetBackend(Backend):
    """MXNet through mxnet.np and mxnet.autograd."""

    framework_modules = ("mxnet",)
    namespace = "mxnet.numpy"
    departures = "unigrad.backends.mxnet.ops"
    # measured by the native catalogue: MXNet's own ops already follow these pins
    native_operators = ARITHMETIC_OPERATORS
    native_pins = frozenset({"abs", "absolute", "clip", "relu"})
    promotes_like_numpy = False

    @property
    def version(self) -> str:
        return mx.__version__

    def devices(self) -> list[str]:
        return ["cpu"] + [f"gpu:{i}" for i in range(mx.context.num_gpus())]

    def is_array(self, x: Any) -> bool:
        return _is_mx(x)

    def asarray(self, x: Any, dtype: Any = None) -> Any:
        """An mxnet.np array; float64 stays float64 and Python floats become float64."""
        if isinstance(x, mnp.ndarray):
            if dtype is not None and onp.dtype(dtype).kind == "c":
                raise _no_complex(onp.dtype(dtype).name)
            return x if dtype is None else x.astype(onp.dtype(dtype).name)
        a = onp.asarray(x, dtype=dtype)
        if a.dtype.kind == "c":
            raise _no_complex(a.dtype.name)
        return mnp.array(a, dtype=a.dtype)

    def native_dtype(self, dtype: Any) -> Any:
        return onp.dtype(dtype).name

    def wrap_op(self, fn: Callable[..., Any], name: str, kind: str) -> Callable[..., Any]:
        inner = fn if kind == "convention" else convert_arguments(self, fn, name)

        def op(*args: Any, **kwargs: Any) -> Any:
            USED.add(name)
            return inner(*args, **kwargs)

        op.__name__ = name
        return op

    def to_numpy(self, x: Any) -> onp.ndarray:
        try:
            return x.asnumpy()
        except mx.base.MXNetError as exc:
            # MXNet runs asynchronously: an op's failure can surface only when its value is read
            first = str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__
            raise FrameworkError(
                f"mxnet failed computing this array (MXNet reports an op's error when its "
                f"value is read): {first}"
            ) from exc

    def dtype_name(self, x: Any) -> str:
        return onp.dtype(x.dtype).name

    def shape(self, x: Any) -> tuple[int, ...]:
        return tuple(x.shape)

    def stop_gradient(self, x: Any) -> Any:
        return x.detach()

    def native_gradient(self, fn: Callable[..., Any], xs: list[onp.ndarray]) -> list[Any]:
        ts = [mnp.array(x, dtype=onp.float64) for x in xs]
        for t in ts:
            t.attach_grad()
        with autograd.record():
            out = fn(*ts)
        out.backward()  # MXNet sums a non-scalar head itself
        return [t.grad.asnumpy() for t in ts]

    def _fresh(self, primals: Sequence[Any]) -> list[Any]:
        if autograd.is_recording():
            # Fresh leaves inside an outer recording would cut the outer chain and give
            # silent zeros: MXNet cannot nest these transforms.
            raise UnsupportedError(
                "mxnet",
                "nested differentiation",
                "MXNet cannot differentiate a unigrad transform inside another one (grad of "
                "grad); use unigrad.hessian or unigrad.hvp, which MXNet supports for some ops",
            )
        xs = [p.copy() for p in primals]
        for x in xs:
            x.attach_grad()
        return xs

    def _record(self, fun: Fun, xs: list[Any]) -> tuple[list, Any]:
        with autograd.record():
            outs, aux = fun(*xs)
            outs = [o if _is_mx(o) else self.asarray(o) for o in outs]
            # MXNet's backward takes each head array once, and an input as its own head gives
            # nothing: an output that repeats another or is an input becomes a recorded copy
            seen = {id(x) for x in xs}
            for i, o in enumerate(outs):
                if id(o) in seen:
                    outs[i] = o * 1.0
                seen.add(id(outs[i]))
        return outs, aux

    def vjp(self, fun: Fun, primals: Sequence[Any]) -> tuple[list, Callable[[list], list], Any]:
        xs = self._fresh(primals)
        outs, aux = self._record(fun, xs)
        first = [True]

        def vjp_fn(cts: list) -> list:
            nonlocal xs, outs
            if not first[0]:
                # a second backward through a retained graph is wrong for some MXNet ops (det
                # and slogdet overwrite what they saved): each later call records afresh
                xs = self._fresh(primals)
                outs, _ = self._record(fun, xs)
            first[0] = False
            heads = [o for o in outs]
            grads = [self.asarray(c, onp.dtype(o.dtype)) for c, o in zip(cts, outs)]
            try:
                autograd.backward(heads, head_grads=grads, retain_graph=True)
            except mx.base.MXNetError as exc:
                if not _unconnected(exc):
                    raise
                # some output is a constant (not recorded): MXNet refuses the whole backward,
                # so the recorded outputs go back one at a time and their gradients add up
                return self._head_by_head(heads, grads, xs)
            return [x.grad.copy() for x in xs]

        return [o.detach() for o in outs], vjp_fn, aux

    @staticmethod
    def _head_by_head(heads: list, grads: list, xs: list) -> list:
        total = [mnp.zeros(x.shape, dtype=x.dtype) for x in xs]
        for head, g in zip(heads, grads):
            try:
                autograd.backward([head], head_grads=[g], retain_graph=True)
            except mx.base.MXNetError as exc:
                if not _unconnected(exc):
                    raise
                continue  # a constant output: it adds nothing
            total = [t + x.grad for t, x in zip(total, xs)]
        return total

    def jvp(self, fun: Fun, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple:
        """J u from the rows of J, one vjp per output element.

        A row's nan may be 0 * inf of reverse mode alone (the row of sqrt(x)[1] at x = [0, 4]
        is [nan, 0.25]: output 0's zero cotangent met sqrt'(0)), where forward mode has no such
        product: such an entry under a zero tangent adds nothing, as its forward value would
        (an inf still gives 0 * inf = nan), and under a nonzero tangent the row cannot say
        what forward mode gives: UnsupportedError, never a wrong number.
        """
        outs, jac, aux = self._jacobian_by_rows(fun, primals)
        touts = []
        for o, row in zip(outs, jac):
            n_out = int(onp.prod(o.shape, dtype=int))
            total = onp.zeros((n_out,), dtype=o.dtype)
            for j_block, t in zip(row, tangents):
                n_in = int(onp.prod(t.shape, dtype=int))
                if n_out and n_in:  # an empty block adds nothing (and MXNet cannot reshape it)
                    total = total + _product(
                        self.to_numpy(j_block).reshape((n_out, n_in)), self.to_numpy(t).ravel()
                    )
            touts.append(mnp.array(total.reshape(o.shape), dtype=o.dtype))
        return outs, touts, aux

    def jacobian(self, fun: Fun, primals: Sequence[Any], mode: str) -> tuple[list, list, Any]:
        return self._jacobian_by_rows(fun, primals)  # forward mode is emulated with vjps

    def _second_order(self, fun: Fun, primals: Sequence[Any], what: str) -> tuple:
        USED.clear()
        xs = self._fresh(primals)
        with autograd.record():
            (out,), _ = fun(*xs)
            if not _is_mx(out):
                out = self.asarray(out)
            gs = self._reachable_grads(out, xs, what)
        bad = sorted(USED & NO_SECOND_ORDER) if second_order.CHECK_DENYLIST else []
        if bad:
            raise UnsupportedError(
                "mxnet",
                what,
                f"MXNet 1.9 has no correct second-order gradient for {', '.join(bad)}, "
                "which this function uses (see unigrad.backends.mxnet.second_order)",
            )
        return xs, gs

    def _reachable_grads(self, out: Any, xs: list[Any], what: str) -> list[Any] | None:
        """First derivatives with create_graph, None for inputs the output cannot reach.

        MXNet refuses the whole call when one variable is unreachable, so those are dropped
        one at a time (their gradient is exactly zero) until it accepts.
        """
        alive = list(range(len(xs)))
        head = [mnp.ones(out.shape, dtype=out.dtype)]
        while alive:
            try:
                gs = autograd.grad(
                    [out],
                    [xs[i] for i in alive],
                    head_grads=head,
                    create_graph=True,
                    retain_graph=True,
                )
            except mx.base.MXNetError as exc:
                m = _UNREACHABLE.search(str(exc))
                if m is not None:
                    del alive[int(m.group(1)) - 1]  # MXNet counts from 1
                    continue
                if _unconnected(exc):
                    return None
                raise self._refusal(exc, what) from exc
            full: list[Any] = [None] * len(xs)
            for i, g in zip(alive, gs):
                full[i] = g
            return full
        return None

    def _refusal(self, exc: Exception, what: str) -> Exception:
        m = _REFUSED.search(str(exc))
        if m is None:
            return exc
        return UnsupportedError(
            "mxnet",
            what,
            f"MXNet has no gradient registered for its operator {m.group(1)}, which the "
            "derivative of this function needs (MXNet supports second order only through "
            "chains of unary elementwise ops such as sin, exp and tanh)",
        )

    def hessian(self, fun: Fun, primals: Sequence[Any]) -> list[list[Any]]:
        xs, gs = self._second_order(fun, primals, "hessian")
        n_in = len(xs)
        if gs is None:
            return [
                [mnp.zeros((*xs[i].shape, *xs[j].shape), dtype=xs[i].dtype) for j in range(n_in)]
                for i in range(n_in)
            ]
        rows: list[list[Any]] = []
        for i, g in enumerate(gs):
            if g is None:  # this input does not reach the output: a zero row
                rows.append(
                    [
                        mnp.zeros((*xs[i].shape, *xs[j].shape), dtype=xs[i].dtype)
                        for j in range(n_in)
                    ]
                )
                continue
            n = int(onp.prod(g.shape, dtype=int))
            if n == 0:  # no rows to stack: empty blocks (mnp.stack refuses an empty list)
                rows.append(
                    [
                        mnp.zeros((*xs[i].shape, *xs[j].shape), dtype=xs[i].dtype)
                        for j in range(n_in)
                    ]
                )
                continue
            per_j: list[list[Any]] = [[] for _ in range(n_in)]
            for k in range(n):
                e = onp.zeros(n, dtype=onp.dtype(g.dtype))
                e[k] = 1
                try:
                    autograd.backward(
                        [g], head_grads=[self.asarray(e.reshape(g.shape))], retain_graph=True
                    )
                except mx.base.MXNetError as exc:
                    if _unconnected(exc):
                        for j in range(n_in):
                            per_j[j].append(mnp.zeros(xs[j].shape, dtype=xs[j].dtype))
                        continue
                    raise self._refusal(exc, "hessian") from exc
                for j, x in enumerate(xs):
                    per_j[j].append(x.grad.copy())
            rows.append(
                [mnp.stack(per_j[j]).reshape((*xs[i].shape, *xs[j].shape)) for j in range(n_in)]
            )
        return rows

    def hvp(self, fun: Fun, primals: Sequence[Any], tangents: Sequence[Any]) -> list[Any]:
        xs, gs = self._second_order(fun, primals, "hvp")
        if gs is None:
            return [mnp.zeros(x.shape, dtype=x.dtype) for x in xs]
        pairs = [(g, t) for g, t in zip(gs, tangents) if g is not None]
        try:
            autograd.backward(
                [g for g, _ in pairs], head_grads=[t for _, t in pairs], retain_graph=True
            )
        except mx.base.MXNetError as exc:
            if _unconnected(exc):
                return [mnp.zeros(x.shape, dtype=x.dtype) for x in xs]
            raise self._refusal(exc, "hvp") from exc
        return [x.grad.copy() for x in xs]
