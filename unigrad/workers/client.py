"""Backend workers: a backend in its own process (MXNet in its own environment), by request.

``Worker(backend).invoke("module:function", payload)`` calls a function in the worker and
waits for its result (``ping`` loads the backend and describes the worker). The worker runs
``python -m unigrad.workers.server`` with the interpreter of the backend's environment, in this
process's working directory and environment variables (plus thread settings), so it imports
what that interpreter has installed, and targets from the working directory. A crash (the
process dies, as MXNet can), a hang (no reply within the timeout) or an undecodable exchange
raises ``WorkerError`` with ``kind`` set to "crash", "timeout" or "protocol"; the process is
then discarded and the next request starts a fresh one.
"""

from __future__ import annotations

import atexit
import collections
import os
import selectors
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from unigrad import registry
from unigrad.errors import BackendUnavailableError, UnsupportedError, WorkerError
from unigrad.workers import wire
from unigrad.workers.interpreters import find_python

# Thread settings for worker processes. MXNet's OpenMP pool competes with NumPy's BLAS in
# the same process, and workers already run side by side, one per core.
WORKER_THREAD_ENV = {
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MXNET_ENGINE_TYPE": "NaiveEngine",
    "TF_CPP_MIN_LOG_LEVEL": "3",
    "TF_NUM_INTEROP_THREADS": "1",
    "TF_NUM_INTRAOP_THREADS": "1",
    # Workers run many tiny one-off programs, where XLA's compile time dominates: its lowest
    # backend optimisation level cuts JAX's share of `unigrad compare` by about a fifth.
    "XLA_FLAGS": "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1 "
    "--xla_backend_optimization_level=0",
    "PYTHONUNBUFFERED": "1",
}


def python_for(backend: str) -> Path:
    """The interpreter that runs ``backend``: this one, or the backend's own environment."""
    avail = registry.specs()[registry.check_name(backend)].availability()
    if not avail.available:
        spec = registry.specs()[backend]
        raise BackendUnavailableError(
            backend, f"backend {backend!r}: {avail.reason}", spec.install_hint
        )
    if avail.runs_in == "worker":
        python, _ = find_python(backend)
        assert python is not None
        return python
    return Path(sys.executable)


