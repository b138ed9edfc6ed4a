"""``unigrad.port.call``: run a torch module or a Keras model with given parameters in place of
its own weights, differentiably, inside a native function of a port check.

A torch module runs through ``torch.func.functional_call`` with its ``named_parameters`` and
copies of its buffers (floating ones cast to the parameters' dtype), so that the module is
left as it was; a Keras model through ``stateless_call`` with its ``trainable_weights``, named
as ``unigrad.port.load_params`` names them. Paths that differ raise ``PortStructureError``
listing the missing and the extra ones; shapes that differ raise ``PortShapeError``.
"""

from __future__ import annotations

from typing import Any

from unigrad.port.params import framework_of_object, is_model


def call(model: Any, params: Any, *args: Any, **kwargs: Any) -> Any:
    """``model(*args, **kwargs)`` with ``params`` (``{path: tensor}``, or nested) as its
    weights; gradients flow to ``params``."""
    if not is_model(model):
        raise TypeError(
            f"unigrad.port.call runs a torch.nn.Module or a Keras model, not a "
            f"{type(model).__name__}"
        )
    if framework_of_object(model) == "torch":
        from unigrad.port.frameworks.torch import call_module

        return call_module(model, params, args, kwargs)
    from unigrad.port.frameworks.tensorflow import call_model

    return call_model(model, params, args, kwargs)


def call_with_inputs(model: Any, params: Any, inputs: Any) -> Any:
    """A model given in place of a function: called with the inputs as its arguments (a tuple
    or list: positional; a dict: keywords for torch, one dict argument for Keras; else one
    argument)."""
    if isinstance(inputs, tuple | list):
        return call(model, params, *inputs)
    if isinstance(inputs, dict) and framework_of_object(model) == "torch":
        return call(model, params, **inputs)
    return call(model, params, inputs)
