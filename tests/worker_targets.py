"""Functions the worker tests call by import path (the worker imports them by name)."""

from __future__ import annotations

import os
import time

import unigrad
import unigrad.numpy as unp


def seed002_dot(x):
    """Seed 002: 2 * dot(x, x)."""
    return 2 * unp.dot(x, x)


def seed002_square(x):
    """Seed 002's non-scalar y = x * x."""
    return x * x


def seed002_detach(x):
    """Seed 002: u = detach(x * x); z = u * x (summed)."""
    u = unigrad.detach(x * x)
    return unp.sum(u * x)


def seed000(x, y):
    """Seed 000: x**2 + x*y + y**2."""
    return x**2 + x * y + y**2


def crash(x):
    """Kill the worker process the way a native abort would."""
    os.abort()


def hang(x):
    """Never answer."""
    time.sleep(3600)


def noisy(x):
    """Print to stdout: the protocol must not be corrupted."""
    print("hello from inside the worker")
    return x * 2.0


def describe_payload(payload):
    """What the worker received: each entry's dtype and shape, or its type."""
    return {
        k: f"{v.dtype} {v.shape}" if hasattr(v, "dtype") else type(v).__name__
        for k, v in payload.items()
    }


def loaded_modules(prefix):
    """The modules of the worker process whose name starts with ``prefix``."""
    import sys

    return sorted(m for m in sys.modules if m.startswith(prefix))


def close_stdio(x):
    """Write to fd 1 directly, then close fds 0 and 1: the worker's protocol must survive."""
    os.write(1, b"straight to fd 1\n")
    os.close(0)
    os.close(1)
    return x * 2.0


def shout(x):
    """Write one 10 MB line to stdout (which is stderr in a worker)."""
    import sys

    sys.stdout.write("Z" * 10_000_000 + "\n")
    sys.stdout.flush()
    return x


def die_after_output(x):
    """Write 1000 short lines and a 1 MB one, then die."""
    import sys

    for i in range(1000):
        print(f"line {i}", file=sys.stderr)
    print("Y" * 1_000_000, file=sys.stderr, flush=True)
    os.abort()
