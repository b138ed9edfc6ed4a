"""Issue 13: a port check with MXNet in process (inside .venv-mxnet, where the Makefile runs
this file) and through its worker (from the main environment), against the reference engine.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests import port_mxnet
from unigrad import port, registry
from unigrad.compare.records import Status

pytestmark = pytest.mark.skipif(
    not registry.specs()["mxnet"].availability().available,
    reason="MXNet's environment (.venv-mxnet) is not built here: make env",
)
RNG = np.random.default_rng(3)
W = {"w": RNG.normal(size=(3, 2)), "b": RNG.normal(size=2)}
X = RNG.normal(size=(4, 3))


def numpy_tanh_loss(p, x):
    return np.sum(np.tanh(x @ p["w"] + p["b"]))


def test_mxnet_port_agrees_with_the_reference_engine():
    report = port.compare(
        {"numpy": numpy_tanh_loss, "mxnet": port_mxnet.tanh_loss}, W, X, dtypes="both"
    )
    assert report.passed, report.table()
    assert [x.name for x in report.leaves] == ["value output", "grad w", "grad b"] * 2


def test_mxnet_port_with_a_wrong_bias_fails_on_its_leaves():
    wrong = {"w": W["w"], "b": W["b"] + 0.5}
    report = port.compare(
        {"numpy": numpy_tanh_loss, "mxnet": port_mxnet.tanh_loss},
        W,
        X,
        layout={"mxnet": {"b": (lambda a: a + 0.5, lambda g: g)}},
    )
    assert {x.status for x in report.leaves} == {Status.FAIL}
    direct = port.compare({"numpy": numpy_tanh_loss, "mxnet": port_mxnet.tanh_loss}, wrong, X)
    assert direct.passed
