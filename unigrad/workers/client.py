"""Backend workers: a backend in its own process (MXNet in its own environment), by request.

``Worker(backend).invoke("module:function", payload)`` calls a function in the worker and
waits for its result (``ping`` loads the backend and describes the worker). The worker runs
``python -m unigrad.workers.server`` with the interpreter of the backend's environment, in this
process's working directory and environment variables (plus thread settings), so it imports
what that interpreter has installed, and targets from the working directory. A crash (the
process dies, as MXNet can), a hang (no reply within the timeout) or an undecodable exchange
raises ``WorkerError`` with ``kind`` set to "crash", "timeout" or "protocol"; the process is
then discarded and the next request starts a fresh one.

A worker dies with the process that started it, whatever ends that process: the worker ignores
Ctrl-C (its parent decides what an interrupt stops), leaves when its stdin reaches end-of-file,
and watches its parent, exiting when the parent is gone (``unigrad.workers.server``).
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import os
import selectors
import signal
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
from unigrad.workers.exceptions import rebuild
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


def _a(word: str) -> str:
    """``word`` with its indefinite article: "an invoke", "a ping"."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


#: how much of a worker's output a message quotes: its last lines, each cut, within a total
TAIL_LINES = 15
TAIL_LINE_CHARS = 300
TAIL_CHARS = 2000


def _last_lines(lines: list[str], n: int = TAIL_LINES) -> str:
    """The last ``n`` of ``lines`` (each already cut by the drain), within TAIL_CHARS in all."""
    kept: list[str] = []
    size = 0
    for line in reversed(lines[-n:]):
        size += len(line) + 1
        if size > TAIL_CHARS and kept:
            break
        kept.append(line)
    return "\n".join(reversed(kept))


def _last_output(during: str, before: str = "") -> str:
    """The worker's last output for a message: what it wrote during the failing request, else
    a note that it wrote nothing then (and its last lines before, marked as such)."""
    if during.strip():
        return f" Its last output:\n{during}"
    if before.strip():
        return f" It wrote nothing during this request; its last output before it:\n{before}"
    return " It wrote nothing on stderr."


def _kill_tree(proc: subprocess.Popen) -> None:
    """Kill a worker and every process in its process group (what a case started)."""
    if os.name == "posix":
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)  # the worker leads its own group
    if proc.poll() is None:
        proc.kill()


