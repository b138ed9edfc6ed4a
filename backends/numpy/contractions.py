"""matmul, einsum, dot, inner, outer and trace, with their derivatives.

Batched jvp rules promote 1-D operands to matrices and line the tangent's batch axis up with
the other operand's stack axes, then reshape the result to ``(batch, *answer.shape)``.
"""

from __future__ import annotations

import builtins
import string
from typing import Any

import numpy as np
from unigrad.backends import layout
from unigrad.backends.numpy.elementwise import (
    add,
    multiply,
    negative,
    subtract,
)
from unigrad.backends.numpy.structural import (
    broadcast_to,
    expand_batched,
    expand_dims,
    getitem,
    moveaxis,
    reshape,
    stack,
    sum,
    transpose,
    unbroadcast,
)
from unigrad.backends.numpy.tracer import OpError, Primitive, primal

from unigrad.errors import ArgumentError


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
# The public ``einsum`` rewrites its subscripts into one explicit form before the primitive
# sees them: sublists become letters, each '...' becomes letters of its own (right-aligned
# across operands, as NumPy broadcasts them), the implicit output is spelled out, and unit
# axes that broadcast against a longer one are squeezed away. The primitive's rules then deal
# with letters only, repeated letters (diagonals) included.

_LETTERS = string.ascii_letters


def _spec_error(subscripts: Any, why: str) -> OpError:
    return OpError(f"unigrad.numpy.einsum({subscripts!r}, ...): {why}")


def _fresh(subscripts: str, n: int) -> list[str]:
    """``n`` letters that ``subscripts`` does not use."""
    free = [c for c in _LETTERS if c not in subscripts]
    if n > len(free):
        raise _spec_error(subscripts, "too many axes (and derivative axes) for 52 letters")
    return free[:n]


def _from_sublists(args: tuple) -> tuple[str, tuple]:
    """einsum(a, [0, 1], b, [1, 2], [0, 2]) as ('ab,bc->ac', (a, b))."""
    pairs, out = (args[:-1], args[-1]) if len(args) % 2 else (args, None)

    def letters(sub: Any) -> str:
        try:
            return "".join("..." if k is Ellipsis else _LETTERS[int(k)] for k in sub)
        except (TypeError, ValueError, IndexError):
            raise _spec_error(sub, "a sublist holds integers from 0 to 51 and Ellipsis") from None

    spec = ",".join(letters(sub) for sub in pairs[1::2])
    if out is not None:
        spec += "->" + letters(out)
    return spec, tuple(pairs[0::2])


def _explicit(subscripts: str, operands: tuple) -> tuple[str, list]:
    """The explicit, ellipsis-free subscripts (see above) and the operands they index."""
    s = subscripts.replace(" ", "")
    lhs, arrow, rhs = s.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(operands):
        raise _spec_error(subscripts, f"{len(ins)} operand subscripts for {len(operands)} operands")
    if any(not (c.isalpha() or c == ".") for c in s.replace("->", "").replace(",", "")):
        raise _spec_error(subscripts, "subscripts are letters, ',', '->' and '...'")
    ell_dims = []
    for sub, op in zip(ins, operands):
        named = len(sub.replace("...", ""))
        n = np.ndim(op) - named if "..." in sub else 0
        if n < 0 or ("..." not in sub and named != np.ndim(op)):
            raise _spec_error(subscripts, f"'{sub}' does not fit an operand of {np.ndim(op)} axes")
        ell_dims.append(n)
    n_ell = builtins.max(ell_dims, default=0)
    ell = "".join(_fresh(s, n_ell))
    subs = [sub.replace("...", ell[n_ell - n :]) for sub, n in zip(ins, ell_dims)]
    if arrow:
        if n_ell and "..." not in rhs:
            raise _spec_error(subscripts, "the output needs '...' for the broadcast axes")
        out = rhs.replace("...", ell)
    else:
        named = "".join(ins).replace("...", "")
        out = ell + "".join(sorted(c for c in set(named) if named.count(c) == 1))
    ops = list(operands)
    return ",".join(_squeeze_broadcast(subs, ops)) + "->" + out, ops


