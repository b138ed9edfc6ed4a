"""Issue 14: bad input gets a unigrad error that names the argument and the fix, on every
backend; Python values taken from arrays (float(x), if x > 0) work on every backend."""

from __future__ import annotations

import importlib
import importlib.util
import io
import sys

import numpy as np
import pytest

import unigrad
import unigrad.numpy as unp
from tests import user_functions as uf
from unigrad.errors import ArrayIndexError, NumpyFunctionUnsupportedError
from unigrad.testing import check_grads


def loss(x):
    return unp.sum(x * 2.0)


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        (None, "is None"),
        ("abc", "is a str"),
        (object(), "is an object"),
        ({"w": "s"}, "['w'] of loss is a str"),
        (np.array(["a", "b"]), "is an array of <U1"),
        ([1.0, 2.0], "is a list, which unigrad (like JAX) takes as a pytree of 2"),
    ],
    ids=["None", "str", "object", "str-in-dict", "str-array", "list"],
)
def test_bad_input_names_the_argument_and_the_fix(backend, bad, says):
    with pytest.raises(unigrad.DifferentiationTypeError) as info:
        unigrad.grad(loss, backend=backend)(bad)
    text = str(info.value)
    assert "argument 0 ('x')" in text and says in text
    assert "np.array" in text or "float" in text


def test_a_list_of_weights_meeting_numpy_data_is_told_to_pass_an_array(backend):
    # X @ [w0, w1, w2]: NumPy turned the list of traced values into an array, whose error said
    # "cannot become a NumPy array" with no word of the list
    X = np.arange(6.0).reshape(2, 3)
    with pytest.raises(unigrad.DifferentiationTypeError) as info:
        unigrad.grad(lambda p: (X @ p).sum(), backend=backend)([1.0, 2.0, 3.0])
    text = str(info.value)
    assert "is a list, which unigrad (like JAX) takes as a pytree of 3" in text
    assert text.endswith("For an array, pass np.array(...).") and "constant.. " not in text


@pytest.mark.parametrize("transform", ["jvp", "hvp"])
def test_an_array_in_place_of_the_primals_tuple_names_the_fix(backend, transform):
    # an array of length 2 was iterated as two arguments: "loss() takes 1 positional argument"
    x, v = np.array([1.0, 2.0]), np.array([1.0, 0.0])
    make = getattr(unigrad, transform)
    for primals, tangents in [(x, (v,)), ((x,), v)]:
        with pytest.raises(TypeError, match=rf"write {transform}\(f, \(x,\), \(v,\)\)"):
            make(loss, primals, tangents, backend=backend)
    got = make(loss, [x], [v], backend=backend)  # a list is as good as a tuple
    want = (6.0, 2.0) if transform == "jvp" else ([0.0, 0.0],)
    assert [np.asarray(unigrad.to_numpy(g)).tolist() for g in got] == list(want)


def test_integer_input_names_the_argument(backend):
    with pytest.raises(unigrad.DifferentiationTypeError, match="argument 0 .'x'. .*int64"):
        unigrad.grad(loss, backend=backend)(np.arange(3))


def branchy(x):
    if float(x[0]) > 0 and int(x[1]) >= 0 and x.sum().item() > 0:
        return x * 2.0
    return x * 3.0


def test_python_values_from_arrays_are_constants_on_every_backend(backend):
    x = np.array([1.0, 2.0])
    jac = unigrad.to_numpy(unigrad.jacobian(branchy, backend=backend)(x))
    np.testing.assert_allclose(jac, 2 * np.eye(2))
    g = unigrad.to_numpy(unigrad.grad(lambda v: unp.sum(branchy(v) * v), backend=backend)(x))
    np.testing.assert_allclose(g, 4 * x)


@pytest.mark.parametrize(
    "out",
    [
        lambda x: "hello",
        lambda x: b"x",
        lambda x: {"a": "b"},
        lambda x: np.array("3.5"),
        lambda x: (x * 2).astype("int64").sum(),
    ],
    ids=["str", "bytes", "dict-of-str", "str-array", "int-array"],
)
def test_outputs_that_are_not_float_are_errors_never_zero_gradients(backend, out):
    # TensorFlow and the numpy engine once returned [0, 0] for these
    with pytest.raises((unigrad.OutputTypeError, unigrad.EscapedNumpyError)):
        unigrad.grad(out, backend=backend)(np.array([1.0, 2.0]))


def test_a_python_number_output_is_a_constant_everywhere(backend):
    # a constant function has a zero gradient (jax once raised for an int)
    for c in (3, 3.0, True):
        g = unigrad.to_numpy(unigrad.grad(lambda x, c=c: c, backend=backend)(np.array([1.0, 2.0])))
        np.testing.assert_array_equal(g, [0.0, 0.0])


