"""The adapter: conversion, stop_gradient and autograd's vjp and jvp. Everything else (the op
table, the pinned conventions, jacobians, hessians) comes from unigrad's backend protocol."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import autograd
import numpy as np
from autograd.builtins import list as boxed_list
from autograd.numpy.numpy_boxes import ArrayBox
from autograd.tracer import getval
from unigrad.backends.base import Backend

from unigrad import pytree


class ToyBackend(Backend):
    framework_modules = ("autograd",)
    namespace = "autograd.numpy"

    @property
    def version(self) -> str:
        from importlib.metadata import version

        return version("autograd")

    def is_array(self, x: Any) -> bool:
        return isinstance(x, ArrayBox | np.ndarray | np.generic)

    def asarray(self, x: Any, dtype: Any = None) -> Any:
        if isinstance(x, ArrayBox):
            return x if dtype is None else x.astype(dtype)
        return np.asarray(x, dtype=dtype)

    def to_numpy(self, x: Any) -> np.ndarray:
        return np.asarray(getval(x))

    def dtype_name(self, x: Any) -> str:
        return np.result_type(getval(x)).name

    def shape(self, x: Any) -> tuple[int, ...]:
        return np.shape(getval(x))

    def stop_gradient(self, x: Any) -> Any:
        return getval(x)

    def vjp(self, fun: Callable, primals: Sequence[Any]) -> tuple[list, Callable, Any]:
        aux: list[Any] = []

        def f(xs: Any) -> Any:
            outs, a = fun(*xs)
            aux.append(a)
            return boxed_list(outs)

        vjp_fn, outs = autograd.make_vjp(f)(tuple(primals))
        return list(outs), lambda cts: list(vjp_fn(list(cts))), _constant(aux[0])

    def jvp(self, fun: Callable, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple:
        aux: list[Any] = []

        def f(xs: Any) -> Any:
            outs, a = fun(*xs)
            aux.append(a)
            return boxed_list(outs)

        outs, touts = autograd.make_jvp(f)(tuple(primals))(tuple(tangents))
        return list(outs), list(touts), _constant(aux[0])


def _constant(tree: Any) -> Any:
    """aux is not differentiated: the values under autograd's boxes."""
    return pytree.tree_map(getval, tree)
