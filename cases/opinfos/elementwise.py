"""The per-op table, issue 16's elementwise family (see cases/opinfos/core.py for the helpers).

Edge samples probe the pinned conventions (README, "Derivatives at kinks"): the jumps of ``%``,
the origin of ``arctan2`` and ``hypot``, ties and NaN of ``fmax``/``fmin``, infinities of
``logaddexp``; they are checked against the reference engine, not finite differences.
"""

from __future__ import annotations

import numpy as np
from unigrad.cases.opinfos.core import MX_NO_2ND, G, unary

from unigrad.compare.opinfo import OpInfo, Sample

NAN, INF = float("nan"), float("inf")


def _divisors(r: G, shape: tuple[int, ...]) -> np.ndarray:
    return r.uniform(0.5, 2.0, shape) * r.choice([-1.0, 1.0], shape)


def _remainder(name: str) -> OpInfo:
    def samples(r: G) -> list[Sample]:
        return [
            Sample((r.uniform(-4, 4, (2, 3)), _divisors(r, (2, 3))), argnums=(0, 1)),
            Sample(
                (np.array([2.0, -3.0, 0.0, 4.5]), np.array([1.0, 1.5, 2.0, -1.5])),
                argnums=(0, 1),
                label="edge: jumps (x / y an integer)",
                kink=True,
            ),
            Sample(
                (r.uniform(-4, 4, (2, 3)), _divisors(r, (3,))), argnums=(0, 1), label="broadcast"
            ),
            Sample((r.uniform(-4, 4, (3,)), 1.5), label="scalar divisor"),
        ]

    return OpInfo(name, samples, gaps=MX_NO_2ND)


def _at_origin(name: str) -> OpInfo:
    """arctan2 and hypot: derivative 0 at the origin (signed zeros included)."""

    def samples(r: G) -> list[Sample]:
        return [
            Sample((r.uniform(-2, 2, (2, 3)), r.uniform(-2, 2, (2, 3))), argnums=(0, 1)),
            Sample(
                (np.array([0.0, -0.0, 0.0, 1.0]), np.array([0.0, -0.0, 2.0, 0.0])),
                argnums=(0, 1),
                label="edge: the origin",
                kink=True,
            ),
            Sample(
                (r.uniform(-2, 2, (2, 3)), r.uniform(-2, 2, (3,))),
                argnums=(0, 1),
                label="broadcast",
            ),
        ]

    return OpInfo(name, samples, gaps=MX_NO_2ND)


def _logaddexp(name: str) -> OpInfo:
    def samples(r: G) -> list[Sample]:
        x = r.uniform(-3, 3, (2, 3))
        return [
            Sample((x, r.uniform(-3, 3, (2, 3))), argnums=(0, 1)),
            Sample(
                (np.array([-INF, INF, -INF, INF, 1.0]), np.array([1.0, 2.0, -INF, INF, 1.0])),
                argnums=(0, 1),
                label="edge: infinities and a tie",
                kink=True,
            ),
            Sample((x, x.copy()), argnums=(0, 1), label="ties"),
            Sample((r.uniform(-40, 40, (4,)), r.uniform(-40, 40, (4,))), argnums=(0, 1)),
        ]

    return OpInfo(name, samples, gaps=MX_NO_2ND)


def _nan_ignoring(name: str) -> OpInfo:
    def samples(r: G) -> list[Sample]:
        return [
            Sample((r.uniform(-2, 2, (2, 3)), r.uniform(-2, 2, (2, 3))), argnums=(0, 1)),
            Sample(
                (np.array([1.0, 2.0, NAN, 1.5, NAN]), np.array([1.0, -1.0, 0.5, NAN, NAN])),
                argnums=(0, 1),
                label="edge: a tie and NaN",
                kink=True,
            ),
        ]

    return OpInfo(name, samples, gaps=MX_NO_2ND)


def _sinc_samples(r: G) -> list[Sample]:
    return [
        Sample((np.array([0.0, 1e-3, -0.2, 0.31, 1.3, -1.7]),)),
        Sample((np.array([0.0]),), label="edge: 0 (smooth, exact derivatives)"),
        Sample((r.uniform(-3, 3, (2, 3)),)),
    ]


def _nan_to_num_samples(r: G) -> list[Sample]:
    x = np.array([[1.0, NAN, INF], [-INF, 0.5, -2.0]])
    return [
        Sample((x,), {"nan": 1.0, "posinf": 5.0, "neginf": -5.0}),
        Sample((r.uniform(-2, 2, (3,)),), label="finite"),
    ]


OPINFOS: list[OpInfo] = [
    _remainder("remainder"),
    _remainder("mod"),
    OpInfo(
        "floor_divide",
        lambda r: [Sample((r.uniform(-4, 4, (2, 3)), _divisors(r, (2, 3))), argnums=(0, 1))],
    ),
    _at_origin("arctan2"),
    _at_origin("hypot"),
    unary("log2", 0.5, 3.0, gaps=MX_NO_2ND),
    unary("log10", 0.5, 3.0, gaps=MX_NO_2ND),
    unary("exp2", gaps=MX_NO_2ND),
    _logaddexp("logaddexp"),
    _logaddexp("logaddexp2"),
    _nan_ignoring("fmax"),
    _nan_ignoring("fmin"),
    unary("fabs", edges=(0.0,), gaps=MX_NO_2ND),
    OpInfo("sinc", _sinc_samples, gaps=MX_NO_2ND),
    OpInfo("nan_to_num", _nan_to_num_samples, gaps=MX_NO_2ND),
    unary("deg2rad", gaps=MX_NO_2ND),
    unary("rad2deg", gaps=MX_NO_2ND),
    unary("radians", gaps=MX_NO_2ND),
    unary("degrees", gaps=MX_NO_2ND),
]
