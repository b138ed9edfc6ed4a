"""A backend with one derivative rule deliberately wrong (a fixture of tests/test_fuzz*.py):
unigrad's reference engine, except that d tanh(x)/dx is 1 + tanh(x)**2 instead of
1 - tanh(x)**2. Values are right; every derivative through tanh is wrong."""

from unigrad import capabilities as C
from unigrad.registry import BackendSpec

SPEC = BackendSpec(
    name="buggy",
    adapter="unigrad_buggy.backend:BuggyBackend",
    module="unigrad_buggy",
    distribution="unigrad-buggy",
    capabilities=C.FULL,
    description="the reference engine with a wrong tanh derivative (a test fixture)",
    array_modules=("numpy", "unigrad"),
)
