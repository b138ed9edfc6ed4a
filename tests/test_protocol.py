"""Issue 11: the backend protocol is declared once, adapters use only public names, and every
backend covers every op of ``unigrad.numpy``."""

from __future__ import annotations

import ast
from pathlib import Path

from unigrad.backends.base import Backend

import unigrad
import unigrad.numpy as unp

ROOT = Path(__file__).resolve().parent.parent


def test_every_backend_covers_every_op_unigrad_numpy_exports(backend):
    ops = unigrad.get_backend(backend).impl.ops
    missing = [n for n in unp.__all__ if n != "linalg" and not callable(getattr(ops, n, None))]
    missing += [
        f"linalg.{n}" for n in unp.linalg.__all__ if not callable(getattr(ops.linalg, n, None))
    ]
    assert not missing, f"{backend} lacks {missing}"


def _unigrad_imports(path: Path) -> list[tuple[str, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("unigrad"):
            found += [(node.module, a.name) for a in node.names]
        elif isinstance(node, ast.Import):
            found += [(a.name, "") for a in node.names if a.name.startswith("unigrad")]
    return found


def test_adapters_name_no_private_facade_object():
    bad = []
    for path in sorted((ROOT / "backends").rglob("*.py")):
        for module, name in _unigrad_imports(path):
            facade = not module.startswith("unigrad.backends")
            private = facade and (name.startswith("_") or "._" in module)
            if module.startswith("unigrad.api") or private:
                bad.append(f"{path.relative_to(ROOT)}: from {module} import {name}")
        text = path.read_text()
        for word in ("switch._", "transforms._", "._Call", "MISS"):
            if word in text:
                bad.append(f"{path.relative_to(ROOT)} mentions {word}")
    assert not bad, "\n".join(bad)


def test_every_hook_an_adapter_defines_is_declared_in_the_protocol():
    from unigrad import registry

    undeclared = []
    for name, spec in registry.specs().items():
        if spec.availability().runs_in != "process":
            continue
        cls = type(unigrad.get_backend(name).impl)
        for attr in vars(cls):
            if not attr.startswith("_") and not hasattr(Backend, attr):
                undeclared.append(f"{cls.__name__}.{attr}")
    assert not undeclared, f"hooks not declared in backends/base.py: {undeclared}"
