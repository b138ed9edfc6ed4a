"""The per-op table: one OpInfo per op of ``unigrad.numpy`` (see unigrad/compare/opinfo.py).

Samples are drawn in float64 from a generator seeded by the op's name; the first sample of each
entry is the one the quick level runs. Edge samples (ties, zeros, bounds) are marked ``kink``
where the op is not smooth: there the derivative is unigrad's pinned convention, checked against
the reference engine, not against finite differences.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from unigrad.compare.opinfo import Domain, OpInfo, Sample

G = np.random.Generator
MX2 = "MXNet 1.9 has no second-order gradient for the operators this needs"
MX_NO_2ND = {"mxnet": {"hvp": MX2}}


def _u(lo: float, hi: float, shape: tuple[int, ...]) -> Callable[[G], np.ndarray]:
    return lambda r: r.uniform(lo, hi, size=shape)


INF = float("inf")


def unary(
    name: str,
    lo: float = -2.0,
    hi: float = 2.0,
    edges: tuple = (),
    domain: tuple[float, float] = (-INF, INF),
    closed: bool = False,
    fuzz_edges: tuple = (),
    **kw: Any,
) -> OpInfo:
    """An elementwise op of one argument, sampled uniformly in [lo, hi]; ``domain`` is where
    it is defined (``closed``: with its bounds), ``edges`` its kinks (edge samples too) and
    ``fuzz_edges`` further points the fuzzer draws (bounds, integers)."""

    def samples(r: G) -> list[Sample]:
        out = [Sample((r.uniform(lo, hi, size=(2, 3)),)), Sample((float(r.uniform(lo, hi)),))]
        out += [Sample((np.array(e, dtype=float),), label=f"edge: {e}", kink=True) for e in edges]
        return out

    dom = Domain(*domain, ordinary=(lo, hi), edges=(*edges, *fuzz_edges), closed=closed)
    return OpInfo(name, samples, shapes="elementwise", domains=(dom,), **kw)


def binary(
    name: str,
    lo: float = -2.0,
    hi: float = 2.0,
    lo2: float | None = None,
    hi2: float | None = None,
    domains: tuple[Domain, ...] = (),
    kinks: tuple[Sample, ...] = (),
    **kw: Any,
) -> OpInfo:
    """An elementwise op of two arguments, with broadcasting (``domains``: of each argument,
    where it is not the whole line; ``kinks``: edge samples, where the derivative is a pinned
    convention)."""
    lo2 = lo if lo2 is None else lo2
    hi2 = hi if hi2 is None else hi2
    if not domains:
        domains = (Domain(ordinary=(lo, hi)), Domain(ordinary=(lo2, hi2)))

    def samples(r: G) -> list[Sample]:
        return [
            Sample((r.uniform(lo, hi, (2, 3)), r.uniform(lo2, hi2, (2, 3))), argnums=(0, 1)),
            Sample(
                (r.uniform(lo, hi, (2, 3)), r.uniform(lo2, hi2, (3,))),
                argnums=(0, 1),
                label="broadcast",
            ),
            Sample((r.uniform(lo, hi, (3,)), float(r.uniform(lo2, hi2))), label="scalar"),
            *kinks,
        ]

    return OpInfo(name, samples, shapes="elementwise", domains=domains, **kw)


def reduction(name: str, lo: float = -2.0, hi: float = 2.0, edges: tuple = (), **kw: Any) -> OpInfo:
    """A reduction with ``axis`` and ``keepdims`` (``edges``: values where its derivative is
    a pinned convention, such as a zero in a product)."""

    def samples(r: G) -> list[Sample]:
        x = r.uniform(lo, hi, (3, 4))
        return [
            Sample((x,)),
            Sample((x,), {"axis": 1}, label="axis=1"),
            Sample((x,), {"keepdims": True}, label="keepdims, no axis"),
            Sample(
                (r.uniform(lo, hi, (2, 3, 2)),),
                {"axis": (0, 2), "keepdims": True},
                label="axes, keepdims",
            ),
        ]

    dom = Domain(ordinary=(lo, hi), edges=edges)
    return OpInfo(name, samples, shapes="reduction", domains=(dom,), **kw)


def _call(fn: Callable[[G], list[Sample]]) -> Callable[[G], list[Sample]]:
    return fn


def _tie(name: str) -> OpInfo:
    def samples(r: G) -> list[Sample]:
        a, b = r.uniform(-2, 2, (2, 3)), r.uniform(-2, 2, (2, 3))
        tie = np.array([1.0, 2.0, -1.0])
        return [
            Sample((a, b), argnums=(0, 1)),
            Sample((tie, tie.copy()), argnums=(0, 1), label="edge: ties", kink=True),
        ]

    return OpInfo(name, samples, orders=2)


def _extreme(name: str) -> OpInfo:
    tied = [1.0, 3.0, 3.0] if name == "max" else [1.0, 1.0, 3.0]  # tied at the extreme

    def samples(r: G) -> list[Sample]:
        return [
            Sample((r.uniform(-2, 2, (3, 4)),), {"axis": 1}),
            Sample((np.array(tied),), label="edge: tied extremes", kink=True),
        ]

    return OpInfo(name, samples)


def _creation() -> list[OpInfo]:
    def shape_only(name: str, args: tuple, ref: Callable[..., Any]) -> OpInfo:
        return OpInfo(name, lambda r: [Sample(args, argnums=())], reference=ref, orders=0)

    return [
        shape_only("zeros", ((2, 3),), np.zeros),
        shape_only("ones", ((2, 3),), np.ones),
        shape_only("eye", (3,), np.eye),
        shape_only("arange", (5,), lambda n: np.arange(n, dtype=float)),
    ]


def _shape(
    name: str,
    args: Callable[[G], tuple],
    kwargs: dict | None = None,
    ref: Callable[..., Any] | None = None,
) -> OpInfo:
    return OpInfo(name, lambda r: [Sample(args(r), kwargs or {})], reference=ref)


def _comparison(name: str) -> OpInfo:
    return OpInfo(
        name,
        lambda r: [Sample((r.uniform(-1, 1, (2, 3)), r.uniform(-1, 1, (2, 3))), argnums=())],
        orders=0,
    )


def _solve_args(r: G) -> list[Sample]:
    a = r.standard_normal((3, 3)) + 3 * np.eye(3)
    return [
        Sample((a, r.standard_normal(3)), argnums=(0, 1)),
        Sample((a, r.standard_normal((3, 2))), argnums=(0, 1), label="matrix rhs"),
    ]


OPINFOS: list[OpInfo] = [
    *_creation(),
    unary("negative"),
    unary("square"),
    unary("reciprocal", 0.5, 2.0, domain=(0.0, INF)),
    unary("exp"),
    unary("log", 0.5, 3.0, domain=(0.0, INF)),
    unary("log1p", -0.5, 2.0, domain=(-1.0, INF)),
    unary("expm1"),
    unary("sqrt", 0.5, 4.0, domain=(0.0, INF), closed=True, fuzz_edges=(0.0,)),
    unary("sin", gaps=MX_NO_2ND),  # its rule's broadcast multiply has none (measured)
    unary("cos"),
    unary("tan", -1.2, 1.2, domain=(-1.5, 1.5)),
    unary("arcsin", -0.9, 0.9, domain=(-1.0, 1.0)),
    unary("arccos", -0.9, 0.9, domain=(-1.0, 1.0)),
    unary("arctan"),
    unary("sinh"),
    unary("cosh"),
    unary("tanh"),
    unary("arcsinh", gaps={"mxnet": {"hvp": "MXNet 1.9 gets arcsinh'' wrong: refused"}}),
    unary(
        "arccosh",
        1.2,
        3.0,
        domain=(1.0, INF),
        gaps={"mxnet": {"hvp": "MXNet 1.9 gets arccosh'' wrong: refused"}},
    ),
    unary("arctanh", -0.9, 0.9, domain=(-1.0, 1.0)),
    unary("abs", edges=(0.0,)),
    unary("sign", edges=(0.0,)),
    unary("floor", fuzz_edges=(0.0, 1.0)),
    unary("ceil", fuzz_edges=(0.0, 1.0)),
    unary("round", fuzz_edges=(0.5, 1.0)),
    unary("sigmoid", -4.0, 4.0, reference=lambda x: 1.0 / (1.0 + np.exp(-x))),
    unary("softplus", -4.0, 4.0, gaps=MX_NO_2ND, reference=lambda x: np.logaddexp(0.0, x)),
    unary("relu", edges=(0.0,), reference=lambda x: np.maximum(x, 0.0)),
    binary("add", gaps=MX_NO_2ND),
    binary("subtract", gaps=MX_NO_2ND),
    binary("multiply", gaps=MX_NO_2ND),
    binary(
        "divide",
        lo2=0.5,
        hi2=2.0,
        domains=(Domain(ordinary=(-2.0, 2.0)), Domain(0.0, INF, ordinary=(0.5, 2.0))),
        gaps=MX_NO_2ND,
    ),
    binary(
        "power",
        0.5,
        2.0,
        -1.5,
        1.5,
        domains=(
            Domain(0.0, INF, ordinary=(0.5, 2.0), edges=(0.0,), closed=True),
            Domain(ordinary=(-1.5, 1.5)),
        ),
        kinks=(Sample((np.array([0.0, 1.5]), 0.0), label="edge: x**0 at 0", kink=True),),
        gaps=MX_NO_2ND,
    ),
    _tie("maximum"),
    _tie("minimum"),
    OpInfo(
        "clip",
        lambda r: [
            Sample((r.uniform(-2, 2, (2, 3)), -0.5, 0.5)),
            Sample((np.array([-0.5, 0.0, 0.5]), -0.5, 0.5), label="edge: bounds", kink=True),
        ],
    ),
    OpInfo(
        "where",
        lambda r: [
            Sample(
                (np.array([True, False, True]), r.uniform(-1, 1, 3), r.uniform(-1, 1, 3)),
                argnums=(1, 2),
            )
        ],
        gaps=MX_NO_2ND,
    ),
    reduction("sum", gaps=MX_NO_2ND),  # measured: _backward_npi_broadcast_mul
    reduction("mean", gaps=MX_NO_2ND),
    reduction("prod", 0.5, 1.5, edges=(0.0,), gaps=MX_NO_2ND),
    _extreme("max"),
    _extreme("min"),
    reduction("var", gaps=MX_NO_2ND),
    reduction("std", gaps=MX_NO_2ND),
    reduction(
        "logsumexp",
        reference=lambda x, axis=None, keepdims=False: np.log(
            np.sum(np.exp(x), axis=axis, keepdims=keepdims)
        ),
        gaps=MX_NO_2ND,
    ),
    _shape("reshape", lambda r: (r.standard_normal((2, 3)), (3, 2))),
    _shape("transpose", lambda r: (r.standard_normal((2, 3, 4)), (1, 2, 0))),
    _shape("swapaxes", lambda r: (r.standard_normal((2, 3, 4)), 0, 2)),
    _shape("moveaxis", lambda r: (r.standard_normal((2, 3, 4)), 0, -1)),
    _shape("expand_dims", lambda r: (r.standard_normal((2, 3)), 1)),
    _shape("squeeze", lambda r: (r.standard_normal((2, 1, 3)),), {"axis": 1}),
    _shape("ravel", lambda r: (r.standard_normal((2, 3)),)),
    _shape("broadcast_to", lambda r: (r.standard_normal((1, 3)), (2, 3))),
    OpInfo(
        "stack",
        lambda r: [Sample((r.standard_normal(3), r.standard_normal(3)), argnums=(0, 1))],
        function=lambda a, b: __import__("unigrad.numpy").numpy.stack([a, b], axis=1),
        reference=lambda a, b: np.stack([a, b], axis=1),
    ),
    OpInfo(
        "concatenate",
        lambda r: [Sample((r.standard_normal((2, 3)), r.standard_normal((1, 3))), argnums=(0, 1))],
        function=lambda a, b: __import__("unigrad.numpy").numpy.concatenate([a, b]),
        reference=lambda a, b: np.concatenate([a, b]),
    ),
    OpInfo(
        "matmul",
        lambda r: [
            Sample((r.standard_normal((2, 3)), r.standard_normal((3, 4))), argnums=(0, 1)),
            Sample(
                (r.standard_normal(3), r.standard_normal((3, 4))),
                argnums=(0, 1),
                label="vector @ matrix",
            ),
            Sample(
                (r.standard_normal((2, 2, 3)), r.standard_normal((3, 2))),
                argnums=(0, 1),
                label="batched",
            ),
        ],
        gaps=MX_NO_2ND,
    ),
    OpInfo(
        "dot",
        lambda r: [Sample((r.standard_normal((2, 3)), r.standard_normal(3)), argnums=(0, 1))],
        gaps=MX_NO_2ND,
    ),
    OpInfo(
        "outer",
        lambda r: [Sample((r.standard_normal(3), r.standard_normal(2)), argnums=(0, 1))],
        gaps=MX_NO_2ND,
    ),
    OpInfo(
        "inner",
        lambda r: [Sample((r.standard_normal((2, 3)), r.standard_normal((4, 3))), argnums=(0, 1))],
        gaps=MX_NO_2ND,
    ),
    OpInfo(
        "einsum",
        lambda r: [
            Sample(
                ("ij,jk->ik", r.standard_normal((2, 3)), r.standard_normal((3, 2))), argnums=(1, 2)
            )
        ],
        gaps=MX_NO_2ND,
    ),
    _comparison("greater"),
    _comparison("less_equal"),
    _comparison("equal"),
    OpInfo(
        "linalg.norm",
        lambda r: [
            Sample((r.standard_normal((2, 3)),)),
            Sample((np.zeros((2, 3)),), label="edge: 0", kink=True),
        ],
        gaps=MX_NO_2ND,
        domains=(Domain(edges=(0.0,)),),
        native={"tensorflow": "tensorflow.norm"},
    ),
    OpInfo(
        "linalg.det",
        lambda r: [Sample((r.standard_normal((3, 3)) + 2 * np.eye(3),))],
        gaps=MX_NO_2ND,
    ),
    OpInfo(
        "linalg.inv",
        lambda r: [Sample((r.standard_normal((3, 3)) + 3 * np.eye(3),))],
        gaps=MX_NO_2ND,
    ),
    OpInfo("linalg.solve", _solve_args, gaps=MX_NO_2ND),
]
