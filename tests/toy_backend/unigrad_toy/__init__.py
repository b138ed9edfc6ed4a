"""A unigrad backend over HIPS autograd, in one folder: the spec, read without imports."""

from unigrad import capabilities as C
from unigrad.registry import BackendSpec

SPEC = BackendSpec(
    name="toy",
    adapter="unigrad_toy.backend:ToyBackend",
    module="autograd",
    capabilities={C.REVERSE: C.NATIVE, C.FORWARD: C.NATIVE, C.HIGHER_ORDER: C.NATIVE},
    description="HIPS autograd (a test fixture)",
    array_modules=("autograd",),
)