class Worker:
    """One worker process for one backend, restarted after a crash, hang or protocol error."""

    def __init__(
        self,
        backend: str,
        python: str | Path | None = None,
        env: dict[str, str] | None = None,
        cwd: str | Path | None = None,
    ) -> None:
        self.backend = backend
        self.python = Path(python) if python else python_for(backend)
        self.env = {**os.environ, **WORKER_THREAD_ENV, **(env or {})}
        self.cwd = str(cwd or os.getcwd())
        self.proc: subprocess.Popen | None = None
        self._stderr: collections.deque[str] = collections.deque(maxlen=200)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<unigrad worker {self.backend} ({self.python})>"

    def start(self) -> None:
        """Start the process (a no-op while it is running)."""
        if self.proc is not None and self.proc.poll() is None:
            return
        self._stderr.clear()
        self.proc = subprocess.Popen(
            [str(self.python), "-m", "unigrad.workers.server"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=self.cwd,
            env=self.env,
        )
        threading.Thread(target=self._drain, args=(self.proc,), daemon=True).start()

    def _drain(self, proc: subprocess.Popen) -> None:
        assert proc.stderr is not None
        for line in iter(proc.stderr.readline, b""):
            self._stderr.append(line.decode(errors="replace").rstrip())

    def stderr_tail(self, n: int = 15) -> str:
        """The last lines the worker wrote to stderr."""
        return "\n".join(list(self._stderr)[-n:])

    def kill(self) -> None:
        """Stop the process now."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait()
            for s in (self.proc.stdin, self.proc.stdout):
                if s is not None:
                    s.close()
        self.proc = None

    close = kill

    def _read_exact(self, n: int, deadline: float) -> bytes:
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        chunks, got = [], 0
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            while got < n:
                left = deadline - time.monotonic()
                if left <= 0 or not sel.select(left):
                    raise TimeoutError
                chunk = os.read(fd, n - got)
                if not chunk:
                    raise EOFError
                chunks.append(chunk)
                got += len(chunk)
        return b"".join(chunks)

    def request(self, msg: dict, timeout: float = 60.0) -> Any:
        """Send ``msg``; return the reply's result or raise the error it carries."""
        with self._lock:
            self.start()
            assert self.proc is not None and self.proc.stdin is not None
            what = msg.get("op", "request")
            try:
                self.proc.stdin.write(wire.dumps(msg))
                self.proc.stdin.flush()
                deadline = time.monotonic() + timeout
                (size,) = struct.unpack("<I", self._read_exact(4, deadline))
                reply = wire.loads(self._read_exact(size, deadline))
            except TimeoutError:
                self.kill()
                raise WorkerError(
                    f"the {self.backend} worker gave no answer to a {what} request within "
                    f"{timeout:g} s (a hang); it was stopped and the next request starts a "
                    "fresh one",
                    kind="timeout",
                ) from None
            except (EOFError, BrokenPipeError):
                code = self.proc.wait() if self.proc is not None else None
                tail = self.stderr_tail()
                self.kill()
                how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
                raise WorkerError(
                    f"the {self.backend} worker crashed during a {what} request ({how}); the "
                    f"next request starts a fresh one. Its last output:\n{tail}",
                    kind="crash",
                ) from None
            except wire.ProtocolError as exc:
                self.kill()
                raise WorkerError(
                    f"bad reply from the {self.backend} worker: {exc}", "protocol"
                ) from exc
        return _unpack(reply, self.backend)

    def ping(self, timeout: float = 120.0) -> dict:
        """Load the backend in the worker; return what the worker reports about itself."""
        return self.request({"op": "ping", "backend": self.backend}, timeout=timeout)

    def invoke(self, target: str, payload: Any = None, timeout: float = 60.0) -> Any:
        """Call the function at import path ``target`` in the worker with ``payload``."""
        return self.request({"op": "invoke", "target": target, "payload": payload}, timeout)


def _unpack(reply: Any, backend: str) -> Any:
    if not isinstance(reply, dict) or "ok" not in reply:
        raise WorkerError(f"malformed reply from the {backend} worker", kind="protocol")
    if reply["ok"]:
        return reply.get("result")
    kind = reply.get("kind", "error")
    if kind == "unsupported":
        raise UnsupportedError(
            reply.get("backend", backend), reply.get("capability", "?"), reply.get("error", "")
        )
    if kind == "protocol":
        raise WorkerError(
            f"the {backend} worker could not decode the request: {reply.get('error')}",
            kind="protocol",
        )
    err = WorkerError(
        f"{reply.get('type', 'Error')} in the {backend} worker: {reply.get('error')}",
        kind="error",
    )
    err.remote_type = reply.get("type")  # type: ignore[attr-defined]
    err.remote_traceback = reply.get("traceback", "")  # type: ignore[attr-defined]
    raise err


_pool: dict[str, Worker] = {}
CALL = "unigrad.workers.targets:call"


def get_worker(backend: str) -> Worker:
    """A shared worker for ``backend`` in this process."""
    w = _pool.get(backend)
    if w is None:
        w = _pool[backend] = Worker(backend)
    return w


def probe_worker(backend: str, timeout: float = 120.0) -> dict:
    """Start (or reuse) the backend's worker and return what it reports about itself."""
    return get_worker(backend).ping(timeout=timeout)


def call(
    backend: str,
    target: str,
    args: list,
    transform: str = "value",
    options: dict | None = None,
    timeout: float = 60.0,
) -> Any:
    """Run ``transform`` of the function at import path ``target`` in the backend's worker.

    ``transform`` is a name of ``unigrad.api.dispatch.TRANSFORMS``; ``options`` may hold
    ``argnums``, ``has_aux``, ``mode``, ``tangents`` and ``cotangent``. Results come back as
    NumPy arrays. The worker imports ``target`` as ``python -m`` would, from this process's
    working directory first.
    """
    payload = {
        "backend": backend,
        "target": target,
        "args": args,
        "transform": transform,
        "options": options or {},
    }
    return get_worker(backend).invoke(CALL, payload, timeout=timeout)


@atexit.register
def _shutdown() -> None:
    for w in _pool.values():
        w.kill()
