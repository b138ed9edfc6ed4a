"""A fuzz program: a straight-line composition of ops from the per-op table, as plain data.

Values are numbered: the inputs first (``v0`` ... ``v{n-1}``, every one differentiated), then
one value per node. A node calls one op of the table (``OpInfo.op()``) on earlier values
(``Ref``) and constants, optionally picking one output of an op that returns several. Programs
are data so that they travel to workers, to ``findings.jsonl`` and back (``to_json`` /
``from_json``), and render as Python source for repro scripts (``source``).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Ref:
    """A reference to an earlier value of the program."""

    index: int


@dataclass(frozen=True)
class Input:
    """One differentiated input, in float64 (cast to each dtype when run)."""

    value: np.ndarray
    label: str = "ordinary"  #: "ordinary", or which edge ("edge: 0", "ties", "huge", ...)
    kink: bool = False  #: at an edge an op declares: its pinned convention is the answer

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(np.shape(self.value))


@dataclass(frozen=True)
class Node:
    """One op call: ``op(*args, **kwargs)``, then ``[pick]`` where the op returns several."""

    op: str
    args: tuple = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    pick: int | None = None

    def refs(self) -> list[int]:
        """The value indices this node reads."""
        return [a.index for a in self.args if isinstance(a, Ref)] + [
            v.index for v in self.kwargs.values() if isinstance(v, Ref)
        ]


@dataclass(frozen=True)
class Program:
    """Inputs, nodes and the index of the output value."""

    inputs: tuple[Input, ...]
    nodes: tuple[Node, ...]
    output: int
    key: str = ""  #: where it came from ("seed 7, program 12"); seeds its directions

    @property
    def n_values(self) -> int:
        return len(self.inputs) + len(self.nodes)

    def ops(self) -> list[str]:
        """The op of every node, in order."""
        return [n.op for n in self.nodes]

    def function(self, resolve: Callable[[str], Callable[..., Any]] | None = None) -> Callable:
        """The program as a function of its inputs (ops from the table, or from ``resolve``)."""
        get = resolve or table_op

        def program(*xs: Any) -> Any:
            env = list(xs)
            for node in self.nodes:
                args = [env[a.index] if isinstance(a, Ref) else a for a in node.args]
                kwargs = {
                    k: env[v.index] if isinstance(v, Ref) else v for k, v in node.kwargs.items()
                }
                out = get(node.op)(*args, **kwargs)
                env.append(out if node.pick is None else out[node.pick])
            return env[self.output]

        return program

    def values(self) -> list[Any]:
        """Every value of the program in float64 by the table's NumPy references."""
        from unigrad.cases.opinfos import OPINFOS  # noqa: F401  (the table, loaded once)

        env: list[Any] = [np.asarray(i.value, dtype=np.float64) for i in self.inputs]
        with np.errstate(all="ignore"):
            for node in self.nodes:
                args = [env[a.index] if isinstance(a, Ref) else a for a in node.args]
                kwargs = {
                    k: env[v.index] if isinstance(v, Ref) else v for k, v in node.kwargs.items()
                }
                out = reference_op(node.op)(*args, **kwargs)
                out = out if node.pick is None else out[node.pick]
                env.append(np.asarray(out))
        return env

    def with_inputs(self, values: Sequence[np.ndarray]) -> Program:
        """The same program with other input values (same labels)."""
        return replace(
            self,
            inputs=tuple(
                replace(i, value=np.asarray(v, np.float64)) for i, v in zip(self.inputs, values)
            ),
        )

    # ------------------------------------------------------------------------- as data
    def to_json(self) -> dict:
        """Plain JSON data (floats exact, non-finite numbers as strings)."""
        return {
            "key": self.key,
            "inputs": [
                {"value": encode(i.value), "label": i.label, "kink": i.kink} for i in self.inputs
            ],
            "nodes": [
                {
                    "op": n.op,
                    "args": [encode(a) for a in n.args],
                    "kwargs": {k: encode(v) for k, v in n.kwargs.items()},
                    **({"pick": n.pick} if n.pick is not None else {}),
                }
                for n in self.nodes
            ],
            "output": self.output,
        }

    @classmethod
    def from_json(cls, data: dict) -> Program:
        """The inverse of ``to_json``."""
        return cls(
            inputs=tuple(
                Input(np.asarray(decode(i["value"]), np.float64), i["label"], i["kink"])
                for i in data["inputs"]
            ),
            nodes=tuple(
                Node(
                    n["op"],
                    tuple(decode(a) for a in n["args"]),
                    {k: decode(v) for k, v in n["kwargs"].items()},
                    n.get("pick"),
                )
                for n in data["nodes"]
            ),
            output=int(data["output"]),
            key=data.get("key", ""),
        )

    # ---------------------------------------------------------------------- as source
    def source(self, name: str = "program", namespace: str = "unp") -> str:
        """Python source of the program as a function of ``v0, v1, ...`` on ``unigrad.numpy``."""
        params = ", ".join(f"v{i}" for i in range(len(self.inputs)))
        lines = [f"def {name}({params}):"]
        for k, node in enumerate(self.nodes):
            lines.append(f"    v{len(self.inputs) + k} = {call_source(node, namespace)}")
        lines.append(f"    return v{self.output}")
        return "\n".join(lines)


