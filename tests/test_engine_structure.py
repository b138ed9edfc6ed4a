"""The reference engine's modules depend on each other one way, and its tracers carry their own
operators (issue 11: an engine core that stands alone)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import numpy as np
from unigrad.backends.numpy.operators import ArrayTracer
from unigrad.backends.numpy.reverse import RevTracer
from unigrad.backends.numpy.tracer import Tracer

import unigrad
from unigrad.testing import check_grads

ENGINE = Path(__file__).resolve().parent.parent / "backends" / "numpy"
PACKAGE = "unigrad.backends.numpy"

# Each module may import only the modules before it in this list.
LAYERS = [
    "tracer",
    "axes",
    "elementwise",
    "structural",
    "reductions",
    "contractions",
    "linalg",
    "decompositions",
    "rearrange",
    "scans",
    "sorting",
    "operators",
    "reverse",
    "forward",
    "ops",
    "engine",
    "recorder",
    "backend",
]


def _engine_imports(path: Path) -> set[str]:
    """Sibling modules ``path`` imports anywhere, function bodies included."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == PACKAGE:
                found.update(a.name for a in node.names)
            elif node.module.startswith(PACKAGE + "."):
                found.add(node.module.split(".")[3])
        elif isinstance(node, ast.Import):
            found.update(
                a.name.split(".")[3] for a in node.names if a.name.startswith(PACKAGE + ".")
            )
    return found


def test_every_engine_module_is_in_the_layer_list():
    assert sorted(p.stem for p in ENGINE.glob("*.py") if p.stem != "__init__") == sorted(LAYERS)


def test_engine_modules_import_one_way():
    for i, name in enumerate(LAYERS):
        later = _engine_imports(ENGINE / f"{name}.py") - set(LAYERS[:i])
        assert not later, f"{name}.py imports {sorted(later)}, which come after it"


def test_the_core_imports_no_op():
    code = (
        "import sys, unigrad.backends.numpy.tracer as t\n"
        "print(sorted(m for m in sys.modules if m.startswith('unigrad.backends.numpy.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['unigrad.backends.numpy.tracer']"


def test_no_engine_module_assigns_onto_a_class_or_module_from_outside():
    for path in ENGINE.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in (
                "setattr",
                "globals",
            ):
                raise AssertionError(f"{path.name}:{node.lineno} calls {node.func.id}()")
            targets = node.targets if isinstance(node, ast.Assign) else []
            for t in targets:
                owner = getattr(t, "value", None)
                if isinstance(t, ast.Attribute) and isinstance(owner, ast.Name):
                    assert owner.id not in {"Tracer", "ArrayTracer", "RevTracer", "FwdTracer"}, (
                        f"{path.name}:{node.lineno} sets {owner.id}.{t.attr}"
                    )


def test_operators_are_defined_in_the_tracer_class_body():
    for name in ("__add__", "__rmatmul__", "__getitem__", "__lt__", "T", "sum", "reshape"):
        assert name in ArrayTracer.__dict__, name
    assert issubclass(ArrayTracer, Tracer)


def test_tracers_carry_array_metadata():
    seen = []

    def f(x):
        seen.append((type(x), x.shape, x.ndim, x.size, x.dtype, len(x), hash(x) == hash(x)))
        assert x.mT.shape == x.T.shape == (3, 2)
        return x.sum()

    unigrad.grad(f)(np.ones((2, 3), np.float32))
    assert seen == [(RevTracer, (2, 3), 2, 6, np.float32, 2, True)]


def test_tracers_behave_like_arrays():
    def f(x):
        y = (2.0 - x) * x / 3.0 + (1 + x) ** 2 - abs(-x) + (+x) @ np.ones(3)[:, None]
        rows = [r.sum() for r in x]  # iteration yields traced rows
        z = y.T.T.sum(axis=1).mean() + rows[0] * rows[1] - x.astype("float64").ravel()[0]
        return z**2

    x = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]])
    check_grads(f, x, order=2)
