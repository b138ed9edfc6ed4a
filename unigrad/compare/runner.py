"""``unigrad compare``: run cases on every backend, judge each cell, stream and report.

A cell is case x transform x backend x dtype. Each backend runs in its own worker process (MXNet
in its environment), up to one per core at a time. Each cell is compared with the exact
expected value (when the case has one) and with the reference engine in float64; finite
differences in float64 check the reference itself; backends are compared pairwise at the end.
"""

from __future__ import annotations

import fnmatch
import json
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from unigrad import pytree, registry
from unigrad.compare import oracle
from unigrad.compare.case import (
    DTYPES,
    Case,
    CaseLoadError,
    case_files,
    default_case_dir,
    load_file,
)
from unigrad.compare.cells import _split, run_cell
from unigrad.errors import BackendUnavailableError, WorkerError
from unigrad.testing.gradcheck import _assemble, numerical_jacobian

# The longest workers start first (measured: jax, then tensorflow), so the others fit beside them.
START_ORDER = ("jax", "tensorflow", "torch", "mxnet", "numpy")


class UsageError(ValueError):
    """A bad option: exit code 2."""


@dataclass
class Selection:
    """The cases to run and the problems met while loading them."""

    cases: list[Case] = field(default_factory=list)
    problems: list[dict] = field(default_factory=list)


