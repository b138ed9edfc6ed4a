"""matmul, einsum, dot, outer and the linalg primitives, with their derivatives.

Batched jvp rules promote 1-D operands to matrices and line the tangent's batch axis up with
the other operand's stack axes, then reshape the result to ``(batch, *answer.shape)``.
"""

from __future__ import annotations

import string
from typing import Any

import numpy as np
from unigrad.backends.numpy.elementwise import multiply, negative, subtract, where
from unigrad.backends.numpy.structural import (
    _norm_axes,
    _shift,
    broadcast_to,
    expand_batched,
    expand_dims,
    reshape,
    sum,
    transpose,
    unbroadcast,
)
from unigrad.backends.numpy.tracer import Primitive, primal


def matrix_transpose(x: Any) -> Any:
    """Swap the last two axes."""
    nd = np.ndim(x)
    axes = list(range(nd))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return transpose(x, tuple(axes))


def _drop_last(x: Any) -> Any:
    return reshape(x, np.shape(x)[:-1])


# ---------------------------------------------------------------------------------- matmul

matmul = Primitive("matmul", np.matmul)


def _matmul_vjp_a(g: Any, ans: Any, a: Any, b: Any) -> Any:
    if np.ndim(b) == 1:
        return unbroadcast(multiply(expand_dims(g, -1), b), np.shape(a))
    if np.ndim(a) == 1:
        return unbroadcast(_drop_last(matmul(b, expand_dims(g, -1))), np.shape(a))
    return unbroadcast(matmul(g, matrix_transpose(b)), np.shape(a))


def _matmul_vjp_b(g: Any, ans: Any, a: Any, b: Any) -> Any:
    if np.ndim(a) == 1:
        if np.ndim(b) == 1:
            return multiply(g, a)
        return unbroadcast(multiply(expand_dims(a, -1), expand_dims(g, -2)), np.shape(b))
    if np.ndim(b) == 1:
        gb = matmul(expand_dims(g, -2), a)
        return unbroadcast(reshape(gb, (*np.shape(gb)[:-2], np.shape(gb)[-1])), np.shape(b))
    return unbroadcast(matmul(matrix_transpose(a), g), np.shape(b))


def _matmul_jvp_a(t: Any, ans: Any, a: Any, b: Any) -> Any:
    nb = np.shape(t)[0]
    t2 = reshape(t, (nb, 1, np.shape(a)[0])) if np.ndim(a) == 1 else t
    if np.ndim(b) >= 2:
        t2 = expand_batched(t2, max(np.ndim(t2) - 1, np.ndim(b)))
    return reshape(matmul(t2, b), (nb, *np.shape(ans)))


def _matmul_jvp_b(t: Any, ans: Any, a: Any, b: Any) -> Any:
    nb = np.shape(t)[0]
    t2 = reshape(t, (nb, np.shape(b)[0], 1)) if np.ndim(b) == 1 else t
    if np.ndim(a) >= 2:
        t2 = expand_batched(t2, max(np.ndim(t2) - 1, np.ndim(a)))
    return reshape(matmul(a, t2), (nb, *np.shape(ans)))


matmul.defvjp(_matmul_vjp_a, _matmul_vjp_b)
matmul.defjvp(_matmul_jvp_a, _matmul_jvp_b)


# ---------------------------------------------------------------------------------- einsum


def _parse(subscripts: str) -> tuple[list[str], str]:
    s = subscripts.replace(" ", "")
    if "->" in s:
        ins, out = s.split("->")
        return ins.split(","), out
    ins = s.split(",")
    letters = [c for c in "".join(ins) if c.isalpha()]
    once = sorted(c for c in set(letters) if letters.count(c) == 1)
    prefix = "..." if "..." in s else ""
    return ins, prefix + "".join(once)


def _letters(sub: str) -> str:
    return sub.replace(".", "")


def _einsum_impl(*operands: Any, subscripts: str) -> Any:
    return np.einsum(subscripts, *operands, optimize=len(operands) > 2)


einsum_p = Primitive("einsum", _einsum_impl)