def test_python_values_from_arrays_on_repeated_calls(backend):
    # TensorFlow compiles from the second call: float(x[0]) and x.item() must still work there
    def pyval(x):
        n = int(float(x[0]))
        return unp.sum(x) * float(x[0]) + x[1].item() * 0.0 + sum(x[i] for i in range(n))

    g = unigrad.grad(pyval, backend=backend)
    x = np.array([2.0, 3.0])
    for _ in range(3):
        np.testing.assert_allclose(unigrad.to_numpy(g(x)), [3.0, 3.0])


def test_masks_computed_from_the_traced_value_in_every_transform(backend):
    # torch.func's tensors have no storage of their own: reading a mask's values failed there
    x = np.array([0.2, 0.7, 1.5])

    def f(v):
        return unp.sum(v[v > 0.5] ** 2)

    np.testing.assert_allclose(unigrad.to_numpy(unigrad.grad(f, backend=backend)(x)), [0, 1.4, 3])
    jac = unigrad.jacobian(lambda v: v[v > 0.5] ** 2, backend=backend)(x)
    np.testing.assert_allclose(unigrad.to_numpy(jac), [[0, 1.4, 0], [0, 0, 3]])
    _, t = unigrad.jvp(f, (x,), (np.ones(3),), backend=backend)
    assert np.isclose(float(unigrad.to_numpy(t)), 4.4)
    if unigrad.get_backend(backend).capabilities.get("higher_order") == "native":
        (hv,) = unigrad.hvp(f, (x,), (np.ones(3),), backend=backend)
        np.testing.assert_allclose(unigrad.to_numpy(hv), [0, 2, 2])
        check_grads(lambda v: unp.sum(v**2), x, order=2, backend=backend)


@pytest.mark.parametrize(
    ("f", "says"),
    [
        (lambda x: np.median(x), "np.median"),
        (lambda x: np.add.outer(x, x).sum(), "np.add.outer"),
        (lambda x: np.sin(x, out=np.empty(3)).sum(), "np.sin"),
    ],
    ids=["median", "ufunc-outer", "ufunc-out"],
)
def test_numpy_functions_unigrad_lacks_are_unsupported_never_constants(backend, f, says):
    # the numpy engine ran NumPy's own np.median on its tracers (a conversion error at best)
    with pytest.raises(unigrad.UnsupportedError, match=says) as info:
        unigrad.grad(f, backend=backend)(np.array([1.0, 2.0, 4.0]))
    assert "unigrad.numpy" in str(info.value)


# ---------------------------------------------- MXNet through its worker, from this environment


def _need_the_mxnet_worker():
    if "mxnet" not in unigrad.available_backends():
        pytest.skip("MXNet's environment is not built here (make env builds it)")
    if importlib.util.find_spec("mxnet") is not None:
        pytest.skip("inside .venv-mxnet, MXNet runs in-process (the backend fixture's tests)")


def test_complex_values_through_the_mxnet_worker_are_unigrads_errors():
    # both came back as KeyError from the worker
    _need_the_mxnet_worker()
    with pytest.raises(unigrad.ComplexOutputError, match="complex"):
        unigrad.grad(uf.complex_output, backend="mxnet")(3.0)
    with pytest.raises(unigrad.UnsupportedError, match="complex numbers"):
        unigrad.jacobian(uf.complex_output, backend="mxnet")(np.ones(2))
    with pytest.raises(unigrad.DifferentiationTypeError, match="argument 0 .*complex128"):
        unigrad.grad(uf.with_a_constant, backend="mxnet")(np.array([1 + 2j, 3.0]))


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (lambda: lambda z: z, "is a function, which cannot be sent"),
        (lambda: io.StringIO("data"), "is an open file (_io.StringIO), which cannot be sent"),
        (lambda: {"w": [1.0, object()]}, "['w'][1] of with_a_constant is an object"),
    ],
    ids=["lambda", "open-file", "object-in-pytree"],
)
def test_an_argument_the_worker_cannot_receive_is_named(make, says):
    # a TypeError from json ("Object of type function is not JSON serializable")
    _need_the_mxnet_worker()
    with pytest.raises(TypeError) as info:
        unigrad.grad(uf.with_a_constant, argnums=0, backend="mxnet")(np.ones(3), make())
    assert "argument 1 ('c')" in str(info.value) and says in str(info.value)


