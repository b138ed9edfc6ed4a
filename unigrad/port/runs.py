"""Running one framework's native function in a port check, and judging it leaf by leaf.

An ``Attempt`` is one run: the shared parameters cast to the dtype and put through the
framework's layout (and, for a diagnosis, one more permutation per path: ``fixes``), the
framework's own autodiff, and the gradients mapped back to the shared layout. A function that
raises is an attempt with an error, reported; ``PortStructureError`` (parameters that do not
fit a model) is the caller's mistake and propagates, except ``PortShapeError``, whose shapes
may be a layout mismatch that the check recognises.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from unigrad import registry
from unigrad.compare import oracle
from unigrad.compare.records import Status
from unigrad.errors import BackendUnavailableError
from unigrad.port.frameworks import key_error_hint, runner
from unigrad.port.params import is_model
from unigrad.port.paths import PortShapeError, PortStructureError, unflatten_like
from unigrad.port.report import Leaf, values_at
from unigrad.port.setup import Setup


@dataclass
class Attempt:
    """One run of one framework: outputs by path, gradients by shared path (None where the
    function does not use a parameter), or the error it raised."""

    label: str
    dtype: str
    outputs: dict[str, np.ndarray] = field(default_factory=dict)
    grads: dict[str, np.ndarray | None] = field(default_factory=dict)
    error: BaseException | None = None
    message: str = ""
    fixes: dict[str, tuple[int, ...]] = field(default_factory=dict)
    hits: dict[str, int] = field(default_factory=dict)
    time: float = 0.0

    @property
    def ok(self) -> bool:
        """Whether the run finished."""
        return self.error is None


def framework_params(setup: Setup, label: str, dtype: str, fixes: dict) -> dict[str, np.ndarray]:
    """The shared parameters as ``label``'s framework takes them, by path (NumPy)."""
    out = {}
    for path, a in setup.flat.items():
        a = a.astype(dtype)
        t = setup.layout[label].get(path)
        if t is not None:
            a = t.forward(a)
        if path in fixes:
            a = np.transpose(a, fixes[path])
        out[path] = a
    return out


def _back(setup: Setup, label: str, path: str, g: Any, fixes: dict) -> np.ndarray | None:
    if g is None:
        return None
    g = np.asarray(g)
    if path in fixes:
        g = np.transpose(g, np.argsort(fixes[path]))
    t = setup.layout[label].get(path)
    return t.backward(g) if t is not None else g


def _message(exc: BaseException, params: Any) -> str:
    from unigrad.port.frameworks.mxnet import NativeError

    if isinstance(exc, NativeError | BackendUnavailableError):
        return str(exc)
    return f"{type(exc).__name__}: {exc}{key_error_hint(exc, params)}"


def attempt(
    setup: Setup,
    label: str,
    dtype: str,
    fixes: dict[str, tuple[int, ...]] | None = None,
    knobs: dict[str, Any] | None = None,
) -> Attempt:
    """Run ``label``'s function once in ``dtype``."""
    fixes = fixes or {}
    framework = setup.labels[label]
    result = Attempt(label, dtype, fixes=fixes)
    params: Any = None
    start = time.perf_counter()
    try:
        spec = registry.specs()[framework]
        avail = spec.availability()
        if not avail.available:
            raise BackendUnavailableError(
                framework, f"{framework} is not available here: {avail.reason}", spec.install_hint
            )
        entry = setup.entry(label, dtype)
        flat = framework_params(setup, label, dtype, fixes)
        params = flat if is_model(entry) else unflatten_like(setup.tree, flat, setup.root)
        run = runner(framework).run
        want_grad = "grad" in setup.transforms
        if framework == "mxnet":
            raw = run(entry, params, setup.inputs, dtype, want_grad, knobs or {}, setup.timeout)
        else:
            raw = run(entry, params, setup.inputs, dtype, want_grad, knobs or {})
    except PortShapeError as exc:
        result.error, result.message = exc, str(exc)
    except PortStructureError:
        raise
    except Exception as exc:  # the native function failed: reported, never a crash of the check
        result.error, result.message = exc, _message(exc, params)
    else:
        result.outputs, result.hits = raw.outputs, raw.hits
        if raw.grads is not None:
            result.grads = {
                p: _back(setup, label, p, g, fixes) for p, g in zip(setup.flat, raw.grads)
            }
    result.time = time.perf_counter() - start
    return result