def _einsum_vjp(i: int) -> Any:
    def rule(g: Any, ans: Any, *ops: Any, subscripts: str) -> Any:
        ins, out = _parse(subscripts)
        sub = ins[i]
        lets = _letters(sub)
        if len(set(lets)) != len(lets):
            raise NotImplementedError(
                f"einsum {subscripts!r}: derivatives through a repeated index within one "
                "operand (a diagonal) are not supported; use unigrad.numpy.diagonal or trace"
            )
        others = [s for j, s in enumerate(ins) if j != i]
        avail = set(out) | set("".join(others))
        missing = [c for c in lets if c not in avail]
        if missing and "..." in sub:
            raise NotImplementedError(
                f"einsum {subscripts!r}: cannot differentiate an operand that mixes '...' with "
                "indices summed only within itself"
            )
        target = "".join(c for c in sub if c not in missing)
        other_ops = [o for j, o in enumerate(ops) if j != i]
        summed_ellipsis = "..." not in sub and any("..." in s for s in [out, *others])
        lhs = ",".join([out, *others])
        if summed_ellipsis:  # '...' dims this operand lacks are summed after the contraction
            r = einsum(lhs + "->..." + target, g, *other_ops)
            lead = np.ndim(r) - len(target)
            r = sum(r, tuple(range(lead))) if lead else r
        else:
            r = einsum(lhs + "->" + target, g, *other_ops)
        x_shape = np.shape(ops[i])
        if missing:
            shape = [1 if c in missing else n for c, n in zip(sub, x_shape)]
            return broadcast_to(reshape(r, tuple(shape)), x_shape)
        return unbroadcast(r, x_shape)

    return rule


class _EinsumRules(dict):
    def get(self, i: int, default: Any = None) -> Any:
        return _einsum_vjp(i)


def _einsum_jvp_all(tans: list, ans: Any, *ops: Any, subscripts: str) -> Any:
    ins, out = _parse(subscripts)
    used = set(subscripts)
    b = next(c for c in string.ascii_letters[::-1] if c not in used)
    total = None
    for i, t in enumerate(tans):
        if t is None:
            continue
        subs = [b + s if j == i else s for j, s in enumerate(ins)]
        operands = [t if j == i else o for j, o in enumerate(ops)]
        term = einsum(",".join(subs) + "->" + b + out, *operands)
        total = term if total is None else total + term
    return total


einsum_p.vjps = _EinsumRules()
einsum_p.jvp_all = _einsum_jvp_all


def einsum(subscripts: str, *operands: Any) -> Any:
    """Einstein summation, differentiable in every operand."""
    return einsum_p(*operands, subscripts=subscripts)


def dot(a: Any, b: Any) -> Any:
    """NumPy's dot: products for scalars, matmul up to 2-D, a sum over a[-1] and b[-2] beyond."""
    na, nb = np.ndim(a), np.ndim(b)
    if na == 0 or nb == 0:
        return multiply(a, b)
    if nb <= 2:
        return matmul(a, b)
    la = string.ascii_lowercase[: na - 1] + "z"
    lb = string.ascii_uppercase[: nb - 2] + "z" + string.ascii_uppercase[nb - 2]
    return einsum(f"{la},{lb}->{la[:-1]}{lb.replace('z', '')}", a, b)


def outer(a: Any, b: Any) -> Any:
    """Outer product of two arrays, flattened first."""
    return multiply(reshape(a, (-1, 1)), reshape(b, (1, -1)))


def inner(a: Any, b: Any) -> Any:
    """Inner product over the last axes."""
    return sum(multiply(a, b), -1)


# ---------------------------------------------------------------------------------- linalg

inv = Primitive("inv", np.linalg.inv)
inv.defvjp(
    lambda g, ans, x: negative(matmul(matmul(matrix_transpose(ans), g), matrix_transpose(ans)))
)
inv.defjvp(lambda t, ans, x: negative(matmul(matmul(ans, t), ans)))

det = Primitive("det", np.linalg.det)
det.defvjp(
    lambda g, ans, x: multiply(
        expand_dims(expand_dims(multiply(g, ans), -1), -1), matrix_transpose(inv(x))
    )
)
det.defjvp(lambda t, ans, x: multiply(ans, sum(multiply(matrix_transpose(inv(x)), t), (-2, -1))))


def _solve_impl(a: Any, b: Any) -> Any:
    return np.linalg.solve(a, b)


solve = Primitive("solve", _solve_impl)


def _solve_batched(a: Any, rhs: Any, vector: bool) -> Any:
    """Solve with a batched right-hand side (leading batch axis)."""
    if vector:  # rhs (batch, n): solve once for the n x batch matrix of right-hand sides
        return transpose(solve(a, transpose(rhs)))
    return solve(a, rhs)


