"""The oracle, per program and backend: what disagrees, and what kind of disagreement it is.

Each backend's checks are compared with

- the reference engine in float64 (with compare's tolerances per dtype, NaN and inf by
  position, shapes exactly);
- the backend itself: its reverse against its forward mode (``vᵀ(J u)`` both ways, "jvp/vjp")
  and, in float64, its second order against the central difference of its own gradient
  ("grad/hvp");
- the other backends, pairwise (twice the tolerance), where the reference has no answer.

The reference itself is compared with central finite differences (reported against the
"numpy" backend). A disagreement is a ``Candidate``; the stability filter decides whether it
is a finding.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from unigrad import pytree
from unigrad.compare import oracle
from unigrad.compare.records import Status
from unigrad.fuzz.execute import CHECKS, ORDER, directions
from unigrad.fuzz.program import Program, opinfo

KINDS = ("wrong value", "nan", "shape", "crash", "refusal", "native divergence")
#: the per-op suite's name of the check a fuzz transform belongs to (for declared gaps)
GAP_CHECK = {"value": "value", "grad": "grad", "jvp": "jvp_vjp", "vjp": "jvp_vjp", "hvp": "hvp"}
FD_TOL = {"rtol": 1e-5, "atol": 1e-6}
SECOND_ORDER_TOL = {"rtol": 1e-4, "atol": 1e-5}
#: how the judge marks a candidate against finite differences that do not converge where it
#: disagrees (the step crosses a kink): the stability filter's "finite differences cross a kink"
FD_KINK = "fd_kink"


@dataclass
class Candidate:
    """One disagreement before the stability filter."""

    index: int  #: the program's number in the campaign
    backend: str
    dtype: str
    transform: str  #: value, grad, jvp, vjp, hvp, jvp/vjp, grad/hvp, native grad
    kind: str  #: one of KINDS
    against: str  #: what it disagrees with
    detail: str
    error: float = 0.0  #: |projected difference| (for the filter)
    scale: float = 0.0  #: |projected reference|
    got: Any = None
    want: Any = None
    extra: dict = field(default_factory=dict)

    @property
    def order(self) -> int:
        return ORDER[self.transform]

    def same_kind(self, other: Candidate) -> bool:
        """Whether ``other`` is the same disagreement (for shrinking: same backend, dtype,
        transform, kind and opponent)."""
        return (self.backend, self.dtype, self.transform, self.kind, self.against) == (
            other.backend,
            other.dtype,
            other.transform,
            other.kind,
            other.against,
        )


def tolerance(program: Program, dtype: str) -> dict[str, float]:
    """compare's tolerance for ``dtype``, loosened by the program's ops' own overrides."""
    tol = dict(oracle.TOLERANCE[dtype])
    for op in program.ops():
        for k, v in opinfo(op).tolerance.get(dtype, {}).items():
            tol[k] = max(tol[k], v)
    return tol


def declared_gap(program: Program, backend: str, transform: str) -> str | None:
    """A gap some op of the program declares for ``backend`` and this check, or the backend
    itself (a capability the check needs that it declares partial), if any."""
    for op in program.ops():
        why = opinfo(op).gap(backend, GAP_CHECK.get(transform, transform))
        if why:
            return why
    return partial_capability(backend, transform)


def partial_capability(backend: str, transform: str) -> str | None:
    """The capability ``transform`` needs that ``backend`` declares partial (MXNet's second
    order: only where MXNet registers a second-order rule), or None."""
    from unigrad import capabilities as C
    from unigrad import registry

    spec = registry.specs().get(backend)
    if spec is None:
        return None
    for need in C.TRANSFORM_NEEDS.get(transform, ()):
        if spec.capabilities.get(need) == C.PARTIAL:
            return f"{backend} declares {need} partial"
    return None


def _projection(tree: Any) -> float:
    total = 0.0
    for k, leaf in enumerate(pytree.tree_leaves(tree)):
        a = np.asarray(leaf, np.float64)
        r = np.random.default_rng(1000 + k).standard_normal(a.shape)
        total += float(np.sum(np.where(np.isfinite(a), a, 0.0) * r))
    return total


