"""The testing helpers as a new user meets them: backend handles take the arrays a function
receives, ``assert_agree(backends="all")`` steps over declared gaps, the header says what runs."""

from __future__ import annotations

import inspect
import warnings
from pathlib import Path

import numpy as np
import pytest

import unigrad
import unigrad.numpy as unp
from unigrad import registry
from unigrad.errors import UnsupportedError
from unigrad.testing import UnsupportedWarning, assert_agree

from .plugin_helpers import smooth

README = Path(__file__).resolve().parent.parent / "README.md"
IN_PROCESS = ("numpy", "torch", "jax", "tensorflow")


@pytest.mark.parametrize("backend", IN_PROCESS)
def test_a_backend_handle_takes_the_arrays_a_function_receives(backend):
    seen = {}

    def f(x):
        h = unigrad.get_backend()
        seen["dtype"] = h.dtype_name(x)
        seen["shape"] = tuple(h.shape(x))
        seen["is_array"] = h.is_array(x)
        seen["is_float"] = h.is_float(x)
        seen["nested"] = h.dtype_name(*[x])
        return unp.sum(x * x)

    unigrad.grad(f, backend=backend)(np.ones((2, 3), dtype="float32"))
    assert seen == {
        "dtype": "float32",
        "shape": (2, 3),
        "is_array": True,
        "is_float": True,
        "nested": "float32",
    }


@pytest.mark.parametrize("backend", IN_PROCESS)
def test_every_method_a_handle_forwards_unwraps_arrays(backend):
    h = unigrad.get_backend(backend)
    methods = [n for n, v in inspect.getmembers(h.impl, inspect.ismethod) if not n.startswith("_")]
    assert {"dtype_name", "shape", "to_numpy", "asarray", "stop_gradient"} <= set(methods)
    for name in methods:
        assert getattr(getattr(h, name), "__wrapped__", None) is not None, name
    x = unigrad.Array(h.asarray(np.array([1.0, 2.0])), h.impl)
    np.testing.assert_array_equal(h.to_numpy(x), [1.0, 2.0])  # a constant: no derivative lost


def _mxnet_worker() -> bool:
    a = registry.specs()["mxnet"].availability()
    return a.available and a.runs_in == "worker"


@pytest.mark.skipif(not _mxnet_worker(), reason="needs MXNet's environment (make env)")
def test_assert_agree_all_steps_over_a_declared_gap_with_a_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert_agree(smooth, np.array([0.3, 1.2]), transforms=("value", "hessian"), backends="all")
    gaps = [w for w in caught if issubclass(w.category, UnsupportedWarning)]
    assert len(gaps) == 1, [str(w.message) for w in caught]
    text = str(gaps[0].message)
    assert "mxnet left out of hessian of smooth" in text and "does not support" in text
    assert gaps[0].filename == __file__  # points at the caller
    with pytest.raises(UnsupportedError):  # a backend named explicitly must run
        assert_agree(smooth, np.array([0.3, 1.2]), transforms=("hessian",), backends="numpy,mxnet")


def test_assert_agree_all_with_fewer_than_two_left_raises(monkeypatch):
    from unigrad.testing import agree

    monkeypatch.setattr(registry, "available_backends", lambda: ["numpy", "torch"])
    real = agree._on_backend

    def torch_refuses(f, inputs, transform, backend, argnums):
        if backend == "torch":
            raise UnsupportedError("torch", transform, "planted gap")
        return real(f, inputs, transform, backend, argnums)

    monkeypatch.setattr(agree, "_on_backend", torch_refuses)
    with pytest.warns(UnsupportedWarning, match="torch left out of grad"):
        with pytest.raises(UnsupportedError, match="only numpy can run grad"):
            assert_agree(smooth, np.array([0.3, 1.2]), backends="all")


HEADER_TEST = """
def test_uses(unigrad_backend):
    pass
"""


def test_the_header_lists_backends_and_versions_without_options(pytester):
    pytester.makepyfile(HEADER_TEST)
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=1)
    numpy_version = np.__version__
    result.stdout.fnmatch_lines([f"unigrad *: numpy {numpy_version}; float64"])


def test_the_header_comes_first_with_any_unigrad_option(pytester):
    pytester.makepyfile(HEADER_TEST)
    result = pytester.runpytest("-v", "--unigrad-dtypes=both")
    result.assert_outcomes(passed=2)
    lines = result.outlines
    header = [i for i, line in enumerate(lines) if line.startswith("unigrad ")]
    collected = [i for i, line in enumerate(lines) if "collected" in line]
    assert len(header) == 1 and header[0] < collected[0]
    assert lines[header[0]].endswith("; float32, float64")


def test_the_readme_says_how_mxnet_runs_in_the_plugin():
    text = " ".join(README.read_text().split())
    section = text.split("**MXNet in the plugin.**", 1)[1].split("**Reading the report**", 1)[0]
    assert "skipped" in section and ".venv-mxnet/bin/python -m pytest" in section
    assert "worker" in section and "UnsupportedWarning" in section
