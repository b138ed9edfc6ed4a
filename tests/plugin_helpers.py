"""Module-level functions for the plugin tests (assert_agree reaches MXNet by import path)."""

import unigrad
import unigrad.numpy as unp


def smooth(x):
    return unp.sum(unp.sin(x) * x)


def backend_dependent(x):
    bump = 1e-3 if unigrad.get_backend().name == "torch" else 0.0
    return unp.sum(x * x) * (1.0 + bump)