def select_cases(specs: Sequence[str] | None) -> Selection:
    """Cases from paths (files or folders), ids and id globs; the default suite if none."""
    sel = Selection()
    paths, patterns = [], []
    for s in specs or []:
        (paths if Path(s).exists() or s.endswith(".py") else patterns).append(s)
    if not paths:
        paths = [str(default_case_dir())]
    pool: list[Case] = []
    for f in case_files(paths):
        if not f.exists():
            raise UsageError(f"case file {f} does not exist")
        try:
            pool.extend(load_file(f))
        except CaseLoadError as exc:
            sel.problems.append({"kind": "case_file", "where": exc.where, "error": str(exc)})
    seen: set[str] = set()
    for c in pool:
        if c.id in seen:
            sel.problems.append(
                {
                    "kind": "duplicate_id",
                    "where": c.where,
                    "error": f"{c.where}: case id {c.id!r} is defined twice",
                }
            )
        seen.add(c.id)
    if not patterns:
        sel.cases = pool
        return sel
    for pat in patterns:
        hits = [c for c in pool if fnmatch.fnmatchcase(c.id, pat)]
        if not hits:
            import difflib

            close = difflib.get_close_matches(pat, [c.id for c in pool], n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise UsageError(f"no case matches {pat!r}{hint}")
        sel.cases.extend(c for c in hits if c not in sel.cases)
    return sel


# ------------------------------------------------------------------------ the reference


@dataclass
class Reference:
    """The reference engine's float64 results and their finite-difference check."""

    values: dict[tuple[str, str], Any] = field(default_factory=dict)
    errors: dict[tuple[str, str], str] = field(default_factory=dict)
    fd: dict[tuple[str, str], str] = field(default_factory=dict)


def _flat(v: Any) -> np.ndarray:
    leaves = pytree.tree_leaves(v)
    if not leaves:
        return np.zeros(0)
    return np.concatenate([np.ravel(np.asarray(x, np.float64)) for x in leaves])


def fd_check(case: Case, transform: str, ref: Any) -> str:
    """Check a reference result against central finite differences: 'ok', 'n/a' or why not."""
    if transform == "value":
        return "n/a"
    if case.no_finite_differences:
        return f"n/a ({case.no_finite_differences})"
    import unigrad

    args = case.make_inputs("float64")
    idx, partial = _split(case, args)
    primals = [args[i] for i in idx]
    if any(np.asarray(v).dtype.kind != "f" for v in pytree.tree_leaves(primals)):
        return "n/a"
    try:
        if transform in ("hessian", "hvp"):

            def g(*d: Any) -> Any:
                return unigrad.grad(partial, tuple(range(len(d))), backend="numpy")(*d)

            fn = g
        else:
            fn = partial
        jac = numerical_jacobian(fn, *primals, backend="numpy")
    except Exception as exc:  # the function cannot be evaluated off its inputs
        return f"n/a ({type(exc).__name__})"
    got = _flat(ref)
    in_sizes = [int(np.size(v)) for v in pytree.tree_leaves(primals)]
    if transform in ("grad", "hessian"):
        want = jac.T.ravel() if transform == "grad" else jac.ravel()
        if transform == "hessian":
            out_sizes = in_sizes
            got = _assemble(ref, out_sizes, in_sizes, len(out_sizes), len(in_sizes)).ravel()
    elif transform == "jacobian":
        out0 = unigrad.to_numpy(partial(*primals))
        out_sizes = [int(np.size(v)) for v in pytree.tree_leaves(out0)]
        got = _assemble(ref, out_sizes, in_sizes, len(out_sizes), len(in_sizes)).ravel()
        want = jac.ravel()
    elif transform == "vjp":
        from unigrad.compare.case import directions

        out0 = unigrad.to_numpy(partial(*primals))
        cts = directions(case, [np.shape(v) for v in pytree.tree_leaves(out0)], "vjp", "float64")
        want = _flat(cts) @ jac
    else:  # jvp, hvp
        from unigrad.compare.case import directions

        ts = directions(
            case, [np.shape(v) for v in pytree.tree_leaves(primals)], transform, "float64"
        )
        want = jac @ _flat(ts)
    verdict = oracle.compare(got, want, "float64", oracle.FD_TOLERANCE)
    return "ok" if verdict["status"] == "pass" else f"mismatch: {verdict.get('detail', '')}"


def reference(cases: Sequence[Case]) -> Reference:
    """Run every case on the reference engine in float64, and check it by finite differences."""
    ref = Reference()
    with np.errstate(all="ignore"):  # nan and inf at edge points are results, not accidents
        _reference(cases, ref)
    return ref


def _reference(cases: Sequence[Case], ref: Reference) -> None:
    for case in cases:
        for t in case.transforms:
            cell = run_cell(case, t, "numpy", "float64")
            if cell["status"] == "ok":
                ref.values[(case.id, t)] = cell["value"]
                ref.fd[(case.id, t)] = fd_check(case, t, cell["value"])
            else:
                ref.errors[(case.id, t)] = cell.get("error", cell["status"])


# ------------------------------------------------------------------------------ verdicts


def judge(case: Case, transform: str, backend: str, dtype: str, raw: dict, ref: Reference) -> dict:
    """Turn one raw worker result into a record with a status and error measures."""
    rec: dict[str, Any] = {
        "case": case.id,
        "source": case.source,
        "file": case.where,
        "transform": transform,
        "backend": backend,
        "dtype": dtype,
        "status": raw["status"],
        "time": raw.get("time"),
        "declared_gap": case.gap(backend, transform),
        "reference_fd": ref.fd.get((case.id, transform), "n/a"),
        "max_abs": None,
        "max_rel": None,
        "ulp": None,
        "detail": "",
        "exact": None,
    }
    if raw["status"] != "ok":
        rec["detail"] = raw.get("error", "")
        if raw.get("where"):
            rec["where"] = raw["where"]
        return rec
    tol = oracle.tolerance(dtype, case.tolerance)
    value = raw["value"]
    rec["value"] = value
    status = "pass"
    if transform in case.expected:
        v = oracle.compare(value, case.expected[transform], dtype, tol)
        rec["exact"] = v["status"]
        if v["status"] != "pass":
            status, rec["detail"] = v["status"], f"vs exact value: {v['detail']}"
    key = (case.id, transform)
    if key in ref.values:
        v = oracle.compare(value, ref.values[key], dtype, tol)
        rec.update(max_abs=v.get("max_abs"), max_rel=v.get("max_rel"), ulp=v.get("ulp"))
        if v["status"] != "pass" and status == "pass":
            status, rec["detail"] = v["status"], f"vs reference: {v['detail']}"
    elif key in ref.errors and transform not in case.expected:
        rec["detail"] = f"no reference ({ref.errors[key]})"
    rec["status"] = status
    return rec


def pairwise(records: list[dict], cases: dict[str, Case]) -> list[dict]:
    """Every pair of backends whose values for the same cell disagree."""
    by_cell: dict[tuple, dict[str, Any]] = {}
    for r in records:
        if "value" in r and r.get("section") != "native":
            by_cell.setdefault((r["case"], r["transform"], r["dtype"]), {})[r["backend"]] = r
    out = []
    for (cid, t, dtype), per in by_cell.items():
        names = sorted(per)
        tol = oracle.tolerance(dtype, cases[cid].tolerance)
        for i, a in enumerate(names):
            for b in names[i + 1 :]:
                v = oracle.compare(per[a]["value"], per[b]["value"], dtype, tol)
                if v["status"] != "pass":
                    out.append(
                        {
                            "case": cid,
                            "transform": t,
                            "dtype": dtype,
                            "backends": [a, b],
                            "status": v["status"],
                            "detail": v.get("detail", ""),
                        }
                    )
    return out


# -------------------------------------------------------------------------------- the run


@dataclass
class RunResult:
    """Everything a report needs."""

    run_dir: Path
    records: list[dict]
    cases: list[Case]
    backends: list[str]
    dtypes: list[str]
    problems: list[dict]
    disagreements: list[dict]
    backend_info: dict[str, dict]
    backend_time: dict[str, float]
    wall: float

    @property
    def exit_code(self) -> int:
        """0 if every cell passes or is a declared gap, else 1."""
        if self.problems:
            return 1
        for r in self.records:
            if r["status"] in ("pass", "skipped", "finding"):
                continue
            if r["status"] == "unsupported" and r["declared_gap"]:
                continue
            return 1
        return 0


class _Stream:
    """results.jsonl, appended one record at a time from several threads."""

    def __init__(self, path: Path) -> None:
        self.fh = path.open("w")
        self.lock = threading.Lock()

    def write(self, rec: dict) -> None:
        line = json.dumps({k: v for k, v in rec.items() if k != "value"}, default=_jsonable)
        with self.lock:
            self.fh.write(line + "\n")
            self.fh.flush()

    def close(self) -> None:
        self.fh.close()


def _show(value: Any) -> str:
    """A short, stable rendering of a native result (None stays None)."""
    if isinstance(value, list | tuple):
        return (
            "(" + ", ".join(_show(v) for v in value) + ")"
            if len(value) > 1
            else (_show(value[0]) if value else "()")
        )
    if value is None:
        return "None"
    a = np.asarray(value, dtype=np.float64)
    return np.array2string(a, precision=6, separator=", ") if a.ndim else f"{float(a):.6g}"


def _jsonable(v: Any) -> Any:
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, np.ndarray):
        return v.tolist()
    return str(v)


