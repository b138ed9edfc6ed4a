"""Where shards run: ``local`` (unigrad's workers on this machine) or ``dask`` (a cluster).

A shard is a list of programs for one lane: a backend, or ``reference`` (the numpy engine in
float64 in a numpy worker of its own). Inside a shard, unigrad's own worker protocol runs as it
does for ``unigrad compare``: one worker process per backend (MXNet in its environment), the
shard sent as one ``invoke unigrad.fuzz.execute:run_shard`` request. A worker that crashes or
hangs on a shard is restarted and the shard's programs are run one by one, so that only the
program that kills it is marked (``{"failed": "crash" | "timeout", "error": ...}``).

With ``dask``, each shard is one dask task, placed on a worker that advertises the lane's
environment as a resource (``env-mxnet`` for MXNet); dask re-runs the task of a worker that
dies on another worker, and the driver takes each shard's result once, so nothing is lost or
counted twice.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from unigrad.errors import WorkerError

RUN_SHARD = "unigrad.fuzz.execute:run_shard"
REFERENCE = "reference"
STARTUP_TIMEOUT = 180.0
#: the dask resource a worker advertises when it can run a lane's environment
RESOURCES = {"mxnet": "env-mxnet"}


def _payload_for(lane: str, payload: dict) -> dict:
    if lane == REFERENCE:
        return {**payload, "backend": "numpy", "mode": "reference"}
    return {**payload, "backend": lane}


def call_lane(worker: Any, lane: str, payload: dict, timeout: float) -> tuple[list[dict], float]:
    """One shard on ``worker``: the results, one per program, and the seconds it took. A crash
    or a hang reruns the shard's programs one by one, marking only those that fail."""
    t0 = time.perf_counter()
    progs = payload["programs"]
    try:
        got = worker.invoke(RUN_SHARD, _payload_for(lane, payload), timeout=timeout * len(progs))
        return got, time.perf_counter() - t0
    except WorkerError as exc:
        if exc.kind not in ("crash", "timeout") or len(progs) == 1:
            if len(progs) == 1:
                return [{"failed": exc.kind, "error": str(exc)[:2000]}], time.perf_counter() - t0
            raise
    out = []
    for p in progs:
        one = {**payload, "programs": [p]}
        try:
            out.extend(worker.invoke(RUN_SHARD, _payload_for(lane, one), timeout=timeout))
        except WorkerError as exc:
            if exc.kind == "stopped":
                raise
            out.append({"failed": exc.kind, "error": str(exc)[:2000]})
    return out, time.perf_counter() - t0


class LocalExecutor:
    """unigrad's workers on this machine: one per lane, up to ``jobs`` requests at a time."""

    name = "local"

    def __init__(self, jobs: int | None = None) -> None:
        from unigrad.compare.runner import Fleet

        self.jobs = max(1, jobs or os.cpu_count() or 2)
        self.fleet = Fleet()
        self._workers: dict[str, Any] = {}
        self._lanes: dict[str, ThreadPoolExecutor] = {}
        self._slots = threading.Semaphore(self.jobs)
        self.busy: dict[str, float] = {}

    def _worker(self, lane: str) -> Any:
        w = self._workers.get(lane)
        if w is None:
            backend = "numpy" if lane == REFERENCE else lane
            options = {"python": sys.executable} if lane == REFERENCE else {}
            w = self._workers[lane] = self.fleet.worker(backend, **options)
        return w

    def start(self, lanes: list[str]) -> dict[str, dict]:
        """Start every lane's worker (frameworks imported); what each says, or its error."""
        info: dict[str, dict] = {}

        def one(lane: str) -> None:
            try:
                w = self._worker(lane)
                w.start()
                info[lane] = dict(w.info or {})
            except Exception as exc:  # not installed, or broken: the lane does not run
                info[lane] = {"error": str(exc)}

        with ThreadPoolExecutor(self.jobs) as pool:
            list(pool.map(one, lanes))
        return info

    def submit(self, lane: str, payload: dict, timeout: float) -> Future:
        """Run one shard on ``lane``; a future of its results (one per program)."""
        pool = self._lanes.setdefault(lane, ThreadPoolExecutor(1, thread_name_prefix=lane))

        def task() -> list[dict]:
            if self.fleet.stop.is_set():
                raise WorkerError("the campaign was stopped", kind="stopped")
            with self._slots:
                if self.fleet.stop.is_set():  # halted while this shard waited for a slot
                    raise WorkerError("the campaign was stopped", kind="stopped")
                got, took = call_lane(self._worker(lane), lane, payload, timeout)
            self.busy[lane] = self.busy.get(lane, 0.0) + took
            return got

        return pool.submit(task)

    def halt(self) -> None:
        """Stop now: every worker process is killed, nothing new starts."""
        self.fleet.halt()

    def close(self) -> None:
        """Stop the workers and the lanes' threads."""
        for pool in self._lanes.values():
            pool.shutdown(wait=False, cancel_futures=True)
        for w in self._workers.values():
            w.kill()


