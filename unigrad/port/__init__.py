"""Port checks: native implementations of one model in several frameworks, compared value and
gradient, leaf by leaf.

``unigrad.port.compare({"torch": f_torch, "jax": f_jax}, params=..., inputs=...)`` runs each
function with the framework's own arrays and autodiff, maps every gradient back to the shared
parameters through the ``layout``, and returns a ``PortReport``: one row per output and
parameter, judged with ``unigrad compare``'s tolerances, with a diagnosis of the known porting
mistakes where one explains a failure. Importing this package imports no framework.
"""

from unigrad.port.bind import call
from unigrad.port.check import compare
from unigrad.port.params import KERAS_NAMES, load_inputs, load_params, save_params
from unigrad.port.paths import PortShapeError, PortStructureError
from unigrad.port.report import Leaf, PortMismatchError, PortReport

__all__ = [
    "KERAS_NAMES",
    "Leaf",
    "PortMismatchError",
    "PortReport",
    "PortShapeError",
    "PortStructureError",
    "call",
    "compare",
    "load_inputs",
    "load_params",
    "save_params",
]
