"""Random straight-line programs from the per-op table, deterministic for a seed.

Each step picks an op of the table and builds its arguments by the entry's shape rule
(``OpInfo.shapes``): an earlier value where its shape fits and its values lie in the op's domain
(so ops compose), else a fresh input drawn at an ordinary point or at an edge point (the op's
declared edges, zeros, ties, huge and tiny magnitudes, the neighbourhood of a bound). Entries
with samples alone take their shapes and constant arguments from a sample, and their domain is
checked by their reference: a node whose NumPy value is not finite, or not floating point, is
drawn again. An entry's edge samples (``kink``) are drawn whole now and then, constants included
(``x**0`` at 0), and an op that takes a condition is drawn now and then as the guarded-branch
pattern ``where(x > lo, f(x), y)``, with ``x`` at the closed lower bound of an op ``f`` of the
pool. Program ``i`` of seed ``s`` depends on (s, i) only.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from unigrad.compare.opinfo import Domain, OpInfo, Sample
from unigrad.fuzz.program import Input, Node, Program, Ref, reference_op

SHAPES = ((), (3,), (2, 3))
REDUCE_SHAPES = ((3,), (2, 3), (2, 3, 2))
EDGE_CONSTANTS = (0.0, 1.0, 2.0, -1.0, 0.5)
MAX_SIZE = 64  #: elements in one value at most
MAX_MAGNITUDE = 1e8  #: larger intermediate values are drawn again (overflow chains)
TRIES = 6


@dataclass(frozen=True)
class Options:
    """What programs look like."""

    max_ops: int = 4  #: ops per program at most (each program draws 1..max_ops)
    p_chain: float = 0.65  #: chance that an operand is an earlier value
    p_edge: float = 0.3  #: chance that a fresh input is drawn at an edge point
    ops: tuple[str, ...] | None = None  #: the ops to draw from (None: every eligible entry)


def why_not(info: OpInfo) -> str | None:
    """Why generated programs may not use ``info`` (None: they may)."""
    if not info.fuzz:
        return "left out by its entry (fuzz=False)"
    if info.orders < 1:
        return "not differentiable (orders=0)"
    try:
        drawn = info.samples(np.random.default_rng(0))
    except Exception as exc:
        return f"its sample function fails: {type(exc).__name__}: {exc}"
    if not any(s.argnums for s in drawn):
        return "no sample has a differentiated argument to draw"
    return None


def fuzzable(info: OpInfo) -> bool:
    """Whether generated programs may use ``info``: differentiable, with a sample to follow."""
    return why_not(info) is None


def skipped() -> dict[str, str]:
    """The table's entries programs are not drawn from, each with the reason."""
    from unigrad.cases.opinfos import OPINFOS

    out = {}
    for info in OPINFOS:
        reason = why_not(info)
        if reason:
            out[info.name] = reason
    return out


def eligible(names: Sequence[str] | None = None) -> list[OpInfo]:
    """The table's entries programs are drawn from (``names``: those only, checked)."""
    from unigrad.cases.opinfos import OPINFOS

    pool = [i for i in OPINFOS if fuzzable(i)]
    if names is None:
        return pool
    by_name = {i.name: i for i in pool}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise KeyError(", ".join(missing))
    return [by_name[n] for n in names]


def program_rng(seed: int, index: int, salt: str = "") -> np.random.Generator:
    """The generator of program ``index`` of ``seed`` (independent of every other program)."""
    return np.random.default_rng([seed, index, zlib.crc32(salt.encode())])


