"""The example models in torch.nn, and their losses for a port check."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

import unigrad.port


class MLP(nn.Module):
    """5 -> fc1 (8) -> layer norm -> GELU -> fc2 (3)."""

    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(5, 8)
        self.ln = nn.LayerNorm(8, eps=1e-5)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The logits."""
        return self.fc2(self.act(self.ln(self.fc1(x))))


class CNN(nn.Module):
    """1x6x6 images (NCHW) -> conv1 (4 filters, 3x3) -> ReLU -> mean over the image -> fc (3)."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, 3)
        self.fc = nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The logits."""
        return self.fc(F.relu(self.conv1(x)).mean(dim=(2, 3)))


mlp = MLP()
cnn = CNN()


def mlp_loss(params: dict[str, Any], batch: dict[str, Any]) -> torch.Tensor:
    """Mean cross-entropy of the MLP with ``params`` in place of its weights."""
    return F.cross_entropy(unigrad.port.call(mlp, params, batch["x"]), batch["y"])


def cnn_loss(params: dict[str, Any], batch: dict[str, Any]) -> torch.Tensor:
    """Mean cross-entropy of the CNN with ``params`` in place of its weights."""
    return F.cross_entropy(unigrad.port.call(cnn, params, batch["x"]), batch["y"])