def test_errors_raised_in_the_worker_come_back_as_the_same_class():
    # ValueError and KeyError came back as WorkerError; UnsupportedError said its prefix twice
    _need_the_mxnet_worker()
    x = np.ones(4)
    with pytest.raises(ValueError, match="raised by the user's function") as info:
        unigrad.grad(uf.raises_value_error, backend="mxnet")(x)
    assert "raises_value_error" in info.value.remote_traceback
    with pytest.raises(KeyError) as key:
        unigrad.grad(uf.raises_key_error, backend="mxnet")(x)
    assert key.value.args == ("b",)
    with pytest.raises(unigrad.UnsupportedError) as gap:
        unigrad.hessian(uf.reshaped_determinant, backend="mxnet")(x)
    assert str(gap.value).count("does not support") == 1
    assert gap.value.backend == "mxnet" and gap.value.capability == "hessian"
    with pytest.raises(NumpyFunctionUnsupportedError, match="np.median"):
        unigrad.grad(uf.numpy_median, backend="mxnet")(x)
    with pytest.raises(ArrayIndexError):
        unigrad.grad(lambda_free_index, backend="mxnet")(np.ones(3))
    # MXNet's message is a C++ traceback: its first line said only "Traceback (most recent
    # call last):", and the message promised a __cause__ that stays in the worker
    with pytest.raises(unigrad.FrameworkError) as bad:
        unigrad.grad(uf.bad_reshape, backend="mxnet")(np.ones(6))
    text = str(bad.value)
    assert "Cannot reshape array of size 6 into shape [4,4]" in text
    assert "Traceback" not in text and "MXNetError: MXNetError" not in text
    assert ".remote_traceback" in text and "__cause__" not in text
    assert "bad_reshape" in bad.value.remote_traceback


def lambda_free_index(x):
    return x[10]


