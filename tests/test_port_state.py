"""Issue 13, a tester's finding: a port check leaves the user's torch module exactly as it was
(a module in training mode updates its buffers in place: BatchNorm's running statistics and
num_batches_tracked)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from unigrad import port


def test_a_torch_module_with_batch_norm_is_left_as_it_was():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Linear(4, 2))
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    params = {k: v.detach().double().numpy() for k, v in model.named_parameters()}

    def loss(p, batch):
        return port.call(model, p, batch["x"]).square().mean()

    def module_loss(p, batch):
        return (port.call(model, p, batch["x"]) ** 2).sum() / 12.0

    report = port.compare(
        {"torch": loss, "torch:v2": module_loss},
        params,
        {"x": np.random.default_rng(1).standard_normal((6, 3))},
        dtypes="both",
    )
    assert report.passed, report.table(only_failing=True)
    after = model.state_dict()
    assert list(after) == list(before)
    for k, v in before.items():
        assert after[k].dtype == v.dtype and torch.equal(after[k], v), k
    assert int(after["1.num_batches_tracked"]) == 0
    assert model.training


def test_a_module_given_directly_is_left_as_it_was():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    params = {k: v.detach().numpy() for k, v in model.named_parameters()}
    x = np.random.default_rng(2).standard_normal((5, 3)).astype("float32")
    report = port.compare({"torch": model, "torch:v2": model}, params, (x,), dtypes="both")
    assert report.passed, report.table(only_failing=True)
    for k, v in before.items():
        assert torch.equal(model.state_dict()[k], v), k
