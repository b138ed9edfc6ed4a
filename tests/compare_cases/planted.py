"""Cases written to make the oracle fire: each plants one kind of problem."""

import os
import time

import numpy as np

import unigrad
import unigrad.numpy as unp
from unigrad.case import Case


def good(x):
    return unp.sum(unp.sin(x) * x)


def disagrees(x):
    # a function that returns different numbers on different backends
    bump = 1e-3 if unigrad.get_backend().name == "torch" else 0.0
    return unp.sum(x * x) * (1.0 + bump)


def nan_on_torch(x):
    if unigrad.get_backend().name == "torch":
        return unp.sum(x) * np.nan
    return unp.sum(x)


def crashes_on_torch(x):
    if unigrad.get_backend().name == "torch":
        os.abort()
    return unp.sum(x * 2.0)


def hangs_on_torch(x):
    if unigrad.get_backend().name == "torch":
        time.sleep(600)
    return unp.sum(x * 3.0)


def raises(x):
    raise RuntimeError("this case is broken on purpose")


X = (np.array([0.5, 1.5]),)

CASES = [
    Case(id="planted.good", function=good, inputs=X, transforms=("value", "grad")),
    Case(
        id="planted.wrong_exact",
        function=good,
        inputs=X,
        transforms=("value",),
        expected={"value": 123.0},
    ),
    Case(id="planted.disagree", function=disagrees, inputs=X, transforms=("value", "grad")),
    Case(id="planted.nan", function=nan_on_torch, inputs=X, transforms=("value",)),
    Case(id="planted.crash", function=crashes_on_torch, inputs=X, transforms=("grad",)),
    Case(id="planted.hang", function=hangs_on_torch, inputs=X, transforms=("grad",)),
    Case(id="planted.raises", function=raises, inputs=X, transforms=("grad",)),
    Case(id="planted.after", function=good, inputs=X, transforms=("grad",)),
]
