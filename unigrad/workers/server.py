"""The worker process: ``python -m unigrad.workers.server`` answers requests on stdin/stdout.

Requests and replies use ``unigrad.workers.wire``. Anything the worker's code prints goes to stderr,
so it cannot corrupt the protocol. A request it cannot decode gets an error reply, and the
worker goes on.
"""

from __future__ import annotations

import importlib
import os
import platform
import sys
import traceback
from typing import Any

from unigrad.workers import wire


def _load(target: str) -> Any:
    mod_name, _, attr = target.partition(":")
    obj: Any = importlib.import_module(mod_name)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def ping(msg: dict) -> dict:
    import numpy as np

    import unigrad

    name = msg.get("backend") or "numpy"
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


def call(msg: dict) -> Any:
    """Run a transform of a function given by import path; return NumPy results."""
    import unigrad

    backend = msg["backend"]
    fn = _load(msg["target"])
    args = list(msg.get("args", []))
    opts = dict(msg.get("options", {}))
    transform = msg.get("transform", "eval")
    argnums = opts.get("argnums", 0)
    argnums = tuple(argnums) if isinstance(argnums, list) else argnums
    if transform == "eval":
        with unigrad.use_backend(backend):
            out = fn(*[unigrad.get_backend(backend).impl.prepare(a) for a in args])
    elif transform in ("grad", "value_and_grad"):
        t = getattr(unigrad, transform)(fn, argnums, opts.get("has_aux", False), backend=backend)
        out = t(*args)
    elif transform == "jacobian":
        out = unigrad.jacobian(fn, argnums, mode=opts.get("mode", "auto"), backend=backend)(*args)
    elif transform == "hessian":
        out = unigrad.hessian(fn, argnums, backend=backend)(*args)
    elif transform == "vjp":
        value, vjp_fn = unigrad.vjp(fn, *args, backend=backend)
        out = (value, vjp_fn(opts["cotangent"]))
    elif transform == "jvp":
        out = unigrad.jvp(fn, args, opts["tangents"], backend=backend)
    elif transform == "hvp":
        out = unigrad.hvp(fn, args, opts["tangents"], backend=backend)
    else:
        raise ValueError(f"unknown transform {transform!r}")
    return unigrad.to_numpy(out)


HANDLERS = {"ping": ping, "call": call}


def handle(msg: Any) -> dict:
    if not isinstance(msg, dict) or (msg.get("op") not in HANDLERS and msg.get("op") != "case"):
        op = msg.get("op") if isinstance(msg, dict) else None
        return {"ok": False, "kind": "protocol", "error": f"unknown request op {op!r}"}
    if msg["op"] == "case":
        from unigrad.compare.cells import run_case

        return {"ok": True, "result": run_case(msg)}
    return {"ok": True, "result": HANDLERS[msg["op"]](msg)}


def _error_reply(exc: BaseException) -> dict:
    from unigrad.errors import UnsupportedError

    reply = {
        "ok": False,
        "kind": "error",
        "type": type(exc).__name__,
        "error": str(exc),
        "traceback": traceback.format_exc(limit=20),
    }
    if isinstance(exc, UnsupportedError):
        reply.update(kind="unsupported", backend=exc.backend, capability=exc.capability)
    return reply


def main() -> None:
    """Serve requests until stdin closes."""
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # user code's prints go to stderr, not into the protocol
    sys.stdout = sys.stderr
    sys.path.insert(0, os.getcwd())
    inp = sys.stdin.buffer
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
