"""TensorFlow adapter: GradientTape and ForwardAccumulator, tf.function where safe."""

from unigrad import capabilities as C
from unigrad.registry import BackendSpec

CAPABILITIES = {
    C.REVERSE: C.NATIVE,
    C.FORWARD: C.NATIVE,
    C.HIGHER_ORDER: C.NATIVE,
    C.FLOAT64: C.NATIVE,
    C.JIT: C.NATIVE,
    C.VECTORIZED_JACOBIAN: C.NATIVE,
    C.CUSTOM_GRADIENT: C.NATIVE,
}

SPEC = BackendSpec(
    name="tensorflow",
    adapter="unigrad.backends.tensorflow.backend:TensorflowBackend",
    module="tensorflow",
    distribution="tensorflow-cpu",
    install_hint="pip install 'unigrad[tensorflow]'  (or `make env` in a unigrad checkout)",
    capabilities=CAPABILITIES,
    description="TensorFlow (GradientTape, ForwardAccumulator)",
)
