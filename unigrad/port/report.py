"""The port report: one row per leaf (an output's value, or a parameter's gradient) per
framework and dtype, judged against the reference framework with ``unigrad compare``'s
tolerances; what failed, the worst element, and the diagnosis where one was found.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np

from unigrad.compare.oracle import number
from unigrad.compare.records import Status

#: leaf statuses that fail a port check (every status but pass)
FAILING = (Status.FAIL, Status.NAN_MISMATCH, Status.ERROR, Status.UNVERIFIED)


class PortMismatchError(AssertionError):
    """A port check found leaves that disagree; the message holds the table of them."""


@dataclass(kw_only=True)
class Leaf:
    """One judged leaf: what the report files hold (``value`` and ``reference`` stay in
    memory)."""

    transform: str  # "value" (an output) or "grad" (a parameter's gradient)
    path: str  # "output", "output.logits", "fc1.weight"
    framework: str  # the function's label
    against: str | None  # the reference's label
    dtype: str
    status: Status
    shape: tuple[int, ...] | None = None
    reference_shape: tuple[int, ...] | None = None
    max_abs: float | None = None
    max_rel: float | None = None
    ulp: float | None = None
    index: tuple[int, ...] | None = None  # the worst element: the first failing, else the largest
    got: float | None = None  # this framework's value there
    expected: float | None = None  # the reference's value there
    detail: str = ""  # what failed, or the framework's error
    layout: str = ""  # the layout transform this framework's parameter went through
    note: str = ""  # e.g. a parameter the function does not use
    diagnosis: str = ""  # the porting mistake that makes this leaf agree, when one was found
    value: Any = field(default=None, repr=False)
    reference: Any = field(default=None, repr=False)

    @property
    def passed(self) -> bool:
        """Whether this leaf agrees with the reference."""
        return self.status == Status.PASS

    @property
    def name(self) -> str:
        """``value output`` or ``grad fc1.weight``."""
        return f"{self.transform} {self.path}"

    def row(self) -> dict[str, Any]:
        """The leaf as results.jsonl holds it."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name in ("value", "reference"):
                continue
            v = getattr(self, f.name)
            out[f.name] = (
                v.value if isinstance(v, Enum) else (list(v) if isinstance(v, tuple) else v)
            )
        return out


@dataclass
class PortReport:
    """Everything a port check found; ``raise_if_disagree`` turns failures into an
    ``AssertionError`` with the table of failing leaves."""

    leaves: list[Leaf]
    frameworks: dict[str, str]  # label -> framework, in order
    references: dict[str, str | None]  # dtype -> the reference's label (None: none ran)
    dtypes: list[str]
    transforms: list[str]
    errors: dict[str, str] = field(default_factory=dict)  # "label dtype" -> the framework's error
    findings: list[str] = field(default_factory=list)  # framework-level diagnoses
    notes: list[str] = field(default_factory=list)
    versions: dict[str, str] = field(default_factory=dict)
    times: dict[str, float] = field(default_factory=dict)  # seconds per label (every run)

    @property
    def passed(self) -> bool:
        """Whether every leaf agrees."""
        return all(leaf.passed for leaf in self.leaves) and bool(self.leaves)

    @property
    def failures(self) -> list[Leaf]:
        """The leaves that do not agree."""
        return [leaf for leaf in self.leaves if not leaf.passed]

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        return self.table()

    def headline(self) -> str:
        """One line: how many leaves agree, against which reference."""
        refs = sorted({r for r in self.references.values() if r})
        against = f"against {', '.join(refs)}" if refs else "with no reference (every run failed)"
        n, bad = len(self.leaves), len(self.failures)
        what = f"all {n} leaves agree" if not bad else f"{bad} of {n} leaves disagree"
        return (
            f"port check {'passed' if not bad else 'failed'}: {what} {against} "
            f"({', '.join(self.dtypes)}; {', '.join(self.transforms)})"
        )

    def table(self, only_failing: bool = False) -> str:
        """The report as text: a headline, one line per leaf, errors, diagnoses and notes."""
        rows = self.failures if only_failing else self.leaves
        lines = [self.headline()]
        if rows:
            lines.append(_text_table(rows, self.findings))
        for key, err in grouped_errors(self.errors):
            lines.append(f"{key} raised: {err}")
        lines += [f"diagnosis: {f}" for f in self.findings]
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def raise_if_disagree(self) -> PortReport:
        """Raise ``PortMismatchError`` (an AssertionError) listing the failing leaves, with the
        worst element, both values, the tolerance's verdict and the diagnosis; else return the
        report."""
        if not self.passed:
            raise PortMismatchError(self.table(only_failing=True))
        return self

    def write(
        self, out: str | Path, formats: tuple[str, ...] = ("jsonl", "json", "md", "html")
    ) -> Path:
        """Write the report files (results.jsonl, summary.json, agreement.md, agreement.html;
        ``formats`` picks some) into a new run folder under ``out``; ``out/latest`` points at
        it. Returns the folder."""
        from unigrad.port.files import write

        return write(self, Path(out), formats)


def _cell(v: float | None) -> str:
    return "-" if v is None else f"{v:.3g}"


def _where(leaf: Leaf) -> str:
    if leaf.index is None or leaf.got is None:
        return "-"
    at = f"[{', '.join(map(str, leaf.index))}]" if leaf.index else "scalar"
    return f"{at}: {number(leaf.got)} vs {number(leaf.expected)} ({leaf.against})"


def _text_table(rows: list[Leaf], findings: list[str]) -> str:
    """One line per leaf; under a failing one, why (unless the numbers say it) and its
    diagnosis (unless a finding already gives it for every failing leaf of its framework)."""
    head = ["leaf", "framework", "dtype", "status", "max abs", "max rel", "worst element"]
    body = [
        [
            r.name,
            r.framework,
            r.dtype,
            r.status.value,
            _cell(r.max_abs),
            _cell(r.max_rel),
            _where(r),
        ]
        for r in rows
    ]
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = ["  " + fmt.format(*head).rstrip()]
    for r, b in zip(rows, body):
        lines.append("  " + fmt.format(*b).rstrip())
        if r.note:
            lines.append(f"      note: {r.note}")
        if r.passed:
            continue
        # an error's message is the framework's, said once under the table
        if r.detail and "|diff|" not in r.detail and r.status != Status.ERROR:
            lines.append(f"      {' '.join(r.detail.split())}")
        if r.diagnosis and not covered(r, findings):
            lines.append(f"      diagnosis: {r.diagnosis}")
    return "\n".join(lines)


def grouped_errors(errors: dict[str, str]) -> list[tuple[str, str]]:
    """The frameworks' errors, each message once: ``("tensorflow float64, float32", msg)``."""
    by_message: dict[tuple[str, str], list[str]] = {}
    for key, message in errors.items():
        label, _, dtype = key.rpartition(" ")
        by_message.setdefault((label, message), []).append(dtype)
    return [(f"{label} {', '.join(dtypes)}", msg) for (label, msg), dtypes in by_message.items()]


def covered(leaf: Leaf, findings: list[str]) -> bool:
    """Whether a framework-level finding already gives this leaf's diagnosis."""
    return any(
        f.startswith(f"{leaf.framework} ({leaf.dtype})") and leaf.diagnosis in f for f in findings
    )


def values_at(got: Any, ref: Any, index: tuple[int, ...] | None) -> tuple[float | None, ...]:
    """The two values at the worst element (None when there is none)."""
    if index is None:
        return None, None
    try:
        return float(np.asarray(got)[index]), float(np.asarray(ref)[index])
    except (IndexError, TypeError, ValueError):
        return None, None
