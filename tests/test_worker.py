"""The worker: MXNet (and any backend) in its own process, and how it fails."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from unigrad.errors import WorkerError
from unigrad.workers import wire
from unigrad.workers.client import CALL, Worker, call, probe_worker

T = "tests.worker_targets"


def call_request(target, args, transform="value", options=None):
    """The payload of a ``unigrad.workers.client.call`` (for a worker of our own)."""
    return {
        "backend": "numpy",
        "target": target,
        "args": args,
        "transform": transform,
        "options": options or {},
    }


@pytest.fixture(scope="module")
def numpy_worker():
    w = Worker("numpy", python=sys.executable)
    yield w
    w.kill()


def test_round_trip(numpy_worker):
    payload = call_request(f"{T}:seed000", [3.0, 4.0], "grad", {"argnums": [0, 1]})
    gx, gy = numpy_worker.invoke(CALL, payload)
    assert (float(gx), float(gy)) == (10.0, 11.0)


def test_prints_do_not_corrupt_the_protocol(numpy_worker):
    out = numpy_worker.invoke(CALL, call_request(f"{T}:noisy", [np.arange(3.0)]))
    np.testing.assert_array_equal(out, [0.0, 2.0, 4.0])
    assert "hello from inside the worker" in numpy_worker.stderr_tail()


def test_crash_gives_clear_error_and_next_request_works(numpy_worker):
    with pytest.raises(WorkerError, match="crashed") as info:
        numpy_worker.invoke(CALL, call_request(f"{T}:crash", [1.0]))
    assert info.value.kind == "crash"
    assert numpy_worker.ping()["backend"] == "numpy"


def test_hang_times_out_and_next_request_works(numpy_worker):
    with pytest.raises(WorkerError, match="no answer") as info:
        numpy_worker.invoke(CALL, call_request(f"{T}:hang", [1.0]), timeout=1.5)
    assert info.value.kind == "timeout"
    assert numpy_worker.ping()["backend"] == "numpy"


def test_undecodable_request_gives_clear_error_and_worker_survives(numpy_worker):
    numpy_worker.start()
    proc = numpy_worker.proc
    body = b"{this is not json"
    proc.stdin.write(wire.struct.pack("<I", len(body)) + body)
    proc.stdin.flush()
    import time

    deadline = time.monotonic() + 10
    size = wire.struct.unpack("<I", numpy_worker._read_exact(4, deadline))[0]
    reply = wire.loads(numpy_worker._read_exact(size, deadline))
    assert reply["ok"] is False and reply["kind"] == "protocol"
    assert "decode" in reply["error"]
    assert numpy_worker.proc is proc and proc.poll() is None  # same process, still up
    assert numpy_worker.ping()["backend"] == "numpy"


def test_unknown_request_and_errors_come_back_typed(numpy_worker):
    with pytest.raises(WorkerError, match="could not decode") as info:
        numpy_worker.request({"op": "launch-missiles"})
    assert info.value.kind == "protocol"
    with pytest.raises(WorkerError, match="could not decode.*needs a target") as info:
        numpy_worker.request({"op": "invoke", "payload": {}})
    assert info.value.kind == "protocol"
    with pytest.raises(WorkerError, match="ModuleNotFoundError") as info:
        numpy_worker.invoke("nowhere:f", {})
    assert info.value.kind == "error"
    with pytest.raises(WorkerError, match="ModuleNotFoundError") as info:
        numpy_worker.invoke(CALL, call_request("nowhere:f", []))
    with pytest.raises(WorkerError, match="AttributeError.*has no 'nothing'"):
        numpy_worker.invoke(f"{T}:nothing", {})
    with pytest.raises(WorkerError, match="ValueError.*unknown transform 'gradd'"):
        numpy_worker.invoke(CALL, call_request(f"{T}:seed000", [1.0, 2.0], "gradd"))


def test_the_transport_is_generic_and_knows_nothing_about_cases(numpy_worker):
    # any function given by import path, with any wire-encodable payload
    payload = {"a": np.arange(3.0), "b": (1, "two")}
    assert numpy_worker.invoke(f"{T}:describe_payload", payload) == {
        "a": "float64 (3,)",
        "b": "tuple",
    }
    numpy_worker.invoke(CALL, call_request(f"{T}:seed000", [3.0, 4.0], "grad"))
    # serving requests (ping, invoke, a transform) loaded nothing of unigrad compare
    assert numpy_worker.invoke(f"{T}:loaded_modules", "unigrad.compare") == []


def test_targets_come_from_the_working_directory_without_editing_sys_path(tmp_path):
    (tmp_path / "userfns.py").write_text(
        "import sys\n\n\ndef double(payload):\n    return payload * 2\n\n\n"
        "def path(payload):\n    return sys.path\n"
    )
    w = Worker("numpy", python=sys.executable, cwd=tmp_path)
    try:
        assert w.invoke("userfns:double", 21) == 42
        path = w.invoke("userfns:path")
        assert path[0] == str(tmp_path) and path.count(str(tmp_path)) == 1  # python -m's, no more
        g = w.invoke(CALL, call_request("userfns:double", [np.array([1.0, 2.0])], "jacobian"))
        np.testing.assert_array_equal(g, 2 * np.eye(2))
    finally:
        w.kill()


def test_wire_keeps_dtypes_nan_and_structure():
    data = {"a": np.array([1.0, np.nan, np.inf], np.float32), "b": (1, [np.float64(2.5)])}
    back = wire.loads(wire.dumps(data)[4:])
    assert back["a"].dtype == np.float32
    np.testing.assert_array_equal(np.isnan(back["a"]), [False, True, False])
    assert back["b"][0] == 1 and back["b"][1][0] == 2.5 and isinstance(back["b"], tuple)
    assert wire.loads(wire.dumps(np.float64(3.0))[4:]).shape == ()
    assert wire.loads(wire.dumps(np.ones((2, 3)).T)[4:]).shape == (3, 2)


# ----------------------------------------------------------- MXNet through its environment


def test_backends_reports_mxnet_through_worker():
    info = probe_worker("mxnet")
    assert info["version"] == "1.9.1"
    assert info["numpy"].startswith("1.")  # its own environment, numpy < 2
    assert "venv-mxnet" in info["python"]
    assert "cpu" in info["devices"]


def test_seed_002_on_mxnet_through_worker():
    x = np.arange(4.0)
    g = call("mxnet", f"{T}:seed002_dot", [x], "grad")
    np.testing.assert_array_equal(g, [0.0, 4.0, 8.0, 12.0])
    assert g.dtype == np.float64  # MXNet's nd.array would have made it float32
    _, (gx,) = call("mxnet", f"{T}:seed002_square", [x], "vjp", {"cotangent": np.ones(4)})
    np.testing.assert_array_equal(gx, [0.0, 2.0, 4.0, 6.0])  # non-scalar backward = vjp(ones)
    g = call("mxnet", f"{T}:seed002_detach", [x], "grad")
    np.testing.assert_array_equal(g, [0.0, 1.0, 4.0, 9.0])
    g32 = call("mxnet", f"{T}:seed002_dot", [x.astype(np.float32)], "grad")
    assert g32.dtype == np.float32


def test_mxnet_gap_comes_back_as_unsupported():
    from unigrad.errors import UnsupportedError

    with pytest.raises(UnsupportedError, match="_backward"):
        call("mxnet", f"{T}:seed000", [3.0, 4.0], "hessian", {"argnums": [0, 1]})


def test_a_bare_folder_in_the_working_directory_does_not_hide_a_module(tmp_path, monkeypatch):
    from unigrad.workers.targets import resolve

    (tmp_path / "colorsys").mkdir()  # a data folder named like a module
    (tmp_path / "mine.py").write_text("VALUE = 7\n")
    monkeypatch.delitem(sys.modules, "colorsys", raising=False)
    monkeypatch.delitem(sys.modules, "mine", raising=False)
    assert resolve("colorsys:rgb_to_hsv", tmp_path)(1.0, 0.0, 0.0) == (0.0, 1.0, 1.0)
    assert resolve("mine:VALUE", tmp_path) == 7
    with pytest.raises(ValueError, match="module:attr"):
        resolve("mine.VALUE", tmp_path)
