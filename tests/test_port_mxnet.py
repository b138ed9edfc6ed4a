"""Issue 13: a port check reaches MXNet through its worker, from the main environment (the
MXNet functions live in ``tests/port_mxnet.py``, which imports MXNet only inside them)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tests import port_mxnet
from unigrad import port, registry
from unigrad.compare.records import Status
from unigrad.port.examples import data
from unigrad.port.examples import torch_models as T
from unigrad.workers.client import probe_worker

pytestmark = pytest.mark.skipif(
    not registry.specs()["mxnet"].availability().available,
    reason="MXNet's environment (.venv-mxnet) is not built here: make env",
)


def test_the_mlp_ported_to_mxnet_agrees_through_its_worker():
    report = port.compare(
        {"torch": T.mlp_loss, "mxnet": port_mxnet.mlp_loss},
        data.mlp_params(),
        data.mlp_batch(),
        dtypes="both",
    )
    assert [x.name for x in report.failures if x.dtype == "float32"] == []
    # MXNet's gradient of erf in float64 carries 2/sqrt(pi) in float32: the leaves before the
    # GELU agree to float32's tolerance only, and the check says so
    bad = [x for x in report.failures if x.dtype == "float64"]
    assert [x.path for x in bad] == ["fc1.weight", "fc1.bias", "ln.weight", "ln.bias"]
    assert all(x.diagnosis.startswith("precision: mxnet agrees with torch") for x in bad)
    assert report.versions["mxnet"] == "mxnet 1.9.1"


def test_an_mxnet_function_that_raises_is_reported_with_its_message():
    report = port.compare(
        {"torch": T.mlp_loss, "mxnet": "tests.port_mxnet:mlp_loss_raises"},
        data.mlp_params(),
        data.mlp_batch(),
    )
    assert {x.status for x in report.leaves} == {Status.ERROR}
    assert report.errors == {"mxnet float64": "KeyError: 'fc1.kernel'"}


def test_an_mxnet_function_must_be_importable_by_the_worker():
    def local(p, batch):
        return p

    with pytest.raises(TypeError, match="define it with def at module level"):
        port.compare({"torch": T.mlp_loss, "mxnet": local}, data.mlp_params(), data.mlp_batch())


def test_the_worker_finds_a_module_that_imports_its_neighbours(tmp_path, monkeypatch):
    (tmp_path / "port_mx_consts.py").write_text("SCALE = 3.0\n")
    (tmp_path / "port_mx_loss.py").write_text(
        "from port_mx_consts import SCALE\n\n\ndef f(p, b):\n"
        "    from mxnet import np as mnp\n\n"
        "    return mnp.tanh(SCALE * mnp.dot(b['x'], p['w'])).sum()\n"
    )
    probe_worker("mxnet")  # started elsewhere: the function is looked up where the caller is
    monkeypatch.chdir(tmp_path)
    rng = np.random.default_rng(0)

    def t(p, b):
        return torch.tanh(3.0 * b["x"] @ p["w"]).sum()

    report = port.compare(
        {"torch": t, "mxnet": "port_mx_loss:f"},
        {"w": rng.standard_normal((3, 2))},
        {"x": rng.standard_normal((4, 3))},
        dtypes="float32",
    )
    assert report.passed, report.table()