def _within(got: Any, estimate: Any, error: Any, slack: float = 8.0) -> Any:
    """``got`` moved towards a difference estimate by ``slack`` times its error estimate:
    what is left is the disagreement that the finite differences cannot explain."""
    out = []
    for g, e, err in zip(
        pytree.tree_leaves(got), pytree.tree_leaves(estimate), pytree.tree_leaves(error)
    ):
        g, e = np.asarray(g, np.float64), np.asarray(e, np.float64)
        if g.shape != e.shape:
            return got
        with np.errstate(invalid="ignore"):
            d = g - e
            shrunk = np.sign(d) * np.maximum(np.abs(d) - slack * np.asarray(err), 0.0)
            out.append(np.where(np.isfinite(d), e + shrunk, g))
    return tuple(out) if isinstance(got, tuple | list) else out[0]


def _not_converging(estimate: Any, error: Any, tol: dict[str, float]) -> list[np.ndarray]:
    """Per leaf, where the differences at the steps h and h/2 disagree with each other by
    more than ``tol`` (the comparison's own tolerance, scaled as compare scales it): there the
    step crosses a point where the program is not smooth (norm, abs, relu at 0; a tie of
    maximum; a jump), and the differences measure the jump, not the derivative. On a smooth
    program the two steps differ by O(h²) plus rounding, far below any tolerance."""
    out = []
    for e, err in zip(pytree.tree_leaves(estimate), pytree.tree_leaves(error)):
        e, err = np.asarray(e, np.float64), np.asarray(err, np.float64)
        with np.errstate(invalid="ignore"):
            finite = np.isfinite(e)
            scale = max(1.0, float(np.max(np.abs(e[finite]), initial=0.0)))
            allowed = tol["atol"] * scale + tol["rtol"] * np.abs(np.where(finite, e, 0.0))
            out.append(finite & (err > allowed))
    return out


def _detail(verdict: oracle.Verdict, got: Any, want: Any, against: str, n: int) -> str:
    """compare's detail with the backend's own value at the failing element (the judged
    value is that one moved towards the differences by their error estimate)."""
    k, idx = verdict.leaf, verdict.index or ()
    if k is None:
        return verdict.detail
    g = np.asarray(pytree.tree_leaves(got)[k])
    w = np.asarray(pytree.tree_leaves(want)[k])
    if g.shape != w.shape or (idx and len(idx) != g.ndim):
        return verdict.detail
    return (
        f"{oracle._at(k, n, idx)}got {oracle.number(g[idx])}, {against} "
        f"{oracle.number(w[idx])}, |diff| {abs(float(g[idx]) - float(w[idx])):.3g}, "
        "beyond the tolerance and 8 times the differences' error estimate"
    )


def fd_compare(
    got: Any, estimate: Any, error: Any, dtype: str, tol: dict[str, float], against: str
) -> tuple[str | None, str | None]:
    """``got`` (a backend's own value) against finite differences (their estimate and error
    estimate, from two steps): the disagreement's detail (None when they agree), and why it
    is not judged (None when it is). The comparison allows 8 times the differences' error
    estimate; a disagreement only at elements where the two steps disagree with each other
    (``_not_converging``) is not judged: there the step crosses a kink."""
    judged = _within(got, estimate, error)
    verdict = oracle.compare(judged, estimate, dtype, tol, against=against)
    if verdict.passed:
        return None, None
    n = len(pytree.tree_leaves(judged))
    kinked = _not_converging(estimate, error, tol)
    if len(kinked) == n and any(m.any() for m in kinked):
        masked = tuple(
            np.where(m, np.asarray(e, np.float64), np.asarray(j, np.float64))
            for j, e, m in zip(pytree.tree_leaves(judged), pytree.tree_leaves(estimate), kinked)
        )
        rest = oracle.compare(masked, estimate, dtype, tol, against=against)
        if rest.passed:
            where = sum(int(m.sum()) for m in kinked)
            why = f"the differences at steps h and h/2 disagree there ({where} element(s))"
            return _detail(verdict, got, estimate, against, n), why
        verdict = rest
    return _detail(verdict, got, estimate, against, n), None


