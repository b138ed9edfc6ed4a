"""Each framework's own max pool and layer norm behind unigrad.nn's arguments (nn/native.py):
the adapters only move axes and padding, so off the kinks they give unigrad.nn's values and
gradients exactly; at a tied window and with no epsilon given, each framework's own convention
shows. ``unigrad fuzz --native`` and the native catalogue use them; a native repro carries their
source and runs without unigrad.

MXNet runs this file in .venv-mxnet (Makefile's MXNET_TESTS).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import unigrad
from unigrad import registry
from unigrad.fuzz.native import native_name, native_op
from unigrad.fuzz.program import Input, Node, Program, Ref, table_op

R = np.random.default_rng(20)
POOLS = [
    ((R.standard_normal((2, 2, 4, 4)), 2), {}),
    ((R.standard_normal((1, 2, 5, 5)), 3), {"stride": 1, "padding": 1}),
    ((R.standard_normal((1, 1, 5, 5)), 3), {"stride": 1, "padding": 2}),  # over torch's half
    ((R.standard_normal((1, 1, 5, 4)), (2, 3)), {"stride": 2, "padding": "same"}),
    ((R.standard_normal((1, 1, 6, 5)), 3), {"stride": (2, 1), "padding": ((2, 0), (1, 2))}),
]
NORMS = [
    ((R.standard_normal((3, 4)), R.standard_normal(4), R.standard_normal(4)), {}),
    (
        (R.standard_normal((2, 3, 4)), R.standard_normal((3, 4)), R.standard_normal((3, 4))),
        {"axis": (1, 2)},
    ),
    ((R.standard_normal((3, 4, 2)), R.standard_normal(3), R.standard_normal(3)), {"axis": 0}),
    ((R.standard_normal((2, 3)) * 0.01, R.standard_normal(3), R.standard_normal(3)), {"eps": 1e-3}),
]
FRAMEWORK_EPS = {"torch": 1e-5, "jax": 1e-5, "tensorflow": 1e-3, "mxnet": 1e-5}


def _native(backend: str) -> str:
    if backend == "numpy":
        pytest.skip("the reference engine is unigrad's meaning, not a framework's")
    return backend


def _grads(backend: str, op: str, args: tuple, kw: dict) -> list[np.ndarray]:
    """d sum(out * W) / d args, W fixed, with the framework's own op and idiom."""
    fn = native_op(backend, op)
    w = np.linspace(-1.0, 2.0, np.asarray(table_op(op)(*args, **kw)).size)
    impl = registry.handle(backend).impl

    def weighted(*a):
        out = fn(*a, **kw)
        return out * impl.asarray(w.reshape(tuple(out.shape)), "float64")

    return impl.native_gradient(weighted, [np.asarray(a) for a in args])


def _unigrad(op: str, args: tuple, kw: dict) -> list[np.ndarray]:
    import unigrad.numpy as unp

    f = table_op(op)
    out = np.asarray(f(*args, **kw))
    w = np.linspace(-1.0, 2.0, out.size).reshape(out.shape)
    nums = tuple(range(len(args)))
    return list(unigrad.grad(lambda *a: unp.sum(f(*a, **kw) * w), nums, backend="numpy")(*args))


@pytest.mark.parametrize(("args", "kw"), POOLS, ids=[str(kw) for _, kw in POOLS])
def test_max_pool_adapters_are_unigrads_off_ties(backend, args, kw):
    backend = _native(backend)
    got = _grads(backend, "nn.max_pool2d", args[:1], {"kernel_size": args[1], **kw})
    want = _unigrad("nn.max_pool2d", args[:1], {"kernel_size": args[1], **kw})
    np.testing.assert_allclose(got[0], want[0], rtol=1e-12, atol=1e-12)


