"""``unigrad compare``: run the selected cases on every backend, judge each cell, stream records.

A cell is case x transform x backend x dtype. Every process that runs a case is a worker: the
reference (numpy engine, float64, checked by finite differences) runs in a numpy worker of its
own, beside the backends, one request per case under the same timeout; each backend runs in its
own worker (MXNet in its environment), up to one per core at a time, one ``invoke
unigrad.compare.cells:run_case`` request per case. A cell is judged as soon as its case's
reference is in, and streamed to results.jsonl. At the end the backends are cross-checked
pairwise and results.jsonl is rewritten with the final rows.

Ctrl-C (KeyboardInterrupt, or ``Interrupted`` raised by a signal handler) stops the workers at
once; the run returns what finished, with ``RunResult.interrupted`` set.
"""

from __future__ import annotations

import itertools
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from unigrad import registry
from unigrad.compare import reference as references
from unigrad.compare import verdicts
from unigrad.compare.case import DTYPES, Case
from unigrad.compare.records import (
    CaseResults,
    CellResult,
    Outcome,
    Record,
    ResultsStream,
    RunResult,
    Status,
)
from unigrad.compare.reference import Reference
from unigrad.compare.selection import UsageError, select_cases
from unigrad.errors import BackendUnavailableError, WorkerError

# The longest workers start first (measured: jax, then tensorflow), so the others fit beside them.
START_ORDER = ("jax", "tensorflow", "torch", "mxnet", "numpy")
RUN_CASE = "unigrad.compare.cells:run_case"
STARTUP_TIMEOUT = 180.0  # a worker's start (a framework's import) is not charged to its cases

_FAILED = {"timeout": Outcome.TIMEOUT, "crash": Outcome.CRASH}


class Interrupted(KeyboardInterrupt):
    """A signal asked the run to stop (raised by the CLI's SIGTERM handler)."""

    def __init__(self, signal_name: str = "SIGINT") -> None:
        self.signal_name = signal_name
        super().__init__(signal_name)


