"""Entry points of the reference engine: vjp, jvp, and the batched jacobian/hessian/hvp.

Functions given here take positional arrays and return ``(outputs, aux)``, where ``outputs``
is a list of arrays. A jacobian or hessian runs one vectorised pass: forward mode pushes an
identity block of tangents; reverse mode runs the backward pass once with a batch of
cotangents (a jvp of the linear vjp function, seeded with the identity).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from unigrad.backends.numpy import ops as _ops  # noqa: F401  (fills NumPy's functions' table)
from unigrad.backends.numpy.elementwise import astype, real
from unigrad.backends.numpy.forward import FwdTrace, FwdTracer
from unigrad.backends.numpy.reverse import RevTrace, RevTracer
from unigrad.backends.numpy.structural import getitem, moveaxis, reshape
from unigrad.backends.numpy.tracer import primal

from unigrad.errors import ComplexOutputError, complex_output_message

Fun = Callable[..., tuple[list[Any], Any]]


def _dtype(x: Any) -> np.dtype:
    try:
        return x.dtype
    except AttributeError:
        return np.result_type(primal(x))


def _zeros(x: Any) -> np.ndarray:
    v = primal(x)
    return np.zeros(np.shape(v), dtype=np.result_type(v))


def _cast(g: Any, like: Any) -> Any:
    """A cotangent in the dtype of its input: the real part, for a real input."""
    want = _dtype(like)
    have = _dtype(g)
    if have == want:
        return g
    if have.kind == "c" and want.kind != "c":
        g = real(g)
    return astype(g, want)


def ones_cotangent(out: Any) -> Any:
    """The cotangent 1 for a scalar output (ones of its shape for any output).

    A complex output has no gradient: the cotangent 1 would keep only its real part.
    """
    v = primal(out)
    dt = v.dtype if isinstance(v, np.generic) else np.result_type(v)
    if dt.kind == "c":
        raise ComplexOutputError(complex_output_message(dt.name))
    if isinstance(v, np.generic):
        return dt.type(1)
    return np.ones(np.shape(v), dtype=dt)


def vjp(fun: Fun, primals: Sequence[Any]) -> tuple[list[Any], Callable[[list], list], Any]:
    """Run ``fun`` on a reverse trace; return (outputs, vjp_fn, aux)."""
    trace = RevTrace()
    boxes = [trace.new_input(p) for p in primals]
    outs, aux = fun(*boxes)
    out_vals, idxs = [], []
    for o in outs:
        if isinstance(o, RevTracer) and o._trace is trace:
            out_vals.append(o.value)
            idxs.append(o.idx)
        else:
            out_vals.append(o)
            idxs.append(None)
    aux = _strip(aux, trace)

    def vjp_fn(cts: Sequence[Any]) -> list[Any]:
        seeds = [(i, c) for i, c in zip(idxs, cts) if i is not None and c is not None]
        grads = trace.backward(seeds) if seeds else [None] * len(primals)
        return [_zeros(p) if g is None else _cast(g, p) for g, p in zip(grads, primals)]

    return out_vals, vjp_fn, aux


def _strip(tree: Any, trace: Any) -> Any:
    """Replace this trace's tracers in ``aux`` by their values (aux is not differentiated)."""
    if isinstance(tree, RevTracer | FwdTracer) and tree._trace is trace:
        return tree.value
    if isinstance(tree, list | tuple):
        return (
            type(tree)(_strip(t, trace) for t in tree)
            if not hasattr(tree, "_fields")
            else (type(tree)(*(_strip(t, trace) for t in tree)))
        )
    if isinstance(tree, dict):
        return {k: _strip(v, trace) for k, v in tree.items()}
    return tree


def jvp_batched(
    fun: Fun, primals: Sequence[Any], tangents: Sequence[Any], batch: int
) -> tuple[list[Any], list[Any], Any]:
    """Push ``batch`` tangent directions at once; tangents have a leading batch axis."""
    trace = FwdTrace(batch)
    boxes = [trace.new_input(p, t) for p, t in zip(primals, tangents)]
    outs, aux = fun(*boxes)
    out_vals, out_tans = [], []
    for o in outs:
        if isinstance(o, FwdTracer) and o._trace is trace:
            out_vals.append(o.value)
            out_tans.append(o.tangent)
        else:
            out_vals.append(o)
            v = primal(o)
            out_tans.append(np.zeros((batch, *np.shape(v)), dtype=np.result_type(v)))
    return out_vals, out_tans, _strip(aux, trace)


