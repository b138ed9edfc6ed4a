"""Reverse mode: a trace that records every step on a flat tape, and its backward pass.

The tape is already in topological order (a step is recorded after its arguments), so the
backward pass walks it once, backwards, without sorting a graph.
"""

from __future__ import annotations

from typing import Any

from unigrad.backends.numpy.elementwise import add
from unigrad.backends.numpy.operators import ArrayTracer
from unigrad.backends.numpy.structural import unbroadcast
from unigrad.backends.numpy.tracer import Primitive, Tracer, new_level, op_error, shape_of


class RevTracer(ArrayTracer):
    """A value on a reverse trace; ``idx`` is its entry on the tape."""

    __slots__ = ("idx",)

    def __init__(self, value: Any, trace: RevTrace, idx: int) -> None:
        self.value = value
        self.level = trace.level
        self._trace = trace
        self.idx = idx


class RevTrace:
    """A reverse-mode trace: a flat tape of (primitive, args, kwargs, answer, parents)."""

    __slots__ = ("entries", "level", "n_inputs")

    def __init__(self) -> None:
        self.level = new_level()
        self.entries: list[tuple] = []
        self.n_inputs = 0

    def new_input(self, value: Any) -> RevTracer:
        """A tracer for a differentiated input (inputs take the first tape entries)."""
        idx = len(self.entries)
        self.entries.append((None, (), None, value, ()))
        self.n_inputs += 1
        return RevTracer(value, self, idx)

    def process(self, prim: Primitive, args: tuple, kwargs: dict) -> RevTracer:
        """Apply ``prim`` to this trace's tracers among ``args`` and record the step."""
        vals = list(args)
        parents = []
        lower = False
        for i, a in enumerate(args):
            if isinstance(a, Tracer):
                if a._trace is self:
                    vals[i] = a.value
                    parents.append((i, a.idx))
                    if isinstance(a.value, Tracer):
                        lower = True
                else:
                    lower = True
        if lower:
            ans = prim(*vals, **kwargs)
        else:  # no lower-level tracers left: run the NumPy function directly
            try:
                ans = prim.impl(*vals, **kwargs)
            except (ValueError, TypeError, IndexError) as exc:
                raise op_error(prim.__name__, tuple(vals), exc) from exc
        entries = self.entries
        idx = len(entries)
        entries.append((prim, vals, kwargs, ans, parents))
        return RevTracer(ans, self, idx)

    def backward(self, seeds: list[tuple[int, Any]]) -> list[Any]:
        """Propagate cotangents ``seeds`` [(tape index, cotangent)] back to the inputs.

        Returns one cotangent per input, None where the outputs do not depend on it.
        """
        entries = self.entries
        grads: list[Any] = [None] * len(entries)
        for idx, ct in seeds:
            grads[idx] = ct if grads[idx] is None else add(grads[idx], ct)
        n_in = self.n_inputs
        for i in range(len(entries) - 1, n_in - 1, -1):
            g = grads[i]
            if g is None:
                continue
            grads[i] = None  # free cotangents as soon as they are consumed
            prim, vals, kwargs, ans, parents = entries[i]
            for argnum, pidx in parents:
                rule = prim.vjps.get(argnum) or prim.vjp_rule(argnum)
                gi = rule(g, ans, *vals, **kwargs) if kwargs else rule(g, ans, *vals)
                if prim.broadcasts:
                    want = shape_of(vals[argnum])
                    if shape_of(gi) != want:
                        gi = unbroadcast(gi, want)
                prev = grads[pidx]
                grads[pidx] = gi if prev is None else add(prev, gi)
        return grads[:n_in]
