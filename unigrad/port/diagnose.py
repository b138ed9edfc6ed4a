"""The known porting mistakes, tried on a failing leaf until one makes it agree.

Value-level tries need no new run: the framework's array read in another axis order (a
transpose, NHWC against NCHW), or scaled by a constant (a sum against a mean over the batch).
The other tries run the framework again with one change (``check.py`` runs them): a parameter
in another layout, a normalisation epsilon, the other GELU variant. Each try is judged with
the same tolerances as the check itself.
"""

from __future__ import annotations

import itertools

import numpy as np

from unigrad.compare import oracle

#: epsilons the frameworks use by default (torch and JAX 1e-5, Keras 1e-3, flax 1e-6), and
#: others seen in ported models
EPSILONS = (1e-5, 1e-3, 1e-6, 1e-12, 1e-8, 1e-7, 1e-4, 1e-2)
MAX_AXES = 5  # permutations of up to this many axes are tried
#: permutations p with got.transpose(p) == ref, and what they mean
NAMED_PERMUTATIONS = {
    (0, 3, 1, 2): "channels last (NHWC) where the reference has channels first (NCHW)",
    (0, 2, 3, 1): "channels first (NCHW) where the reference has channels last (NHWC)",
}


def agrees(got: np.ndarray, ref: np.ndarray, dtype: str, tol: dict[str, float]) -> bool:
    """Whether ``got`` passes against ``ref`` under the check's tolerance."""
    return np.shape(got) == np.shape(ref) and oracle.compare(got, ref, dtype, tol).passed


def permutations_to(shape: tuple[int, ...], target: tuple[int, ...]) -> list[tuple[int, ...]]:
    """The axis permutations (not the identity) that turn ``shape`` into ``target``, the full
    reverse (a transpose) first."""
    n = len(shape)
    if n != len(target) or n < 2 or n > MAX_AXES or sorted(shape) != sorted(target):
        return []
    rev = tuple(reversed(range(n)))
    found = [
        p
        for p in itertools.permutations(range(n))
        if p != tuple(range(n)) and tuple(shape[i] for i in p) == tuple(target)
    ]
    return sorted(found, key=lambda p: p != rev)


def describe_permutation(perm: tuple[int, ...]) -> str:
    """'a transpose', or the axes and what they usually mean."""
    if perm == tuple(reversed(range(len(perm)))):
        return "a transpose"
    named = NAMED_PERMUTATIONS.get(perm)
    return f"the axes permuted by {perm}" + (f": {named}" if named else "")


def try_permutations(
    got: np.ndarray, ref: np.ndarray, dtype: str, tol: dict[str, float]
) -> tuple[int, ...] | None:
    """The permutation of ``got``'s axes that makes it agree with ``ref``, if one does."""
    got, ref = np.asarray(got), np.asarray(ref)
    for perm in permutations_to(got.shape, ref.shape):
        if agrees(np.transpose(got, perm), ref, dtype, tol):
            return perm
    return None


def sizes_of(inputs: dict[str, np.ndarray]) -> dict[int, str]:
    """Sizes a mean can divide by, and where they come from: each axis of each input, and
    each input's whole size."""
    out: dict[int, str] = {}
    for path, a in inputs.items():
        shape = np.shape(a)
        for axis, n in enumerate(shape):
            if n > 1:
                out.setdefault(int(n), f"the size of {path} axis {axis}")
        if len(shape) > 1 and int(np.prod(shape)) > 1:
            out.setdefault(int(np.prod(shape)), f"the number of elements of {path}")
    return out


def _whole(c: float) -> tuple[int, bool] | None:
    """(n, True) when ``c`` is a whole number n >= 3, (n, False) when it is 1/n; else None."""
    for value, bigger in ((c, True), (1.0 / c if c else 0.0, False)):
        n = round(value)
        if n >= 3 and _near(value, n):
            return n, bigger
    return None


def _near(c: float, n: float) -> bool:
    return abs(c - n) <= 1e-6 * max(1.0, abs(n))