def _by_differences(
    index: int,
    backend: str,
    dtype: str,
    transform: str,
    got: Any,
    fd: dict[str, Any],
    tol: dict[str, float],
    against: str,
) -> Candidate | None:
    """A candidate of ``got`` against finite differences (``fd_compare``), showing ``got`` as
    the backend gave it; one that is not judged is marked ``FD_KINK`` (the filter drops it)."""
    est, err = fd["estimate"], fd["error"]
    c = _versus(index, backend, dtype, transform, _within(got, est, err), est, tol, against)
    if c is None:
        return None
    detail, kink = fd_compare(got, est, err, dtype, tol, named(against))
    c.detail, c.got = detail or c.detail, _short(got)
    if kink:
        c.extra[FD_KINK] = kink
    return c


def _kind(verdict: oracle.Verdict) -> str:
    if verdict.status == Status.NAN_MISMATCH:
        return "nan"
    if "shape" in verdict.detail or "structure" in verdict.detail:
        return "shape"
    return "wrong value"


def _short(v: Any) -> Any:
    """A small JSON-able picture of a value for the findings."""
    if v is None:
        return None
    leaves = pytree.tree_leaves(v)
    out = []
    for leaf in leaves[:4]:
        a = np.asarray(leaf, np.float64)
        flat = [float(x) if np.isfinite(x) else str(x) for x in a.ravel()[:12]]
        out.append({"shape": list(a.shape), "values": flat})
    return out


def named(against: str) -> str:
    """What a finding's detail calls its opponent: "the reference", "itself", "finite
    differences", a backend's name (pairwise)."""
    return against.split(" (")[0]


def _versus(
    index: int,
    backend: str,
    dtype: str,
    transform: str,
    got: Any,
    want: Any,
    tol: dict[str, float],
    against: str,
) -> Candidate | None:
    verdict = oracle.compare(got, want, dtype, tol, against=named(against))
    if verdict.passed:
        return None
    try:
        diff = abs(_projection(got) - _projection(want))
    except Exception:  # structures differ
        diff = float("inf")
    return Candidate(
        index,
        backend,
        dtype,
        transform,
        _kind(verdict),
        against,
        verdict.detail,
        diff,
        abs(_projection(want)) if verdict.max_abs is not None else 0.0,
        _short(got),
        _short(want),
        {"want_finite": _finite(want)},
    )


def _finite(v: Any) -> bool:
    """Whether every number of ``v`` is finite (True for what is not numbers)."""
    try:
        return all(np.isfinite(np.asarray(x, np.float64)).all() for x in pytree.tree_leaves(v))
    except (TypeError, ValueError):
        return True


