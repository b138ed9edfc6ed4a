"""The example MLP written for MXNet (``mxnet.np``), for the port checks that reach MXNet
through its worker. MXNet is imported inside the functions: this module is imported in the
main environment too (to name the functions), where MXNet is not installed."""

from __future__ import annotations

from typing import Any


def _logits(p: dict[str, Any], x: Any) -> Any:
    from mxnet import np as mnp
    from mxnet import npx

    h = mnp.dot(x, p["fc1.weight"].T) + p["fc1.bias"]
    h = npx.layer_norm(h, p["ln.weight"], p["ln.bias"], axis=-1, eps=1e-5)
    h = 0.5 * h * (1.0 + npx.erf(h * (2**-0.5)))
    return mnp.dot(h, p["fc2.weight"].T) + p["fc2.bias"]


def mlp_loss(p: dict[str, Any], batch: dict[str, Any]) -> Any:
    """Mean cross-entropy of the MLP (torch's layouts: weights are (out, in))."""
    from mxnet import npx

    logp = npx.log_softmax(_logits(p, batch["x"]), axis=-1)
    return -npx.pick(logp, batch["y"], axis=-1).mean()


def mlp_loss_raises(p: dict[str, Any], batch: dict[str, Any]) -> Any:
    """A port that fails: it asks for a parameter the shared ones do not have."""
    return _logits({**p, "fc1.weight": p["fc1.kernel"]}, batch["x"]).sum()


def tanh_loss(p: dict[str, Any], x: Any) -> Any:
    """sum(tanh(x @ w + b)), in MXNet."""
    from mxnet import np as mnp

    return mnp.tanh(mnp.dot(x, p["w"]) + p["b"]).sum()
