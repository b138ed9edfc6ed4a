"""``unigrad.trace_graph``: record a function on the reference engine and show its graph."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from unigrad.api import switch


def trace_graph(f: Callable[..., Any], *args: Any) -> Any:
    """Record ``f(*args)`` on the numpy engine; the result has ``.tree()`` and ``.dot()``."""
    from unigrad.backends.numpy.recorder import record

    h = switch.get_backend("numpy")
    prims = [h.impl.prepare(a) for a in args]
    try:
        names = list(inspect.signature(f).parameters)[: len(args)]
    except (TypeError, ValueError):
        names = [str(i) for i in range(len(args))]

    def run(*xs: Any) -> Any:
        with switch.use_backend(h):
            return f(*xs)

    return record(run, prims, names)
