"""Shrinking: a failing program reduced to a minimal one with the same kind of disagreement.

Greedy delta debugging over program edits, each kept only when ``still_fails`` says the
reduced program shows the same disagreement (same backend, dtype, transform, kind and
opponent):

1. an earlier value becomes the output (a shorter program);
2. a node is cut: its value becomes a new input holding what it computed (fewer ops, the
   same values downstream);
3. an input shrinks: to its first element along an axis, or to a scalar, where the program
   still runs in NumPy (smaller shapes);
4. an input's values are rounded to two significant digits (readable repros).

Unused inputs and nodes are dropped after each edit. The number of ``still_fails`` calls is
bounded (``budget``); every edit is deterministic, so a shrink gives the same program on any
executor.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace

import numpy as np

from unigrad.fuzz.program import Input, Node, Program, Ref

Predicate = Callable[[list[Program]], list[bool]]


def prune(program: Program) -> Program:
    """``program`` without nodes its output does not need and inputs nothing reads."""
    n_in = len(program.inputs)
    live = {program.output}
    for v in range(program.n_values - 1, n_in - 1, -1):
        if v in live:
            live.update(program.nodes[v - n_in].refs())
    keep = sorted(live)
    new = {old: k for k, old in enumerate(keep)}

    def m(a: object) -> object:
        return Ref(new[a.index]) if isinstance(a, Ref) else a

    return Program(
        inputs=tuple(program.inputs[i] for i in keep if i < n_in),
        nodes=tuple(
            Node(n.op, tuple(m(a) for a in n.args), {k: m(v) for k, v in n.kwargs.items()}, n.pick)
            for i, n in enumerate(program.nodes)
            if i + n_in in live
        ),
        output=new[program.output],
        key=program.key,
    )


def valid(program: Program) -> bool:
    """Whether the program still runs in NumPy with finite float values."""
    if not program.nodes:
        return False
    try:
        values = program.values()
    except Exception:
        return False
    out = np.asarray(values[program.output])
    return out.dtype.kind == "f" and bool(np.all(np.isfinite(out)))


def _cut(program: Program, k: int, value: np.ndarray) -> Program:
    """Node k replaced by a new (last) input holding ``value``."""
    n_in = len(program.inputs)

    def index(v: int) -> int:
        if v < n_in:
            return v
        j = v - n_in
        return n_in if j == k else n_in + 1 + j if j < k else n_in + j

    def m(a: object) -> object:
        return Ref(index(a.index)) if isinstance(a, Ref) else a

    nodes = tuple(
        Node(n.op, tuple(m(a) for a in n.args), {kk: m(v) for kk, v in n.kwargs.items()}, n.pick)
        for j, n in enumerate(program.nodes)
        if j != k
    )
    new_input = Input(np.asarray(value, np.float64), "cut", False)
    return Program((*program.inputs, new_input), nodes, index(program.output), program.key)


def _edits(program: Program) -> Iterator[Program]:
    n_in = len(program.inputs)
    for v in range(n_in, program.output):  # 1. an earlier output
        if v >= n_in:
            yield prune(replace(program, output=v))
    try:
        values = program.values()
    except Exception:
        values = []
    for k in reversed(range(len(program.nodes))):  # 2. cut a node
        v = n_in + k
        if v == program.output or not values or np.asarray(values[v]).dtype.kind != "f":
            continue
        yield prune(_cut(program, k, values[v]))
    for i, inp in enumerate(program.inputs):  # 3. smaller shapes
        x = inp.value
        smaller = [
            x[(slice(None),) * ax + (slice(0, 1),)] for ax in range(x.ndim) if x.shape[ax] > 1
        ]
        if x.ndim:
            smaller.append(np.asarray(x.reshape(-1)[0]))
        for y in smaller:
            yield _with_input(program, i, y)
    for i, inp in enumerate(program.inputs):  # 4. round values
        x = np.asarray(inp.value, np.float64)
        with np.errstate(all="ignore"):
            r = np.where(np.isfinite(x) & (x != 0), _round2(x), x)
        if not np.array_equal(r, x):
            yield _with_input(program, i, r)


def _round2(x: np.ndarray) -> np.ndarray:
    mag = 10.0 ** (np.floor(np.log10(np.abs(x))) - 1)
    return np.round(x / mag) * mag


def _with_input(program: Program, i: int, value: np.ndarray) -> Program:
    inputs = list(program.inputs)
    inputs[i] = replace(inputs[i], value=np.asarray(value, np.float64))
    return replace(program, inputs=tuple(inputs))


def shrink(program: Program, still_fails: Predicate, budget: int = 40, batch: int = 4) -> Program:
    """The smallest program reached from ``program`` by accepted edits, within ``budget``
    calls of ``still_fails`` (which judges a batch of programs at once)."""
    current = prune(program)
    spent = 0
    progress = True
    while progress and spent < budget:
        progress = False
        pending: list[Program] = []
        for cand in _edits(current):
            if valid(cand) and _smaller(cand, current):
                pending.append(cand)
            if len(pending) == batch:
                break
        if not pending:
            break
        verdicts = still_fails(pending)
        spent += len(pending)
        for cand, ok in zip(pending, verdicts):
            if ok:
                current = cand
                progress = True
                break
    return current


def size(program: Program) -> tuple[int, int, int]:
    """What shrinking minimises: ops, then input elements, then digits."""
    digits = sum(len(repr(float(v))) for i in program.inputs for v in np.ravel(i.value))
    return len(program.nodes), sum(int(np.size(i.value)) for i in program.inputs), digits


def _smaller(a: Program, b: Program) -> bool:
    return size(a) < size(b)
