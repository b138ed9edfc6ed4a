"""Pytrees: nested tuples, lists and dicts (and namedtuples) of arrays.

``None`` is an empty subtree, as in JAX. Anything else is a leaf. Tree definitions are
hashable, so they can key caches of compiled functions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

LEAF = None  # the treedef of a single leaf


def is_namedtuple(x: Any) -> bool:
    """Whether ``x`` is a namedtuple (a pytree node, as tuples are)."""
    return isinstance(x, tuple) and hasattr(x, "_fields")


def tree_flatten(tree: Any) -> tuple[list[Any], Any]:
    """Return (leaves, treedef)."""
    leaves: list[Any] = []
    return leaves, _flatten(tree, leaves)


def _flatten(tree: Any, leaves: list[Any]) -> Any:
    t = type(tree)
    if t is tuple or t is list:
        return (t, len(tree), tuple(_flatten(c, leaves) for c in tree))
    if t is dict:
        keys = tuple(tree)
        return (dict, keys, tuple(_flatten(tree[k], leaves) for k in keys))
    if tree is None:
        return (type(None), 0, ())
    if isinstance(tree, tuple) and hasattr(tree, "_fields"):
        return (t, len(tree), tuple(_flatten(c, leaves) for c in tree))
    leaves.append(tree)
    return LEAF


def tree_unflatten(treedef: Any, leaves: list[Any]) -> Any:
    """Rebuild a tree from ``treedef`` and its leaves (in flatten order)."""
    it = iter(leaves)
    return _build(treedef, it)


def _build(treedef: Any, it: Any) -> Any:
    if treedef is LEAF:
        return next(it)
    t, meta, children = treedef
    if t is type(None):
        return None
    kids = [_build(c, it) for c in children]
    if t is dict:
        return dict(zip(meta, kids))
    if t is tuple or t is list:
        return t(kids)
    return t(*kids)  # namedtuple


def tree_map(fn: Callable[[Any], Any], tree: Any) -> Any:
    """Apply ``fn`` to every leaf."""
    leaves, treedef = tree_flatten(tree)
    return tree_unflatten(treedef, [fn(x) for x in leaves])


def tree_leaves(tree: Any) -> list[Any]:
    """The leaves of ``tree`` in order."""
    return tree_flatten(tree)[0]


def tree_paths(tree: Any, prefix: str = "") -> list[str]:
    """A readable path for each leaf, e.g. ``['w']``, ``[1][0]`` (used in error messages)."""
    if type(tree) in (tuple, list) or (isinstance(tree, tuple) and hasattr(tree, "_fields")):
        return [p for i, c in enumerate(tree) for p in tree_paths(c, f"{prefix}[{i}]")]
    if type(tree) is dict:
        return [p for k, c in tree.items() for p in tree_paths(c, f"{prefix}[{k!r}]")]
    if tree is None:
        return []
    return [prefix]