class _Builder:
    """One program under construction: inputs and nodes in the order they were made, and the
    float64 value of each (``Ref(i)`` is the i-th entry until ``_finish`` renumbers them)."""

    def __init__(self, rng: np.random.Generator, options: Options) -> None:
        self.rng = rng
        self.options = options
        self.entries: list[Input | Node] = []
        self.values: list[np.ndarray] = []

    @property
    def nodes(self) -> list[Node]:
        return [e for e in self.entries if isinstance(e, Node)]

    def add(self, entry: Input | Node, value: np.ndarray) -> Ref:
        self.entries.append(entry)
        self.values.append(value)
        return Ref(len(self.entries) - 1)

    def rollback(self, mark: int) -> None:
        del self.entries[mark:], self.values[mark:]

    def pick_value(self, fits: Any) -> Ref | None:
        """An earlier float value for which ``fits`` holds, the most recent ones likelier;
        None if none does (or, with chance 1 - p_chain, to draw a fresh input instead)."""
        found = [
            i
            for i, v in enumerate(self.values)
            if v.dtype.kind == "f" and v.size <= MAX_SIZE and fits(v)
        ]
        if not found or self.rng.random() >= self.options.p_chain:
            return None
        weights = np.array([1.0 + i for i in found])
        return Ref(int(self.rng.choice(found, p=weights / weights.sum())))

    def fresh(self, shape: tuple[int, ...], domain: Domain, edge: bool | None = None) -> Ref:
        """A new input of ``shape`` in ``domain``, at an edge point with chance p_edge."""
        rng = self.rng
        lo, hi = domain.interval()
        x = rng.uniform(lo, hi, size=shape)
        label, kink = "ordinary", False
        if edge is None:
            edge = rng.random() < self.options.p_edge
        if edge:
            x, label, kink = self._edge(x, domain)
        x = np.asarray(x, np.float64)
        return self.add(Input(x, label, kink), x)

    def given(self, value: np.ndarray, label: str, kink: bool) -> Ref:
        """A new input holding ``value`` (a sample's own, or a copy for a tie)."""
        x = np.array(value, dtype=np.float64)
        return self.add(Input(x, label, kink), x)

    def _edge(self, x: np.ndarray, domain: Domain) -> tuple[np.ndarray, str, bool]:
        rng = self.rng
        modes = ["declared"] * 3 * bool(domain.edges) + ["zeros", "ties", "huge", "tiny", "bound"]
        mode = modes[int(rng.integers(len(modes)))]
        y = np.array(x, dtype=np.float64)
        one = y.ndim > 0 and rng.random() < 0.5  # one element at the edge, or all of them
        where: Any = tuple(int(rng.integers(n)) for n in y.shape) if one else Ellipsis
        if mode == "declared":
            e = float(domain.edges[int(rng.integers(len(domain.edges)))])
            y[where] = e
            return y, f"edge: {e:g}", True
        if mode == "zeros":
            y[where] = 0.0
            label = "zeros"
        elif mode == "ties":
            if y.size < 2:
                return x, "ordinary", False
            flat = y.reshape(-1)
            i, j = rng.choice(flat.size, size=2, replace=False)
            flat[j] = flat[i]
            label = "ties"
        elif mode == "huge":
            y = y * 10.0 ** rng.uniform(3, 6)
            label = "huge"
        elif mode == "tiny":
            y = y * 10.0 ** -rng.uniform(5, 8)
            label = "tiny"
        else:
            bound = domain.lo if np.isfinite(domain.lo) else domain.hi
            if not np.isfinite(bound):
                return x, "ordinary", False
            step = 1e-3 * (1 if bound == domain.lo else -1)
            y[where] = bound + (0.0 if domain.closed else step)
            label = "near bound"
        if not domain.contains(y):
            return x, "ordinary", False
        return y, label, False


def _broadcast_shape(rng: np.random.Generator, shape: tuple[int, ...]) -> tuple[int, ...]:
    """``shape`` itself, or a shape that broadcasts to it (a suffix, or a scalar)."""
    r = rng.random()
    if r < 0.7 or not shape:
        return shape
    if r < 0.85:
        return shape[1:]
    return ()