def judge(
    index: int,
    program: Program,
    results: dict[str, dict[str, dict[str, dict]]],
    ref: dict[str, dict],
) -> tuple[list[Candidate], list[str]]:
    """Every disagreement of one program, and the declared gaps it met ("backend transform")."""
    out: list[Candidate] = []
    gaps: list[str] = []
    ref_ok = {t: r["value"] for t, r in ref.items() if isinstance(r, dict) and r.get("ok")}
    if "value" not in ref_ok:
        why = ref.get("value", {}).get("error", "no value")
        out.append(
            Candidate(index, "numpy", "float64", "value", "crash", "the table's NumPy value", why)
        )
        return out, gaps
    if "grad" in ref_ok and "fd_grad" in ref_ok and not any(i.kink for i in program.inputs):
        c = _by_differences(
            index,
            "numpy",
            "float64",
            "grad",
            ref_ok["grad"],
            ref_ok["fd_grad"],
            FD_TOL,
            "finite differences",
        )
        if c is not None:
            out.append(c)
    for backend, per_dtype in results.items():
        for dtype, res in per_dtype.items():
            tol = tolerance(program, dtype)
            for t in CHECKS:
                r = res.get(t)
                if r is None:
                    continue
                if not r["ok"]:
                    if r["outcome"] == "unsupported":
                        if declared_gap(program, backend, t):
                            gaps.append(f"{backend} {t}")
                            continue
                        kind = "refusal"
                    else:
                        kind = "crash"
                    if t in ref_ok or t == "value":
                        out.append(
                            Candidate(index, backend, dtype, t, kind, "the reference", r["error"])
                        )
                    continue
                if t in ref_ok:
                    c = _versus(
                        index, backend, dtype, t, r["value"], ref_ok[t], tol, "the reference"
                    )
                    if c is not None:
                        out.append(c)
            out.extend(_inside(index, program, backend, dtype, res, tol, ref_ok))
    out.extend(_pairwise(index, program, results, ref_ok))
    return out, gaps


def both_ways(jvp: Any, vjp: Any, d: dict[str, Any]) -> tuple[float, float]:
    """``vᵀ(J u)`` by reverse mode (the vjp's cotangents along u) and by forward mode (v
    along the jvp), in float64: the two sides of the "jvp/vjp" check."""
    with np.errstate(all="ignore"):
        fwd = float(np.sum(np.asarray(jvp, np.float64) * d["v"]))
        rev = sum(
            float(np.sum(np.asarray(c, np.float64) * u))
            for c, u in zip(pytree.tree_leaves(vjp), d["u"])
        )
    return rev, fwd


#: how the "jvp/vjp" check marks a nan that the documented 0 × inf placement explains
PLACED_BY_MODE = "placed_by_mode"


def _placed_by_mode(
    rev: float,
    fwd: float,
    jvp: Any,
    vjp: Any,
    d: dict[str, Any],
    ref_ok: dict[str, Any],
    dtype: str,
    tol: dict[str, float],
) -> str | None:
    """Why a nan on one side of ``vᵀ(J u)`` is the documented placement of 0 × inf, or None.

    A tangent or cotangent that does not move an element, meeting that element's infinite
    derivative, is 0 × inf = nan (README, "A zero cotangent or tangent beside an infinite
    derivative"): reverse mode puts it in the vjp (the unused branch of ``where(x > 0,
    sqrt(x), y)`` at 0), forward mode in the jvp, so one side of the check can be nan where the
    other is a number. That is the convention, and the same on every backend, when the
    reference engine (float64, which follows it in both modes) shows it alike: nan on the same
    side, the nan side's nan at the reference's positions, and the other side the reference's
    number within the tolerance. Anything else stays a candidate."""
    if np.isnan(rev) == np.isnan(fwd) or not np.isfinite(fwd if np.isnan(rev) else rev):
        return None
    if "jvp" not in ref_ok or "vjp" not in ref_ok:
        return None
    ref_rev, ref_fwd = both_ways(ref_ok["jvp"], ref_ok["vjp"], d)
    if (np.isnan(ref_rev), np.isnan(ref_fwd)) != (np.isnan(rev), np.isnan(fwd)):
        return None
    mode, nan_side, ref_side = (
        ("reverse", vjp, ref_ok["vjp"]) if np.isnan(rev) else ("forward", jvp, ref_ok["jvp"])
    )
    try:
        if not all(
            np.array_equal(np.isnan(np.asarray(a, np.float64)), np.isnan(np.asarray(b, np.float64)))
            for a, b in zip(pytree.tree_leaves(nan_side), pytree.tree_leaves(ref_side), strict=True)
        ):
            return None
    except ValueError:  # structures differ
        return None
    other, ref_other = (fwd, ref_fwd) if mode == "reverse" else (rev, ref_rev)
    if not oracle.compare(np.array(other), np.array(ref_other), dtype, tol).passed:
        return None
    return f"nan by {mode} mode at the reference engine's positions (0 × inf, documented)"