# ---------------------------------------------------------------------------------- dask
_remote: dict[str, Any] = {}


def remote_shard(lane: str, payload: dict, timeout: float) -> tuple[list[dict], float]:
    """A dask task: one shard through a unigrad worker kept in this dask worker's process."""
    from unigrad.workers.client import Worker

    w = _remote.get(lane)
    if w is None:
        backend = "numpy" if lane == REFERENCE else lane
        options = {"python": sys.executable} if lane == REFERENCE else {}
        w = _remote[lane] = Worker(backend, startup_timeout=STARTUP_TIMEOUT, **options)
    return call_lane(w, lane, payload, timeout)


def remote_info(lane: str) -> dict:
    """A dask task: start the lane's unigrad worker here and say what it is."""
    remote_shard(lane, {"programs": [], "dtypes": [], "checks": []}, 60.0)
    return dict(_remote[lane].info or {})


class DaskExecutor:
    """Shards as dask tasks on a cluster (``address``), or on a local one started here."""

    name = "dask"

    def __init__(self, address: str | None = None, jobs: int | None = None) -> None:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError as exc:
            raise RuntimeError(
                "--executor dask needs dask.distributed: pip install 'unigrad[distributed]' "
                "(or `make env` in a unigrad checkout)"
            ) from exc
        self.cluster = None
        if address:
            self.client = Client(address, timeout=60)
        else:
            n = max(1, jobs or os.cpu_count() or 2)
            self.cluster = LocalCluster(
                n_workers=n,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                resources={r: 1 for r in RESOURCES.values()},
            )
            self.client = Client(self.cluster)
        self.busy: dict[str, float] = {}
        self._stopped = False
        self._counter = 0

    def _resources(self, lane: str) -> dict[str, int] | None:
        r = RESOURCES.get(lane)
        return {r: 1} if r else None

    def start(self, lanes: list[str]) -> dict[str, dict]:
        """Each lane's worker information, from a worker of the cluster that can run it."""
        futs = {
            lane: self.client.submit(remote_info, lane, pure=False, resources=self._resources(lane))
            for lane in lanes
        }
        info = {}
        for lane, f in futs.items():
            try:
                info[lane] = f.result(timeout=STARTUP_TIMEOUT)
            except Exception as exc:
                info[lane] = {"error": f"{type(exc).__name__}: {exc}"}
        return info

    def submit(self, lane: str, payload: dict, timeout: float) -> Any:
        """One shard as a dask task; a future whose ``result()`` is the shard's results."""
        if self._stopped:
            raise WorkerError("the campaign was stopped", kind="stopped")
        self._counter += 1
        fut = self.client.submit(
            remote_shard,
            lane,
            payload,
            timeout,
            pure=False,
            resources=self._resources(lane),
            retries=2,
        )
        return _DaskResult(fut, lane, self.busy)

    def workers(self) -> dict[str, int]:
        """The cluster's workers and their process ids."""
        return self.client.run(os.getpid)

    def halt(self) -> None:
        """Stop: cancel what is queued; a local cluster is closed with its processes."""
        self._stopped = True
        if self.client.status in ("running", "connecting"):
            self.client.cancel(list(self.client.futures.values()), force=True)

    def close(self) -> None:
        """Close the client (and the local cluster, with its workers)."""
        if self.client.status != "closed":
            self.client.close()
        if self.cluster is not None and self.cluster.status.name != "closed":
            self.cluster.close()


class _DaskResult:
    def __init__(self, fut: Any, lane: str, busy: dict[str, float]) -> None:
        self.fut, self.lane, self.busy = fut, lane, busy

    def result(self, timeout: float | None = None) -> list[dict]:
        got, took = self.fut.result(timeout=timeout)
        self.busy[self.lane] = self.busy.get(self.lane, 0.0) + took
        return got


def check_executor(name: str, address: str | None = None) -> None:
    """Raise ``ValueError`` unless ``name`` (with ``address``) names an executor ``make`` builds."""
    if name == "local" and address:
        raise ValueError("--address joins a cluster: use it with --executor dask")
    if name == "ray":
        raise ValueError(
            "--executor ray is not supported: unigrad runs fuzz campaigns on dask (see the "
            "README, 'Campaigns on a cluster', for the measurements behind that choice)"
        )
    if name not in ("local", "dask"):
        raise ValueError(f"unknown executor {name!r}; use local or dask")


def make(name: str, address: str | None = None, jobs: int | None = None) -> Any:
    """The executor called ``name`` ("local" or "dask")."""
    check_executor(name, address)
    if name == "local":
        return LocalExecutor(jobs)
    return DaskExecutor(address, jobs)


Callback = Callable[[int], None]
