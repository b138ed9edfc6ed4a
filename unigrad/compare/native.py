"""Derivatives of a framework's own ops, taken with that framework's own idiom.

Used by the native section of ``unigrad compare``: there, disagreement between frameworks is
the finding. The result is what the framework returns, None included (TF's answer for an
unconnected gradient), with nothing normalised.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

import numpy as np


def op(module: str, name: str) -> Callable[..., Any]:
    """A framework op, imported when first called (case files load in every environment)."""

    def call(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    call.__name__ = f"{module}.{name}"
    return call


def native_grad(backend: str, fn: Callable[..., Any], xs: list[np.ndarray]) -> list[Any]:
    """d sum(fn(*xs)) / d xs with the framework's own autodiff; None where it says None."""
    from unigrad import registry

    return registry.handle(backend).impl.native_gradient(fn, xs)