def test_max_pool_adapters_give_a_tied_window_to_one_element(backend):
    backend = _native(backend)
    pool = native_op(backend, "nn.max_pool2d")
    impl = registry.handle(backend).impl
    (g,) = impl.native_gradient(lambda x: pool(x, 2), [np.ones((1, 1, 2, 2))])
    assert sorted(np.ravel(g).tolist()) == [0.0, 0.0, 0.0, 1.0]  # unigrad: 0.25 each


@pytest.mark.parametrize(("args", "kw"), NORMS, ids=[str(kw) for _, kw in NORMS])
def test_layer_norm_adapters_use_the_frameworks_default_epsilon(backend, args, kw):
    backend = _native(backend)
    got = _grads(backend, "nn.layer_norm", args, kw)
    eps = kw.get("eps", FRAMEWORK_EPS[backend])
    want = _unigrad("nn.layer_norm", args, {**kw, "eps": eps})
    # MXNet's float64 layer_norm loses digits where the variance is small (3e-8 relative)
    rtol = 1e-6 if backend == "mxnet" else 1e-8
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=rtol, atol=1e-10)
    if "eps" not in kw and eps != 1e-5:  # Keras: visibly not unigrad's default
        pinned = _unigrad("nn.layer_norm", args, kw)
        assert not np.allclose(got[0], pinned[0], rtol=1e-6)


def test_the_native_repro_carries_the_adapter_and_runs_without_unigrad(backend, tmp_path: Path):
    from unigrad.fuzz.repro import native_source

    backend = _native(backend)
    x = R.standard_normal((1, 2, 4, 4))
    program = Program(
        (Input(x),),
        (Node("nn.max_pool2d", (Ref(0), 2), {"stride": 1, "padding": ((1, 0), (0, 1))}),),
        1,
    )
    source = native_source(program, backend)
    path = native_name(backend, "nn.max_pool2d").rpartition(".")[2]
    assert f"def {path}(" in source and "def _pool_pads(" in source
    assert "import unigrad" not in source and "from unigrad" not in source
    script = tmp_path / "program.py"
    setup = {
        "torch": "import torch\nC = torch.as_tensor\n",
        "jax": "import jax\njax.config.update('jax_enable_x64', True)\nimport jax.numpy as jnp\n"
        "C = jnp.asarray\n",
        "tensorflow": "import tensorflow as tf\nC = tf.constant\n",
        "mxnet": "import mxnet\nC = lambda v: mxnet.np.array(v, dtype=v.dtype)\n",
    }[backend]
    out = tmp_path / "out.npy"
    script.write_text(
        f"import numpy as np\n{setup}\n{source}\n\n"
        f"x = np.load({str(tmp_path / 'x.npy')!r})\n"
        "r = program(C(x))\n"
        "r = r.asnumpy() if hasattr(r, 'asnumpy') else np.asarray(r)\n"
        f"np.save({str(out)!r}, r)\n"
    )
    np.save(tmp_path / "x.npy", x)
    code = (
        "import runpy, sys; sys.modules['unigrad'] = None; "
        f"runpy.run_path({str(script)!r}, run_name='__main__')"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    want = table_op("nn.max_pool2d")(x, 2, stride=1, padding=((1, 0), (0, 1)))
    np.testing.assert_allclose(np.load(out), np.asarray(want), rtol=1e-12)


def test_the_adapters_refuse_what_unigrad_nn_refuses(backend):
    backend = _native(backend)
    impl = registry.handle(backend).impl
    pool, norm = native_op(backend, "nn.max_pool2d"), native_op(backend, "nn.layer_norm")
    x = impl.asarray(np.ones((1, 1, 4, 4)), "float64")
    for padding, says in (("full", "padding must be"), (5, "no input")):
        with pytest.raises(ValueError, match=says):
            pool(x, 2, padding=padding)
    with pytest.raises(ValueError, match="out of range"):
        norm(impl.asarray(np.ones((2, 3)), "float64"), axis=2)
    assert tuple(pool(x, np.int64(2)).shape) == (1, 1, 2, 2)  # a NumPy integer is an int