def try_scale(
    got: np.ndarray,
    ref: np.ndarray,
    dtype: str,
    tol: dict[str, float],
    sizes: dict[int, str],
    label: str,
    against: str,
) -> str | None:
    """Name the constant factor that makes ``got`` agree with ``ref``, if one does.

    A scalar (or an array of fewer than 4 numbers) is always some factor of another, so
    there only a factor that means something is named: a size of the inputs (a mean against a
    sum), -1, or 2 and 1/2.
    """
    g = np.asarray(got, dtype=np.float64)
    r = np.asarray(ref, dtype=np.float64)
    if g.shape != r.shape or not np.all(np.isfinite(g)) or not np.all(np.isfinite(r)):
        return None
    rr = float(np.sum(r * r))
    if rr == 0.0 or float(np.sum(g * g)) == 0.0:
        return None
    c = float(np.sum(g * r)) / rr
    if _near(c, 1.0) or not agrees(g / c, r, dtype, tol):
        return None
    for n, where in sorted(sizes.items()):
        if _near(c, n):
            return (
                f"scale: {label} is {n} times {against}: a sum where {against} takes a mean "
                f"({n} = {where})"
            )
        if _near(c, 1.0 / n):
            return (
                f"scale: {label} is {against} / {n}: a mean where {against} takes a sum "
                f"({n} = {where})"
            )
    if _near(c, -1.0):
        return f"scale: {label} is -{against}: the sign is flipped"
    for k in (2.0, 0.5):
        if _near(c, k):
            return (
                f"scale: {label} is {against} times {k:g} (a factor such as a squared error's 1/2)"
            )
    whole = _whole(c)
    if whole is not None:  # a mean over an output's elements, which no input's size shows
        n, bigger = whole
        return (
            f"scale: {label} is {n} times {against}: a sum where {against} takes a mean over "
            f"{n} elements (an output's or an intermediate's)"
            if bigger
            else f"scale: {label} is {against} / {n}: a mean over {n} elements (an output's or "
            f"an intermediate's) where {against} takes a sum"
        )
    if g.size < 4:
        return None
    return f"scale: {label} is {against} times {c:.6g}: a constant factor"


def value_diagnosis(
    got: np.ndarray | None,
    ref: np.ndarray | None,
    dtype: str,
    tol: dict[str, float],
    sizes: dict[int, str],
    label: str,
    against: str,
) -> str:
    """What makes a failing leaf agree without a new run: another axis order, or a scale."""
    if got is None or ref is None:
        return ""
    perm = try_permutations(got, ref, dtype, tol)
    if perm is not None:
        return f"layout: {label}'s array agrees with {against}'s after {describe_permutation(perm)}"
    scale = try_scale(got, ref, dtype, tol, sizes, label, against)
    if scale:
        return scale
    if dtype == "float64" and agrees(got, ref, "float32", oracle.tolerance("float32")):
        return (
            f"precision: {label} agrees with {against} to float32's tolerance only: some "
            "step of the float64 computation runs in float32 (a float32 constant, op or layer)"
        )
    return ""


def layout_candidates(
    shapes: dict[str, tuple[int, ...]], keep_shape: bool, limit: int
) -> list[tuple[str, tuple[int, ...]]]:
    """(path, permutation of the framework's array) to try: a transpose of each matrix, and
    for more axes every swap of two axes and the full reverse; a model's parameters only keep
    their shape (a model declares them). At most ``limit``."""
    out: list[tuple[str, tuple[int, ...]]] = []
    for path, shape in shapes.items():
        n = len(shape)
        if n < 2 or n > MAX_AXES:
            continue
        perms = [tuple(reversed(range(n)))]
        for i, j in itertools.combinations(range(n), 2):
            p = list(range(n))
            p[i], p[j] = p[j], p[i]
            if tuple(p) not in perms:
                perms.append(tuple(p))
        for p in perms:
            if keep_shape and tuple(shape[i] for i in p) != tuple(shape):
                continue
            out.append((path, p))
    return out[:limit]


def epsilon_candidates(reference_eps: list[float], own_eps: list[float]) -> list[float]:
    """Epsilons to try: the reference's first, then the frameworks' defaults, none that the
    framework already uses."""
    seen: list[float] = []
    for e in [*reference_eps, *EPSILONS]:
        if e not in seen and not any(np.isclose(e, o, rtol=1e-9, atol=0) for o in own_eps):
            seen.append(e)
    return seen


def gelu_variant(hits: dict[str, int]) -> str:
    """Which GELU the run used, from the knob's record of the original arguments."""
    used = {k.split("=", 1)[1] for k in hits if k.startswith("gelu=")}
    tanh = {"True", "'tanh'"}
    if used and used <= tanh:
        return "the tanh approximation"
    if used and not used & tanh:
        return "the exact GELU (erf)"
    return "both GELU variants"


def flipped_variant(hits: dict[str, int]) -> str:
    """The GELU a flipped run used instead."""
    was = gelu_variant(hits)
    if was == "the tanh approximation":
        return "the exact GELU (erf)"
    if was == "the exact GELU (erf)":
        return "the tanh approximation"
    return "the other variant of each GELU"


def recorded(hits: dict[str, int], knob: str) -> list[float]:
    """The values a knob found in a run (``"epsilon=0.001"`` entries of its hits)."""
    out = []
    for key in hits:
        name, _, value = key.partition("=")
        if name == knob and value:
            try:
                out.append(float(value))
            except ValueError:
                continue
    return out
