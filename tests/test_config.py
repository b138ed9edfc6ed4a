"""Settings files as a user writes them: precedence, and mistakes named with their file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import unigrad
from unigrad import registry
from unigrad.api import config
from unigrad.errors import BackendUnavailableError
from unigrad.workers.interpreters import find_python

README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture
def project(monkeypatch, tmp_path):
    """An empty project folder as the working directory, with no MXNet fallbacks."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("UNIGRAD_MXNET_PYTHON", raising=False)
    monkeypatch.setattr("unigrad.workers.interpreters.SOURCE_ROOT", None)
    config.clear_cache()
    return tmp_path


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    config.clear_cache()
    return path


def test_unigrad_toml_is_read_before_pyproject_in_one_folder(project):
    write(project / "pyproject.toml", '[tool.unigrad]\nbackend = "jax"\n')
    write(project / "unigrad.toml", 'backend = "torch"\n')
    assert unigrad.get_backend().name == "torch"
    (project / "unigrad.toml").unlink()
    config.clear_cache()
    assert unigrad.get_backend().name == "jax"


def test_the_environment_beats_both_files(project, monkeypatch):
    write(project / "pyproject.toml", '[tool.unigrad]\nbackend = "jax"\n')
    write(project / "unigrad.toml", 'backend = "torch"\n')
    monkeypatch.setenv("UNIGRAD_BACKEND", "tensorflow")
    assert unigrad.get_backend().name == "tensorflow"


def test_the_readme_documents_the_order_of_the_files():
    text = " ".join(README.read_text().split())
    assert "within one folder `unigrad.toml` is read before `pyproject.toml`" in text
    assert "the first folder with a setting wins" in text


@pytest.mark.parametrize("value", ["3", "true", '""', '["torch"]'])
def test_a_backend_that_is_not_a_name_names_the_file(project, value):
    path = write(project / "pyproject.toml", f"[tool.unigrad]\nbackend = {value}\n")
    with pytest.raises(config.ConfigError) as info:
        unigrad.grad(lambda x: x * x)(1.0)
    assert str(path) in str(info.value) and "[tool.unigrad] backend" in str(info.value)


def test_a_missing_mxnet_python_names_the_file_and_the_key(project):
    (project / ".venv-mxnet" / "bin").mkdir(parents=True)  # a fallback that must not be used
    (project / ".venv-mxnet" / "bin" / "python").write_text("")
    path = write(project / "pyproject.toml", '[tool.unigrad]\nmxnet_python = "nope/python"\n')
    python, why = find_python("mxnet")
    assert python is None
    assert f"[tool.unigrad] mxnet_python in {path}" in why
    assert str(project / "nope" / "python") in why and "does not exist" in why
    avail = registry.specs()["mxnet"].availability()
    assert not avail.available and "mxnet_python" in avail.reason
    with pytest.raises(BackendUnavailableError, match="mxnet_python in .*pyproject.toml"):
        unigrad.grad(os.path.getsize, backend="mxnet")(1.0)


def test_a_mxnet_python_that_is_not_text_names_the_file(project):
    path = write(project / "pyproject.toml", "[tool.unigrad]\nmxnet_python = 3\n")
    python, why = find_python("mxnet")
    assert python is None and str(path) in why and "mxnet_python must be the path" in why


def test_the_environment_variable_beats_mxnet_python(project, monkeypatch):
    write(project / "pyproject.toml", '[tool.unigrad]\nmxnet_python = "nope/python"\n')
    real = project / "envs" / "python"
    real.parent.mkdir()
    real.write_text("")
    monkeypatch.setenv("UNIGRAD_MXNET_PYTHON", str(real))
    assert find_python("mxnet") == (real, "UNIGRAD_MXNET_PYTHON")
    monkeypatch.setenv("UNIGRAD_MXNET_PYTHON", str(project / "gone"))
    python, why = find_python("mxnet")
    assert python is None and "UNIGRAD_MXNET_PYTHON names" in why and "unset it" in why
