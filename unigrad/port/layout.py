"""How each framework's parameters map to the shared ones.

``layout={"tensorflow": {"*.weight": "transpose", "conv*.weight": (2, 3, 1, 0)}}``: for each
framework (or function label), glob patterns over the shared parameter paths, each with a
transform that turns the shared array into that framework's array. The first pattern that
matches a path wins; ``None`` leaves a path as it is. Gradients come back through the inverse
map (the adjoint, which for a permutation is its inverse), so every framework is compared in
the shared layout.

A transform is ``"transpose"`` (all axes reversed: ``a.T``), a permutation of the axes
(``a.transpose(perm)``), or a pair of callables ``(to_framework, gradient_back)`` for anything
else (a reshape, a split): the second maps a gradient of the framework's array back to the
shared array's shape.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Transform:
    """One layout transform: shared array -> framework array, and gradients back."""

    name: str
    perm: tuple[int, ...] | None = None  # None with no callables: reverse every axis
    to_framework: Callable[[np.ndarray], Any] | None = None
    gradient_back: Callable[[np.ndarray], Any] | None = None

    def forward(self, a: np.ndarray) -> np.ndarray:
        """The framework's array for the shared array ``a``."""
        if self.to_framework is not None:
            return np.asarray(self.to_framework(a))
        return np.transpose(a, self.perm)

    def backward(self, g: np.ndarray) -> np.ndarray:
        """The gradient of the shared array from the gradient of the framework's array."""
        if self.gradient_back is not None:
            return np.asarray(self.gradient_back(g))
        if self.perm is None:
            return np.transpose(g)
        return np.transpose(g, np.argsort(self.perm))

    def axes(self, ndim: int) -> tuple[int, ...] | None:
        """This transform as a permutation of ``ndim`` axes (None for callables)."""
        if self.to_framework is not None:
            return None
        return self.perm if self.perm is not None else tuple(reversed(range(ndim)))


TRANSPOSE = Transform("transpose")


def permutation_name(perm: Sequence[int]) -> str:
    """How a layout entry for this permutation is written: 'transpose', or the tuple."""
    perm = tuple(int(i) for i in perm)
    if perm == tuple(range(len(perm))):
        return "None"
    if perm == tuple(reversed(range(len(perm)))):
        return "'transpose'"
    return str(perm)


def transform_of(spec: Any, where: str) -> Transform | None:
    """Read one layout entry; a bad one raises ``ValueError`` naming ``where``."""
    if spec is None or isinstance(spec, Transform):
        return spec
    if isinstance(spec, str):
        if spec.strip().lower() in ("transpose", "t"):
            return TRANSPOSE
        if spec.strip().lower() == "none":  # the command line's None: as it is
            return None
        raise ValueError(
            f"{where} = {spec!r}: use 'transpose', a permutation of the axes such as "
            "(2, 3, 1, 0), a pair of callables (to_framework, gradient_back), or None (as it is)"
        )
    if isinstance(spec, Sequence) and len(spec) == 2 and all(callable(f) for f in spec):
        return Transform("custom", to_framework=spec[0], gradient_back=spec[1])
    if callable(spec):
        raise ValueError(
            f"{where} is one callable; give a pair (to_framework, gradient_back) so that "
            "gradients can be mapped back to the shared layout (for a reshape or a "
            "permutation, gradient_back is its inverse)"
        )
    if isinstance(spec, Sequence) and all(isinstance(i, int | np.integer) for i in spec):
        perm = tuple(int(i) for i in spec)
        if sorted(perm) != list(range(len(perm))):
            raise ValueError(f"{where} = {spec!r} is not a permutation of 0..{len(perm) - 1}")
        return Transform(str(perm), perm=perm)
    raise ValueError(
        f"{where} = {spec!r}: use 'transpose', a permutation of the axes such as (2, 3, 1, 0), "
        "or a pair of callables (to_framework, gradient_back)"
    )


def parse(
    layout: Mapping[str, Mapping[str, Any]] | None,
    labels: Mapping[str, str],
    shapes: Mapping[str, tuple[int, ...]],
) -> dict[str, dict[str, Transform]]:
    """Per function label, the transform of each shared path that has one.

    ``labels`` maps each function's label to its framework; a layout key may be either (a
    framework that is not compared is ignored, so one layout serves several checks).
    ``shapes`` are the shared parameters' shapes. Unknown names, patterns that match no path
    and permutations of the wrong number of axes raise ``ValueError``.
    """
    from unigrad.port.frameworks import FRAMEWORKS as frameworks

    if not layout:
        return {label: {} for label in labels}
    if not isinstance(layout, Mapping):
        raise ValueError(
            "layout maps each framework to {path pattern: transform}, e.g. "
            "{'tensorflow': {'*.weight': 'transpose'}}; got " + repr(layout)[:80]
        )
    known = set(labels) | set(labels.values())
    for key in layout:
        if key not in known and str(key).split(":", 1)[0] not in frameworks:
            raise ValueError(
                f"layout names {key!r}, which is neither one of the functions compared "
                f"({', '.join(labels)}) nor a framework ({', '.join(frameworks)})"
            )
    out: dict[str, dict[str, Transform]] = {}
    for label, framework in labels.items():
        entries = layout.get(label, layout.get(framework) if label != framework else None) or {}
        if not isinstance(entries, Mapping):
            raise ValueError(f"layout[{label!r}] must map path patterns to transforms")
        out[label] = _match(entries, label, shapes)
    return out


def _match(
    entries: Mapping[str, Any], label: str, shapes: Mapping[str, tuple[int, ...]]
) -> dict[str, Transform]:
    chosen: dict[str, Transform | None] = {}
    for pattern, spec in entries.items():
        where = f"layout[{label!r}][{pattern!r}]"
        t = transform_of(spec, where)
        hits = [p for p in shapes if fnmatch.fnmatchcase(p, pattern)]
        if not hits:
            listed = ", ".join(list(shapes)[:12]) + (" ..." if len(shapes) > 12 else "")
            raise ValueError(f"{where} matches no shared parameter; the paths are: {listed}")
        for p in hits:
            if p in chosen:  # an earlier pattern already decided this path
                continue
            if t is not None and t.perm is not None and len(t.perm) != len(shapes[p]):
                raise ValueError(
                    f"{where} = {t.perm} permutes {len(t.perm)} axes, but {p!r} has "
                    f"{len(shapes[p])} (shape {tuple(shapes[p])}): narrow the pattern, or "
                    f"map {p!r} to None before it"
                )
            chosen[p] = t
    return {p: t for p, t in chosen.items() if t is not None}


def suggestion(current: Transform | None, fix: tuple[int, ...], path: str, label: str) -> str:
    """The layout entry that applies ``fix`` (a permutation of the framework's array) on top
    of the current transform of ``path``."""
    n = len(fix)
    if current is None:
        total: tuple[int, ...] | None = fix
    else:
        axes = current.axes(n)
        total = None if axes is None else tuple(axes[i] for i in fix)
    if total is None:
        return f"layout[{label!r}][{path!r}]: permute the result of your transform by {fix}"
    if total == tuple(range(n)):
        return f"no entry for {path!r} in layout[{label!r}]"
    return f"layout[{label!r}][{path!r}] = {permutation_name(total)}"
