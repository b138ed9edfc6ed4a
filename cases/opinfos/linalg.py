"""The per-op table of issue 16's linalg family: slogdet, cholesky, eigh, svd, qr and pinv
(see unigrad/compare/opinfo.py).

Decompositions are defined up to signs (eigenvectors, singular vectors, QR's columns) and, at
repeated values, up to a rotation of the basis of an eigenspace. Frameworks' LAPACK calls may
choose differently, so each entry checks functions that do not depend on that choice, written
once for NumPy (the reference) and for ``unigrad.numpy``:

- ``cholesky`` and ``eigh`` of the symmetric part of the argument (NumPy reads one triangle;
  the derivative convention is the symmetric one, tests/test_ops_linalg.py checks it directly);
- ``eigh``: the eigenvalues and the squared eigenvectors (the sign cancels); ``svd``: the
  singular values and the squared singular vectors; ``qr``: Q and R with R's diagonal made
  positive (the unique factorisation);
- at repeated values (``kink`` samples): symmetric functions of the eigenvalues (singular values)
  and projectors onto eigenspaces, which the pinned convention differentiates exactly.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from unigrad.compare.opinfo import OpInfo, Sample

G = np.random.Generator
MX2 = "MXNet 1.9 has no second-order gradient for the operators this needs"
MX_NO_2ND = {"mxnet": {"hvp": MX2}}
MX_TIES = {
    "mxnet": {
        "*": "MXNet's svd rule is wrong at repeated values: UnsupportedError when differentiating"
    }
}
MX_NO_QR = {"mxnet": {"*": "mxnet.numpy has no working qr in MXNet 1.9 (UnsupportedError)"}}


def _unp() -> Any:
    import unigrad.numpy as unp

    return unp


def _t(xp: Any, a: Any) -> Any:
    return xp.swapaxes(a, -1, -2)


def _sym(xp: Any, a: Any) -> Any:
    return (a + _t(xp, a)) * 0.5


# ----------------------------------------------------------- invariant functions, per xp


def _cholesky(xp: Any, a: Any, upper: bool = False) -> Any:
    if xp is np:  # NumPy 1 (MXNet's environment) has no ``upper``
        low = np.linalg.cholesky(_sym(np, a))
        return _t(np, low) if upper else low
    return xp.linalg.cholesky(_sym(xp, a), upper=upper)


def _eigh(xp: Any, a: Any) -> Any:
    w, v = xp.linalg.eigh(_sym(xp, a))
    return w, v * v


def _eigh_tied(xp: Any, a: Any) -> Any:
    """At eigenvalues (2, 2, 5): symmetric functions of the eigenvalues, and the projectors onto
    the tied eigenspace and onto the single one."""
    w, v = xp.linalg.eigh(_sym(xp, a))
    tied = v[..., :, :2]
    single = v[..., :, 2:]
    return (
        xp.sum(w**2, axis=-1),
        w[..., 2],
        xp.matmul(tied, _t(xp, tied)),
        xp.matmul(single, _t(xp, single)),
    )


def _svd(xp: Any, a: Any) -> Any:
    u, s, vh = xp.linalg.svd(a, full_matrices=False)
    return u * u, s, vh * vh


def _svd_tied(xp: Any, a: Any) -> Any:
    """At singular values (3, 3, 1): their sum of squares and the projectors onto the tied left
    and right singular subspaces."""
    u, s, vh = xp.linalg.svd(a, full_matrices=False)
    left, right = u[..., :, :2], vh[..., :2, :]
    return xp.sum(s**2, axis=-1), xp.matmul(left, _t(xp, left)), xp.matmul(_t(xp, right), right)


def _qr(xp: Any, a: Any) -> Any:
    q, r = xp.linalg.qr(a)
    k = min(a.shape[-2:])
    d = xp.sign(r[..., np.arange(k), np.arange(k)])
    return q * d[..., None, :], r * d[..., :, None]


def _both(fn: Any) -> tuple[Any, Any]:
    """(unigrad's function, NumPy's reference) of a function written over a namespace."""

    def ours(*a: Any, **kw: Any) -> Any:
        return fn(_unp(), *a, **kw)

    def reference(*a: Any, **kw: Any) -> Any:
        return fn(np, *a, **kw)

    return ours, reference


# ------------------------------------------------------------------------------ samples


def _square(r: G, n: int = 3) -> np.ndarray:
    return r.standard_normal((n, n))


def _spd(r: G, shape: tuple[int, ...] = (3, 3)) -> np.ndarray:
    a = r.standard_normal(shape)
    return a @ np.swapaxes(a, -1, -2) + shape[-1] * np.eye(shape[-1])


def _slogdet_samples(r: G) -> list[Sample]:
    return [
        Sample((_square(r) + 2 * np.eye(3),)),
        Sample((-(_square(r) + 2 * np.eye(3)),), label="negative determinant"),
        Sample((r.standard_normal((2, 3, 3)) + 2 * np.eye(3),), label="a stack"),
    ]


def _cholesky_samples(r: G) -> list[Sample]:
    return [
        Sample((_spd(r),)),
        Sample((_spd(r),), {"upper": True}, label="upper"),
        Sample((_spd(r, (2, 3, 3)),), label="a stack"),
    ]


def _eigh_samples(r: G) -> list[Sample]:
    q, _ = np.linalg.qr(r.standard_normal((3, 3)))
    return [
        Sample((_square(r),)),
        Sample((r.standard_normal((2, 4, 4)),), label="a stack"),
        Sample((q @ np.diag([-1.0, 0.5, 2.0]) @ q.T,), label="symmetric input"),
    ]


def _eigh_tied_samples(r: G) -> list[Sample]:
    q, _ = np.linalg.qr(r.standard_normal((3, 3)))
    return [
        Sample((np.diag([2.0, 2.0, 5.0]),), label="edge: repeated eigenvalue", kink=True),
        Sample((q @ np.diag([2.0, 2.0, 5.0]) @ q.T,), label="repeated eigenvalue, rotated"),
    ]


def _svd_samples(r: G) -> list[Sample]:
    return [
        Sample((r.standard_normal((4, 3)),)),
        Sample((r.standard_normal((3, 4)),), label="wide"),
        Sample((_square(r),), label="square"),
        Sample((r.standard_normal((2, 3, 2)),), label="a stack"),
    ]


def _svd_tied_samples(r: G) -> list[Sample]:
    return [Sample((np.diag([3.0, 3.0, 1.0]),), label="edge: repeated singular value", kink=True)]


def _qr_samples(r: G) -> list[Sample]:
    return [
        Sample((r.standard_normal((4, 3)),)),
        Sample((_square(r),), label="square"),
        Sample((r.standard_normal((3, 5)),), label="wide"),
        Sample((r.standard_normal((2, 3, 2)),), label="a stack"),
    ]


def _pinv_samples(r: G) -> list[Sample]:
    return [
        Sample((r.standard_normal((4, 3)),)),
        Sample((r.standard_normal((2, 4)),), label="wide"),
        Sample((_square(r) + 2 * np.eye(3),), label="square"),
    ]


def _pinv_deficient_samples(r: G) -> list[Sample]:
    return [
        Sample(
            (np.outer([1.0, 2.0, 0.5], [1.0, -1.0]),), label="edge: rank 1 (rank held)", kink=True
        ),
    ]


_CHOL, _CHOL_REF = _both(_cholesky)
_EIGH, _EIGH_REF = _both(_eigh)
_EIGH_TIED, _EIGH_TIED_REF = _both(_eigh_tied)
_SVD, _SVD_REF = _both(_svd)
_SVD_TIED, _SVD_TIED_REF = _both(_svd_tied)
_QR, _QR_REF = _both(_qr)

SIGNS = "eigenvector and singular-vector signs differ between LAPACK calls: squares are compared"

OPINFOS: list[OpInfo] = [
    OpInfo(
        "linalg.slogdet",
        _slogdet_samples,
        gaps=MX_NO_2ND,
        notes="the sign has derivative 0",
        fuzz=False,
    ),
    OpInfo(
        "linalg.cholesky",
        _cholesky_samples,
        function=_CHOL,
        reference=_CHOL_REF,
        gaps=MX_NO_2ND,
        notes="of the symmetric part: the derivative treats the input as symmetric",
        fuzz=False,
    ),
    OpInfo(
        "linalg.eigh",
        _eigh_samples,
        function=_EIGH,
        reference=_EIGH_REF,
        gaps=MX_NO_2ND,
        notes=SIGNS,
        fuzz=False,
    ),
    OpInfo(
        "linalg.eigh.tied",
        _eigh_tied_samples,
        function=_EIGH_TIED,
        reference=_EIGH_TIED_REF,
        gaps=MX_TIES,
        orders=1,  # the pinned pair terms are exact at first order only (FD shows it)
        notes="repeated eigenvalues: symmetric functions of them and eigenspace projectors "
        "(first order: at second order the dropped pair terms have limits that are not 0)",
        fuzz=False,
    ),
    OpInfo(
        "linalg.svd",
        _svd_samples,
        function=_SVD,
        reference=_SVD_REF,
        gaps=MX_NO_2ND,
        notes=SIGNS,
        fuzz=False,
    ),
    OpInfo(
        "linalg.svd.tied",
        _svd_tied_samples,
        function=_SVD_TIED,
        reference=_SVD_TIED_REF,
        gaps=MX_TIES,
        notes="repeated singular values: their symmetric functions and subspace projectors",
        fuzz=False,
    ),
    OpInfo(
        "linalg.qr",
        _qr_samples,
        function=_QR,
        reference=_QR_REF,
        gaps=MX_NO_QR,
        notes="R's diagonal made positive (the unique factorisation)",
        fuzz=False,
    ),
    OpInfo("linalg.pinv", _pinv_samples, gaps=MX_NO_2ND, fuzz=False),
    OpInfo(
        "linalg.pinv.rank_deficient",
        _pinv_deficient_samples,
        function=lambda a: _unp().linalg.pinv(a),
        reference=np.linalg.pinv,
        orders=1,
        notes="first order only: at a rank-deficient matrix the second derivative is not "
        "pinned (TensorFlow's, through its SVD, differs from the rank-held formula's)",
        fuzz=False,
    ),
]