def _solve_vjp_a(g: Any, ans: Any, a: Any, b: Any) -> Any:
    gb = solve(matrix_transpose(a), g)
    if np.ndim(b) == 1:
        ga = multiply(expand_dims(gb, -1), expand_dims(ans, -2))
    else:
        ga = matmul(gb, matrix_transpose(ans))
    return unbroadcast(negative(ga), np.shape(a))


def _solve_vjp_b(g: Any, ans: Any, a: Any, b: Any) -> Any:
    return unbroadcast(solve(matrix_transpose(a), g), np.shape(b))


def _solve_jvp_a(t: Any, ans: Any, a: Any, b: Any) -> Any:
    vector = np.ndim(b) == 1
    rhs = matmul(t, ans)
    return negative(_solve_batched(a, rhs, vector))


def _solve_jvp_b(t: Any, ans: Any, a: Any, b: Any) -> Any:
    return _solve_batched(a, t, np.ndim(b) == 1)


solve.defvjp(_solve_vjp_a, _solve_vjp_b)
solve.defjvp(_solve_jvp_a, _solve_jvp_b)


def _norm2_impl(x: Any, axis: Any = None, keepdims: bool = False) -> Any:
    return np.sqrt(np.sum(np.square(x), axis=axis, keepdims=keepdims))


norm2 = Primitive("norm2", _norm2_impl)


def _norm2_dir(x: Any, ans: Any, axis: Any, keepdims: bool) -> Any:
    """x / ||x||, with 0 where the norm is 0 (the pinned derivative of the 2-norm at 0)."""
    nd = np.ndim(x)
    axes = _norm_axes(axis, nd)
    shape = tuple(1 if i in axes else n for i, n in enumerate(np.shape(x)))
    n = ans if keepdims else reshape(ans, shape)
    safe = where(primal(n) == 0, np.ones((), dtype=np.result_type(primal(x))), n)
    from unigrad.backends.numpy.elementwise import divide

    return divide(x, safe)


norm2.defvjp(
    lambda g, ans, x, axis=None, keepdims=False: multiply(
        g if keepdims else reshape(g, _keep(x, axis)), _norm2_dir(x, ans, axis, keepdims)
    )
)
norm2.defjvp(
    lambda t, ans, x, axis=None, keepdims=False: sum(
        multiply(t, _norm2_dir(x, ans, axis, keepdims)), _shift(axis, np.ndim(x)), keepdims
    )
)


def _keep(x: Any, axis: Any) -> tuple[int, ...]:
    axes = _norm_axes(axis, np.ndim(x))
    return tuple(1 if i in axes else n for i, n in enumerate(np.shape(x)))


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:
    """Vector p-norms and the Frobenius norm; the 2-norm has derivative 0 at 0."""
    from unigrad.backends.numpy.elementwise import abs, power
    from unigrad.backends.numpy.structural import max as amax
    from unigrad.backends.numpy.structural import min as amin

    nd = np.ndim(x)
    matrix = (axis is None and nd == 2 and ord is not None) or (
        isinstance(axis, tuple) and len(axis) == 2
    )
    if ord is None or ord == "fro" or (ord == 2 and not matrix):
        if ord == "fro" and not matrix and nd != 2:
            raise ValueError("ord='fro' is a matrix norm: give a 2-D array or a 2-tuple axis")
        return norm2(x, axis=axis, keepdims=keepdims)
    if matrix:
        from unigrad.errors import UnsupportedError

        raise UnsupportedError(
            "numpy", f"linalg.norm(ord={ord!r}) of a matrix", "use ord=None or 'fro'"
        )
    if ord == 1:
        return sum(abs(x), axis, keepdims=keepdims)
    if ord == np.inf:
        return amax(abs(x), axis, keepdims=keepdims)
    if ord == -np.inf:
        return amin(abs(x), axis, keepdims=keepdims)
    if ord == 0:
        return np.sum(primal(x) != 0, axis=axis, keepdims=keepdims).astype(
            np.result_type(primal(x))
        )
    p = float(ord)
    return power(sum(power(abs(x), p), axis, keepdims=keepdims), 1.0 / p)


def trace(x: Any) -> Any:
    """Sum of the diagonal of the last two axes."""
    from unigrad.backends.numpy.structural import getitem

    n = min(np.shape(x)[-1], np.shape(x)[-2])
    idx = np.arange(n)
    return sum(getitem(x, (Ellipsis, idx, idx)), -1)


__all__ = [
    "det",
    "dot",
    "einsum",
    "inner",
    "inv",
    "matmul",
    "matrix_transpose",
    "norm",
    "outer",
    "solve",
    "subtract",
    "trace",
]
