"""Native runs on PyTorch: ``torch.autograd.grad`` over the parameter tensors; modules through
``torch.func.functional_call``.

Knobs: ``epsilon`` sets the epsilon of every normalisation (the ``eps`` of torch's
``layer_norm``, ``group_norm``, ``batch_norm`` and ``instance_norm`` functions, which the
modules call); ``gelu`` flips every GELU between exact and tanh-approximate.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from unigrad import pytree
from unigrad.port.bind import call_with_inputs
from unigrad.port.frameworks import Patch, Raw, cast_input, cotangents, rebinding
from unigrad.port.params import is_model
from unigrad.port.paths import check_same, check_shapes, flatten

NORMS = ("layer_norm", "group_norm", "batch_norm", "instance_norm")


def call_module(model: Any, params: Any, args: tuple, kwargs: dict) -> Any:
    """``model(*args, **kwargs)`` with ``params`` as its parameters and copies of its buffers
    (see ``port.call``): the module itself is left as it was."""
    own = dict(model.named_parameters())
    given = flatten(params, what="the parameters")
    buffers = dict(model.named_buffers())
    extra_buffers = [p for p in given if p in buffers]
    hint = (
        f"{', '.join(extra_buffers)} are buffers of the module, not parameters: leave them out "
        "(load_params(module) reads the parameters only)"
        if extra_buffers
        else "name the shared parameters as the module's named_parameters()"
    )
    what = f"the torch module {type(model).__name__}"
    check_same(own, given, what, hint)
    check_shapes(
        {p: tuple(t.shape) for p, t in own.items()},
        {p: tuple(t.shape) for p, t in given.items()},
        what,
    )
    dtype = next((t.dtype for t in given.values() if t.is_floating_point()), None)
    # copies: a module in training mode updates its buffers in place (BatchNorm's running
    # statistics, num_batches_tracked), and a check leaves the user's module as it was
    buffers = {
        k: b.detach().to(dtype, copy=True)
        if dtype is not None and b.is_floating_point()
        else b.detach().clone()
        for k, b in buffers.items()
    }
    return torch.func.functional_call(model, {**buffers, **given}, args, kwargs)


def _tensor(a: Any, dtype: str) -> torch.Tensor:
    return torch.from_numpy(np.array(cast_input(a, dtype)))


def _numpy(x: Any) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


@contextlib.contextmanager
def knobs_applied(knobs: dict[str, Any], hits: dict[str, int]) -> Iterator[None]:
    """Apply the diagnosis knobs to torch's functions for the length of the block."""
    F = torch.nn.functional
    with Patch() as patch:
        if "epsilon" in knobs:
            eps = knobs["epsilon"]
            for name in NORMS:
                patch.set(
                    F, name, rebinding(getattr(F, name), "eps", lambda _: eps, hits, "epsilon")
                )
        if knobs.get("gelu") == "flip":
            patch.set(F, "gelu", rebinding(_gelu(F.gelu), "approximate", FLIP.get, hits, "gelu"))
        yield


FLIP = {"none": "tanh", "tanh": "none"}


def _gelu(gelu: Any) -> Any:
    """torch's builtin gelu with a Python signature (which ``rebinding`` reads)."""

    def python_gelu(input: Any, approximate: str = "none") -> Any:
        return gelu(input, approximate=approximate)

    return python_gelu


def run(
    entry: Any, params: Any, inputs: Any, dtype: str, want_grad: bool, knobs: dict[str, Any]
) -> Raw:
    """One run of ``entry`` (a function of (params, inputs), or a module) in torch."""
    leaves, treedef = pytree.tree_flatten(params)
    ts = [_tensor(a, dtype).requires_grad_(want_grad) for a in leaves]
    xs = pytree.tree_map(lambda a: _tensor(a, dtype), inputs)
    p = pytree.tree_unflatten(treedef, ts)
    hits: dict[str, int] = {}
    with knobs_applied(knobs, hits), torch.enable_grad():
        out = call_with_inputs(entry, p, xs) if is_model(entry) else entry(p, xs)
        flat = flatten(out, "output", what="the outputs")
        outputs = {k: _numpy(v) for k, v in flat.items()}
        if not want_grad:
            return Raw(outputs, None, hits)
        cts = cotangents(outputs)
        heads = [
            (v, torch.from_numpy(cts[k]).to(v.dtype))
            for k, v in flat.items()
            if k in cts and isinstance(v, torch.Tensor) and v.requires_grad
        ]
        if heads:
            gs = torch.autograd.grad(
                [h for h, _ in heads], ts, grad_outputs=[c for _, c in heads], allow_unused=True
            )
        else:
            gs = (None,) * len(ts)
    return Raw(outputs, [None if g is None else _numpy(g) for g in gs], hits)