def jvp(fun: Fun, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[list, list, Any]:
    """One forward-mode pass with a single tangent per primal."""
    batched = [reshape(t, (1, *np.shape(t))) for t in tangents]
    outs, tans, aux = jvp_batched(fun, primals, batched, 1)
    return outs, [getitem(t, 0) for t in tans], aux


def _identity_blocks(arrays: Sequence[Any]) -> tuple[int, list[np.ndarray], list[int]]:
    sizes = [int(np.size(primal(a))) for a in arrays]
    total = int(np.sum(sizes, dtype=int))
    blocks, offsets, off = [], [], 0
    for a, n in zip(arrays, sizes):
        v = primal(a)
        t = np.zeros((total, n), dtype=np.result_type(v))
        t[off : off + n] = np.eye(n, dtype=t.dtype)
        blocks.append(t.reshape((total, *np.shape(v))))
        offsets.append(off)
        off += n
    return total, blocks, offsets


def _block(t: Any, off: int, n: int) -> Any:
    return getitem(t, slice(off, off + n))


def jacobian_fwd(fun: Fun, primals: Sequence[Any]) -> tuple[list, list[list], Any]:
    """J[i][j] = d out_i / d in_j (shape out_i.shape + in_j.shape) in one forward pass."""
    total, tangents, offsets = _identity_blocks(primals)
    outs, tans, aux = jvp_batched(fun, primals, tangents, total)
    jac = []
    for o, t in zip(outs, tans):
        row = []
        for p, off in zip(primals, offsets):
            n = int(np.size(primal(p)))
            blk = _block(t, off, n)  # (n_in, *out.shape)
            blk = moveaxis(blk, 0, -1) if np.ndim(primal(o)) else blk
            row.append(reshape(blk, (*np.shape(primal(o)), *np.shape(primal(p)))))
        jac.append(row)
    return outs, jac, aux


def jacobian_rev(fun: Fun, primals: Sequence[Any]) -> tuple[list, list[list], Any]:
    """J[i][j] in one backward pass carrying a batch of cotangents (rows of J).

    A complex output takes the forward pass instead: a cotangent gives only the real part of
    its rows (see ``elementwise``), while forward tangents give the complex derivative.
    """
    outs, vjp_fn, aux = vjp(fun, primals)
    if any(_dtype(o).kind == "c" for o in outs):
        return jacobian_fwd(fun, primals)
    total, seeds, offsets = _identity_blocks(outs)
    batch = FwdTrace(total)
    cts = [batch.new_input(_zeros(o), s) for o, s in zip(outs, seeds)]
    grads = vjp_fn(cts)
    jac = []
    for o, off in zip(outs, offsets):
        n = int(np.size(primal(o)))
        row = []
        for p, g in zip(primals, grads):
            shape = (*np.shape(primal(o)), *np.shape(primal(p)))
            if isinstance(g, FwdTracer) and g._trace is batch:
                row.append(reshape(_block(g.tangent, off, n), shape))
            else:
                row.append(np.zeros(shape, dtype=_dtype(p)))
        jac.append(row)
    return outs, jac, aux


def grad_fun(fun: Fun) -> Fun:
    """The gradient of a scalar-output ``fun`` as a function returning ([grads], aux)."""

    def g(*xs: Any) -> tuple[list[Any], Any]:
        outs, vjp_fn, aux = vjp(fun, xs)
        (out,) = outs
        return vjp_fn([ones_cotangent(out)]), aux

    return g


def hessian(fun: Fun, primals: Sequence[Any]) -> list[list[Any]]:
    """H[i][j] = d^2 f / d in_i d in_j: forward mode over reverse, in one batched pass."""
    _, jac, _ = jacobian_fwd(grad_fun(fun), primals)
    return jac


def hvp(fun: Fun, primals: Sequence[Any], tangents: Sequence[Any]) -> list[Any]:
    """Hessian-vector product: a jvp of the gradient."""
    _, tans, _ = jvp(grad_fun(fun), primals, tangents)
    return tans
