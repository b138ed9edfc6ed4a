"""``unigrad.port.compare``: native implementations of one model, run side by side.

Per dtype: every function runs once (the reference first), each other framework is judged
leaf by leaf against the reference, and failing leaves are diagnosed. The reference is the
first function (or ``reference=``); if it raises, the next one that runs judges the others.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from unigrad import registry
from unigrad.port import probes
from unigrad.port import setup as setup_mod
from unigrad.port.frameworks import is_float
from unigrad.port.paths import PortShapeError
from unigrad.port.report import Leaf, PortReport
from unigrad.port.runs import Attempt, attempt, error_rows, judge


def compare(
    functions: Mapping[str, Any],
    params: Any,
    inputs: Any = (),
    *,
    layout: Mapping[str, Mapping[str, Any]] | None = None,
    transforms: Sequence[str] | str = ("value", "grad"),
    dtypes: Sequence[str] | str | None = None,
    reference: str | None = None,
    tolerance: dict[str, dict[str, float]] | None = None,
    diagnose: bool = True,
    timeout: float = 120.0,
) -> PortReport:
    """Check that native implementations of one model agree, value and gradient, leaf by leaf.

    ``functions`` maps a framework (``"torch"``, ``"jax"``, ``"tensorflow"``, ``"mxnet"``,
    ``"numpy"``; ``"torch:v2"`` for a second torch one) to a function ``f(params, inputs)``
    written in that framework's API, a ``torch.nn.Module`` or a Keras model (called on the
    inputs), or ``{dtype: one of those}``. MXNet's runs in its worker: give a module-level
    function or ``"module:function"``. ``params`` is one pytree of arrays (or anything
    ``load_params`` reads), ``inputs`` a pytree of NumPy arrays (or an ``.npz``); ``layout``
    maps each framework's parameters to the shared ones (``unigrad.port.layout``). ``dtypes``
    defaults to the parameters' own; ``tolerance`` overrides ``unigrad compare``'s per dtype.
    ``timeout`` bounds a run in a worker (MXNet).
    """
    s = setup_mod.read(
        functions, params, inputs, layout, transforms, dtypes, reference, tolerance, timeout
    )
    report = PortReport(
        leaves=[],
        frameworks=dict(s.labels),
        references={},
        dtypes=list(s.dtypes),
        transforms=list(s.transforms),
        versions=_versions(s.labels),
        notes=list(s.notes),
    )
    for dtype in s.dtypes:
        _check_dtype(s, dtype, report, diagnose)
    return report


def _versions(labels: dict[str, str]) -> dict[str, str]:
    out = {}
    for label, framework in labels.items():
        avail = registry.specs()[framework].availability()
        out[label] = f"{framework} {avail.version}" if avail.version else framework
    return out


def _check_dtype(s: setup_mod.Setup, dtype: str, report: PortReport, diagnose: bool) -> None:
    runs: dict[str, Attempt] = {}
    for label in s.labels:
        runs[label] = attempt(s, label, dtype)
        report.times[label] = report.times.get(label, 0.0) + runs[label].time
    ref = next((label for label in s.labels if runs[label].ok), None)
    report.references[dtype] = ref
    r = runs[ref] if ref else None
    value_paths = list(r.outputs) if r else []
    if r and "grad" in s.transforms and not _one_scalar(r):
        note = (
            "the outputs are not one scalar: each gradient is that of sum(c * output) with a "
            "fixed random c per output leaf, the same in every framework"
        )
        if note not in report.notes:
            report.notes.append(note)
    for label, a in runs.items():
        if not a.ok:
            report.errors[f"{label} {dtype}"] = a.message
        if label == ref:
            continue
        rows: list[Leaf]
        if r is None:
            rows = error_rows(s, a, None, value_paths)
        elif isinstance(a.error, PortShapeError) and (found := probes.recover(s, a, r)):
            a, rows = found.attempt, found.rows
            del report.errors[f"{label} {dtype}"]
        elif not a.ok:
            rows = error_rows(s, a, r, value_paths)
        else:
            rows = judge(s, a, r)
        if diagnose and r is not None and any(not row.passed for row in rows):
            report.findings += probes.diagnose(s, a, r, rows)
        report.leaves += rows


def _one_scalar(r: Attempt) -> bool:
    floats = [v for v in r.outputs.values() if is_float(v)]
    return len(floats) == 1 and floats[0].shape == ()
