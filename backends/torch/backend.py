"""The PyTorch adapter: torch.autograd for first-order gradients, torch.func for the rest."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import func as tf_
from unigrad.backends.auxsplit import AuxSplit
from unigrad.backends.base import ARITHMETIC_OPERATORS, Backend, Fun
from unigrad.backends.optable import convert_arguments

_DTYPES = {
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
    "float32": torch.float32,
    "float64": torch.float64,
    "int8": torch.int8,
    "int16": torch.int16,
    "int32": torch.int32,
    "int64": torch.int64,
    "uint8": torch.uint8,
    "bool": torch.bool,
    "complex64": torch.complex64,
    "complex128": torch.complex128,
}


def _vmap_refusal(exc: BaseException) -> bool:
    """True when torch.func's vectorised transforms cannot run the function (it reads values:
    Python control flow, float(x)); unigrad then runs one pass per row instead."""
    return any(s in str(exc) for s in ("vmap", "data-dependent", "doesn't have storage"))


def _value(x: Any) -> Any:
    """The tensor under torch.func's grad and jvp wrappers, for reading a value inside
    torch.func.vjp (a boolean mask, nonzero); such wrappers have no storage of their own. A
    vmapped value keeps its wrapper: its values differ per row, and reading one fails as
    before (the jacobian then runs one pass per row)."""
    fc = torch._C._functorch
    while fc.is_functorch_wrapped_tensor(x) and not fc.is_batchedtensor(x):
        x = fc.get_unwrapped(x)
    return x


_wrapped = torch._C._functorch.is_functorch_wrapped_tensor


def _no_transform_active() -> bool:
    return torch._C._functorch.peek_interpreter_stack() is None


class TorchBackend(Backend):
    """torch.autograd.grad when no torch.func transform is active; torch.func otherwise."""

    framework_modules = ("torch",)
    namespace = "torch"
    departures = "unigrad.backends.torch.ops"
    # measured by the native catalogue: torch's own ops already follow these pins
    native_operators = ARITHMETIC_OPERATORS | {"matmul"}
    native_pins = frozenset(
        {"abs", "absolute", "clip", "relu", "maximum", "minimum", "max", "min", "amax", "amin"}
        | {"prod", "inner"}
    )
    promotes_like_numpy = False  # 0-d tensors are weak in torch, and matmul does not promote

    @property
    def version(self) -> str:
        return torch.__version__

    def devices(self) -> list[str]:
        devs = ["cpu"]
        if torch.cuda.is_available():
            devs += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
        return devs

    def is_array(self, x: Any) -> bool:
        return isinstance(x, torch.Tensor)

    def is_float(self, x: Any) -> bool:
        return x.dtype.is_floating_point

    def asarray(self, x: Any, dtype: Any = None) -> Any:
        if isinstance(x, torch.Tensor):
            return x if dtype is None else x.to(self.native_dtype(dtype))
        a = np.asarray(x, dtype=dtype)
        if not a.flags.writeable or not a.flags.c_contiguous:
            a = np.ascontiguousarray(a).copy()
        if not torch._C._is_torch_function_mode_enabled():
            # as_tensor's answer (same memory, same errors) at a third of its cost; under a
            # mode (torch.set_default_device installs one) as_tensor places it where it says
            return torch.from_numpy(a)
        return torch.as_tensor(a)

    prepare = asarray  # a differentiated input: one call less on every transform's call

    def native_dtype(self, dtype: Any) -> Any:
        if isinstance(dtype, torch.dtype):
            return dtype
        return _DTYPES[np.dtype(dtype).name]

    def wrap_op(self, fn: Callable[..., Any], name: str, kind: str) -> Callable[..., Any]:
        return fn if kind == "convention" else convert_arguments(self, fn, name)

    def to_numpy(self, x: Any) -> np.ndarray:
        if not x.requires_grad and _no_transform_active() and not _wrapped(x):
            try:  # the common case (a result on the CPU): no copy, no detach
                return x.numpy()
            except RuntimeError:  # a ZeroTensor, a conjugate or negative view, another device
                pass
        # force=True also materialises the ZeroTensors torch.func returns for zero blocks
        x = _value(x.detach())
        if _no_transform_active():
            return x.cpu().numpy(force=True)
        with torch._C._DisableFuncTorch():  # the unwrapped tensor, read as itself
            return x.cpu().numpy(force=True)

    def dtype_name(self, x: Any) -> str:
        return str(x.dtype)[6:]

    def shape(self, x: Any) -> tuple[int, ...]:
        return tuple(x.shape)

    def stop_gradient(self, x: Any) -> Any:
        return x.detach()

    def native_gradient(self, fn: Callable[..., Any], xs: list[np.ndarray]) -> list[Any]:
        ts = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in xs]
        grads = torch.autograd.grad(fn(*ts).sum(), ts, allow_unused=True)
        return [None if g is None else g.detach().numpy() for g in grads]

    # Outputs must be tensors for torch.func; a constant function may return a Python float.
    def _tensors(self, fun: Fun, aux: AuxSplit) -> Callable:
        def f(*xs: Any) -> tuple[list, list]:
            outs, a = fun(*xs)
            outs = [o if isinstance(o, torch.Tensor) else self.asarray(o) for o in outs]
            return outs, aux.split(a)

        return f

    def vjp(self, fun: Fun, primals: Sequence[Any]) -> tuple[list, Callable[[list], list], Any]:
        aux = AuxSplit(self.is_array)
        outs, fn, a = tf_.vjp(self._tensors(fun, aux), *primals, has_aux=True)

        def vjp_fn(cts: list) -> list:
            return list(fn(list(cts)))

        return outs, vjp_fn, aux.join(a)

    def jvp(self, fun: Fun, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple:
        aux = AuxSplit(self.is_array)
        outs, touts, a = tf_.jvp(
            self._tensors(fun, aux), tuple(primals), tuple(tangents), has_aux=True
        )
        return outs, touts, aux.join(a)

    def value_and_grad(self, fun: Fun, primals: Sequence[Any]) -> tuple[Any, list[Any], Any]:
        if not _no_transform_active():
            return super().value_and_grad(fun, primals)
        xs = list(primals)
        nested = False
        for i, x in enumerate(primals):
            if x.requires_grad:  # already on an outer graph: keep the link for higher order
                xs[i] = x.view_as(x)
                nested = True
            else:
                xs[i] = x.detach().requires_grad_()
        if torch.is_grad_enabled():
            outs, aux = fun(*xs)
        else:
            with torch.enable_grad():
                outs, aux = fun(*xs)
        (out,) = outs
        wrt = xs
        if not isinstance(out, torch.Tensor) or not out.requires_grad:
            out = self.asarray(out) if not isinstance(out, torch.Tensor) else out
            return out, [torch.zeros_like(w) for w in wrt], aux
        try:
            grads = torch.autograd.grad(out, wrt, retain_graph=True, create_graph=nested)
        except RuntimeError as exc:  # an input the output does not use: its gradient is 0
            if "not have been used in the graph" not in str(exc):
                raise
            grads = torch.autograd.grad(
                out, wrt, allow_unused=True, create_graph=nested, materialize_grads=True
            )
        return (out if nested else out.detach()), list(grads), aux

    def jacobian(self, fun: Fun, primals: Sequence[Any], mode: str) -> tuple[list, list, Any]:
        aux = AuxSplit(self.is_array)
        argnums = tuple(range(len(primals)))
        transform = tf_.jacfwd if mode == "fwd" else tf_.jacrev
        try:
            jac, a = transform(self._tensors(fun, aux), argnums=argnums, has_aux=True)(*primals)
        except RuntimeError as exc:
            if not _vmap_refusal(exc):
                raise
            # Python control flow on values cannot be vectorised: one pass per row instead.
            return super().jacobian(fun, primals, mode)
        return [], [list(row) for row in jac], aux.join(a)

    def hessian(self, fun: Fun, primals: Sequence[Any]) -> list[list[Any]]:
        def scalar(*xs: Any) -> Any:
            (out,), _ = fun(*xs)
            return out if isinstance(out, torch.Tensor) else self.asarray(out)

        if any(p.numel() == 0 for p in primals):
            return self._hessian_around_empty(fun, primals)
        argnums = tuple(range(len(primals)))
        try:
            h = tf_.jacfwd(tf_.jacrev(scalar, argnums=argnums), argnums=argnums)(*primals)
        except RuntimeError as exc:
            if not _vmap_refusal(exc):
                raise
            h = tf_.jacrev(tf_.jacrev(scalar, argnums=argnums), argnums=argnums)(*primals)
        return [list(row) for row in h]

    def _hessian_around_empty(self, fun: Fun, primals: Sequence[Any]) -> list[list[Any]]:
        """The Hessian when some inputs hold no elements (torch.func's jacobians fail on them
        with an IndexError): their blocks are empty zeros, the rest is the Hessian in the
        other inputs, those held fixed."""
        live = [i for i, p in enumerate(primals) if p.numel()]

        def block(i: int, j: int) -> Any:
            shape = (*primals[i].shape, *primals[j].shape)
            return torch.zeros(shape, dtype=primals[i].dtype, device=primals[i].device)

        rows = [[block(i, j) for j in range(len(primals))] for i in range(len(primals))]
        if not live:
            fun(*primals)  # still run it: its own errors and output checks
            return rows

        def part(*ys: Any) -> Any:
            xs = list(primals)
            for i, y in zip(live, ys):
                xs[i] = y
            return fun(*xs)

        inner = self.hessian(part, [primals[i] for i in live])
        for a, i in enumerate(live):
            for b, j in enumerate(live):
                rows[i][j] = inner[a][b]
        return rows

    def hvp(self, fun: Fun, primals: Sequence[Any], tangents: Sequence[Any]) -> list[Any]:
        def scalar(*xs: Any) -> Any:
            (out,), _ = fun(*xs)
            return out if isinstance(out, torch.Tensor) else self.asarray(out)

        argnums = tuple(range(len(primals)))
        _, touts = tf_.jvp(tf_.grad(scalar, argnums=argnums), tuple(primals), tuple(tangents))
        return list(touts)