class Fleet:
    """The run's workers and its stop flag: ``halt`` stops every worker at once."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self._workers: list[Any] = []
        self._lock = threading.Lock()

    def worker(self, backend: str, **options: Any) -> Any:
        """A new worker for ``backend`` that ``halt`` will stop."""
        from unigrad.workers.client import Worker

        w = Worker(backend, startup_timeout=STARTUP_TIMEOUT, **options)
        with self._lock:
            self._workers.append(w)
            if self.stop.is_set():
                w.abort()
        return w

    def halt(self) -> None:
        """Stop: no new request starts, and every worker process is killed now."""
        self.stop.set()
        with self._lock:
            workers = list(self._workers)
        for w in workers:
            w.abort()


def request_case(
    worker: Any,
    case: Case,
    backend: str,
    dtypes: Sequence[str],
    timeout: float,
    ahead: Sequence[tuple[str, list[str], list[str]]] = (),
) -> CaseResults:
    """One case's cells from a backend worker; a crash or hang marks every cell of the case.
    ``ahead``: the ops-suite cases asked for next, which the worker may compute with this one."""
    payload = {
        "file": case.case_file,
        "id": case.id,
        "backend": backend,
        "dtypes": list(dtypes),
        "transforms": list(case.transforms),
        "ahead": [list(a) for a in ahead],
    }
    try:
        return CaseResults.from_wire(worker.invoke(RUN_CASE, payload, timeout=timeout))
    except WorkerError as exc:
        failed = CellResult(_FAILED.get(exc.kind, Outcome.ERROR), error=str(exc))
        return CaseResults(
            {(d, t): failed for d in dtypes for t in case.transforms},
            failed if backend in case.native else None,
        )


def _not_run(
    backend: str,
    cases: list[Case],
    dtypes: list[str],
    why: str,
    status: Status,
    emit: Callable[[Record], None],
) -> None:
    for case in cases:
        ds = [d for d in dtypes if d in case.dtypes]
        for d in ds:
            for t in case.transforms:
                emit(verdicts.not_run(case, t, backend, d, why, status))
        if ds and backend in case.native:
            emit(verdicts.not_run(case, "native grad", backend, "float64", why, status))


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
    fleet: Fleet,
) -> None:
    t0 = time.perf_counter()
    worker = None
    try:
        worker = fleet.worker(backend)
        worker.start()  # its greeting, then a ping that imports the framework
        info[backend] = dict(worker.info or {})
    except BackendUnavailableError as exc:  # not installed: skipped unless asked for by name
        info[backend] = {"error": str(exc)}
        status = Status.ERROR if asked_for else Status.SKIPPED
        _not_run(backend, cases, dtypes, str(exc), status, emit)
        return
    except WorkerError as exc:  # installed but broken: always an error
        if fleet.stop.is_set():
            return
        info[backend] = {"error": str(exc)}
        _not_run(backend, cases, dtypes, str(exc), Status.ERROR, emit)
        if worker is not None:
            worker.kill()
        return
    try:
        for n, case in enumerate(cases):
            ds = [d for d in dtypes if d in case.dtypes]
            if not ds:
                continue
            if fleet.stop.is_set():
                return
            got = request_case(worker, case, backend, ds, timeout, _ahead(cases[n + 1 :], dtypes))
            if fleet.stop.is_set() or not ref.wait(case.id, fleet.stop):
                return  # cells cut short by an interrupt are not results
            for d in ds:
                for t in case.transforms:
                    emit(verdicts.judge(case, t, backend, d, got.cells[(d, t)], ref))
            if got.native is not None:
                emit(verdicts.finding(case, backend, got.native))
    finally:
        worker.kill()
        times[backend] = time.perf_counter() - t0


#: ops-suite cases sent ahead with each request: a compiling backend (JAX) builds one program
#: for the group (measured on the quick suite: 22 s with a cold cache, against 26 s one by one)
AHEAD = 8


def _ahead(rest: Sequence[Case], dtypes: Sequence[str]) -> list[tuple[str, list[str], list[str]]]:
    """The next ``AHEAD`` ops-suite cases of ``rest``, as (id, dtypes, transforms)."""
    from unigrad.compare.opcases import OpCase

    out = []
    for case in rest[:AHEAD]:
        ds = [d for d in dtypes if d in case.dtypes]
        if isinstance(case, OpCase) and ds:
            out.append((case.id, ds, list(case.transforms)))
    return out


def _run_reference(cases: list[Case], ref: Reference, timeout: float, fleet: Fleet) -> None:
    worker = fleet.worker("numpy", python=sys.executable)
    try:
        references.compute(cases, ref, worker, timeout, fleet.stop)
    finally:
        worker.kill()


def check_timeout(timeout: float) -> None:
    """Raise ``UsageError`` unless ``timeout`` is a finite number of seconds above 0."""
    if not (isinstance(timeout, int | float) and math.isfinite(timeout) and timeout > 0):
        raise UsageError(
            f"--timeout must be a finite number of seconds above 0 (such as 60), not {timeout:g}"
        )


def nothing_selected(specs: Sequence[str] | None, cases: list[Case], dtypes: list[str]) -> str:
    """Why a selection runs no cell, naming what was selected."""
    asked = ", ".join(repr(s) for s in specs) if specs else "the shipped case library"
    if not cases:
        return f"--cases {asked} selects no case"
    ids = ", ".join(c.id for c in cases[:5]) + (", ..." if len(cases) > 5 else "")
    their = sorted({d for c in cases for d in c.dtypes})
    return (
        f"--cases {asked} selects {len(cases)} case(s) ({ids}), but none runs in "
        f"--dtype {' and '.join(dtypes)} (they run in {', '.join(their)}): no cell to run"
    )


def new_run_dir(out: str | Path) -> Path:
    """A new folder ``out/<date-time>[-n]`` for one run; two runs never get the same one.

    A folder that cannot be made (``out`` is a file, or not writable) is a ``UsageError``.
    """
    stamp = time.strftime("%Y%m%d-%H%M%S")
    try:
        Path(out).mkdir(parents=True, exist_ok=True)
        for n in itertools.count():
            run_dir = Path(out) / (stamp if n == 0 else f"{stamp}-{n}")
            try:
                run_dir.mkdir()  # atomic: exactly one run creates it
            except FileExistsError:
                continue
            return run_dir
    except OSError as exc:
        why = exc.strerror or str(exc)
        where = f" ({exc.filename})" if exc.filename and str(exc.filename) != str(out) else ""
        raise UsageError(
            f"--out {str(out)!r}: cannot make the report folder there: {why}{where}; give a "
            "folder you can write to"
        ) from exc
    raise AssertionError("unreachable")


def _wait_all(pool: ThreadPoolExecutor, threads: list[threading.Thread], fleet: Fleet) -> None:
    """Wait for every thread; a second Ctrl-C while stopping keeps stopping."""
    while True:
        try:
            pool.shutdown(wait=True, cancel_futures=True)
            for t in threads:
                t.join()
            return
        except KeyboardInterrupt:
            fleet.halt()


def run(
    case_specs: Sequence[str] | None = None,
    backends: Sequence[str] | None = None,
    dtype: str = "both",
    out: str | Path = "reports",
    timeout: float = 60.0,
    progress: Callable[[str, int, int], None] | None = None,
    jobs: int | None = None,
    suite: str | None = None,
    level: str = "quick",
    finishing: Callable[[], None] | None = None,
) -> RunResult:
    """Run the comparison and write results.jsonl; raises ``UsageError`` on a bad option.

    ``backends`` None means every known backend, skipping those that are not installed; a
    backend named here that cannot run is an error. A Ctrl-C stops the run: it returns the
    cells that finished, with ``interrupted`` set. ``finishing`` is called as soon as the cells
    are done or stopped (the CLI then defers further signals, so that the results are written
    whole).
    """
    t_start = time.perf_counter()
    if dtype not in ("float32", "float64", "both"):
        raise UsageError(f"--dtype must be float32, float64 or both, not {dtype!r}")
    check_timeout(timeout)
    if jobs is not None and jobs < 1:
        raise UsageError(f"--jobs must be a number of workers >= 1 (0: one per core), not {jobs}")
    dtypes = list(DTYPES) if dtype == "both" else [dtype]
    asked_for = backends is not None
    if backends is not None and not backends:
        raise UsageError(
            "--backends names no backend; give a comma list such as numpy,torch (or leave the "
            "option out for every backend)"
        )
    names = list(dict.fromkeys(backends)) if backends else registry.backend_names()  # once each
    for b in names:
        try:
            registry.check_name(b, "--backends")
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
    sel = select_cases(case_specs, suite, level, timeout)
    runs = [c for c in sel.cases if any(d in c.dtypes for d in dtypes)]
    cells = sum(len(c.transforms) * len([d for d in dtypes if d in c.dtypes]) for c in runs)
    if not cells and not sel.problems:
        raise UsageError(nothing_selected(case_specs, sel.cases, dtypes))
    run_dir = new_run_dir(out)
    stream = ResultsStream(run_dir / "results.jsonl")
    stream.write_all(sel.problems)
    records: list[Record] = []
    lock = threading.Lock()
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
    fleet = Fleet()
    ref = Reference()
    order = sorted(names, key=lambda b: START_ORDER.index(b) if b in START_ORDER else 99)
    pool = ThreadPoolExecutor(max_workers=max(1, jobs or os.cpu_count() or 2))
    # the reference is quick and every backend waits for it: it never queues behind them
    ref_thread = threading.Thread(
        target=_run_reference, args=(runs, ref, timeout, fleet), daemon=True
    )
    interrupted = None
    try:
        ref_thread.start()
        futures = [
            pool.submit(
                _run_backend, b, runs, dtypes, ref, timeout, asked_for, emit, info, times, fleet
            )
            for b in order
        ]
        for f in futures:
            f.result()
    except KeyboardInterrupt as exc:
        interrupted = exc.signal_name if isinstance(exc, Interrupted) else "SIGINT"
        fleet.halt()
    except BaseException:
        fleet.halt()
        raise
    finally:
        if finishing is not None:
            finishing()
        _wait_all(pool, [ref_thread], fleet)
    cases = {c.id: c for c in sel.cases}
    disagreements = verdicts.cross_check(records, cases)
    stream.rewrite([*sel.problems, *records])
    return RunResult(
        run_dir=run_dir,
        records=records,
        cases=sel.cases,
        backends=names,
        dtypes=dtypes,
        problems=sel.problems,
        disagreements=disagreements,
        backend_info=info,
        backend_time=times,
        wall=time.perf_counter() - t_start,
        interrupted=interrupted,
    )