def _node_value(node: Node, b: _Builder) -> np.ndarray | None:
    """The node's value by the table's NumPy reference; None when it is not usable."""
    env = b.values

    def get(a: Any) -> Any:
        return env[a.index] if isinstance(a, Ref) else a

    try:
        with np.errstate(all="ignore"):
            out = reference_op(node.op)(
                *[get(a) for a in node.args], **{k: get(v) for k, v in node.kwargs.items()}
            )
            if node.pick is not None:
                out = out[node.pick]
            if isinstance(out, list | tuple):  # several outputs and no pick: not one value
                return None
            out = np.asarray(out)
    except Exception:
        return None
    if out.dtype.kind == "b":
        return out
    if out.dtype.kind != "f" or out.size > MAX_SIZE or out.size == 0:
        return None
    if not np.all(np.isfinite(out)) or np.max(np.abs(out), initial=0) > MAX_MAGNITUDE:
        return None
    return out


def _samples(info: OpInfo, rng: np.random.Generator) -> list[Sample]:
    return [s for s in info.samples(rng) if s.argnums]


class Generator:
    """Draws programs for one seed from a set of ops."""

    def __init__(self, seed: int, options: Options | None = None) -> None:
        self.seed = seed
        self.options = options or Options()
        self.pool = eligible(self.options.ops)
        if not self.pool:
            raise ValueError("no op of the per-op table can be fuzzed with these options")

    def program(self, index: int) -> Program:
        """Program ``index`` of this seed."""
        rng = program_rng(self.seed, index)
        b = _Builder(rng, self.options)
        n_ops = int(rng.integers(1, self.options.max_ops + 1))
        made = 0
        for _ in range(n_ops * 3):
            if made >= n_ops:
                break
            info = self.pool[int(rng.integers(len(self.pool)))]
            made += any(self._step(info, b) for _ in range(TRIES))
        if not made:  # nothing fitted: one op on fresh inputs, which always fits
            for info in self.pool:
                if self._step(info, b, chain=False):
                    break
        return _finish(b, f"seed {self.seed}, program {index}")

    def _step(self, info: OpInfo, b: _Builder, chain: bool = True) -> bool:
        """Add one node of ``info``; False (and nothing added) when its value is unusable."""
        mark = len(b.entries)
        build = {"elementwise": self._elementwise, "reduction": self._reduction}.get(
            info.shapes, self._from_sample
        )
        try:
            node = build(info, b, chain)
        except Exception:  # a sample function that cannot be followed: draw again
            node = None
        value = None if node is None else _node_value(node, b)
        if value is None or value.dtype.kind != "f":
            b.rollback(mark)
            return False
        b.add(node, value)
        return True

    def _operand(
        self, b: _Builder, info: OpInfo, k: int, shape: tuple[int, ...] | None, chain: bool
    ) -> Ref:
        dom = info.domain(k)
        if chain:
            if shape is None:
                got = b.pick_value(lambda v: v.ndim >= 1 and dom.contains(v))
            else:
                got = b.pick_value(lambda v: v.shape == shape and dom.contains(v))
            if got is not None:
                return got
        if shape is None:
            shape = REDUCE_SHAPES[int(b.rng.integers(len(REDUCE_SHAPES)))]
        return b.fresh(shape, dom)

    def _elementwise(self, info: OpInfo, b: _Builder, chain: bool) -> Node:
        rng = b.rng
        drawn = _samples(info, rng)
        kinks = [s for s in drawn if s.kink]
        if kinks and rng.random() < b.options.p_edge:  # the entry's own edge sample, whole
            return self._as_given(info, kinks[int(rng.integers(len(kinks)))], b)
        plain = [s for s in drawn if not s.kink] or drawn
        s = plain[int(rng.integers(len(plain)))]
        shape = SHAPES[int(rng.integers(len(SHAPES)))]
        if chain:  # the shape of a recent value, so that ops compose
            recent = [v for v in b.values if v.dtype.kind == "f" and v.ndim <= 2]
            if recent and rng.random() < b.options.p_chain:
                shape = recent[-1].shape
        args: list[Any] = list(s.args)
        first: Ref | None = None
        for k, pos in enumerate(s.argnums):
            want = shape if k == 0 else _broadcast_shape(rng, shape)
            if first is not None and rng.random() < b.options.p_edge / 2:
                v = b.values[first.index]
                if v.shape == want and info.domain(k).contains(v):  # two operands tie
                    args[pos] = b.given(v, "ties", False)
                    continue
            args[pos] = self._operand(b, info, k, want, chain)
            first = first or args[pos]
        for pos, a in enumerate(args):  # constants: now and then an edge constant (x**0)
            if pos not in s.argnums and isinstance(a, float) and rng.random() < 0.3:
                args[pos] = EDGE_CONSTANTS[int(rng.integers(len(EDGE_CONSTANTS)))]
        return Node(info.name, tuple(args), dict(s.kwargs))

    def _as_given(self, info: OpInfo, s: Sample, b: _Builder) -> Node:
        """A node of ``info`` on sample ``s`` as it is: its differentiated arguments become
        inputs holding its values, its constants stay (an edge such as ``x**0`` at 0 needs
        both at once)."""
        args: list[Any] = list(s.args)
        for pos in s.argnums:
            args[pos] = b.given(np.asarray(s.args[pos]), s.label, s.kink)
        return Node(info.name, tuple(args), dict(s.kwargs))

    def _reduction(self, info: OpInfo, b: _Builder, chain: bool) -> Node:
        rng = b.rng
        x = self._operand(b, info, 0, None, chain)
        nd = b.values[x.index].ndim
        kwargs: dict[str, Any] = {}
        r = rng.random()
        if nd == 0 or r < 0.35:
            pass
        elif r < 0.8 or nd < 2:
            kwargs["axis"] = int(rng.integers(-nd, nd))
        else:
            kwargs["axis"] = tuple(sorted(int(a) for a in rng.choice(nd, 2, replace=False)))
        if rng.random() < 0.3:
            kwargs["keepdims"] = True
        return Node(info.name, (x,), kwargs)

    def _from_sample(self, info: OpInfo, b: _Builder, chain: bool) -> Node:
        rng = b.rng
        drawn = _samples(info, rng)
        kinks = [s for s in drawn if s.kink]
        if kinks and rng.random() < b.options.p_edge:
            s = kinks[int(rng.integers(len(kinks)))]
        else:
            plain = [s for s in drawn if not s.kink] or drawn
            s = plain[int(rng.integers(len(plain)))]
        args: list[Any] = list(s.args)
        operands: list[Ref] = []
        guard = None
        conds = [p for p, a in enumerate(args) if isinstance(a, np.ndarray) and a.dtype.kind == "b"]
        if conds and s.argnums and rng.random() < b.options.p_edge:
            shape = np.shape(s.args[s.argnums[0]])
            guard = self._guarded(b, shape)
        for k, pos in enumerate(s.argnums):
            if guard is not None and k == 0:  # the branch the condition takes
                args[conds[0]], args[pos] = guard
                operands.append(guard[1])
                continue
            given = np.asarray(s.args[pos], dtype=np.float64)
            dom = info.domain(k)
            ref = None
            if chain and not s.kink:
                ref = b.pick_value(
                    lambda v, g=given, d=dom: (
                        v.shape == g.shape and (d.contains(v) if info.domains else True)
                    )
                )
            if ref is None:
                if info.domains and not s.kink and rng.random() < b.options.p_edge:
                    ref = b.fresh(given.shape, dom, edge=True)
                else:
                    ref = b.given(given, s.label, s.kink)
            args[pos] = ref
            operands.append(ref)
        for pos, a in enumerate(args):  # a condition: a comparison of a value in the program
            if guard is not None and pos == conds[0]:
                continue
            if isinstance(a, np.ndarray) and a.dtype.kind == "b" and rng.random() < 0.8:
                cond = self._condition(b, a.shape, operands)
                if cond is not None:
                    args[pos] = cond
        return Node(info.name, tuple(args), dict(s.kwargs))

    def _guarded(self, b: _Builder, shape: tuple[int, ...]) -> tuple[Ref, Ref] | None:
        """The guarded-branch pattern ``where(x > lo, f(x), y)``: an elementwise op ``f`` of
        the pool whose domain has a closed lower bound ``lo``, on an input ``x`` that reaches
        that bound. Returns (the condition ``x > lo``, ``f(x)``), or None when no op of the
        pool has such a bound or its value is unusable."""
        rng = b.rng
        bounded = [
            i
            for i in self.pool
            if i.shapes == "elementwise" and i.domain(0).closed and np.isfinite(i.domain(0).lo)
        ]
        if not bounded:
            return None
        info = bounded[int(rng.integers(len(bounded)))]
        samples = [s for s in _samples(info, rng) if not s.kink and s.argnums == (0,)]
        if not samples:
            return None
        s = samples[int(rng.integers(len(samples)))]
        mark = len(b.entries)
        dom = info.domain(0)
        x = np.asarray(rng.uniform(*dom.interval(), size=shape), np.float64)
        at = tuple(int(rng.integers(n)) for n in shape) if shape else Ellipsis
        x[at] = dom.lo
        xr = b.add(Input(x, f"edge: {dom.lo:g}", True), x)
        args: list[Any] = list(s.args)
        args[0] = xr
        node = Node(info.name, tuple(args), dict(s.kwargs))
        value = _node_value(node, b)
        cond = Node("greater", (xr, float(dom.lo)))
        if value is None or value.dtype.kind != "f":
            b.rollback(mark)
            return None
        fx = b.add(node, value)
        cond_value = _node_value(cond, b)
        if cond_value is None:
            b.rollback(mark)
            return None
        return b.add(cond, cond_value), fx

    def _condition(self, b: _Builder, shape: tuple[int, ...], near: list[Ref]) -> Ref | None:
        """``greater(v, 0.0)`` for a value ``v`` of ``shape``: first what feeds the other
        operands (the guarded-branch pattern ``where(x > 0, sqrt(x), y)``), else any value."""
        feeding: list[int] = []
        for ref in near:
            entry = b.entries[ref.index]
            if isinstance(entry, Node):
                feeding.extend(entry.refs())
            feeding.append(ref.index)
        feeding.extend(range(len(b.values)))
        found = [
            i
            for i in dict.fromkeys(feeding)
            if b.values[i].dtype.kind == "f" and b.values[i].shape == shape
        ]
        if not found:
            return None
        src = found[0] if b.rng.random() < 0.7 else found[int(b.rng.integers(len(found)))]
        node = Node("greater", (Ref(src), 0.0))
        value = _node_value(node, b)
        if value is None:
            return None
        return b.add(node, value)


def _finish(b: _Builder, key: str) -> Program:
    """The program in its final numbering (inputs first, then nodes, each in the order they
    were made), without nodes the output does not need or inputs nothing reads."""
    out = len(b.entries) - 1
    live = {out}
    for i in range(out, -1, -1):
        entry = b.entries[i]
        if i in live and isinstance(entry, Node):
            live.update(entry.refs())
    inputs = [i for i in sorted(live) if isinstance(b.entries[i], Input)]
    nodes = [i for i in sorted(live) if isinstance(b.entries[i], Node)]
    new = {old: k for k, old in enumerate(inputs + nodes)}
    return Program(
        inputs=tuple(b.entries[i] for i in inputs),  # type: ignore[misc]
        nodes=tuple(renumber(b.entries[i], new) for i in nodes),  # type: ignore[arg-type]
        output=new[out],
        key=key,
    )


def renumber(node: Node, new: dict[int, int]) -> Node:
    """``node`` with its references mapped through ``new``."""

    def m(a: Any) -> Any:
        return Ref(new[a.index]) if isinstance(a, Ref) else a

    return Node(
        node.op,
        tuple(m(a) for a in node.args),
        {k: m(v) for k, v in node.kwargs.items()},
        node.pick,
    )