def call_source(node: Node, namespace: str = "unp") -> str:
    """``unp.sin(v0)``: one node as an expression (an op with a custom call is named
    ``table_op("stack")``)."""
    info = opinfo(node.op)
    head = f"{namespace}.{node.op}" if info.function is None else f"table_op({node.op!r})"
    parts = [literal(a) for a in node.args]
    parts += [f"{k}={literal(v)}" for k, v in node.kwargs.items()]
    pick = "" if node.pick is None else f"[{node.pick}]"
    return f"{head}({', '.join(parts)}){pick}"


def literal(v: Any) -> str:
    """Python source for a node argument."""
    if isinstance(v, Ref):
        return f"v{v.index}"
    if isinstance(v, np.ndarray):
        return array_literal(v)
    if isinstance(v, float):
        return float_literal(v)
    if isinstance(v, tuple):
        inner = ", ".join(literal(e) for e in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    if isinstance(v, list):
        return "[" + ", ".join(literal(e) for e in v) + "]"
    return repr(v)


def float_literal(x: float) -> str:
    """A float as exact source (``float('nan')`` for non-finite values)."""
    if math.isfinite(x):
        return repr(float(x))
    return f"float({str(float(x))!r})"


def array_literal(a: np.ndarray, module: str = "np") -> str:
    """``np.array([...], dtype='float64')``, exact."""
    a = np.asarray(a)
    if a.dtype.kind == "f":
        body = _nested(a, float_literal)
    else:
        body = repr(a.tolist())
    return f"{module}.array({body}, dtype={a.dtype.name!r})"


def _nested(a: np.ndarray, fmt: Callable[[float], str]) -> str:
    if a.ndim == 0:
        return fmt(float(a))
    return "[" + ", ".join(_nested(e, fmt) for e in a) + "]"


# --------------------------------------------------------------------------- the table
@functools.cache
def _table() -> dict[str, Any]:
    from unigrad.cases.opinfos import OPINFOS

    return {info.name: info for info in OPINFOS}


def opinfo(name: str) -> Any:
    """The OpInfo of ``name``; KeyError names the ops there are."""
    try:
        return _table()[name]
    except KeyError:
        raise KeyError(f"no op {name!r} in the per-op table (cases/opinfos/)") from None


def table_op(name: str) -> Callable[..., Any]:
    """The unigrad callable of the table's entry ``name``."""
    return opinfo(name).op()


def reference_op(name: str) -> Callable[..., Any]:
    """The NumPy reference of the table's entry ``name`` (its value in float64)."""
    info = opinfo(name)
    if info.reference is not None:
        return info.reference
    obj: Any = np
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


# ----------------------------------------------------------------------------- encoding
def encode(v: Any) -> Any:
    """JSON data for a program constant, a Ref or an array (exact)."""
    if isinstance(v, Ref):
        return {"ref": v.index}
    if isinstance(v, np.ndarray | np.generic):
        a = np.asarray(v)
        flat = [encode(float(x)) if a.dtype.kind == "f" else x for x in a.ravel().tolist()]
        return {"nd": a.dtype.name, "shape": list(a.shape), "data": flat}
    if isinstance(v, float) and not math.isfinite(v):
        return {"float": str(v)}
    if isinstance(v, tuple):
        return {"tuple": [encode(e) for e in v]}
    if isinstance(v, list):
        return [encode(e) for e in v]
    if isinstance(v, dict):
        return {"dict": {k: encode(e) for k, e in v.items()}}
    return v


def decode(v: Any) -> Any:
    """The inverse of ``encode``."""
    if isinstance(v, list):
        return [decode(e) for e in v]
    if not isinstance(v, dict):
        return v
    if "ref" in v:
        return Ref(int(v["ref"]))
    if "nd" in v:
        data = [decode(e) for e in v["data"]]
        return np.asarray(data, dtype=v["nd"]).reshape(v["shape"])
    if "float" in v:
        return float(v["float"])
    if "tuple" in v:
        return tuple(decode(e) for e in v["tuple"])
    if "dict" in v:
        return {k: decode(e) for k, e in v["dict"].items()}
    raise ValueError(f"cannot decode {v!r}")
