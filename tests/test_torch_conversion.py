"""torch's conversions both ways: NumPy inputs become tensors, results become NumPy arrays,
whatever kind of tensor torch hands back (views with a conjugate or negative bit, ZeroTensors,
tensors that require grad, values that escaped a torch.func transform)."""

from __future__ import annotations

import numpy as np
import pytest

import unigrad
import unigrad.numpy as unp

torch = pytest.importorskip("torch")


@pytest.fixture
def impl():
    return unigrad.get_backend("torch").impl


@pytest.mark.parametrize(
    "make, want",
    [
        (lambda t: torch.tensor([1.0, -2.0]), [1.0, -2.0]),
        (lambda t: torch.tensor([1.0, -2.0], requires_grad=True), [1.0, -2.0]),
        (lambda t: torch.tensor([1.0 + 2.0j]).conj(), [1.0 - 2.0j]),
        (lambda t: torch._neg_view(torch.tensor([1.0, -2.0])), [-1.0, 2.0]),
        (lambda t: torch._efficientzerotensor(2, dtype=torch.float64), [0.0, 0.0]),
        (lambda t: torch.arange(6.0).reshape(2, 3).T[1], [1.0, 4.0]),
    ],
    ids=["plain", "requires-grad", "conjugate-view", "negative-view", "zero-tensor", "strided"],
)
def test_to_numpy_reads_every_kind_of_tensor(impl, make, want):
    got = unigrad.to_numpy(make(torch))
    assert isinstance(got, np.ndarray)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(impl.to_numpy(make(torch)), want)


def test_to_numpy_of_a_value_that_escaped_a_transform(impl):
    leaked = []

    def f(x):
        leaked.append(x)
        return (x * x).sum()

    torch.func.grad(f)(torch.tensor([1.0, 2.0]))
    torch.func.jvp(f, (torch.tensor([3.0, 4.0]),), (torch.ones(2),))
    np.testing.assert_array_equal(impl.to_numpy(leaked[0]), [1.0, 2.0])
    np.testing.assert_array_equal(impl.to_numpy(leaked[1]), [3.0, 4.0])


def test_a_numpy_input_becomes_a_tensor_of_its_dtype(impl):
    for dtype in ("float32", "float64", "int64", "bool", "complex128"):
        t = impl.asarray(np.zeros(3, dtype=dtype))
        assert type(t) is torch.Tensor and impl.dtype_name(t) == dtype
    read_only = np.arange(3.0)
    read_only.flags.writeable = False
    np.testing.assert_array_equal(impl.asarray(read_only).numpy(), [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(impl.asarray(np.arange(6.0)[::-2]).numpy(), [5.0, 3.0, 1.0])
    with pytest.raises(TypeError, match="numpy.str_"):
        impl.asarray(np.array(["a"]))


def test_a_numpy_input_follows_torchs_default_device(impl):
    # torch.set_default_device installs a torch function mode: inputs go where it says
    torch.set_default_device("meta")
    try:
        t = impl.asarray(np.zeros(2))
    finally:
        torch.set_default_device(None)
    assert t.device.type == "meta"
    assert impl.asarray(np.zeros(2)).device.type == "cpu"


def test_the_gradient_of_a_numpy_input_is_right_on_every_call():
    # the input tensor shares the NumPy array's memory: new values in it mean new gradients
    g = unigrad.grad(lambda x: unp.sum(x**3), backend="torch")
    x = np.array([1.0, 2.0])
    for k in range(3):
        x[:] = [1.0 + k, 2.0 + k]
        np.testing.assert_allclose(unigrad.to_numpy(g(x)), 3 * x**2)
