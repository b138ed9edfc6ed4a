"""Seeing what the reference engine recorded: a readable tree and Graphviz DOT.

The counterpart of walking PyTorch's ``grad_fn.next_functions`` by hand (seed 000).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from unigrad.backends.numpy import ops as _ops  # noqa: F401  (fills NumPy's functions' table)
from unigrad.backends.numpy.reverse import RevTrace, RevTracer
from unigrad.backends.numpy.tracer import primal


@dataclass
class Node:
    """One recorded step: op name, result shape and dtype, and where its inputs came from."""

    id: int
    op: str
    shape: tuple[int, ...]
    dtype: str
    inputs: list[int] = field(default_factory=list)  # tape ids of traced inputs
    constants: list[str] = field(default_factory=list)  # descriptions of constant inputs


@dataclass
class Graph:
    """A recorded computation: nodes by tape id, the output ids and the input names."""

    nodes: dict[int, Node]
    outputs: list[int]
    input_names: list[str]

    def tree(self) -> str:
        """The computation as an indented tree, outputs first (shared nodes appear once)."""
        lines: list[str] = []
        seen: set[int] = set()

        def walk(i: int, depth: int, prefix: str) -> None:
            n = self.nodes[i]
            desc = f"{n.op}  shape={n.shape} dtype={n.dtype}"
            if i in seen and n.inputs:
                lines.append(f"{'  ' * depth}{prefix}#{i} {n.op} (see above)")
                return
            seen.add(i)
            extra = f"  consts: {', '.join(n.constants)}" if n.constants else ""
            lines.append(f"{'  ' * depth}{prefix}#{i} {desc}{extra}")
            for j in n.inputs:
                walk(j, depth + 1, "<- ")

        for k, o in enumerate(self.outputs):
            lines.append(f"output {k}:")
            walk(o, 1, "")
        return "\n".join(lines)

    def dot(self) -> str:
        """The computation in Graphviz DOT (inputs at the top, edges in data-flow order)."""
        out = ["digraph unigrad {", "  rankdir=TB;", '  node [shape=box, fontname="monospace"];']
        for i, n in sorted(self.nodes.items()):
            shape = "ellipse" if n.op.startswith("input") else "box"
            label = f"{n.op}\\n{n.shape} {n.dtype}"
            out.append(f'  n{i} [label="{label}", shape={shape}];')
            for j in n.inputs:
                out.append(f"  n{j} -> n{i};")
        for k, o in enumerate(self.outputs):
            out.append(f'  out{k} [label="output {k}", shape=plaintext];')
            out.append(f"  n{o} -> out{k};")
        out.append("}")
        return "\n".join(out)


def _describe_const(v: Any) -> str:
    a = np.asarray(primal(v))
    return repr(a.item()) if a.ndim == 0 else f"array{a.shape} {a.dtype}"


def record(fun: Callable[..., Any], primals: Sequence[Any], names: Sequence[str]) -> Graph:
    """Run ``fun`` on a reverse trace and return what it recorded."""
    trace = RevTrace()
    boxes = [trace.new_input(p) for p in primals]
    outs = fun(*boxes)
    outs = list(outs) if isinstance(outs, list | tuple) else [outs]
    nodes: dict[int, Node] = {}
    for i, (prim, vals, _kw, ans, parents) in enumerate(trace.entries):
        v = primal(ans)
        shape, dtype = tuple(np.shape(v)), np.result_type(v).name
        if prim is None:
            nodes[i] = Node(i, f"input {names[i] if i < len(names) else i}", shape, dtype)
            continue
        traced = {a for a, _ in parents}
        consts = [_describe_const(v) for a, v in enumerate(vals) if a not in traced]
        nodes[i] = Node(i, prim.__name__, shape, dtype, [p for _, p in parents], consts)
    out_ids = [o.idx for o in outs if isinstance(o, RevTracer) and o._trace is trace]
    return Graph(nodes, out_ids, list(names))
