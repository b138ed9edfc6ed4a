"""Reference engine vs HIPS autograd and hand-written NumPy (issue 3's targets).

Run: ``make bench`` or ``.venv/bin/python benchmarks/bench_engine.py``. Every ratio is measured
side by side in this one process; lower is better for "unigrad / X".
"""

from __future__ import annotations

import numpy as np
import workloads as w

import unigrad


def main() -> list[tuple[str, float, str, bool]]:
    import autograd
    import autograd.numpy as anp
    from autograd.scipy.special import logsumexp as ag_logsumexp

    class _Anp:  # autograd.numpy with scipy's logsumexp beside it
        def __getattr__(self, name):
            return ag_logsumexp if name == "logsumexp" else getattr(anp, name)

    rows = []

    # 1. The seed call: both partials of x**2 + xy + y**2 at (3.0, 4.0).
    ours = unigrad.grad(w.seed_f, argnums=(0, 1), backend="numpy")
    theirs = autograd.grad(w.seed_f, argnum=(0, 1))
    assert np.allclose(ours(3.0, 4.0), theirs(3.0, 4.0))
    speedup = w.ratio(lambda: theirs(3.0, 4.0), lambda: ours(3.0, 4.0))
    rows.append(("seed call: autograd / unigrad (speed-up)", speedup, ">= 4", speedup >= 4))

    # 2. MLP gradient, float32, all six parameters.
    params, X, Y = w.mlp_data("float32")
    g_ours = unigrad.grad(w.mlp_loss_unigrad(), backend="numpy")
    g_ag = autograd.grad(w.mlp_loss(_Anp()))
    mine = g_ours(params, X, Y)
    _, hand = w.mlp_hand(params, X, Y)
    for a, b in zip(mine, hand):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=2e-4, atol=1e-6)
    r_hand = w.ratio(lambda: g_ours(params, X, Y), lambda: w.mlp_hand(params, X, Y))
    r_ag = w.ratio(lambda: g_ours(params, X, Y), lambda: g_ag(params, X, Y))
    r_ag_hand = w.ratio(lambda: g_ag(params, X, Y), lambda: w.mlp_hand(params, X, Y), rounds=7)
    rows.append(("MLP grad time: unigrad / hand-written", r_hand, "<= 1.25", r_hand <= 1.25))
    rows.append(("MLP grad time: unigrad / autograd", r_ag, "< 1", r_ag < 1))
    rows.append(("  (for reference: autograd / hand-written)", r_ag_hand, "-", True))
    m_ours = w.peak_memory(lambda: g_ours(params, X, Y))
    m_hand = w.peak_memory(lambda: w.mlp_hand(params, X, Y))
    r_mem = m_ours / m_hand
    rows.append(("MLP peak memory: unigrad / hand-written", r_mem, "<= 1.5", r_mem <= 1.5))

    # 3. Hessian of sum(sin(x) * x**2), x of size 200, float64.
    x = np.linspace(-2, 2, 200)
    h_ours = unigrad.hessian(w.hessian_f(unigrad.numpy), backend="numpy")
    h_ag = autograd.hessian(w.hessian_f(anp))
    np.testing.assert_allclose(h_ours(x), h_ag(x), rtol=1e-12, atol=1e-12)
    speedup = w.ratio(lambda: h_ag(x), lambda: h_ours(x), rounds=5)
    rows.append(("hessian n=200: autograd / unigrad (speed-up)", speedup, ">= 5", speedup >= 5))
    return rows


def report(title: str, rows: list[tuple[str, float, str, bool]]) -> bool:
    print(f"\n{title}")
    print(f"{'measure':58} {'value':>9}  {'target':>8}  ok")
    for name, value, target, ok in rows:
        print(f"{name:58} {value:9.3f}  {target:>8}  {'yes' if ok else 'NO'}")
    return all(ok for *_, ok in rows)


if __name__ == "__main__":
    import sys

    sys.exit(0 if report("reference engine (numpy backend)", main()) else 1)