def _squeeze_broadcast(subs: list[str], operands: list) -> list[str]:
    """Squeeze unit axes whose letter is longer elsewhere (updates ``operands`` in place)."""
    size: dict[str, int] = {}
    for sub, op in zip(subs, operands):
        for c, n in zip(sub, np.shape(op)):
            size[c] = builtins.max(size.get(c, 1), n)
    for i, (sub, op) in enumerate(zip(subs, operands)):
        shape = np.shape(op)
        drop = [k for k, c in enumerate(sub) if shape[k] == 1 < size[c] and sub.count(c) == 1]
        if drop:
            operands[i] = reshape(op, tuple(n for k, n in enumerate(shape) if k not in drop))
            subs[i] = "".join(c for k, c in enumerate(sub) if k not in drop)
    return subs


def _einsum_impl(*operands: Any, subscripts: str) -> Any:
    return np.einsum(subscripts, *operands, optimize=len(operands) > 2)


einsum_p = Primitive("einsum", _einsum_impl)


def _einsum_vjp(i: int, g: Any, ans: Any, *ops: Any, subscripts: str) -> Any:
    """The cotangent of operand ``i``: an einsum of the others with ``g``.

    A letter repeated within operand ``i`` (a diagonal) gets a fresh letter tied to the first
    by an identity matrix; a letter summed within operand ``i`` alone is broadcast back by a
    ones array.
    """
    lhs, out = subscripts.split("->")
    ins = lhs.split(",")
    sub = ins[i]
    fresh = _fresh(subscripts, len(sub) - len(set(sub)))
    dt = np.result_type(primal(g))
    shape = np.shape(ops[i])
    target, consts, tied = [], [], set()
    for k, c in enumerate(sub):
        if c in sub[:k]:
            f = fresh.pop()
            target.append(f)
            consts.append((c + f, np.eye(shape[k], dtype=dt)))
            tied.add(c)
        else:
            target.append(c)
    present = set(out).union(*(ins[j] for j in range(len(ins)) if j != i)) | tied
    alone = [k for k, c in enumerate(sub) if c not in present and c not in sub[:k]]
    if alone:
        consts.append(("".join(sub[k] for k in alone), np.ones([shape[k] for k in alone], dt)))
    subs = [out, *(s for j, s in enumerate(ins) if j != i), *(c for c, _ in consts)]
    args = [g, *(o for j, o in enumerate(ops) if j != i), *(a for _, a in consts)]
    return einsum_p(*args, subscripts=",".join(subs) + "->" + "".join(target))


def _einsum_jvp_all(tans: list, ans: Any, *ops: Any, subscripts: str) -> Any:
    lhs, out = subscripts.split("->")
    ins = lhs.split(",")
    (b,) = _fresh(subscripts, 1)  # the batch axis
    total = None
    for i, t in enumerate(tans):
        if t is None:
            continue
        subs = [b + s if j == i else s for j, s in enumerate(ins)]
        operands = [t if j == i else o for j, o in enumerate(ops)]
        term = einsum_p(*operands, subscripts=",".join(subs) + "->" + b + out)
        total = term if total is None else add(total, term)
    return total


einsum_p.vjp_any = _einsum_vjp
einsum_p.jvp_all = _einsum_jvp_all


def einsum(subscripts: Any, *operands: Any) -> Any:
    """Einstein summation, differentiable in every operand at any order, in both modes.

    Takes NumPy's forms: ``einsum("ij,jk->ik", a, b)``, implicit outputs, '...' anywhere,
    repeated letters (diagonals such as ``einsum("ii->i", a)``), and the sublist form
    ``einsum(a, [0, 1], b, [1, 2], [0, 2])``.
    """
    if not isinstance(subscripts, str):
        subscripts, operands = _from_sublists((subscripts, *operands))
    spec, ops = _explicit(subscripts, operands)
    return einsum_p(*ops, subscripts=spec)


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
    """NumPy's inner: a product with a scalar, else a sum over the last axes of both.

    The result has shape ``a.shape[:-1] + b.shape[:-1]``.
    """
    sa, sb = np.shape(a), np.shape(b)
    if not sa or not sb:
        return multiply(a, b)
    if sa[-1] != sb[-1]:
        raise OpError(
            f"unigrad.numpy.inner: the last axes differ in length ({sa} and {sb}); inner sums "
            "over the last axis of both arrays"
        )
    a2 = reshape(a, (-1, sa[-1]))
    b2 = reshape(b, (-1, sb[-1]))
    return reshape(matmul(a2, matrix_transpose(b2)), (*sa[:-1], *sb[:-1]))


