"""The types of ``unigrad compare``: what running a cell gives, and what a judged cell records.

Running one cell (case x transform x backend x dtype) gives a ``CellResult`` whose ``Outcome``
says how the run went (ok, unsupported, error, timeout, crash). Judging it gives a ``Record``
whose ``Status`` says whether it agrees (pass, fail, nan_mismatch, ...). ``counts_against``
is the one rule for the exit code. ``Record.row()`` is what report files hold: the field names
are those documented for results.jsonl, results.csv and summary.json.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field, fields
from enum import Enum
from pathlib import Path
from typing import Any

import numpy as np


class _Word(str, Enum):
    """An enum whose members are their own (string) value, in f-strings and JSON alike."""

    __str__ = str.__str__
    __format__ = str.__format__


class Outcome(_Word):
    """How running one cell went, before any judging."""

    OK = "ok"
    UNSUPPORTED = "unsupported"  # the backend raised UnsupportedError
    ERROR = "error"  # the case raised
    TIMEOUT = "timeout"  # the worker gave no answer in time
    CRASH = "crash"  # the worker died


class Status(_Word):
    """The judged status of a cell, as the reports show it."""

    PASS = "pass"
    FAIL = "fail"
    NAN_MISMATCH = "nan_mismatch"
    UNSUPPORTED = "unsupported"
    ERROR = "error"
    TIMEOUT = "timeout"
    CRASH = "crash"
    SKIPPED = "skipped"  # the backend is not installed, and was not asked for by name
    FINDING = "finding"  # a native-catalogue result: reported, never judged
    UNVERIFIED = "unverified"  # a value with no reference and no exact value to judge it by


@dataclass
class CellResult:
    """The raw result of one cell: a value, or why there is none."""

    outcome: Outcome
    value: Any = None
    time: float | None = None
    error: str = ""
    where: str = ""  # file:line in the case file where the case raised

    def to_wire(self) -> dict:
        """Plain data for the worker wire."""
        return {
            "outcome": self.outcome.value,
            "value": self.value,
            "time": self.time,
            "error": self.error,
            "where": self.where,
        }

    @classmethod
    def from_wire(cls, data: dict) -> CellResult:
        """The inverse of ``to_wire``."""
        return cls(
            Outcome(data["outcome"]),
            data.get("value"),
            data.get("time"),
            data.get("error", ""),
            data.get("where", ""),
        )


@dataclass
class CaseResults:
    """Every cell of one case on one backend, keyed by (dtype, transform), and its native run."""

    cells: dict[tuple[str, str], CellResult]
    native: CellResult | None = None

    def to_wire(self) -> dict:
        """Plain data for the worker wire."""
        return {
            "cells": [[d, t, r.to_wire()] for (d, t), r in self.cells.items()],
            "native": None if self.native is None else self.native.to_wire(),
        }

    @classmethod
    def from_wire(cls, data: dict) -> CaseResults:
        """The inverse of ``to_wire``."""
        native = data.get("native")
        return cls(
            {(d, t): CellResult.from_wire(r) for d, t, r in data["cells"]},
            None if native is None else CellResult.from_wire(native),
        )


@dataclass(kw_only=True)
class Record:
    """One judged cell: what the report files hold (``value`` stays in memory only)."""

    case: str
    source: str = ""
    file: str = ""  # file:line of the case's definition
    transform: str
    backend: str
    dtype: str
    section: str = "main"  # "main", or "native" for the native catalogue
    status: Status
    declared_gap: str | None = None
    time: float | None = None
    reference_fd: str = "n/a"  # the reference checked by finite differences: ok, n/a, mismatch
    max_abs: float | None = None
    max_rel: float | None = None
    ulp: float | None = None
    exact: Status | None = None  # the verdict against the case's exact value, if it has one
    against: str | None = None  # what max_abs, max_rel and ulp measure: exact, reference, pairwise
    detail: str = ""
    where: str | None = None  # file:line where the case raised
    shown: str | None = None  # native catalogue: the value as the report prints it
    repro: str | None = None  # the path of the script that recomputes this cell
    # in memory only (reports show them; the report files hold the error measures)
    value: Any = field(default=None, repr=False)
    reference: Any = field(default=None, repr=False)  # the reference engine's float64 value
    expected: Any = field(default=None, repr=False)  # the case's exact value, if any

    @property
    def counts_against(self) -> bool:
        """Whether this cell makes the run exit 1 (see ``counts_against``)."""
        return counts_against(self)

    def row(self) -> dict[str, Any]:
        """The record as report files hold it: every field but the values, statuses as text."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name not in IN_MEMORY:
                v = getattr(self, f.name)
                out[f.name] = v.value if isinstance(v, Enum) else v
        return out


