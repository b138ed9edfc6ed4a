"""Shared fixtures: the in-process backends and dtypes the API tests run on."""

from __future__ import annotations

import contextlib
import importlib.util
import os

import numpy as np
import pytest

import unigrad
from unigrad.api import config, switch

pytest_plugins = ["pytester"]

IN_PROCESS = ["numpy", "torch", "jax", "tensorflow"]
if importlib.util.find_spec("mxnet") is not None:  # inside .venv-mxnet
    IN_PROCESS.append("mxnet")
# more backends to run the API tests on (tests/test_toy_backend.py adds an installed one)
IN_PROCESS += [b for b in os.environ.get("UNIGRAD_TEST_BACKENDS", "").split(",") if b]
DTYPES = ["float32", "float64"]

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def have(name: str) -> bool:
    spec = unigrad.registry.specs()[name]
    return importlib.util.find_spec(spec.module) is not None


@pytest.fixture(params=IN_PROCESS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each in-process backend; a framework that is not installed is skipped with the hint."""
    name = request.param
    if not have(name):
        pytest.skip(f"{name} not installed: {unigrad.registry.specs()[name].install_hint}")
    return name


@pytest.fixture(params=DTYPES)
def dtype(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture(autouse=True)
def _clean_switch(monkeypatch: pytest.MonkeyPatch):
    """Every test starts with no set_backend, no UNIGRAD_BACKEND and no cached config."""
    monkeypatch.delenv("UNIGRAD_BACKEND", raising=False)
    switch.set_backend(None)
    config.clear_cache()
    yield
    switch.set_backend(None)
    config.clear_cache()


@contextlib.contextmanager
def allow_gap(backend: str, capability: str):
    """Accept UnsupportedError from a backend that declares ``capability`` partial/emulated.

    A backend that declares it native must deliver; any value that does come back is still
    checked by the test body.
    """
    try:
        yield
    except unigrad.UnsupportedError:
        level = unigrad.get_backend(backend).capabilities.get(capability)
        if level == "native":
            raise
        pytest.skip(f"{backend}: declared gap ({capability}: {level or 'no'}), raised as expected")


def tol(dtype: str) -> dict:
    """Comparison tolerances per dtype (the same table the README documents)."""
    return {"float32": dict(rtol=1e-5, atol=1e-6), "float64": dict(rtol=1e-12, atol=1e-12)}[dtype]


def as_np(x):
    return unigrad.to_numpy(x)


def arr(values, dtype: str) -> np.ndarray:
    return np.asarray(values, dtype=dtype)
