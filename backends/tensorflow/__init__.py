"""TensorFlow adapter: GradientTape and ForwardAccumulator, tf.function where safe."""

from unigrad import capabilities as C
from unigrad.registry import BackendSpec

CAPABILITIES = {**C.FULL, C.JIT: C.NATIVE}

SPEC = BackendSpec(
    name="tensorflow",
    adapter="unigrad.backends.tensorflow.backend:TensorflowBackend",
    module="tensorflow",
    distribution="tensorflow-cpu",
    install_hint="pip install 'unigrad[tensorflow]'  (or `make env` in a unigrad checkout)",
    capabilities=CAPABILITIES,
    description="TensorFlow (GradientTape, ForwardAccumulator)",
)