IN_MEMORY = ("value", "reference", "expected")


def counts_against(rec: Record) -> bool:
    """The exit-code rule: a cell counts against the run unless it passes, is a declared gap,
    was skipped (a backend not installed and not asked for) or is a native finding."""
    if rec.status in (Status.PASS, Status.SKIPPED, Status.FINDING):
        return False
    return not (rec.status == Status.UNSUPPORTED and rec.declared_gap)


@dataclass
class Problem:
    """A case file that did not load, or a case id defined twice; it fails the run."""

    kind: str  # "case_file" or "duplicate_id"
    where: str
    error: str

    def row(self) -> dict[str, Any]:
        """The problem as results.jsonl holds it."""
        return {"status": Status.ERROR.value, **asdict(self)}


@dataclass
class Disagreement:
    """Two backends whose values for the same cell disagree."""

    case: str
    transform: str
    dtype: str
    backends: list[str]
    status: Status
    detail: str = ""

    def row(self) -> dict[str, Any]:
        """As summary.json holds it."""
        return {**asdict(self), "status": self.status.value}


@dataclass
class RunResult:
    """Everything a report needs."""

    run_dir: Path
    records: list[Record]
    cases: list[Any]
    backends: list[str]
    dtypes: list[str]
    problems: list[Problem]
    disagreements: list[Disagreement]
    backend_info: dict[str, dict]
    backend_time: dict[str, float]
    wall: float
    interrupted: str | None = None  # the signal that stopped the run early ("SIGINT"), if any

    @property
    def exit_code(self) -> int:
        """0 if every cell passes or is a declared gap, no two backends disagree and every case
        loaded, else 1; an interrupted run: 128 + the signal's number (130 for Ctrl-C)."""
        if self.interrupted:
            import signal

            return 128 + int(getattr(signal, self.interrupted, signal.SIGINT))
        if self.problems or self.disagreements or any(counts_against(r) for r in self.records):
            return 1
        return 0


def error_text(exc: BaseException) -> str:
    """``ValueError: message``, or the type alone when the error carries no message."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def show(value: Any) -> str:
    """A short, stable rendering of a result (a framework's None stays 'None')."""
    if isinstance(value, list | tuple):
        if len(value) == 1:
            return show(value[0])
        return "(" + ", ".join(show(v) for v in value) + ")"
    if value is None:
        return "None"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k!r}: {show(v)}" for k, v in value.items()) + "}"
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return repr(value)
    if not a.ndim:
        return f"{float(a):.6g}"
    return _shown(a.shape, a.tobytes())  # one reference is shown for each of five backends


@functools.lru_cache(maxsize=4096)
def _shown(shape: tuple[int, ...], data: bytes) -> str:
    a = np.frombuffer(data, dtype=np.float64).reshape(shape)
    return np.array2string(a, precision=6, separator=", ")


def _jsonable(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    return str(v)


def to_json_line(row: dict[str, Any]) -> str:
    """One line of results.jsonl."""
    return json.dumps(row, default=_jsonable)


class ResultsStream:
    """results.jsonl, appended one row at a time (from several threads), so that an interrupted
    run keeps what it has."""

    def __init__(self, path: Path) -> None:
        self.fh = path.open("w")
        self.lock = threading.Lock()

    def write(self, item: Record | Problem) -> None:
        """Append one record or problem and flush."""
        line = to_json_line(item.row())
        with self.lock:
            self.fh.write(line + "\n")
            self.fh.flush()

    def write_all(self, items: Iterable[Record | Problem]) -> None:
        """Append several."""
        for item in items:
            self.write(item)

    def close(self) -> None:
        """Close the file."""
        self.fh.close()

    def rewrite(self, items: Iterable[Record | Problem]) -> None:
        """Replace the whole file with ``items`` at once (the final rows, after cross-checks)."""
        self.close()
        path = Path(self.fh.name)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text("".join(to_json_line(i.row()) + "\n" for i in items))
        tmp.replace(path)
