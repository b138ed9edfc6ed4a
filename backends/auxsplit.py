"""Carrying ``has_aux`` values through framework transforms that only accept arrays."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from unigrad import pytree

_UNSET = object()


class AuxSplit:
    """Splits aux into array leaves (passed through the framework) and the rest (kept here)."""

    def __init__(self, is_array: Callable[[Any], bool]) -> None:
        self.is_array = is_array
        self.treedef: Any = _UNSET  # (a single leaf's treedef is None)
        self.others: list[Any] = []
        self.mask: list[bool] = []

    def split(self, aux: Any) -> list[Any]:
        leaves, self.treedef = pytree.tree_flatten(aux)
        self.mask = [self.is_array(x) for x in leaves]
        self.others = [None if m else x for x, m in zip(leaves, self.mask)]
        return [x for x, m in zip(leaves, self.mask) if m]

    def join(self, arrays: list[Any]) -> Any:
        if self.treedef is _UNSET:
            return None
        it = iter(arrays)
        leaves = [next(it) if m else x for x, m in zip(self.others, self.mask)]
        return pytree.tree_unflatten(self.treedef, leaves)