def request_case(worker: Any, case: Case, backend: str, dtypes: list[str], timeout: float) -> dict:
    """One case's cells from a backend worker; a crash or hang marks every cell of the case."""
    msg = {
        "op": "case",
        "file": case.file,
        "id": case.id,
        "backend": backend,
        "dtypes": dtypes,
        "transforms": list(case.transforms),
    }
    try:
        return worker.request(msg, timeout=timeout)
    except WorkerError as exc:
        status = {"timeout": "timeout", "crash": "crash"}.get(exc.kind, "error")
        return {
            f"{d}/{t}": {"status": status, "error": str(exc)}
            for d in dtypes
            for t in case.transforms
        }


def _run_backend(
    backend: str,
    cases: list[Case],
    dtypes: list[str],
    ref: Reference,
    timeout: float,
    emit: Callable[[dict], None],
    info: dict[str, dict],
    times: dict[str, float],
) -> None:
    from unigrad.workers.client import Worker

    t0 = time.perf_counter()
    try:
        worker = Worker(backend)
        info[backend] = worker.request({"op": "ping", "backend": backend}, timeout=180)
    except (BackendUnavailableError, WorkerError) as exc:
        for case in cases:
            for d in dtypes:
                if d in case.dtypes:
                    for t in case.transforms:
                        emit(
                            {
                                "case": case.id,
                                "source": case.source,
                                "file": case.where,
                                "transform": t,
                                "backend": backend,
                                "dtype": d,
                                "status": "skipped",
                                "declared_gap": None,
                                "detail": f"backend not run: {exc}",
                            }
                        )
        info[backend] = {"error": str(exc)}
        return
    try:
        for case in cases:
            ds = [d for d in dtypes if d in case.dtypes]
            if not ds:
                continue
            raw = request_case(worker, case, backend, ds, timeout)
            for d in ds:
                for t in case.transforms:
                    emit(judge(case, t, backend, d, raw[f"{d}/{t}"], ref))
            if "native" in raw:
                nat = raw["native"]
                emit(
                    {
                        "section": "native",
                        "case": case.id,
                        "source": case.source,
                        "file": case.where,
                        "transform": "native grad",
                        "backend": backend,
                        "dtype": "float64",
                        "status": "finding",
                        "declared_gap": None,
                        "value": nat.get("value"),
                        "time": nat.get("time"),
                        "shown": _show(nat.get("value"))
                        if nat["status"] == "ok"
                        else f"error: {nat.get('error')}",
                        "detail": nat.get("error", ""),
                    }
                )
    finally:
        worker.kill()
        times[backend] = time.perf_counter() - t0


