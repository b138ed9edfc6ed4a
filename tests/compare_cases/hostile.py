"""Cases that misbehave on the reference engine only: a segfault, os._exit, sys.exit, a loop.

Each must cost its own cells, never the run (the reference runs in a worker, under the timeout).
"""

import ctypes
import os
import sys

import numpy as np

import unigrad
import unigrad.numpy as unp
from unigrad.case import Case


def _on_numpy() -> bool:
    return unigrad.get_backend().name == "numpy"


def segfaults(x):
    if _on_numpy():
        ctypes.string_at(0)  # reads address 0: SIGSEGV
    return unp.sum(x * x)


def exits(x):
    if _on_numpy():
        os._exit(3)
    return unp.sum(x * x)


def sys_exits(x):
    if _on_numpy():
        sys.exit(3)
    return unp.sum(x * x)


def loops(x):
    while _on_numpy():
        pass
    return unp.sum(x * x)


def fine(x):
    return unp.sum(unp.sin(x) * x)


X = (np.array([1.0, 2.0]),)

CASES = [
    Case(id="hostile.segfault", function=segfaults, inputs=X, transforms=("value", "grad")),
    # an exact value still judges a cell when the reference cannot
    Case(
        id="hostile.exit",
        function=exits,
        inputs=X,
        transforms=("value", "grad"),
        expected={"value": 5.0, "grad": [2.0, 4.0]},
    ),
    Case(id="hostile.sys_exit", function=sys_exits, inputs=X, transforms=("value", "grad")),
    Case(id="hostile.loop", function=loops, inputs=X, transforms=("grad",)),
    Case(id="hostile.fine", function=fine, inputs=X, transforms=("value", "grad")),
]
