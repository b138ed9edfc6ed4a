"""Leaf paths of a pytree (``fc1.weight``, ``output.logits``) and structure mismatches.

A path joins dict keys and list or tuple positions with dots, as a torch ``state_dict`` names
its tensors: ``{"fc1": {"weight": w}}`` and ``{"fc1.weight": w}`` both hold ``fc1.weight``.
Port checks match leaves across frameworks by these paths.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from unigrad import pytree


class PortStructureError(ValueError):
    """Two sets of leaves that should match do not: it lists the missing and the extra paths."""


def leaf_paths(tree: Any, root: str = "") -> list[str]:
    """The path of each leaf of ``tree``, in ``pytree.tree_flatten`` order.

    A lone leaf is ``root``; children are ``root.key`` (or ``key`` when root is empty).
    """
    out: list[str] = []
    _walk(tree, root, out)
    return out


def _join(root: str, key: Any) -> str:
    return f"{root}.{key}" if root else str(key)


def _walk(tree: Any, path: str, out: list[str]) -> None:
    t = type(tree)
    if t is tuple or t is list or (isinstance(tree, tuple) and hasattr(tree, "_fields")):
        for i, child in enumerate(tree):
            _walk(child, _join(path, i), out)
    elif t is dict:
        for k, child in tree.items():
            _walk(child, _join(path, k), out)
    elif tree is not None:
        out.append(path)


def flatten(tree: Any, root: str = "", what: str = "the tree") -> dict[str, Any]:
    """``{path: leaf}`` in flatten order; two leaves with one path (``{"a.b": x, "a": {"b":
    y}}``) are an error."""
    leaves = pytree.tree_leaves(tree)
    paths = leaf_paths(tree, root)
    flat = dict(zip(paths, leaves))
    if len(flat) != len(leaves):
        dup = next(p for i, p in enumerate(paths) if p in paths[:i])
        raise PortStructureError(f"two leaves of {what} share the path {dup!r}")
    return flat


def unflatten_like(tree: Any, flat: dict[str, Any], root: str = "") -> Any:
    """``tree``'s structure with its leaves replaced by ``flat[path]``."""
    _, treedef = pytree.tree_flatten(tree)
    return pytree.tree_unflatten(treedef, [flat[p] for p in leaf_paths(tree, root)])


def _listing(paths: Iterable[str], limit: int = 12) -> str:
    paths = list(paths)
    shown = ", ".join(paths[:limit])
    return shown + (f" and {len(paths) - limit} more" if len(paths) > limit else "")


def check_same(expected: Iterable[str], given: Iterable[str], what: str, hint: str = "") -> None:
    """Raise ``PortStructureError`` naming the missing and the extra paths, if they differ.

    ``expected`` is what ``what`` holds (a model's parameters); ``given`` what it was handed.
    """
    exp, giv = list(expected), list(given)
    missing = [p for p in exp if p not in set(giv)]
    extra = [p for p in giv if p not in set(exp)]
    if not missing and not extra:
        return
    lines = [f"{what} and the shared parameters do not have the same paths:"]
    if missing:
        lines.append(f"  missing from the shared parameters ({len(missing)}): {_listing(missing)}")
    if extra:
        lines.append(f"  extra, {what} has no such parameter ({len(extra)}): {_listing(extra)}")
    lines.append(f"  {what} holds: {_listing(exp)}")
    if hint:
        lines.append(f"  {hint}")
    raise PortStructureError("\n".join(lines))


class PortShapeError(PortStructureError):
    """Parameters whose shapes do not fit a model's: ``mismatches`` holds ``(path, the
    model's shape, the shape given)``. A port check recognises shapes that are a permutation
    of each other as a layout mismatch."""

    def __init__(self, what: str, mismatches: list[tuple[str, tuple, tuple]]) -> None:
        self.mismatches = mismatches
        lines = [f"{what} holds parameters of other shapes than those given:"]
        for path, want, got in mismatches:
            note = " (a transpose)" if tuple(got) == tuple(reversed(want)) else ""
            lines.append(f"  {path}: the model's is {tuple(want)}, given {tuple(got)}{note}")
        lines.append(
            "  a port check maps the shared parameters to each framework's layout with "
            "layout={framework: {pattern: 'transpose' or a permutation}}"
        )
        super().__init__("\n".join(lines))


def check_shapes(expected: dict[str, tuple], given: dict[str, tuple], what: str) -> None:
    """Raise ``PortShapeError`` for every path whose given shape is not the expected one."""
    bad = [
        (p, tuple(s), tuple(given[p])) for p, s in expected.items() if tuple(given[p]) != tuple(s)
    ]
    if bad:
        raise PortShapeError(what, bad)