def _inside(
    index: int,
    program: Program,
    backend: str,
    dtype: str,
    res: dict,
    tol: dict[str, float],
    ref_ok: dict[str, Any] | None = None,
) -> list[Candidate]:
    """The backend against itself: reverse against forward, first against second order."""
    found = []
    jvp, vjp, value = res.get("jvp"), res.get("vjp"), res.get("value")
    if jvp and vjp and value and jvp["ok"] and vjp["ok"] and value["ok"]:
        d = directions(program, np.shape(value["value"]))
        rev, fwd = both_ways(jvp["value"], vjp["value"], d)
        c = _versus(
            index,
            backend,
            dtype,
            "jvp/vjp",
            np.array(rev),
            np.array(fwd),
            tol,
            "itself (vᵀ(J u) by reverse vs forward mode)",
        )
        if c is not None:
            why = _placed_by_mode(rev, fwd, jvp["value"], vjp["value"], d, ref_ok or {}, dtype, tol)
            if why:
                c.extra[PLACED_BY_MODE] = why
            found.append(c)
    hvp, fd = res.get("hvp"), res.get("grad_fd")
    if hvp and fd and hvp["ok"] and fd["ok"] and not any(i.kink for i in program.inputs):
        c = _by_differences(
            index,
            backend,
            dtype,
            "grad/hvp",
            hvp["value"],
            fd["value"],
            SECOND_ORDER_TOL,
            "itself (hvp vs differences of its own grad)",
        )
        if c is not None:
            found.append(c)
    return found


def _pairwise(
    index: int, program: Program, results: dict[str, dict], ref_ok: dict[str, Any]
) -> list[Candidate]:
    """Backends against each other where the reference has no answer."""
    found = []
    names = sorted(results)
    for t in CHECKS:
        if t in ref_ok:
            continue
        for dtype in ("float32", "float64"):
            have = [
                (b, results[b][dtype][t]["value"])
                for b in names
                if dtype in results[b] and t in results[b][dtype] and results[b][dtype][t]["ok"]
            ]
            tol = {k: 2 * v for k, v in tolerance(program, dtype).items()}
            for (a, va), (b, vb) in itertools.pairwise(have):
                c = _versus(index, b, dtype, t, vb, va, tol, f"{a} (pairwise)")
                if c is not None:
                    found.append(c)
    return found


#: what a native None (no gradient) disagrees with: a divergence of its own, apart from numbers
NO_GRADIENT = "unigrad's pinned meaning (a gradient, where the framework has None)"


def judge_native(
    index: int, program: Program, results: dict[str, dict[str, dict[str, dict]]]
) -> tuple[list[Candidate], list[str]]:
    """Each framework's own op, differentiated its own way, against unigrad's pinned meaning
    (the reference engine); a framework whose op is missing is noted, not a finding."""
    pinned = results.get("numpy", {}).get("float64", {}).get("native grad")
    found: list[Candidate] = []
    unavailable: list[str] = []
    if not pinned or not pinned["ok"]:
        return found, unavailable
    for backend, per in results.items():
        if backend == "numpy":
            continue
        r = per["float64"]["native grad"]
        if not r["ok"]:
            unavailable.append(f"{backend}: {r['error'][:200]}")
            continue
        got = r["value"]
        if any(g is None for g in got):
            found.append(
                Candidate(
                    index,
                    backend,
                    "float64",
                    "native grad",
                    "native divergence",
                    NO_GRADIENT,
                    "the framework answers None (no gradient)",
                    got=[None if g is None else _short(g) for g in got],
                    want=_short(pinned["value"]),
                )
            )
            continue
        c = _versus(
            index,
            backend,
            "float64",
            "native grad",
            got,
            pinned["value"],
            oracle.TOLERANCE["float64"],
            "unigrad's pinned meaning",
        )
        if c is not None:
            c.kind = "native divergence"
            found.append(c)
    return found, unavailable