def trace(x: Any) -> Any:
    """Sum of the diagonal of the last two axes."""
    n = builtins.min(np.shape(x)[-1], np.shape(x)[-2])
    idx = np.arange(n)
    return sum(getitem(x, (Ellipsis, idx, idx)), -1)


# ------------------------------------------------ issue 16: tensordot, kron and cross


def _permuted(x: Any, axes: tuple[int, ...]) -> Any:
    return x if axes == tuple(range(len(axes))) else transpose(x, axes)


def tensordot(a: Any, b: Any, axes: Any = 2) -> Any:
    """The sum of products over ``axes`` of ``a`` and ``b`` (NumPy's meaning), one matmul."""
    plan = layout.tensordot_plan(np.shape(a), np.shape(b), axes)
    am = reshape(_permuted(a, plan.perm_a), plan.matrix_a)
    bm = reshape(_permuted(b, plan.perm_b), plan.matrix_b)
    return reshape(matmul(am, bm), plan.out)


def kron(a: Any, b: Any) -> Any:
    """The Kronecker product: blocks ``a[i, j] * b``."""
    sa, sb = np.shape(a), np.shape(b)
    if not sa or not sb:
        return multiply(a, b)
    nd = builtins.max(len(sa), len(sb))
    sa = (1,) * (nd - len(sa)) + tuple(sa)
    sb = (1,) * (nd - len(sb)) + tuple(sb)
    ar = reshape(a, tuple(n for d in sa for n in (d, 1)))
    br = reshape(b, tuple(n for d in sb for n in (1, d)))
    return reshape(multiply(ar, br), tuple(p * q for p, q in zip(sa, sb)))


def cross(
    a: Any, b: Any, axisa: int = -1, axisb: int = -1, axisc: int = -1, axis: Any = None
) -> Any:
    """The cross product of vectors of 3 (or 2) components along the given axes."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a = moveaxis(a, layout.normalize_axis("cross", axisa, np.ndim(a)), -1)
    b = moveaxis(b, layout.normalize_axis("cross", axisb, np.ndim(b)), -1)
    na, nb = np.shape(a)[-1], np.shape(b)[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ArgumentError(
            "unigrad.numpy.cross: incompatible dimensions for cross product (dimension must "
            "be 2 or 3)"
        )
    ca = [getitem(a, (Ellipsis, i)) for i in range(na)]
    cb = [getitem(b, (Ellipsis, i)) for i in range(nb)]
    z = subtract(multiply(ca[0], cb[1]), multiply(ca[1], cb[0]))
    if na == 2 and nb == 2:
        return z  # the z component alone, a scalar per pair
    if na == 3 and nb == 3:
        x = subtract(multiply(ca[1], cb[2]), multiply(ca[2], cb[1]))
        y = subtract(multiply(ca[2], cb[0]), multiply(ca[0], cb[2]))
    elif na == 2:
        x = multiply(ca[1], cb[2])
        y = negative(multiply(ca[0], cb[2]))
    else:
        x = negative(multiply(ca[2], cb[1]))
        y = multiply(ca[2], cb[0])
    shape = np.broadcast_shapes(np.shape(x), np.shape(y), np.shape(z))
    c = stack([broadcast_to(v, shape) if np.shape(v) != shape else v for v in (x, y, z)], -1)
    return moveaxis(c, -1, layout.normalize_axis("cross", axisc, np.ndim(c)))


__all__ = [
    "cross",
    "dot",
    "einsum",
    "inner",
    "kron",
    "matmul",
    "matrix_transpose",
    "outer",
    "tensordot",
    "trace",
]
