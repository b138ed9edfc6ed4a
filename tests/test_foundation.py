"""Issue 2: packaging, laziness, the backend registry, the switch and its errors."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest

import unigrad
import unigrad.numpy as unp
from unigrad import registry
from unigrad.api import config
from unigrad.registry import BackendSpec

ROOT = Path(__file__).resolve().parent.parent
FRAMEWORKS = ("torch", "jax", "tensorflow", "mxnet")


def run_py(code: str, cwd: Path | None = None, env: dict | None = None) -> str:
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, env=env, check=True
    )
    return out.stdout.strip()


def test_import_unigrad_imports_no_framework():
    code = (
        "import sys, unigrad, unigrad.numpy\n"
        "unigrad.available_backends(); unigrad.get_backend('torch'); unigrad.get_backend('jax')\n"
        "unigrad.backend_names(); unigrad.get_backend()\n"
        f"print([m for m in {FRAMEWORKS!r} if m in sys.modules])"
    )
    assert run_py(code) == "[]"


def test_numpy_backend_use_imports_no_other_framework():
    code = (
        "import sys, unigrad\n"
        "unigrad.grad(lambda x: x * x)(3.0)\n"
        f"print([m for m in {FRAMEWORKS!r} if m in sys.modules])"
    )
    assert run_py(code) == "[]"


def test_all_five_backends_known_and_available_here():
    assert unigrad.backend_names()[:5] == ["numpy", "torch", "jax", "tensorflow", "mxnet"]
    assert set(unigrad.available_backends()) == {"numpy", "torch", "jax", "tensorflow", "mxnet"}


def test_mxnet_is_reached_through_its_worker_environment():
    avail = registry.specs()["mxnet"].availability()
    assert avail.available and avail.runs_in == "worker"
    assert avail.version == "1.9.1"


def test_builtin_backends_come_from_entry_points():
    import importlib.metadata as md

    names = {ep.name for ep in md.entry_points(group="unigrad.backends")}
    assert {"numpy", "torch", "jax", "tensorflow", "mxnet"} <= names


def test_default_backend_is_numpy():
    assert unigrad.get_backend().name == "numpy"


def test_resolution_order(monkeypatch, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.unigrad]\nbackend = "tensorflow"\n')
    monkeypatch.chdir(tmp_path)
    config.clear_cache()
    assert unigrad.get_backend().name == "tensorflow"  # 5: config file
    monkeypatch.setenv("UNIGRAD_BACKEND", "jax")
    assert unigrad.get_backend().name == "jax"  # 4: environment beats the file
    unigrad.set_backend("torch")
    assert unigrad.get_backend().name == "torch"  # 3: set_backend beats the environment
    with unigrad.use_backend("numpy"):
        assert unigrad.get_backend().name == "numpy"  # 2: the context beats set_backend
        assert unigrad.get_backend("jax").name == "jax"  # 1: the argument beats everything
    assert unigrad.get_backend().name == "torch"
    unigrad.set_backend(None)
    monkeypatch.delenv("UNIGRAD_BACKEND")
    assert unigrad.get_backend().name == "tensorflow"


def test_unigrad_toml_and_nearest_file_wins(monkeypatch, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.unigrad]\nbackend = "jax"\n')
    sub = tmp_path / "pkg" / "deep"
    sub.mkdir(parents=True)
    (tmp_path / "pkg" / "unigrad.toml").write_text('backend = "torch"\n')
    monkeypatch.chdir(sub)
    config.clear_cache()
    assert unigrad.get_backend().name == "torch"
    # a pyproject.toml without [tool.unigrad] in between does not stop the search
    (sub / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    config.clear_cache()
    assert unigrad.get_backend().name == "torch"


def test_config_file_is_never_written(monkeypatch, tmp_path):
    p = tmp_path / "pyproject.toml"
    p.write_text('[tool.unigrad]\nbackend = "jax"\n')
    before = p.stat().st_mtime_ns, p.read_text()
    monkeypatch.chdir(tmp_path)
    unigrad.get_backend()
    unigrad.set_backend("torch")
    assert (p.stat().st_mtime_ns, p.read_text()) == before


def test_use_backend_is_thread_local():
    seen = {}
    inside = threading.Event()
    release = threading.Event()

    def other():
        inside.wait()
        seen["other"] = unigrad.get_backend().name
        release.set()

    t = threading.Thread(target=other)
    t.start()
    with unigrad.use_backend("jax"):
        inside.set()
        release.wait()
        seen["here"] = unigrad.get_backend().name
    t.join()
    assert seen == {"here": "jax", "other": "numpy"}


def test_use_backend_is_async_task_local():
    async def task(name: str, delay: float) -> str:
        with unigrad.use_backend(name):
            await asyncio.sleep(delay)
            return unigrad.get_backend().name

    async def main() -> list[str]:
        return await asyncio.gather(task("jax", 0.02), task("torch", 0.01))

    assert asyncio.run(main()) == ["jax", "torch"]


def test_unknown_backend_suggests_the_closest_name():
    with pytest.raises(ValueError, match=r"'pytorch' is not a backend; did you mean 'torch'\?"):
        unigrad.get_backend("pytorch")
    with pytest.raises(ValueError, match="did you mean 'tensorflow'"):
        unigrad.set_backend("tensorflw")
    with pytest.raises(ValueError, match="Valid backends: numpy, torch, jax, tensorflow, mxnet"):
        with unigrad.use_backend("nothing-like-it"):
            pass


def test_unknown_backend_in_environment_names_the_variable(monkeypatch):
    monkeypatch.setenv("UNIGRAD_BACKEND", "jaxx")
    with pytest.raises(ValueError, match="did you mean 'jax'.*UNIGRAD_BACKEND"):
        unigrad.get_backend()


def test_unknown_backend_in_config_names_the_file(monkeypatch, tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.unigrad]\nbackend = "mxnett"\n')
    monkeypatch.chdir(tmp_path)
    config.clear_cache()
    with pytest.raises(ValueError, match=r"did you mean 'mxnet'.*pyproject.toml"):
        unigrad.get_backend()


def test_broken_config_file_says_which_file(monkeypatch, tmp_path):
    (tmp_path / "unigrad.toml").write_text("backend = \n")
    monkeypatch.chdir(tmp_path)
    config.clear_cache()
    with pytest.raises(ValueError, match="unigrad.toml"):
        unigrad.get_backend()


def test_missing_framework_raises_unavailable_with_install_command():
    spec = BackendSpec(
        name="fakefw",
        adapter="nowhere:Nothing",
        module="unigrad_fake_framework_not_installed",
        distribution="unigrad-fake",
        install_hint="pip install 'unigrad[fakefw]'",
    )
    registry.register(spec)
    try:
        h = unigrad.get_backend("fakefw")  # resolving alone does not fail
        assert h.name == "fakefw"
        with pytest.raises(
            unigrad.BackendUnavailableError, match=r"pip install 'unigrad\[fakefw\]'"
        ):
            unigrad.grad(lambda x: x, backend="fakefw")(1.0)
        assert "fakefw" not in unigrad.available_backends()
    finally:
        registry.specs().pop("fakefw")
        registry._handles.pop("fakefw", None)


def test_mxnet_in_main_environment_points_to_its_environment():
    if "mxnet" not in unigrad.available_backends():
        pytest.skip("MXNet's environment is not built here")
    # transforms go to the worker, which imports the function: a lambda gets the fix
    with pytest.raises(TypeError, match="module level"):
        unigrad.grad(lambda x: x * x, backend="mxnet")(1.0)
    # MXNet arrays exist only in its environment
    with pytest.raises(unigrad.BackendUnavailableError, match="its own environment"):
        with unigrad.use_backend("mxnet"):
            unp.sin(1.0)


def test_mxnet_unavailable_when_no_interpreter(monkeypatch, tmp_path):
    monkeypatch.setenv("UNIGRAD_MXNET_PYTHON", str(tmp_path / "nope" / "python"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("unigrad.workers.interpreters.SOURCE_ROOT", tmp_path)
    avail = registry.specs()["mxnet"].availability()
    assert not avail.available
    assert "nope" in avail.reason


def test_unsupported_error_is_exported_and_typed():
    err = unigrad.UnsupportedError("mxnet", "forward mode")
    assert isinstance(err, NotImplementedError)
    assert "mxnet" in str(err) and "forward mode" in str(err)


def test_capabilities_are_data():
    caps = unigrad.get_backend("jax").capabilities
    assert caps["reverse"] == "native" and caps["jit"] == "native"
    assert registry.specs()["mxnet"].capabilities["forward"] == "partial"


def test_wheel_has_no_top_level_backends(tmp_path):
    import shutil

    # Build from a copy: an in-tree build leaves build/ and a stale unigrad.egg-info behind,
    # which would shadow the installed metadata (entry points) for anything run from the root.
    src = tmp_path / "src"
    shutil.copytree(
        ROOT,
        src,
        ignore=shutil.ignore_patterns(
            ".venv*", ".git", "reports", "build", "*.egg-info", ".pytest_cache", ".ruff_cache"
        ),
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(src),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("unigrad-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    tops = {n.split("/")[0] for n in names}
    assert "backends" not in tops
    assert "unigrad/backends/torch/backend.py" in names
    assert "unigrad/backends/numpy/tracer.py" in names
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    text = zipfile.ZipFile(wheel).read(entry).decode()
    assert "[unigrad.backends]" in text and "unigrad = unigrad.cli:main" in text


def test_mxnet_interpreter_from_tool_unigrad_config(monkeypatch, tmp_path):
    real = ROOT / ".venv-mxnet" / "bin" / "python"
    (tmp_path / "pyproject.toml").write_text(f'[tool.unigrad]\nmxnet_python = "{real}"\n')
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("UNIGRAD_MXNET_PYTHON", raising=False)
    monkeypatch.setattr("unigrad.workers.interpreters.SOURCE_ROOT", tmp_path)  # no fallback to ours
    config.clear_cache()
    from unigrad.workers.interpreters import find_python

    python, origin = find_python("mxnet")
    assert python == real and "[tool.unigrad] mxnet_python" in origin
    avail = registry.specs()["mxnet"].availability()
    assert avail.available and avail.version == "1.9.1" and avail.runs_in == "worker"


def test_cli_version_and_backends_table():
    import json

    out = subprocess.run(
        [sys.executable, "-m", "unigrad.cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip() == f"unigrad, version {unigrad.__version__}"
    rows = json.loads(
        subprocess.run(
            [sys.executable, "-m", "unigrad.cli", "backends", "--json"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    by = {r["name"]: r for r in rows}
    assert list(by) == ["numpy", "torch", "jax", "tensorflow", "mxnet"]
    assert all(r["available"] and r["version"] for r in rows), rows
    assert all("cpu" in " ".join(r["devices"]) for r in rows)
    assert by["mxnet"]["runs_in"] == "worker environment" and by["mxnet"]["version"] == "1.9.1"
    assert by["torch"]["runs_in"] == "this process"
    table = subprocess.run(
        [sys.executable, "-m", "unigrad.cli", "backends", "--no-probe"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for name, version in (("mxnet", "1.9.1"), ("jax", "0.10.2"), ("tensorflow", "2.21.0")):
        assert name in table and version in table
    assert "emulated" in table  # the legend explains fwd* (MXNet's forward mode)
