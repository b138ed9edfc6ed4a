"""Functions on any backend's arrays: to_numpy, detach (stop_gradient)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from unigrad import pytree, registry
from unigrad.api import switch
from unigrad.api.array import Array, unwrap
from unigrad.api.detect import framework_of


def _leaf_to_numpy(x: Any) -> np.ndarray:
    convert = _converters.get(type(x))
    if convert is None:
        convert = _converters[type(x)] = _converter(x)
    return convert(x)


def _converter(x: Any) -> Callable[[Any], Any]:
    """How to turn values of ``x``'s type into NumPy (a type belongs to one backend)."""
    if type(x) is Array:
        return Array._numpy
    name = framework_of(x)
    if name is None or (name == "numpy" and isinstance(x, np.ndarray | np.generic)):
        return np.asarray
    return registry.handle(name).impl.to_numpy


_converters: dict[type, Callable[[Any], Any]] = {np.ndarray: lambda x: x}


def to_numpy(tree: Any) -> Any:
    """Convert any result (arrays, scalars, nested tuples/namedtuples/lists/dicts) to NumPy
    arrays."""
    t = type(tree)
    if t is tuple or t is list:  # the common result of a transform: one level of arrays
        out = []
        for v in tree:
            convert = _converters.get(type(v))
            if convert is None:
                if type(v) in _CONTAINERS:
                    return pytree.tree_map(_leaf_to_numpy, tree)
                convert = _converters[type(v)] = _converter(v)
            out.append(convert(v))
        return t(out)
    if t not in _CONTAINERS and not pytree.is_namedtuple(tree):
        return _leaf_to_numpy(tree)
    return pytree.tree_map(_leaf_to_numpy, tree)


_CONTAINERS = frozenset({tuple, list, dict, type(None)})


def native(tree: Any) -> Any:
    """Every ``unigrad.Array`` in ``tree`` as the framework's own array (``x.native``)."""
    return unwrap(tree)


def detach(tree: Any) -> Any:
    """Stop gradients: the result is a constant at every order of differentiation."""

    def leaf(x: Any) -> Any:
        if type(x) is Array:
            return Array(x._b.stop_gradient(x.native), x._b, detached=True)
        h = switch.in_context()
        if h is None:
            name = framework_of(x)
            plain = name is None or isinstance(x, np.ndarray | np.generic)
            h = switch.get_backend() if plain else registry.handle(name)
        return h.impl.stop_gradient(x)

    return pytree.tree_map(leaf, tree)


stop_gradient = detach
