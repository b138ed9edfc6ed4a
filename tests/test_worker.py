"""The worker: MXNet (and any backend) in its own process, and how it fails."""

from __future__ import annotations

import sys
import threading
import time

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
    # stderr is drained by a thread of its own: give it a moment on a loaded machine
    deadline = time.monotonic() + 10
    while "hello" not in numpy_worker.stderr_tail() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "hello from inside the worker" in numpy_worker.stderr_tail()


def test_a_case_that_closes_stdin_and_stdout_leaves_the_protocol_alone():
    """A case that closed fd 0 passed, and the next innocent request was a crash: the worker
    read its requests from fd 0 (Bad file descriptor)."""
    w = Worker("numpy", python=sys.executable)
    try:
        out = w.invoke(CALL, call_request(f"{T}:close_stdio", [np.arange(3.0)]))
        np.testing.assert_array_equal(out, [0.0, 2.0, 4.0])
        pid = w.proc.pid
        gx, gy = w.invoke(
            CALL, call_request(f"{T}:seed000", [3.0, 4.0], "grad", {"argnums": [0, 1]})
        )
        assert (float(gx), float(gy)) == (10.0, 11.0)
        assert w.proc.pid == pid  # the same worker served both
        deadline = time.monotonic() + 10
        while "straight to fd 1" not in w.stderr_tail() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert "straight to fd 1" in w.stderr_tail()  # fd 1 is stderr, not the protocol
    finally:
        w.kill()


def test_crash_gives_clear_error_and_next_request_works(numpy_worker):
    with pytest.raises(WorkerError, match="crashed") as info:
        numpy_worker.invoke(CALL, call_request(f"{T}:crash", [1.0]))
    assert info.value.kind == "crash"
    assert numpy_worker.ping()["backend"] == "numpy"


def test_a_crash_quotes_a_capped_tail_of_the_failing_requests_output():
    """A crash quoted every line the worker had kept, uncut and from earlier requests: 10 MB of
    a previous case's prints landed in every report."""
    w = Worker("numpy", python=sys.executable)

    def shout() -> None:
        # stderr is read by a thread of its own: wait until it has read the 10 MB line, or a
        # loaded machine counts it as the next request's output (a race the test must not
        # depend on: CI failed on it once)
        def shouted() -> int:
            return sum("ZZZZZ" in text for _, text in list(w._stderr))

        before = shouted()
        w.invoke(CALL, call_request(f"{T}:shout", [1.0]))
        deadline = time.monotonic() + 60
        while shouted() == before and time.monotonic() < deadline:
            time.sleep(0.05)

    try:
        shout()
        with pytest.raises(WorkerError, match="crashed") as info:
            w.invoke(CALL, call_request(f"{T}:die_after_output", [1.0]))
        msg = str(info.value)
        assert len(msg) < 2600
        assert "ZZZZZ" not in msg  # an earlier request's output
        assert "line 999" in msg and "line 985" not in msg  # its last lines only
        assert "Y" * 300 + "... (a line of 1,000,001 bytes)" in msg  # each line cut
        # a crash that wrote nothing: the earlier output, marked as such, and cut
        shout()
        with pytest.raises(WorkerError, match="crashed") as info:
            w.invoke(CALL, call_request(f"{T}:crash", [1.0]))
        msg = str(info.value)
        assert "It wrote nothing during this request; its last output before it:" in msg
        assert len(msg) < 1000 and "(a line of 10,000,001 bytes)" in msg
    finally:
        w.kill()


def test_hang_times_out_and_next_request_works(numpy_worker):
    with pytest.raises(WorkerError, match="no answer") as info:
        numpy_worker.invoke(CALL, call_request(f"{T}:hang", [1.0]), timeout=1.5)
    assert info.value.kind == "timeout"
    assert numpy_worker.ping()["backend"] == "numpy"


def test_kill_from_another_thread_ends_a_request_in_flight_at_once():
    """fuzz's Ctrl-C hung in CI: the main thread's kill closed the pipe a lane thread was
    selecting on, and epoll forgets a closed fd, so the request waited out its whole timeout."""
    w = Worker("numpy", python=sys.executable)
    w.start()
    caught: list[BaseException] = []

    def ask() -> None:
        try:
            w.invoke(CALL, call_request(f"{T}:hang", [1.0]), timeout=120)
        except WorkerError as exc:
            caught.append(exc)

    t = threading.Thread(target=ask)
    t.start()
    time.sleep(1.0)  # the request is in the worker, its thread waiting for the reply
    t0 = time.monotonic()
    w.kill()
    t.join(timeout=30)
    assert not t.is_alive(), "the request outlived the kill of its worker"
    assert time.monotonic() - t0 < 30
    assert [e.kind for e in caught] == ["crash"]  # type: ignore[attr-defined]
    assert w.proc is None


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