def _leaf(
    transform: str,
    path: str,
    got: Any,
    ref: Any,
    a: Attempt,
    r: Attempt,
    setup: Setup,
    **extra: Any,
) -> Leaf:
    v = oracle.compare(got, ref, a.dtype, setup.tol(a.dtype), against=r.label)
    at_got, at_ref = values_at(got, ref, v.index)
    return Leaf(
        transform=transform,
        path=path,
        framework=a.label,
        against=r.label,
        dtype=a.dtype,
        status=v.status,
        shape=tuple(np.shape(got)),
        reference_shape=tuple(np.shape(ref)),
        max_abs=v.max_abs,
        max_rel=v.max_rel,
        ulp=v.ulp,
        index=v.index,
        got=at_got,
        expected=at_ref,
        detail=v.detail,
        value=np.asarray(got),
        reference=np.asarray(ref),
        **extra,
    )


def judge(setup: Setup, a: Attempt, r: Attempt) -> list[Leaf]:
    """Every leaf of a finished attempt against the reference's."""
    rows: list[Leaf] = []
    if "value" in setup.transforms:
        paths = list(r.outputs) + [p for p in a.outputs if p not in r.outputs]
        for p in paths:
            if p not in a.outputs or p not in r.outputs:
                has, lacks = (r, a) if p in r.outputs else (a, r)
                rows.append(
                    Leaf(
                        transform="value",
                        path=p,
                        framework=a.label,
                        against=r.label,
                        dtype=a.dtype,
                        status=Status.FAIL,
                        detail=f"{has.label} returns {p}, {lacks.label} does not (the outputs' "
                        f"structures differ: {lacks.label} returns {_paths(lacks)})",
                    )
                )
                continue
            rows.append(_leaf("value", p, a.outputs[p], r.outputs[p], a, r, setup))
    if "grad" in setup.transforms:
        for p, shared in setup.flat.items():
            g, rg = a.grads.get(p), r.grads.get(p)
            notes = []
            if g is None:
                notes.append(
                    f"{a.label} computes no gradient for {p}: its function does not use it"
                )
                g = np.zeros(shared.shape, a.dtype)
            if rg is None:
                notes.append(
                    f"{r.label} computes no gradient for {p}: its function does not use it"
                )
                rg = np.zeros(shared.shape, a.dtype)
            layout = setup.layout[a.label].get(p)
            rows.append(
                _leaf(
                    "grad",
                    p,
                    g,
                    rg,
                    a,
                    r,
                    setup,
                    note="; ".join(notes),
                    layout=layout.name if layout else "",
                )
            )
    return rows


def _paths(a: Attempt) -> str:
    return ", ".join(a.outputs) or "nothing"


def error_rows(setup: Setup, a: Attempt, r: Attempt | None, value_paths: list[str]) -> list[Leaf]:
    """The leaves of an attempt that raised (``error``), or of one with no reference to judge
    it by (``unverified``)."""
    if a.ok:
        status, detail = Status.UNVERIFIED, "no reference: every framework's run raised"
    else:
        status, detail = Status.ERROR, a.message
    rows = []
    if "value" in setup.transforms:
        for p in value_paths or ["output"]:
            rows.append(
                Leaf(
                    transform="value",
                    path=p,
                    framework=a.label,
                    against=r.label if r else None,
                    dtype=a.dtype,
                    status=status,
                    detail=detail,
                )
            )
    if "grad" in setup.transforms:
        for p in setup.flat:
            layout = setup.layout[a.label].get(p)
            rows.append(
                Leaf(
                    transform="grad",
                    path=p,
                    framework=a.label,
                    against=r.label if r else None,
                    dtype=a.dtype,
                    status=status,
                    detail=detail,
                    layout=layout.name if layout else "",
                )
            )
    return rows
