"""Which ops MXNet 1.9 can differentiate twice: derived by ``probe()``, not guessed.

``python -m unigrad.backends.mxnet.second_order`` (in .venv-mxnet) runs each op's Hessian on
MXNet and on the reference engine and prints the table; tests/test_mxnet_inside.py checks that
the lists below still match what the probe finds.

- SUPPORTED: the Hessian comes back and is right.
- Refused ops make MXNet raise "Operator ... is non-differentiable"; the adapter turns that
  into UnsupportedError naming the operator.
- NO_SECOND_ORDER: MXNet returns a number, but a wrong one; the adapter refuses these up front.
"""

from __future__ import annotations

from typing import Any

import numpy as onp

# What probe() found with mxnet 1.9.1 (tests re-derive it and compare).
SUPPORTED = frozenset(
    {
        "abs", "arccos", "arcsin", "arctan", "arctanh", "cos", "cosh", "exp", "expm1", "log",
        "log1p", "reciprocal", "sigmoid", "sin", "sinh", "sqrt", "square", "sum", "tan", "tanh",
    }
)  # fmt: skip
REFUSED_BY_MXNET = frozenset({"add", "divide", "dot", "multiply", "power", "softplus"})
# MXNet returns these second derivatives with the wrong sign (arcsinh'' and arccosh''), and
# prod's exact-at-zero derivative here is first order only: refused before MXNet is asked.
NO_SECOND_ORDER = frozenset({"arccosh", "arcsinh", "prod"})
CHECK_DENYLIST = True  # probe() turns this off to see what MXNet itself returns

# op name -> (function of x, domain): each is reduced with head gradients, not with sum,
# so that only the op itself is tested.
CASES: dict[str, tuple[str, tuple[float, float]]] = {
    "exp": ("exp", (-1, 1)),
    "log": ("log", (0.5, 2)),
    "log1p": ("log1p", (0.5, 2)),
    "expm1": ("expm1", (-1, 1)),
    "sqrt": ("sqrt", (0.5, 2)),
    "sin": ("sin", (-1, 1)),
    "cos": ("cos", (-1, 1)),
    "tan": ("tan", (-1, 1)),
    "arcsin": ("arcsin", (-0.5, 0.5)),
    "arccos": ("arccos", (-0.5, 0.5)),
    "arctan": ("arctan", (-1, 1)),
    "sinh": ("sinh", (-1, 1)),
    "cosh": ("cosh", (-1, 1)),
    "tanh": ("tanh", (-1, 1)),
    "arcsinh": ("arcsinh", (-1, 1)),
    "arccosh": ("arccosh", (1.5, 3)),
    "arctanh": ("arctanh", (-0.5, 0.5)),
    "sigmoid": ("sigmoid", (-1, 1)),
    "softplus": ("softplus", (-1, 1)),
    "square": ("square", (-1, 1)),
    "reciprocal": ("reciprocal", (0.5, 2)),
    "abs": ("abs", (0.5, 2)),
    "multiply": ("x*x", (-1, 1)),
    "power": ("x**3", (0.5, 2)),
    "divide": ("1/x", (0.5, 2)),
    "add": ("x+x*0.5", (-1, 1)),
    "sum": ("sum", (-1, 1)),
    "dot": ("dot", (-1, 1)),
    "prod": ("prod", (0.5, 2)),
}


def _fn(spec: str, unp: Any) -> Any:
    table = {
        "x*x": lambda x: x * x,
        "x**3": lambda x: unp.power(x, 3.0),
        "1/x": lambda x: 1.0 / x,
        "x+x*0.5": lambda x: x + x * 0.5,
        "dot": lambda x: unp.dot(x, x),
        "sum": lambda x: unp.sum(x * 1.0),
        "prod": lambda x: unp.prod(x),
    }
    return table.get(spec) or getattr(unp, spec)


def probe() -> dict[str, str]:
    """Try every op's second derivative on MXNet: {op: 'ok' | 'refused: ...' | 'wrong'}."""
    # the imported module, not __main__ when this file runs with python -m
    from unigrad.backends.mxnet import second_order as this

    import unigrad
    import unigrad.numpy as unp
    from unigrad.errors import UnsupportedError

    this.CHECK_DENYLIST = False
    try:
        return _probe(unigrad, unp, UnsupportedError)
    finally:
        this.CHECK_DENYLIST = True


def _probe(unigrad: Any, unp: Any, UnsupportedError: type) -> dict[str, str]:
    results: dict[str, str] = {}
    for name, (spec, (lo, hi)) in CASES.items():
        f = _fn(spec, unp)
        # elementwise ops on a scalar need no reduction, so only the op itself is tested;
        # reductions get a vector
        x = onp.linspace(lo, hi, 3) if spec in ("sum", "dot", "prod") else onp.float64(lo + 0.3)
        t = onp.ones_like(x)
        want = unigrad.to_numpy(unigrad.hvp(f, (x,), (t,), backend="numpy"))
        try:
            got = unigrad.to_numpy(unigrad.hvp(f, (x,), (t,), backend="mxnet"))
        except UnsupportedError as exc:
            results[name] = f"refused: {exc.detail[:90]}"
            continue
        ok = onp.allclose(got[0], want[0], rtol=1e-6, atol=1e-9)
        results[name] = "ok" if ok else f"wrong: {got[0]} instead of {want[0]}"
    return results


if __name__ == "__main__":
    for op, status in probe().items():
        print(f"{op:12} {status}")
