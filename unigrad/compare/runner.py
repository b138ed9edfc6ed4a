"""``unigrad compare``: run the selected cases on every backend, judge each cell, stream records.

A cell is case x transform x backend x dtype. The reference (numpy engine, float64, checked
by finite differences) is computed first, in this process. Then each backend runs in its own
worker process (MXNet in its environment), up to one per core at a time: one ``invoke
unigrad.compare.cells:run_case`` request per case. Each cell's result is judged as it arrives
and streamed to results.jsonl; backends are compared pairwise at the end. The report files
come from ``unigrad.compare.reports.write``.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from unigrad import registry
from unigrad.compare import verdicts
from unigrad.compare.case import DTYPES, Case
from unigrad.compare.records import (
    CaseResults,
    CellResult,
    Outcome,
    Record,
    ResultsStream,
    RunResult,
)
from unigrad.compare.reference import Reference, reference
from unigrad.compare.selection import UsageError, select_cases
from unigrad.errors import BackendUnavailableError, WorkerError

# The longest workers start first (measured: jax, then tensorflow), so the others fit beside them.
START_ORDER = ("jax", "tensorflow", "torch", "mxnet", "numpy")
RUN_CASE = "unigrad.compare.cells:run_case"

_FAILED = {"timeout": Outcome.TIMEOUT, "crash": Outcome.CRASH}


def request_case(
    worker: Any, case: Case, backend: str, dtypes: Sequence[str], timeout: float
) -> CaseResults:
    """One case's cells from a backend worker; a crash or hang marks every cell of the case."""
    payload = {
        "file": case.file,
        "id": case.id,
        "backend": backend,
        "dtypes": list(dtypes),
        "transforms": list(case.transforms),
    }
    try:
        return CaseResults.from_wire(worker.invoke(RUN_CASE, payload, timeout=timeout))
    except WorkerError as exc:
        failed = CellResult(_FAILED.get(exc.kind, Outcome.ERROR), error=str(exc))
        return CaseResults(
            {(d, t): failed for d in dtypes for t in case.transforms},
            failed if backend in case.native else None,
        )


def _run_backend(
    backend: str,
    cases: list[Case],
    dtypes: list[str],
    ref: Reference,
    timeout: float,
    asked_for: bool,
    emit: Callable[[Record], None],
    info: dict[str, dict],
    times: dict[str, float],
) -> None:
    from unigrad.workers.client import Worker

    t0 = time.perf_counter()
    try:
        worker = Worker(backend)
        info[backend] = worker.ping(timeout=180)
    except (BackendUnavailableError, WorkerError) as exc:
        for case in cases:
            for d in dtypes:
                if d in case.dtypes:
                    for t in case.transforms:
                        emit(verdicts.not_run(case, t, backend, d, str(exc), asked_for))
        info[backend] = {"error": str(exc)}
        return
    try:
        for case in cases:
            ds = [d for d in dtypes if d in case.dtypes]
            if not ds:
                continue
            got = request_case(worker, case, backend, ds, timeout)
            for d in ds:
                for t in case.transforms:
                    emit(verdicts.judge(case, t, backend, d, got.cells[(d, t)], ref))
            if got.native is not None:
                emit(verdicts.finding(case, backend, got.native))
    finally:
        worker.kill()
        times[backend] = time.perf_counter() - t0


def _new_run_dir(out: str | Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    run_dir, n = Path(out) / stamp, 1
    while run_dir.exists():
        run_dir = Path(out) / f"{stamp}-{n}"
        n += 1
    run_dir.mkdir(parents=True)
    return run_dir


def run(
    case_specs: Sequence[str] | None = None,
    backends: Sequence[str] | None = None,
    dtype: str = "both",
    out: str | Path = "reports",
    timeout: float = 60.0,
    progress: Callable[[str, int, int], None] | None = None,
    jobs: int | None = None,
) -> RunResult:
    """Run the comparison and write results.jsonl; raises ``UsageError`` on a bad option.

    ``backends`` None means every known backend, skipping those that are not installed; a
    backend named here that cannot run is an error.
    """
    t_start = time.perf_counter()
    if dtype not in ("float32", "float64", "both"):
        raise UsageError(f"--dtype must be float32, float64 or both, not {dtype!r}")
    dtypes = list(DTYPES) if dtype == "both" else [dtype]
    asked_for = backends is not None
    names = list(backends) if backends else registry.backend_names()
    for b in names:
        try:
            registry.check_name(b, "--backends")
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
    sel = select_cases(case_specs)
    run_dir = _new_run_dir(out)
    stream = ResultsStream(run_dir / "results.jsonl")
    stream.write_all(sel.problems)
    ref = reference(sel.cases)
    records: list[Record] = []
    lock = threading.Lock()
    runs = [c for c in sel.cases if any(d in c.dtypes for d in dtypes)]
    cells = sum(len(c.transforms) * len([d for d in dtypes if d in c.dtypes]) for c in runs)
    total = {b: cells + sum(1 for c in runs if b in c.native) for b in names}
    done: dict[str, int] = dict.fromkeys(names, 0)

    def emit(rec: Record) -> None:
        stream.write(rec)
        with lock:
            records.append(rec)
            done[rec.backend] += 1
            n = done[rec.backend]
        if progress is not None:
            progress(rec.backend, n, total[rec.backend])

    info: dict[str, dict] = {}
    times: dict[str, float] = {}
    order = sorted(names, key=lambda b: START_ORDER.index(b) if b in START_ORDER else 99)
    workers = jobs or os.cpu_count() or 2
    try:
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            futures = [
                pool.submit(
                    _run_backend, b, sel.cases, dtypes, ref, timeout, asked_for, emit, info, times
                )
                for b in order
            ]
            for f in futures:
                f.result()
    finally:
        stream.close()
    return RunResult(
        run_dir=run_dir,
        records=records,
        cases=sel.cases,
        backends=names,
        dtypes=dtypes,
        problems=sel.problems,
        disagreements=verdicts.pairwise(records, {c.id: c for c in sel.cases}),
        backend_info=info,
        backend_time=times,
        wall=time.perf_counter() - t_start,
    )