class Worker:
    """One worker process for one backend, restarted after a crash, hang or protocol error.

    Starting a worker waits for it to be ready (its greeting, then a ``ping`` that loads the
    backend) under ``startup_timeout``; only then does a request's own timeout start, so a
    framework's import is never charged to a request.
    """

    def __init__(
        self,
        backend: str,
        python: str | Path | None = None,
        env: dict[str, str] | None = None,
        cwd: str | Path | None = None,
        startup_timeout: float = 180.0,
    ) -> None:
        self.backend = backend
        self.python = Path(python) if python else python_for(backend)
        self.env = {**os.environ, **WORKER_THREAD_ENV, **(env or {})}
        self.cwd = str(cwd or os.getcwd())
        self.startup_timeout = startup_timeout
        self.proc: subprocess.Popen | None = None
        self.info: dict | None = None  # what the worker said about itself when it got ready
        # the worker's last stderr lines (cut), each with the number of the request it came in
        self._stderr: collections.deque[tuple[int, str]] = collections.deque(maxlen=200)
        self._requests = 0  # requests sent to this process so far
        self._drainer: threading.Thread | None = None
        self._lock = threading.Lock()  # one request at a time
        self._spawn_lock = threading.Lock()  # starting a process vs. abort() from elsewhere
        self._aborted = False

    def __repr__(self) -> str:
        return f"<unigrad worker {self.backend} ({self.python})>"

    def start(self) -> None:
        """Start the process and wait until it is ready (a no-op while it is running)."""
        with self._lock:
            self._ensure_started()

    def _spawn(self) -> subprocess.Popen:
        with self._spawn_lock:
            if self._aborted:
                raise WorkerError(f"the {self.backend} worker was stopped", kind="stopped")
            self._stderr.clear()
            self._requests = 0
            env = {**self.env, wire.PARENT_ENV: str(os.getpid())}
            self.proc = subprocess.Popen(
                [str(self.python), "-m", "unigrad.workers.server"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                cwd=self.cwd,
                env=env,
                # its own process group, so that stopping it also stops what a case started
                **({"process_group": 0} if os.name == "posix" else {}),
            )
            self._drainer = threading.Thread(target=self._drain, args=(self.proc,), daemon=True)
            self._drainer.start()
            return self.proc

    def _ensure_started(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            return
        self._spawn()
        deadline = time.monotonic() + self.startup_timeout
        try:
            self._read_greeting(deadline)
        except TimeoutError:
            self._discard()
            raise WorkerError(
                f"the {self.backend} worker ({self.python}) did not start within "
                f"{self.startup_timeout:g} s",
                kind="timeout",
            ) from None
        except EOFError:
            how, during, _ = self._death()  # no request yet: all it wrote is "during"
            raise WorkerError(
                f"the {self.backend} worker ({self.python}) exited ({how}) before it started "
                f"serving requests.{_last_output(during)}",
                kind="protocol",
            ) from None
        except _Banner as exc:
            self._discard()
            raise WorkerError(
                f"the {self.backend} worker's interpreter ({self.python}) printed "
                f"{exc.text!r} on stdout before the worker started; unigrad needs the worker's "
                "stdout for its protocol (look for a wrapper script or a sitecustomize that "
                "prints)",
                kind="protocol",
            ) from None
        try:
            reply = self._exchange(
                {"op": "ping", "backend": self.backend}, self.startup_timeout, "ping"
            )
            self.info = _unpack(reply, self.backend)
        except (WorkerError, UnsupportedError):
            self._discard()
            raise

    def _read_greeting(self, deadline: float) -> None:
        """Read the worker's greeting; anything else first is a banner (raises _Banner)."""
        got = b""
        while len(got) < len(wire.GREETING):
            got += self._read_some(len(wire.GREETING) - len(got), deadline)
            if not wire.GREETING.startswith(got):
                more = b""
                with contextlib.suppress(TimeoutError, EOFError):
                    more = self._read_some(300, time.monotonic() + 0.5)
                text = (got + more).decode(errors="replace").strip()
                raise _Banner(text[:200])

    def _drain(self, proc: subprocess.Popen) -> None:
        assert proc.stderr is not None
        limit = TAIL_LINE_CHARS * 4  # a 10 MB line is not held whole: its head and length
        while chunk := proc.stderr.readline(limit):
            line, size = chunk, len(chunk)
            while not chunk.endswith(b"\n") and (chunk := proc.stderr.readline(1 << 16)):
                size += len(chunk)
            text = line.decode(errors="replace").rstrip()
            if len(text) > TAIL_LINE_CHARS or size > len(line):
                text = f"{text[:TAIL_LINE_CHARS]}... (a line of {size:,} bytes)"
            self._stderr.append((self._requests, text))
        proc.stderr.close()

    def stderr_tail(self, n: int = TAIL_LINES, since: int = 0) -> str:
        """The last lines the worker wrote to stderr (from request number ``since`` on), each
        cut, within TAIL_CHARS in all."""
        return _last_lines([line for k, line in list(self._stderr) if k >= since], n)

    def _death(self) -> tuple[str, str, str]:
        """How the process died, its last stderr lines during the request in flight and
        before it (it is then discarded)."""
        code = None
        if self.proc is not None:
            try:
                code = self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:  # it closed its pipes but lives on: end it
                self.proc.kill()
                code = self.proc.wait()
        if self._drainer is not None:
            self._drainer.join(timeout=2)  # the last lines it wrote before dying
        during = self.stderr_tail(since=self._requests)
        before = self.stderr_tail(5) if not during.strip() else ""
        self._discard()
        how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        return how, during, before

    def kill(self) -> None:
        """Stop the process now, from any thread: a request in flight ends as a crash in its
        own thread, and the pipes are closed once it has (never under a reader: an fd closed
        beneath a waiting ``select`` leaves it waiting until its deadline)."""
        with self._spawn_lock:
            proc = self.proc
        if proc is not None:
            _kill_tree(proc)
        with self._lock:
            self._discard()

    def _discard(self) -> None:
        """Kill the process and close its pipes (the caller holds ``_lock`` or owns the
        worker alone)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        _kill_tree(proc)
        proc.wait()
        for s in (proc.stdin, proc.stdout):
            if s is not None:
                with contextlib.suppress(OSError):  # unsent bytes to a dead worker
                    s.close()

    close = kill

    def abort(self) -> None:
        """Kill the process from another thread and start no other (an interrupted run).

        A request in flight then ends as a crash in its own thread, which cleans up.
        """
        with self._spawn_lock:
            self._aborted = True
            proc = self.proc
        if proc is not None:
            _kill_tree(proc)

    def _read_some(self, n: int, deadline: float) -> bytes:
        assert self.proc is not None and self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        with selectors.DefaultSelector() as sel:
            sel.register(fd, selectors.EVENT_READ)
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                raise TimeoutError
        chunk = os.read(fd, n)
        if not chunk:
            raise EOFError
        return chunk

    def _read_exact(self, n: int, deadline: float) -> bytes:
        chunks, got = [], 0
        while got < n:
            chunk = self._read_some(n - got, deadline)
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def _exchange(self, msg: dict, timeout: float, what: str) -> Any:
        """Send one message and read its reply; a death, hang or garbage raises WorkerError."""
        assert self.proc is not None and self.proc.stdin is not None
        self._requests += 1  # what the worker writes from now on belongs to this request
        try:
            self.proc.stdin.write(wire.dumps(msg))
            self.proc.stdin.flush()
            deadline = time.monotonic() + timeout
            (size,) = struct.unpack("<I", self._read_exact(4, deadline))
            if size > wire.MAX_MESSAGE:
                raise wire.ProtocolError(f"a reply of {size} bytes was announced")
            return wire.loads(self._read_exact(size, deadline))
        except TimeoutError:
            self._discard()
            raise WorkerError(
                f"the {self.backend} worker gave no answer to {_a(what)} request within "
                f"{timeout:g} s (a hang); it was stopped and the next request starts a "
                "fresh one",
                kind="timeout",
            ) from None
        except (EOFError, OSError):  # OSError: BrokenPipeError on a worker already gone
            how, during, before = self._death()
            err = WorkerError(
                f"the {self.backend} worker crashed during {_a(what)} request ({how}); the "
                f"next request starts a fresh one.{_last_output(during, before)}",
                kind="crash",
            )
            err.how = how  # type: ignore[attr-defined]
            raise err from None
        except wire.ProtocolError as exc:
            self._discard()
            raise WorkerError(
                f"bad reply from the {self.backend} worker: {exc}", "protocol"
            ) from exc

    def request(self, msg: dict, timeout: float = 60.0) -> Any:
        """Send ``msg``; return the reply's result or raise the error it carries.

        A worker that is not running is started first (and waited for, outside ``timeout``).
        """
        with self._lock:
            self._ensure_started()
            reply = self._exchange(msg, timeout, msg.get("op", "request"))
        return _unpack(reply, self.backend)

    def ping(self, timeout: float = 120.0) -> dict:
        """Load the backend in the worker; return what the worker reports about itself."""
        return self.request({"op": "ping", "backend": self.backend}, timeout=timeout)

    def invoke(self, target: str, payload: Any = None, timeout: float = 60.0) -> Any:
        """Call the function at import path ``target`` in the worker with ``payload``."""
        return self.request({"op": "invoke", "target": target, "payload": payload}, timeout)


class _Banner(Exception):
    """The worker's interpreter wrote something else before the worker's greeting."""

    def __init__(self, text: str) -> None:
        self.text = text
        super().__init__(text)


def _unpack(reply: Any, backend: str) -> Any:
    if not isinstance(reply, dict) or "ok" not in reply:
        raise WorkerError(f"malformed reply from the {backend} worker", kind="protocol")
    if reply["ok"]:
        return reply.get("result")
    kind = reply.get("kind", "error")
    if kind == "unsupported":
        same = rebuild(reply)
        if isinstance(same, UnsupportedError):
            raise same
        # a reply without a detail: its whole message is the detail
        detail = reply.get("detail", reply.get("error", ""))
        raise UnsupportedError(
            reply.get("backend", backend), reply.get("capability", "?"), detail or ""
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
    err.remote = rebuild(reply)  # type: ignore[attr-defined]  # the same class, or None
    raise err


_pool: dict[str, Worker] = {}
CALL = "unigrad.workers.targets:call"


def get_worker(backend: str) -> Worker:
    """A shared worker for ``backend`` in this process, on the interpreter the settings name
    now (a changed setting, or one that no longer holds, is seen at the next call)."""
    python = python_for(backend)
    w = _pool.get(backend)
    if w is not None and w.python != python:
        w.kill()
        w = None
    if w is None:
        w = _pool[backend] = Worker(backend, python)
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
    state: list | None = None,
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
        "state": state or [],
    }
    return get_worker(backend).invoke(CALL, payload, timeout=timeout)


@atexit.register
def _shutdown() -> None:
    for w in _pool.values():
        w.kill()
