"""Testing helpers: derivatives against finite differences, and agreement across backends.

``check_grads`` compares one backend with central finite differences; ``assert_agree`` compares
backends with each other, with the tolerances of ``unigrad compare``; ``assert_port`` compares
native implementations of one model in several frameworks (``unigrad.port``). The pytest
plugin and the conformance suite build on them.
"""

from unigrad.testing.agree import AGREE_TRANSFORMS, UnsupportedWarning, assert_agree
from unigrad.testing.gradcheck import GradientCheckError, check_grads, numerical_jacobian
from unigrad.testing.port import assert_port

__all__ = [
    "AGREE_TRANSFORMS",
    "GradientCheckError",
    "UnsupportedWarning",
    "assert_agree",
    "assert_port",
    "check_grads",
    "numerical_jacobian",
]
