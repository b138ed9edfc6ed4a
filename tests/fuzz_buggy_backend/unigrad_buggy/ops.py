"""The reference engine's ops, with tanh's derivative of the wrong sign."""

from typing import Any

import numpy as np
from unigrad.backends.numpy import ops as _ops
from unigrad.backends.numpy.elementwise import add, multiply, unary

tanh = unary("tanh", np.tanh, lambda x, ans: add(1, multiply(ans, ans)))


def __getattr__(name: str) -> Any:
    return getattr(_ops, name)