def test_a_module_found_only_through_sys_path_gets_a_hint(tmp_path, monkeypatch):
    # the worker answered "No module named ..." and nothing more
    _need_the_mxnet_worker()
    (tmp_path / "elsewhere_mod.py").write_text("def f(x):\n    return (x * x).sum()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    mod = importlib.import_module("elsewhere_mod")
    try:
        with pytest.raises(ModuleNotFoundError, match="elsewhere_mod.*PYTHONPATH"):
            unigrad.grad(mod.f, backend="mxnet")(np.ones(2))
    finally:
        sys.modules.pop("elsewhere_mod", None)


_MAKERS = {
    "torch": lambda: __import__("torch").ones(2, dtype=__import__("torch").float64),
    "jax": lambda: __import__("jax.numpy").numpy.ones(2),
    "tensorflow": lambda: __import__("tensorflow").ones(2, dtype="float64"),
}


@pytest.mark.parametrize(
    ("owner", "backend"), [("torch", None), ("jax", "torch"), ("tensorflow", "jax")]
)
def test_another_frameworks_tensor_names_its_backend(owner, backend):
    # was "is a Tensor (...), not a number or an array" ("a ArrayImpl", "a EagerTensor")
    pytest.importorskip(owner)
    if backend is not None:
        pytest.importorskip(backend)
    x = _MAKERS[owner]()
    with pytest.raises(unigrad.DifferentiationTypeError) as info:
        unigrad.grad(lambda t: (t**2).sum(), backend=backend)(x)
    text = str(info.value)
    assert f"is a {owner} tensor" in text and f"backend={owner!r}" in text
    assert f"runs on backend {backend or 'numpy'!r}" in text and "to_numpy" in text


def scaled(x, c=1.0):
    return unp.sum(x * x) * c


def test_a_differentiated_argument_passed_by_keyword_says_to_pass_it_positionally():
    # said only "was called with 0 positional argument(s); argnums must index them"
    with pytest.raises(TypeError) as info:
        unigrad.grad(scaled)(x=np.ones(3), c=2.0)
    text = str(info.value)
    assert "pass 'x' positionally" in text and "held constant" in text
    g = unigrad.grad(scaled)(np.ones(3), c=2.0)  # the fix works
    np.testing.assert_allclose(unigrad.to_numpy(g), 4.0 * np.ones(3))


def test_vjp_primals_in_one_tuple_name_the_fix_through_the_mxnet_worker():
    # the worker's bare TypeError / IndexError came back as they were
    _need_the_mxnet_worker()
    from tests.test_api import _first_three, _product

    x = np.ones(3)
    with pytest.raises(unigrad.DifferentiationTypeError, match=r"vjp\(f, x0, x1\), not"):
        unigrad.vjp(_product, (x, x), backend="mxnet")
    with pytest.raises(unigrad.DifferentiationTypeError, match=r"vjp\(f, x\), not"):
        unigrad.vjp(_first_three, (x,), backend="mxnet")


def test_a_complex_tangent_or_cotangent_for_a_real_value_is_refused(backend):
    # its imaginary part was dropped with only NumPy's ComplexWarning
    x = np.array([1.0, 4.0])
    # MXNet has no complex dtype at all: its own typed refusal
    refused = unigrad.UnsupportedError if backend == "mxnet" else unigrad.DifferentiationTypeError
    with pytest.raises(refused, match="imaginary part would be dropped|no complex"):
        unigrad.jvp(unp.sqrt, (x,), (np.array([1j, 2 + 1j]),), backend=backend)
    _, back = unigrad.vjp(unp.sqrt, x, backend=backend)
    with pytest.raises(refused, match="imaginary part would be dropped|no complex"):
        back(np.array([1j, 1.0 + 0j]))


def test_an_integer_argument_of_jvp_is_told_how_to_hold_it_constant(backend):
    # jvp has no argnums: the message told it to "leave this argument out of argnums"
    with pytest.raises(unigrad.DifferentiationTypeError, match="closing over it") as info:
        unigrad.jvp(loss, (np.array([1, 2]),), (np.array([1, 1]),), backend=backend)
    assert "argnums" not in str(info.value)
    with pytest.raises(unigrad.DifferentiationTypeError, match="out of argnums"):
        unigrad.grad(loss, backend=backend)(np.array([1, 2]))


def test_tolist_of_a_value_being_differentiated_is_a_clear_error(backend):
    """x.tolist() made Python numbers (constants): torch, JAX, TensorFlow and MXNet returned an
    all-zero gradient for sum(v**2 for v in x.tolist()), the engine an AttributeError."""
    x = np.array([1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match=r"tolist\(\) of a value being differentiated"):
        unigrad.grad(lambda v: sum(e**2 for e in v.tolist()), backend=backend)(x)
    # a detached value may become Python numbers or a NumPy array: it is a constant
    g = unigrad.grad(
        lambda v: unp.sum(v * np.asarray(unigrad.detach(v))) + unigrad.detach(v).tolist()[0] * v[1],
        backend=backend,
    )
    for _ in range(3):  # past the compiling backends' first calls
        np.testing.assert_array_equal(unigrad.to_numpy(g(x)), [1.0, 3.0, 3.0])
    # outside a transform tolist is NumPy's
    with unigrad.use_backend(backend):
        assert unp.asarray(x).tolist() == [1.0, 2.0, 3.0]


def test_item_assignment_names_the_fix_on_every_backend(backend):
    def f(v):
        v[0] = 0.0
        return unp.sum(v)

    with pytest.raises(TypeError, match="cannot be changed in place.*where, concatenate or stack"):
        unigrad.grad(f, backend=backend)(np.array([1.0, 2.0]))


def test_arrays_made_under_use_backend_become_numpy_arrays(backend):
    """np.asarray of an array computed under use_backend (no transform running) said "a value
    being differentiated cannot become a NumPy array"."""
    with unigrad.use_backend(backend):
        y = unp.sin(np.array([1.0, 2.0]))
        np.testing.assert_array_equal(np.asarray(y), np.sin([1.0, 2.0]))
        assert y.tolist() == np.sin([1.0, 2.0]).tolist()


def test_an_array_of_another_framework_closed_over_is_named(backend):
    """An array made under use_backend("torch") (or a torch.Tensor) closed over by a function
    differentiated on another backend: the engine said "backend 'torch' does not support
    np.result_type", JAX and TensorFlow Python's bare "unsupported operand type(s)"."""
    torch = pytest.importorskip("torch")
    if backend == "torch":
        pytest.skip("torch's own arrays are this backend's")
    with unigrad.use_backend("torch"):
        made = unp.sin(np.array([1.0, 2.0, 3.0]))
    raw = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    for other in (made, raw):
        with pytest.raises(
            TypeError, match=r"cannot combine a \w+ array with a torch array"
        ) as info:
            unigrad.grad(lambda x, o=other: (x * o).sum(), backend=backend)(np.ones(3))
        assert "unigrad.to_numpy" in str(info.value)
    # a torch tensor that requires grad, on the left: torch's own RuntimeError ("Can't call
    # numpy() on Tensor that requires grad") escaped from inside torch
    needs = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)
    with pytest.raises(unigrad.errors.UnigradError) as info:
        unigrad.grad(lambda x, o=needs: (o * x).sum(), backend=backend)(np.ones(3))
    text = str(info.value)
    assert "torch" in text and "unigrad.to_numpy" in text, text
