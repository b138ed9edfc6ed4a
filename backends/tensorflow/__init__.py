"""TensorFlow adapter: GradientTape and ForwardAccumulator, tf.function where safe."""

from unigrad import capabilities as C
from unigrad.registry import IN_CHECKOUT, BackendSpec

SPEC = BackendSpec(
    name="tensorflow",
    adapter="unigrad.backends.tensorflow.backend:TensorflowBackend",
    distribution="tensorflow-cpu",
    install_hint=f"pip install 'unigrad[tensorflow]'{IN_CHECKOUT}",
    capabilities={**C.FULL, C.JIT: C.NATIVE},
    description="TensorFlow (GradientTape, ForwardAccumulator)",
    array_modules=("tensorflow", "keras"),
)
