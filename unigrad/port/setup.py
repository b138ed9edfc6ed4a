"""A port check's arguments, read and checked before anything runs.

Mistakes in them are errors that say what to do (``ValueError``, or ``PortStructureError`` for
parameters that do not fit): an unknown framework, a reference that is not compared, a layout
pattern that matches nothing, integer parameters, a dtype the tolerances do not cover.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from unigrad import registry
from unigrad.compare import oracle
from unigrad.port import layout as layout_mod
from unigrad.port.diagnose import sizes_of
from unigrad.port.params import load_inputs, read_params
from unigrad.port.paths import flatten

TRANSFORMS = ("value", "grad")
DTYPES = tuple(oracle.TOLERANCE)
ALIASES = {"keras": "tensorflow", "pytorch": "torch"}


@dataclass
class Setup:
    """Everything a port check runs from."""

    labels: dict[str, str]  # label -> framework, the reference first
    entries: dict[str, Any]  # label -> function or model (or {dtype: one})
    tree: Any  # the shared parameters in their own structure (NumPy)
    root: str  # the path of a lone parameter array ("params"), else ""
    flat: dict[str, np.ndarray]  # the shared parameters by path
    inputs: Any  # NumPy pytree
    sizes: dict[int, str]  # sizes of the inputs, for naming a mean against a sum
    layout: dict[str, dict[str, layout_mod.Transform]]
    dtypes: list[str]
    transforms: list[str]
    tolerance: dict[str, dict[str, float]] | None
    timeout: float
    notes: list[str] = field(default_factory=list)  # for the report

    def tol(self, dtype: str) -> dict[str, float]:
        """The tolerance of ``dtype``, with the check's overrides."""
        return oracle.tolerance(dtype, self.tolerance)

    def entry(self, label: str, dtype: str) -> Any:
        """The function or model of ``label`` for ``dtype``."""
        e = self.entries[label]
        if isinstance(e, Mapping) and set(e) <= set(DTYPES):
            if dtype not in e:
                raise ValueError(f"{label} has functions for {', '.join(e)} only, not {dtype}")
            return e[dtype]
        return e


def framework_of_label(label: str) -> str:
    """``torch`` for ``torch`` and ``torch:fast`` (a second torch function); ``keras`` is
    tensorflow. An unknown name raises ``ValueError`` with the closest one."""
    name = label.split(":", 1)[0].strip()
    name = ALIASES.get(name, name)
    return registry.check_name(name, "unigrad.port.compare(functions=...)")


def _dtypes(dtypes: Sequence[str] | str | None, flat: dict[str, np.ndarray]) -> list[str]:
    if dtypes is None:
        wide = any(a.dtype == np.float64 for a in flat.values())
        return ["float64" if wide else "float32"]
    if isinstance(dtypes, str):
        dtypes = list(DTYPES) if dtypes == "both" else [d.strip() for d in dtypes.split(",")]
    out = list(dtypes)
    for d in out:
        if d not in DTYPES:
            raise ValueError(f"dtypes are {', '.join(DTYPES)} (or 'both'), not {d!r}")
    return sorted(set(out), key=out.index)


def _check_importable(entry: Any) -> None:
    """An MXNet function that runs in MXNet's worker must be importable by name there (a
    lambda or a closure is a ``TypeError`` that says so, before anything runs)."""
    avail = registry.specs()["mxnet"].availability()
    if avail.available and avail.runs_in == "worker":
        from unigrad.port.frameworks.mxnet import target_of

        for e in entry.values() if isinstance(entry, Mapping) else [entry]:
            target_of(e)


def read(
    functions: Mapping[str, Any],
    params: Any,
    inputs: Any,
    layout: Mapping[str, Mapping[str, Any]] | None,
    transforms: Sequence[str] | str,
    dtypes: Sequence[str] | str | None,
    reference: str | None,
    tolerance: dict[str, dict[str, float]] | None,
    timeout: float,
) -> Setup:
    """Check a port check's arguments and read its parameters and inputs."""
    if not isinstance(functions, Mapping) or len(functions) < 2:
        raise ValueError(
            "a port check compares two or more native implementations: give "
            "{'torch': f_torch, 'jax': f_jax, ...}"
        )
    labels = {str(label): framework_of_label(str(label)) for label in functions}
    if reference is not None and reference not in labels:
        raise ValueError(f"reference={reference!r} is not one of {', '.join(labels)}")
    first = reference or next(iter(labels))
    labels = {first: labels[first], **{k: v for k, v in labels.items() if k != first}}
    tree, flat = read_params(params)
    if not flat:
        raise ValueError("the parameters hold no arrays")
    for path, a in flat.items():
        if not np.issubdtype(a.dtype, np.floating):
            raise ValueError(
                f"parameter {path!r} holds {a.dtype}: parameters are floating-point arrays "
                "(pass integer data such as labels in inputs)"
            )
    root = "" if type(tree) in (dict, list, tuple) else "params"
    input_tree = load_inputs(inputs)
    if isinstance(transforms, str):
        transforms = [transforms]
    transforms = list(transforms)
    for t in transforms:
        if t not in TRANSFORMS:
            raise ValueError(f"a port check's transforms are {', '.join(TRANSFORMS)}, not {t!r}")
    if not transforms:
        raise ValueError("give at least one transform: 'value' or 'grad'")
    shapes = {p: tuple(a.shape) for p, a in flat.items()}
    for label, framework in labels.items():
        if framework == "mxnet":
            _check_importable(functions[label])
    return Setup(
        labels=labels,
        entries={label: functions[label] for label in labels},
        tree=tree,
        root=root,
        flat=flat,
        inputs=input_tree,
        sizes=sizes_of(flatten(input_tree, "inputs", what="the inputs")),
        layout=layout_mod.parse(layout, labels, shapes),
        dtypes=_dtypes(dtypes, flat),
        transforms=transforms,
        tolerance=tolerance,
        timeout=timeout,
        notes=_mixed_dtypes(flat) if dtypes is None else [],
    )


def _mixed_dtypes(flat: dict[str, np.ndarray]) -> list[str]:
    """A note when the parameters hold several float dtypes (the check runs in the widest)."""
    kinds = {a.dtype.name for a in flat.values()}
    if len(kinds) < 2:
        return []
    wide = _dtypes(None, flat)[0]
    narrow = [p for p, a in flat.items() if a.dtype.name != wide]
    shown = ", ".join(f"{p} ({flat[p].dtype.name})" for p in narrow[:6])
    more = f" and {len(narrow) - 6} more" if len(narrow) > 6 else ""
    return [
        f"the parameters hold {' and '.join(sorted(kinds))}: {shown}{more} checked in {wide}, "
        f"cast to it like every parameter (give dtypes= to choose the checked dtypes)"
    ]
