"""MXNet adapter. MXNet 1.9 needs numpy<2, so it usually runs in .venv-mxnet through a worker."""

import importlib.util
import sys

from unigrad import capabilities as C
from unigrad.registry import Availability, BackendSpec, dist_version

CAPABILITIES = {
    C.REVERSE: C.NATIVE,
    # emulated through vjps, one per output row, and refused where a row holds nan there
    C.FORWARD: C.PARTIAL,
    C.HIGHER_ORDER: C.PARTIAL,  # only where MXNet registers second-order gradients
    C.FLOAT64: C.NATIVE,
}

INSTALL_HINT = (
    "MXNet lives in its own environment: run `make env` in the unigrad checkout to build "
    ".venv-mxnet, or point UNIGRAD_MXNET_PYTHON (or [tool.unigrad] mxnet_python) at a python "
    "that has mxnet==1.9.1 and unigrad installed"
)


def _probe(spec: BackendSpec) -> Availability:
    if "mxnet" in sys.modules or importlib.util.find_spec("mxnet") is not None:
        return Availability(True, dist_version("mxnet"), "process")
    from unigrad.workers.interpreters import dist_version_in, find_python

    python, origin = find_python("mxnet")
    if python is None:
        return Availability(False, None, "worker", origin)
    version = dist_version_in(python, "mxnet")
    if version is None:
        return Availability(False, None, "worker", f"{python} ({origin}) has no mxnet installed")
    return Availability(True, version, "worker", f"{python}")


SPEC = BackendSpec(
    name="mxnet",
    adapter="unigrad.backends.mxnet.backend:MxnetBackend",
    module="mxnet",
    distribution="mxnet",
    install_hint=INSTALL_HINT,
    capabilities=CAPABILITIES,
    description="MXNet 1.9 (mxnet.np, mxnet.autograd)",
    probe=_probe,
)
