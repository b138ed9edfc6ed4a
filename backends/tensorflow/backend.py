"""The TensorFlow adapter: GradientTape (jvp and hvp by transposing vjps); tf.function where safe.

Unconnected gradients are zeros, never None. A gradient that the same transform object
computes again is compiled with tf.function (autograph off); a function that branches on
tensor values cannot be traced that way and stays eager, with the same answer.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Sequence
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import tensorflow as tf
from tensorflow.python.eager import record
from unigrad.backends.base import ARITHMETIC_OPERATORS, Backend, Fun
from unigrad.backends.optable import convert_arguments

from unigrad.errors import UnigradError

ZERO = tf.UnconnectedGradients.ZERO


@contextlib.contextmanager
def _watching(primals: Sequence[Any], persistent: bool = False) -> Iterator[Any]:
    """A gradient tape that watches exactly ``primals`` (and no variables on its own)."""
    with tf.GradientTape(persistent=persistent, watch_accessed_variables=False) as tape:
        tape.watch(list(primals))
        yield tape


def _distinct(primals: Sequence[Any]) -> list[Any]:
    """The primals, each a tensor of its own: a tape watching one tensor passed twice would
    add both derivatives into each (grad of p[0] * p[1] at (t, t) gave (2t, 2t))."""
    out: list[Any] = []
    seen: set[int] = set()
    for p in primals:
        out.append(tf.identity(p) if id(p) in seen else p)
        seen.add(id(p))
    return out


def _nested() -> bool:
    """Whether an outer transform is recording (a tape: an outer vjp, grad or hvp).

    tape.jacobian's default (pfor) compiles a function; differentiating through that function
    under an outer ForwardAccumulator fails inside TensorFlow (an InternalError about the
    forward graph's inputs), so a jacobian nested in another transform uses TF's while loop.
    """
    return record.could_possibly_record()


def _is_tf(x: Any) -> bool:
    return tf.is_tensor(x) or isinstance(x, tf.Variable)


_REFUSALS = ("symbolic", "graph execution", "not allowed", "eagertensor")


class TensorflowBackend(Backend):
    """TensorFlow eager tapes, compiled with tf.function on repeated calls."""

    framework_modules = ("tensorflow", "keras", "tf_keras")
    namespace = "tensorflow.experimental.numpy"
    departures = "unigrad.backends.tensorflow.ops"
    # measured by the native catalogue: TF's own ops already follow these pins
    native_operators = ARITHMETIC_OPERATORS
    # (not prod: TF's reduce_prod is exact with zeros at first order, wrong at second)
    native_pins = frozenset({"abs", "absolute", "relu", "max", "min", "amax", "amin", "inner"})
    compile_after = 1  # tracing costs ~50 ms: compile a transform from its second call

    @property
    def version(self) -> str:
        return tf.__version__

    def devices(self) -> list[str]:
        return [
            d.name.replace("/physical_device:", "").lower()
            for d in tf.config.list_physical_devices()
        ]

    def is_array(self, x: Any) -> bool:
        return _is_tf(x)

    def asarray(self, x: Any, dtype: Any = None) -> Any:
        if _is_tf(x):
            return x if dtype is None else tf.cast(x, np.dtype(dtype).name)
        return tf.convert_to_tensor(np.asarray(x, dtype=dtype))

    def native_dtype(self, dtype: Any) -> Any:
        return tf.as_dtype(np.dtype(dtype).name if not isinstance(dtype, tf.DType) else dtype)

    def wrap_op(self, fn: Callable[..., Any], name: str, kind: str) -> Callable[..., Any]:
        # tf.experimental.numpy takes NumPy arrays and scalars itself; TF's own ops may not
        return convert_arguments(self, fn, name) if kind == "departure" else fn

    def compile(self, fn: Callable[..., Any], static: tuple[int, ...]) -> Callable[..., Any]:
        return tf.function(fn, autograph=False, reduce_retracing=True)

    def compile_refusal(self, exc: BaseException) -> bool:
        if isinstance(exc, tf.errors.OperatorNotAllowedInGraphError):
            return True
        # float(x), int(x), x.item(), NumPy on a tensor being traced, or a value read (a boolean
        # mask, an index array, nonzero): "Cannot convert a symbolic tf.Tensor to a numpy array"
        text = str(exc).lower()
        kinds = TypeError | ValueError | NotImplementedError
        return (
            isinstance(exc, kinds)
            and not isinstance(exc, UnigradError)
            and any(s in text for s in _REFUSALS)
        )

    def to_numpy(self, x: Any) -> np.ndarray:
        return np.asarray(x.numpy() if hasattr(x, "numpy") else x)

    def dtype_name(self, x: Any) -> str:
        return x.dtype.name

    def shape(self, x: Any) -> tuple[int, ...]:
        return tuple(int(n) for n in x.shape)

    def stop_gradient(self, x: Any) -> Any:
        return tf.stop_gradient(x)

    def native_gradient(self, fn: Callable[..., Any], xs: list[np.ndarray]) -> list[Any]:
        ts = [tf.constant(x, dtype=tf.float64) for x in xs]
        with tf.GradientTape() as tape:
            for t in ts:
                tape.watch(t)
            out = tf.reduce_sum(fn(*ts))
        return [None if g is None else g.numpy() for g in tape.gradient(out, ts)]

    def _tensors(self, outs: list) -> list:
        return [o if _is_tf(o) else tf.convert_to_tensor(np.asarray(o)) for o in outs]

    def vjp(self, fun: Fun, primals: Sequence[Any]) -> tuple[list, Callable[[list], list], Any]:
        primals = _distinct(primals)
        with _watching(primals, persistent=True) as tape:
            outs, aux = fun(*primals)
            outs = self._tensors(outs)

        def vjp_fn(cts: list) -> list:
            cts = [tf.cast(c, o.dtype) for c, o in zip(cts, outs)]
            return list(
                tape.gradient(outs, primals, output_gradients=cts, unconnected_gradients=ZERO)
            )

        return outs, vjp_fn, aux

    def jvp(self, fun: Fun, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple:
        """J u as the transpose of the vjp w -> J^T w (reverse mode, differentiated in w).

        ForwardAccumulator transposes each op's rule alone and gives every input it does not
        track (a constant, the seed of a gradient) a tangent of zeros: where a value or a
        derivative is infinite, 0 * inf made nan (the jvp of 2 * log(x) at 0, the hvp of sqrt
        at 0). Transposing the whole function sees only the tangents that exist. Complex
        values keep ForwardAccumulator (TensorFlow's complex cotangents are conjugated).
        """
        primals = _distinct(primals)
        if any(p.dtype.is_complex for p in primals):
            return self._forward_accumulated(fun, primals, tangents)
        with _watching(primals) as tape:
            outs, aux = fun(*primals)
            outs = self._tensors(outs)
        if any(o.dtype.is_complex for o in outs):
            return self._forward_accumulated(fun, primals, tangents)
        live = [o for o in outs if o.dtype.is_floating]  # integer outputs: no derivative
        got = iter(_transposed_jvp(tape, live, primals, tangents) if live else [])
        return outs, [next(got) if o.dtype.is_floating else tf.zeros_like(o) for o in outs], aux

    def _forward_accumulated(
        self, fun: Fun, primals: Sequence[Any], tangents: Sequence[Any]
    ) -> tuple:
        with tf.autodiff.ForwardAccumulator(primals, list(tangents)) as acc:
            outs, aux = fun(*primals)
            outs = self._tensors(outs)
        return outs, [acc.jvp(o, unconnected_gradients=ZERO) for o in outs], aux

    def value_and_grad(self, fun: Fun, primals: Sequence[Any]) -> tuple[Any, list[Any], Any]:
        primals = _distinct(primals)
        with _watching(primals) as tape:
            outs, aux = fun(*primals)
            (out,) = self._tensors(outs)
        return out, list(tape.gradient(out, primals, unconnected_gradients=ZERO)), aux

    def jacobian(self, fun: Fun, primals: Sequence[Any], mode: str) -> tuple[list, list, Any]:
        if mode == "fwd":
            return self._jacobian_by_columns(fun, primals)
        pfor = not _nested()
        primals = _distinct(primals)
        with _watching(primals, persistent=True) as tape:
            outs, aux = fun(*primals)
            outs = self._tensors(outs)
        return outs, [_jacobian(tape, o, primals, pfor) for o in outs], aux

    def hessian(self, fun: Fun, primals: Sequence[Any]) -> list[list[Any]]:
        """Columns of H as the hvp takes them (H[i][j] by transposing w -> H^T w): the rows of
        reverse over reverse are H^T's, which puts 0 * inf's nan at the transposed place where
        a pinned or infinite second derivative is not symmetric."""
        pfor = not _nested()
        primals = _distinct(primals)
        outer, grads = self._recorded_gradient(fun, primals)
        with _transposing(outer, grads, primals, persistent=True) as (transpose, ws, hw):
            pass
        rows = []
        for wi in ws:
            row = []
            for h in hw:  # d hw_j / d w_i has x_j's axes first: H[i][j] has x_i's first
                block = _jacobian(transpose, h, [wi], pfor)[0]
                nj = len(h.shape)
                order = [*range(nj, nj + len(wi.shape)), *range(nj)]
                row.append(tf.transpose(block, order))
            rows.append(row)
        return rows

    def hvp(self, fun: Fun, primals: Sequence[Any], tangents: Sequence[Any]) -> list[Any]:
        # H v as the transpose of v -> H^T w, all in reverse mode: a reverse pass over the
        # gradient, taken with a watched cotangent w, and differentiated in w. Forward over
        # reverse gave nan where a derivative is infinite (sqrt at 0): ForwardAccumulator gives
        # the gradient's seed a tangent of zeros, and 0 * inf is nan. The gradient of <grad f, v>
        # alone is H^T v, which is not H v at a kink where a pinned rule is not symmetric.
        primals = _distinct(primals)
        outer, grads = self._recorded_gradient(fun, primals)
        return _transposed_jvp(outer, grads, primals, tangents)

    def _recorded_gradient(self, fun: Fun, primals: list[Any]) -> tuple[Any, list[Any]]:
        """The gradient of scalar ``fun``, and the tape that recorded its computation."""
        with _watching(primals) as outer:
            with _watching(primals) as inner:
                outs, _ = fun(*primals)
                (out,) = self._tensors(outs)
            grads = inner.gradient(out, primals, unconnected_gradients=ZERO)
        return outer, [tf.convert_to_tensor(g) for g in grads]


@contextlib.contextmanager
def _transposing(
    tape: Any, ys: list[Any], primals: list[Any], persistent: bool = False
) -> Iterator[tuple[Any, list[Any], list[Any]]]:
    """(transpose, ws, J^T ws) for ``ys`` recorded on ``tape``: the vjp taken with cotangents
    ``ws`` that ``transpose`` watches (ones: any value would do, the vjp is linear in them), so
    that differentiating in ``ws`` transposes it back to J."""
    ws = [tf.ones_like(y) for y in ys]
    with tf.GradientTape(persistent=persistent) as transpose:
        transpose.watch(ws)
        back = tape.gradient(ys, primals, output_gradients=ws, unconnected_gradients=ZERO)
        yield transpose, ws, [tf.convert_to_tensor(b) for b in back]


def _transposed_jvp(tape: Any, ys: list[Any], primals: list[Any], tangents: Any) -> list[Any]:
    """J u for ``ys`` recorded on ``tape``, as d <J^T w, u> / d w."""
    with _transposing(tape, ys, primals) as (transpose, ws, back):
        dot = tf.add_n([tf.reduce_sum(b * tf.cast(t, b.dtype)) for b, t in zip(back, tangents)])
    return list(transpose.gradient(dot, ws, unconnected_gradients=ZERO))


def _jacobian(tape: Any, out: Any, primals: list[Any], pfor: bool) -> list[Any]:
    """d out / d primals from ``tape``: vectorised (pfor) where it can be, else TF's loop."""
    if pfor:
        try:
            return list(tape.jacobian(out, primals, unconnected_gradients=ZERO))
        except (ValueError, TypeError, NotImplementedError):
            pass
    return list(
        tape.jacobian(out, primals, unconnected_gradients=ZERO, experimental_use_pfor=False)
    )
