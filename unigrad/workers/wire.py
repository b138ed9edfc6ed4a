"""The worker wire format: length-prefixed JSON with arrays as (dtype, shape, base64 bytes).

Deliberately not pickle: the two environments run different NumPy major versions (whose
pickles do not load in each other), and a worker should not execute what it decodes.
"""

from __future__ import annotations

import base64
import json
import struct
from typing import Any, BinaryIO

import numpy as np

MAX_MESSAGE = 1 << 30
#: the first bytes a worker writes: anything else first (an interpreter's banner) is an error
GREETING = b"\x00unigrad-worker 1\n"
#: the environment variable that tells a worker which process started it
PARENT_ENV = "UNIGRAD_WORKER_PARENT"


class ProtocolError(ValueError):
    """A message could not be decoded."""


def _encode(obj: Any) -> Any:
    if isinstance(obj, np.ndarray | np.generic):
        a = np.asarray(obj)  # (np.ascontiguousarray would turn a 0-d array into shape (1,))
        if not a.flags.c_contiguous:
            a = a.copy(order="C")
        return {"__nd__": [a.dtype.str, list(a.shape), base64.b64encode(a.tobytes()).decode()]}
    if isinstance(obj, dict):
        return {"__dict__": [[_encode(k), _encode(v)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {"__tuple__": [_encode(v) for v in obj]}
    if isinstance(obj, list):
        return [_encode(v) for v in obj]
    if isinstance(obj, float) and not np.isfinite(obj):
        return {"__float__": repr(obj)}
    return obj


def _decode(obj: Any) -> Any:
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    if isinstance(obj, dict):
        if "__nd__" in obj:
            dt, shape, data = obj["__nd__"]
            return np.frombuffer(base64.b64decode(data), dtype=np.dtype(dt)).reshape(shape).copy()
        if "__dict__" in obj:
            return {_decode(k): _decode(v) for k, v in obj["__dict__"]}
        if "__tuple__" in obj:
            return tuple(_decode(v) for v in obj["__tuple__"])
        if "__float__" in obj:
            return float(obj["__float__"])
        return {k: _decode(v) for k, v in obj.items()}
    return obj


def dumps(obj: Any) -> bytes:
    """Encode a message (dicts, lists, tuples, numbers, strings, arrays)."""
    body = json.dumps(_encode(obj), allow_nan=False).encode()
    return struct.pack("<I", len(body)) + body


def loads(body: bytes) -> Any:
    """Decode a message body (without its length prefix)."""
    try:
        return _decode(json.loads(body.decode()))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise ProtocolError(f"cannot decode message: {exc}") from exc


def read_message(stream: BinaryIO) -> bytes | None:
    """Read one length-prefixed body; None at end of stream."""
    head = stream.read(4)
    if not head:
        return None
    if len(head) < 4:
        raise ProtocolError("truncated message header")
    (n,) = struct.unpack("<I", head)
    if n > MAX_MESSAGE:
        raise ProtocolError(f"message of {n} bytes is too large")
    body = stream.read(n)
    if len(body) < n:
        raise ProtocolError("truncated message body")
    return body
