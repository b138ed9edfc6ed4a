"""Forward mode: a trace that carries tangents with a leading batch axis.

One pass pushes many tangent directions at once (a whole Jacobian); a single jvp is a batch
of one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from unigrad.backends.numpy.elementwise import add
from unigrad.backends.numpy.operators import ArrayTracer
from unigrad.backends.numpy.structural import broadcast_to, expand_batched
from unigrad.backends.numpy.tracer import Primitive, Tracer, new_level, shape_of


class FwdTracer(ArrayTracer):
    """A value on a forward trace with its batched tangent (leading axis: the batch)."""

    __slots__ = ("tangent",)

    def __init__(self, value: Any, trace: FwdTrace, tangent: Any) -> None:
        self.value = value
        self.level = trace.level
        self._trace = trace
        self.tangent = tangent


class FwdTrace:
    """A forward-mode trace pushing ``batch`` tangent directions at once."""

    __slots__ = ("batch", "level")

    def __init__(self, batch: int) -> None:
        self.level = new_level()
        self.batch = batch

    def new_input(self, value: Any, tangent: Any) -> FwdTracer:
        """A tracer for an input whose batched tangent is ``tangent``."""
        return FwdTracer(value, self, tangent)

    def process(self, prim: Primitive, args: tuple, kwargs: dict) -> Any:
        """Apply ``prim`` to the values and push the tangents of this trace's tracers."""
        level = self.level
        vals = list(args)
        tans: list[Any] = [None] * len(args)
        any_t = False
        for i, a in enumerate(args):
            if isinstance(a, Tracer) and a.level == level:
                vals[i] = a.value
                tans[i] = a.tangent
                any_t = True
        ans = prim(*vals, **kwargs)
        if not any_t:
            return ans
        if prim.jvp_all is not None:
            t_out = prim.jvp_all(tans, ans, *vals, **kwargs)
        else:
            t_out = None
            nd = np.ndim(ans)
            for i, t in enumerate(tans):
                if t is None:
                    continue
                rule = prim.jvps.get(i) or prim.jvp_rule(i)
                if prim.broadcasts:
                    t = expand_batched(t, nd)
                ti = rule(t, ans, *vals, **kwargs)
                t_out = ti if t_out is None else add(t_out, ti)
        if prim.broadcasts and shape_of(t_out)[1:] != shape_of(ans):
            t_out = broadcast_to(t_out, (self.batch, *shape_of(ans)))
        return FwdTracer(ans, self, t_out)
