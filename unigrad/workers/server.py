"""The worker process: ``python -m unigrad.workers.server`` answers requests on stdin/stdout.

Two requests: ``{"op": "ping", "backend": name}`` loads the backend and describes the process;
``{"op": "invoke", "target": "module:attr", "payload": data}`` calls that function with the
payload and replies with its result. The transport knows nothing else: what a request does is
the invoked function's business. Targets are found as ``python -m`` finds modules, the worker's
working directory first (``unigrad.workers.targets.resolve``).

Requests and replies use ``unigrad.workers.wire``; the worker first writes
``wire.GREETING``. It moves the protocol's pipes to private fds at start (fd 0 then reads
/dev/null and fd 1 is stderr), so what the worker's code prints, or a case that closes fd 0
or 1, cannot corrupt the protocol or break the next request. A request it cannot decode gets
an error reply, and the worker goes on; an exception in the invoked function comes back as an
error reply naming its class (typed ``unsupported`` for ``UnsupportedError``;
``unigrad.workers.exceptions``).

The worker dies with its parent: it ignores SIGINT (a Ctrl-C reaches the whole process group;
the parent decides what stops), exits at end-of-file on stdin, and a watchdog thread exits the
process as soon as the parent is gone, even while a request hangs in Python code.
"""

from __future__ import annotations

import os
import platform
import signal
import sys
import threading
import time
import traceback
from typing import Any, BinaryIO

from unigrad.workers import wire
from unigrad.workers.targets import resolve


def ping(backend: str | None) -> dict:
    """This worker's process, and the backend it runs (loaded now, so that it is ready)."""
    import numpy as np

    import unigrad

    name = backend or "numpy"
    impl = unigrad.get_backend(name).impl
    return {
        "backend": name,
        "version": impl.version,
        "devices": impl.devices(),
        "python": sys.executable,
        "python_version": platform.python_version(),
        "numpy": np.__version__,
        "unigrad": unigrad.__version__,
        "pid": os.getpid(),
    }


def invoke(target: str, payload: Any) -> Any:
    """Call the function at import path ``target`` with ``payload``; return its result."""
    return resolve(target)(payload)


def handle(msg: Any) -> dict:
    """The reply to one decoded request: ``ping`` or ``invoke``."""
    op = msg.get("op") if isinstance(msg, dict) else None
    if op == "ping":
        return {"ok": True, "result": ping(msg.get("backend"))}
    if op == "invoke" and isinstance(msg.get("target"), str):
        return {"ok": True, "result": invoke(msg["target"], msg.get("payload"))}
    why = "an invoke request needs a target" if op == "invoke" else f"unknown request op {op!r}"
    return {"ok": False, "kind": "protocol", "error": why}


def _error_reply(exc: BaseException) -> dict:
    from unigrad.errors import UnsupportedError
    from unigrad.workers.exceptions import describe

    reply = {
        "ok": False,
        "kind": "error",
        "error": str(exc),
        "traceback": traceback.format_exc(limit=20),
        **describe(exc),
    }
    if isinstance(exc, UnsupportedError):
        reply.update(
            kind="unsupported", backend=exc.backend, capability=exc.capability, detail=exc.detail
        )
    return reply


def _parent_alive(parent: int, direct: int) -> bool:
    if os.getppid() != direct:  # reparented: the process that started this one is gone
        return False
    if os.name != "posix":  # os.kill(pid, 0) is a probe on POSIX only
        return True
    try:
        os.kill(parent, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def watch_parent(interval: float = 0.25) -> None:
    """Exit this process as soon as the process that started it is gone.

    The parent is the one named in ``wire.PARENT_ENV`` (the client's process, even when a
    wrapper script sits between them), else this process's parent at start.
    """
    direct = os.getppid()
    try:
        parent = int(os.environ.get(wire.PARENT_ENV, direct))
    except ValueError:
        parent = direct

    def watch() -> None:
        while _parent_alive(parent, direct):
            time.sleep(interval)
        if os.name == "posix" and os.getpgrp() == os.getpid():
            # this worker leads its own group: take what its cases started along
            os.killpg(0, signal.SIGKILL)
        os._exit(70)

    threading.Thread(target=watch, name="unigrad-parent-watch", daemon=True).start()


def _private_channel() -> tuple[BinaryIO, BinaryIO]:
    """The protocol's pipes on private fds, out of reach of what a case does to fds 0 and 1.

    Fd 0 then reads /dev/null and fd 1 writes to stderr: a case that prints (even with
    ``os.write(1, ...)``), reads stdin, or closes either fd touches neither the requests
    nor the replies, and the next case finds the worker as the first did.
    """
    inp = os.fdopen(os.dup(0), "rb")
    out = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(2, 1)  # user code's prints go to stderr, not into the protocol
    sys.stdout = sys.stderr
    return inp, out


def main() -> None:
    """Serve requests until stdin closes (or the parent is gone)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    watch_parent()
    inp, out = _private_channel()
    out.write(wire.GREETING)
    out.flush()
    while True:
        try:
            body = wire.read_message(inp)
        except wire.ProtocolError as exc:
            reply = {"ok": False, "kind": "protocol", "error": str(exc)}
            out.write(wire.dumps(reply))
            out.flush()
            return  # the stream is out of step; the client restarts the worker
        if body is None:
            return
        try:
            reply = handle(wire.loads(body))
        except wire.ProtocolError as exc:
            reply = {"ok": False, "kind": "protocol", "error": str(exc)}
        except Exception as exc:  # every failure becomes a reply; the worker stays up
            reply = _error_reply(exc)
        try:
            data = wire.dumps(reply)
        except (TypeError, ValueError) as exc:
            data = wire.dumps(_error_reply(exc))
        out.write(data)
        out.flush()


if __name__ == "__main__":
    main()
