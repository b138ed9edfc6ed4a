"""Case files are imported in a separate process first: one that crashes, exits or hangs at
import costs its own file, never ``unigrad compare``.

``vet`` imports each case file in a numpy worker (one process for all of them, a fresh one
after a file that killed it), each under the run's timeout; only the files that load there
cleanly are then imported in compare's own process. A file that raises there (a syntax error,
``sys.exit``, a missing module) is reported with the error the worker saw, and is not
imported again.
"""

from __future__ import annotations

import contextlib
import faulthandler
import os
import re
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from unigrad.compare.case import CaseLoadError, read_file
from unigrad.compare.records import Problem

DESCRIBE = "unigrad.compare.loading:describe"
#: how long the worker that loads case files may take to start (its imports: numpy, unigrad)
STARTUP_TIMEOUT = 180.0


def describe(payload: dict) -> dict:
    """In a worker: import the case file ``payload["file"]`` as compare does; ``{}`` when it
    loads, else the located error (``where``, ``error``).

    A crash, an ``os._exit`` or a hang first writes where it happened (Python's
    ``faulthandler``) to the file ``payload["trace"]``, which the parent reads for the line.
    """
    path = payload["file"]
    timeout = payload.get("timeout")
    with open(payload["trace"], "w") as trace:
        faulthandler.enable(trace, all_threads=False)
        if timeout:  # just before the parent stops waiting: where the import hangs
            later = max(timeout - 1.0, timeout * 0.75)
            faulthandler.dump_traceback_later(later, exit=False, file=trace)
        real_exit = os._exit

        def _exit(code: int) -> None:
            faulthandler.dump_traceback(trace, all_threads=False)
            real_exit(code)

        os._exit = _exit  # type: ignore[assignment]
        try:
            read_file(path)
        except CaseLoadError as exc:
            return {"where": exc.where, "error": str(exc)}
        finally:
            os._exit = real_exit
            faulthandler.cancel_dump_traceback_later()
            faulthandler.disable()
    return {}


def _line(path: str, text: str) -> int:
    """The line of ``path`` in a faulthandler dump (most recent call first), else 1."""
    pattern = re.compile(r'File "' + re.escape(path) + r'", line (\d+)')
    found = pattern.search(text)
    return int(found.group(1)) if found else 1


def _how(exc: Any) -> str:
    """How the process ended: "signal 11, SIGSEGV" or "exit code 5"."""
    how = str(getattr(exc, "how", "")) or "it died"
    found = re.fullmatch(r"signal (\d+)", how)
    if found:
        with contextlib.suppress(ValueError):  # a number that names no signal here
            how += f", {signal.Signals(int(found.group(1))).name}"
    return how


def _failure(path: str, exc: Any, trace: str, timeout: float) -> Problem:
    """The problem of a file whose import killed or hung the process importing it."""
    where = f"{path}:{_line(path, trace)}"
    if exc.kind == "timeout":
        what = (
            f"importing this case file did not finish within {timeout:g} s (--timeout): it "
            "hangs at import"
        )
    elif exc.kind == "crash":
        what = f"importing this case file ended the process importing it ({_how(exc)})"
    else:
        what = f"this case file could not be loaded in a separate process: {exc}"
    return Problem(
        "case_file",
        where,
        f"{where}: {what}; the run goes on without it (case files are imported in a "
        "separate process first)",
    )


def vet(files: Sequence[Path], timeout: float) -> dict[Path, Problem]:
    """Import each of ``files`` in a numpy worker, each under ``timeout`` seconds: the problem
    of each file that does not load there (raises, crashes, exits or hangs). A file that kills
    or hangs the worker costs its own file; the next one starts a fresh worker."""
    from unigrad.errors import WorkerError
    from unigrad.workers.client import Worker

    if not files:
        return {}
    worker = Worker("numpy", python=sys.executable, startup_timeout=STARTUP_TIMEOUT)
    problems: dict[Path, Problem] = {}
    fd, trace = tempfile.mkstemp(prefix="unigrad-load-", suffix=".txt")
    os.close(fd)
    try:
        for f in files:
            path = str(f.resolve())
            payload = {"file": path, "timeout": timeout, "trace": trace}
            try:
                got = worker.invoke(DESCRIBE, payload, timeout)
            except WorkerError as exc:
                problems[f] = _failure(path, exc, _read(trace), timeout)
                continue
            if got:
                problems[f] = Problem("case_file", got["where"], got["error"])
    finally:
        worker.kill()
        with contextlib.suppress(OSError):
            os.unlink(trace)
    return problems


def _read(path: str) -> str:
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""
