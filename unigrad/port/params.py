"""Shared parameters and inputs: read from a pytree, an ``.npz``, a torch ``state_dict`` or
module, or a Keras model's weights, as NumPy arrays.

Paths follow torch's ``state_dict`` names. A Keras weight is named by its layers and its own
name, with the model's name left out and Keras's weight names written as torch's
(``fc1/kernel`` is ``fc1.weight``; see ``KERAS_NAMES``), so that a torch module and a Keras
port whose layers carry the same names hold the same paths.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from unigrad import pytree
from unigrad.port.paths import flatten

#: Keras weight names as torch calls them (the usual renaming of a port, as in Hugging Face's
#: converters): a Dense or Conv kernel, a normalisation's scale and offset, an embedding.
KERAS_NAMES = {"kernel": "weight", "gamma": "weight", "beta": "bias", "embeddings": "weight"}
TORCH_FILES = (".pt", ".pth", ".bin")


def framework_of_object(obj: Any) -> str | None:
    """'torch' for a torch module or tensor, 'tensorflow' for a Keras layer or a TF tensor,
    'jax' for a jax array, 'mxnet' for an MXNet array, else None (nothing is imported)."""
    for cls in type(obj).__mro__:
        root = (cls.__module__ or "").split(".")[0]
        if root in ("torch", "jax", "jaxlib", "mxnet"):
            return "jax" if root == "jaxlib" else root
        if root in ("keras", "tensorflow", "tf_keras"):
            return "tensorflow"
    return None


def is_model(obj: Any) -> bool:
    """Whether ``obj`` is a torch module or a Keras layer or model."""
    fw = framework_of_object(obj)
    if fw == "torch":
        import torch

        return isinstance(obj, torch.nn.Module)
    if fw == "tensorflow":
        import keras

        return isinstance(obj, keras.layers.Layer)
    return False


def keras_weights(model: Any) -> dict[str, Any]:
    """A Keras model's trainable weights by path (``fc1.weight``), in its own order."""
    prefix = f"{model.name}/"
    out: dict[str, Any] = {}
    for v in model.trainable_weights:
        path = v.path[len(prefix) :] if v.path.startswith(prefix) else v.path
        parts = path.split("/")
        parts[-1] = KERAS_NAMES.get(parts[-1], parts[-1])
        name = ".".join(parts)
        if name in out:
            raise ValueError(
                f"two weights of the Keras model {model.name!r} are both named {name!r} "
                "after renaming (give its layers distinct names)"
            )
        out[name] = v
    return out


def to_numpy_leaf(x: Any) -> np.ndarray:
    """Any framework's array (a torch parameter, a Keras variable) as a NumPy array."""
    fw = framework_of_object(x)
    if fw == "torch":
        return x.detach().cpu().numpy()
    if fw == "mxnet":
        return x.asnumpy()
    if fw == "tensorflow" and hasattr(x, "numpy"):
        return np.asarray(x.numpy())
    return np.asarray(x)


def _npz(path: Path) -> dict[str, np.ndarray]:
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def _file(path: Path, model: Any) -> Any:
    name = path.name.lower()
    if not path.exists():
        raise FileNotFoundError(f"no such parameter file: {path}")
    if name.endswith(".npz"):
        return _npz(path)
    if name.endswith(TORCH_FILES):
        import torch

        state = torch.load(path, map_location="cpu", weights_only=True)
        if not isinstance(state, Mapping):
            raise ValueError(f"{path} holds a {type(state).__name__}, not a state_dict")
        return state
    if name.endswith(".h5") or name.endswith(".keras"):
        if model is None or framework_of_object(model) != "tensorflow":
            raise ValueError(
                f"{path} is a Keras weights file, which names its arrays by position only: "
                "give the Keras model it belongs to, load_params(path, model=model)"
            )
        model.load_weights(path)
        return model
    raise ValueError(
        f"{path}: parameters are read from .npz, a torch state_dict (.pt, .pth, .bin) or Keras "
        "weights (.weights.h5, with model=)"
    )


def load_params(source: Any, model: Any = None) -> dict[str, np.ndarray]:
    """The shared parameters as ``{path: NumPy array}``.

    ``source``: a pytree of arrays (any framework's), a torch ``state_dict`` or module (its
    ``named_parameters``), a Keras model (its ``trainable_weights``), or a file: ``.npz``,
    a torch state_dict (``.pt``, ``.pth``, ``.bin``), or Keras weights (``.weights.h5``; give
    the Keras ``model`` they belong to: they are loaded into it, as Keras does, and read back).
    Integer leaves of a state_dict (``num_batches_tracked``) are left out.
    """
    return read_params(source, model)[1]


def read_params(source: Any, model: Any = None) -> tuple[Any, dict[str, np.ndarray]]:
    """``(tree, flat)``: the parameters in their own structure (a nested dict stays nested),
    and ``{path: array}`` (see ``load_params``)."""
    if isinstance(source, str | os.PathLike):
        source = _file(Path(source), model)
    if is_model(source):
        if framework_of_object(source) == "torch":
            flat = {k: to_numpy_leaf(v) for k, v in source.named_parameters()}
        else:
            flat = {k: to_numpy_leaf(v) for k, v in keras_weights(source).items()}
        return flat, flat
    tree = pytree.tree_map(to_numpy_leaf, _plain(source))
    root = "" if type(tree) in (dict, list, tuple) else "params"
    flat = flatten(tree, root, what="the parameters")
    if isinstance(source, Mapping) and any(
        framework_of_object(v) == "torch" for v in source.values()
    ):  # a state_dict: its integer counters are not parameters
        flat = {p: v for p, v in flat.items() if np.issubdtype(v.dtype, np.floating)}
        tree = flat
    return tree, flat


def _plain(tree: Any) -> Any:
    """A mapping (an OrderedDict state_dict, a FrozenDict) as a plain dict, recursively."""
    if isinstance(tree, Mapping):
        return {k: _plain(v) for k, v in tree.items()}
    if type(tree) in (list, tuple):
        return type(tree)(_plain(v) for v in tree)
    return tree


def save_params(path: str | os.PathLike, params: Any) -> Path:
    """Write parameters (anything ``load_params`` reads) to an ``.npz`` keyed by path."""
    flat = load_params(params)
    path = Path(path)
    np.savez(path, **flat)
    return path if path.suffix == ".npz" else path.with_name(path.name + ".npz")


def load_inputs(source: Any) -> Any:
    """Inputs as a NumPy pytree: a pytree of arrays or numbers, or an ``.npz`` (a dict)."""
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if not path.exists():
            raise FileNotFoundError(f"no such inputs file: {path}")
        if not path.name.lower().endswith(".npz"):
            raise ValueError(f"{path}: inputs are read from .npz files")
        return _npz(path)
    return pytree.tree_map(to_numpy_leaf, _plain(source))