# ------------------------------------------------- starting: readiness, banners, early deaths


def wrapper(tmp_path, name: str, body: str) -> str:
    """An executable that stands in for a worker's interpreter."""
    path = tmp_path / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)
    return str(path)


def test_a_restarted_worker_is_not_charged_its_start(tmp_path):
    # an interpreter that takes 2 s to start, as a framework's import does
    slow = wrapper(tmp_path, "slow-python", f'sleep 2\nexec "{sys.executable}" "$@"')
    w = Worker("numpy", python=slow)
    try:
        assert w.invoke(f"{T}:describe_payload", {"a": 1.0}, timeout=1.5) == {"a": "float"}
        with pytest.raises(WorkerError, match="crashed"):
            w.invoke(CALL, call_request(f"{T}:crash", [1.0]), timeout=1.5)
        # the fresh worker's 2 s start does not count against this request's 1.5 s
        assert w.invoke(f"{T}:describe_payload", {"a": 1.0}, timeout=1.5) == {"a": "float"}
    finally:
        w.kill()


def test_a_banner_on_stdout_is_a_protocol_error_at_once(tmp_path):
    banner = 'echo "Welcome to my python"'
    noisy = wrapper(tmp_path, "noisy-python", f'{banner}\nexec "{sys.executable}" "$@"')
    w = Worker("numpy", python=noisy)
    t0 = time.monotonic()
    with pytest.raises(WorkerError, match="Welcome to my python") as info:
        w.invoke(f"{T}:describe_payload", {}, timeout=60)
    assert info.value.kind == "protocol" and "stdout" in str(info.value)
    assert time.monotonic() - t0 < 30  # not after the 60 s timeout
    assert w.proc is None


def test_a_worker_that_dies_before_its_first_request_is_a_clear_error(tmp_path):
    dead = wrapper(tmp_path, "dead-python", 'echo "cannot start: no unigrad here" >&2\nexit 1')
    w = Worker("numpy", python=dead)
    t0 = time.monotonic()
    with pytest.raises(WorkerError, match="exit code 1") as info:
        w.invoke(f"{T}:describe_payload", {}, timeout=60)
    assert "no unigrad here" in str(info.value) and info.value.kind == "protocol"
    assert time.monotonic() - t0 < 30


# ------------------------------------------------------------------------------- trust


def test_backends_shows_which_interpreter_it_would_start_and_why(tmp_path):
    import json
    import os
    import subprocess

    env_dir = tmp_path / "envs" / "mx"
    (env_dir / "bin").mkdir(parents=True)
    (env_dir / "lib/python3.9/site-packages/mxnet-1.9.1.dist-info").mkdir(parents=True)
    python = env_dir / "bin" / "python"
    python.write_text("#!/bin/sh\nexit 1\n")
    python.chmod(0o755)
    config = '[tool.unigrad]\nmxnet_python = "envs/mx/bin/python"\n'
    (tmp_path / "pyproject.toml").write_text(config)
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNIGRAD_")}
    out = subprocess.run(
        [sys.executable, "-m", "unigrad.cli", "backends", "--json", "--no-probe"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        check=True,
    )
    row = next(r for r in json.loads(out.stdout) if r["name"] == "mxnet")
    assert row["python"] == str(python)
    assert str(tmp_path / "pyproject.toml") in row["python_from"]
    table = subprocess.run(
        [sys.executable, "-m", "unigrad.cli", "backends", "--no-probe"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**env, "COLUMNS": "400"},
        check=True,
    ).stdout
    assert "pyproject.toml" in table and str(python) in table


def test_the_readme_says_what_unigrad_runs():
    from pathlib import Path

    text = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    trust = text.split("### Trust", 1)[1].split("\n## ", 1)[0]
    assert "case files are python code" in trust.lower() and "rights" in trust
    assert "mxnet_python" in trust and "unigrad backends" in trust