def run(
    case_specs: Sequence[str] | None = None,
    backends: Sequence[str] | None = None,
    dtype: str = "both",
    out: str | Path = "reports",
    timeout: float = 60.0,
    progress: Callable[[str, int, int], None] | None = None,
    jobs: int | None = None,
) -> RunResult:
    """Run the comparison and write results.jsonl; reports come from ``reports.write``."""
    t_start = time.perf_counter()
    if dtype not in ("float32", "float64", "both"):
        raise UsageError(f"--dtype must be float32, float64 or both, not {dtype!r}")
    dtypes = list(DTYPES) if dtype == "both" else [dtype]
    explicit = backends is not None
    names = list(backends) if backends else registry.backend_names()
    for b in names:
        try:
            registry.check_name(b, "--backends")
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
    sel = select_cases(case_specs)
    run_dir = Path(out) / time.strftime("%Y%m%d-%H%M%S")
    n = 1
    while run_dir.exists():
        run_dir = Path(out) / f"{time.strftime('%Y%m%d-%H%M%S')}-{n}"
        n += 1
    run_dir.mkdir(parents=True)
    stream = _Stream(run_dir / "results.jsonl")
    for p in sel.problems:
        stream.write({"status": "error", **p})
    ref = reference(sel.cases)
    records: list[dict] = []
    lock = threading.Lock()
    total = sum(len(c.transforms) * len([d for d in dtypes if d in c.dtypes]) for c in sel.cases)
    total += sum(1 for c in sel.cases if c.native)
    done: dict[str, int] = dict.fromkeys(names, 0)

    def emit(rec: dict) -> None:
        stream.write(rec)
        with lock:
            records.append(rec)
            done[rec["backend"]] += 1
        if progress is not None:
            progress(rec["backend"], done[rec["backend"]], total)

    info: dict[str, dict] = {}
    times: dict[str, float] = {}
    order = sorted(names, key=lambda b: START_ORDER.index(b) if b in START_ORDER else 99)
    workers = jobs or os.cpu_count() or 2
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = [
            pool.submit(_run_backend, b, sel.cases, dtypes, ref, timeout, emit, info, times)
            for b in order
        ]
        for f in futures:
            f.result()
    stream.close()
    if explicit:
        for r in records:
            if r["status"] == "skipped":
                r["status"] = "error"  # asked for by name, and it could not run
    cases = {c.id: c for c in sel.cases}
    return RunResult(
        run_dir=run_dir,
        records=records,
        cases=sel.cases,
        backends=names,
        dtypes=dtypes,
        problems=sel.problems,
        disagreements=pairwise(records, cases),
        backend_info=info,
        backend_time=times,
        wall=time.perf_counter() - t_start,
    )
