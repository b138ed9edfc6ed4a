"""compare's ops suite: each sample of the per-op table (``unigrad.cases.opinfos``) as a case of
its own kind, run by compare's runner, workers, reference, oracle and reports like any case.

An ``OpCase`` is one op at one sample. Its transforms are the per-op checks:

- ``value``: the op's value, judged against NumPy's (the case's exact value) and the engine;
- ``grad``: the gradient of ``sum(op(x) * W)`` (fixed random ``W``);
- ``jvp``: ``J u`` and ``vjp``: ``vᵀJ`` of the op itself (fixed random ``u``, ``v``);
- ``jvp_vjp``: ``[vᵀ(J u), (vᵀJ) u]``, the two ways of one number, from that backend's own jvp
  and vjp (computed once for the three cells);
- ``hvp``: the Hessian-vector product of ``sum(op(x) * W)``.

Levels: ``quick`` runs every op's first sample at first order (value, grad, jvp, vjp,
jvp_vjp); ``full`` runs every sample and adds the second order (hvp). Both run in each dtype
the op declares; the reference engine in float64 judges every cell, and is itself checked by
central finite differences (except at kink samples, where the derivative is a convention).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from unigrad import capabilities as C
from unigrad import pytree
from unigrad.compare import opchecks, oracle
from unigrad.compare.case import Case
from unigrad.compare.opinfo import OpInfo, Sample

#: what an op case's ``file`` holds: workers and repro scripts find op cases by it
SUITE = "unigrad.cases.opinfos"
LEVELS = ("quick", "full")
SUITES = ("cases", "ops", "all")
FIRST_ORDER = ("value", "grad", "jvp", "vjp", "jvp_vjp")
TRANSFORMS = (*FIRST_ORDER, "hvp")
#: the OpInfo check whose declared gaps cover each transform
_CHECK = {"value": "value", "grad": "grad", "jvp": "jvp_vjp", "vjp": "jvp_vjp"}
_CHECK |= {"jvp_vjp": "jvp_vjp", "hvp": "hvp"}
#: float32 results are judged against a float64 reference: derivatives lose more digits
FLOAT32_FLOOR = {"rtol": 1e-4, "atol": 1e-4}


@dataclass(eq=False)  # cases are told apart by their ids; samples hold arrays
class OpCase(Case):
    """One op of the per-op table at one of its samples, as a compare case."""

    info: OpInfo | None = None
    index: int = 0
    sample: Sample | None = None
    _memo: dict = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:  # built from the table, not from a case file
        pass

    @property
    def where(self) -> str:
        """Where the op's entry is defined in the table."""
        return _entry_location(self.info.name if self.info else "")

    def make_inputs(self, dtype: str) -> list[Any]:
        """The sample's arguments in ``dtype`` (integer data stays integer)."""
        return list(self.sample.cast(dtype).args)

    def gap(self, backend: str, transform: str) -> str | None:
        """The op's declared gap for this transform; a backend whose second order is partial
        declares every hvp it refuses."""
        declared = self.info.gap(backend, _CHECK.get(transform, transform))
        if declared or transform != "hvp":
            return declared
        from unigrad import registry

        spec = registry.specs().get(backend)
        if spec is not None and spec.capabilities.get(C.HIGHER_ORDER) != C.NATIVE:
            return f"{backend} has second-order derivatives only for some ops (capabilities)"
        return None

    def prepare(
        self,
        backend: str,
        dtypes: list[str],
        transforms: list[str],
        ahead: Sequence[tuple[str, list[str], list[str]]] = (),
    ) -> dict[tuple[str, str], Any]:
        """The cells computed together where ``backend`` compiles one-off work into one program
        (``opchecks.together_many``): ``{(transform, dtype): value}``. A cell left out runs
        alone. ``ahead``: the op cases the worker will be asked for next (id, dtypes,
        transforms), compiled in the same program and kept until they are asked for."""
        key = (backend, self.id, tuple(dtypes), tuple(transforms))
        if key in _READY:
            return _READY.pop(key)
        group = [(self, list(dtypes), list(transforms))]
        for cid, ds, ts in ahead:
            if (backend, cid, tuple(ds), tuple(ts)) not in _READY and cid in _by_id():
                group.append((find(cid), list(ds), list(ts)))
        items = [(c.info, c.sample, ds, _checks(ts)) for c, ds, ts in group]
        got = opchecks.together_many(items, backend)
        if len(group) > 1 and not any(got):  # the joint program failed: each on its own
            got = [opchecks.together_many([item], backend)[0] for item in items]
        for (c, ds, ts), g in zip(group[1:], got[1:]):
            _READY[(backend, c.id, tuple(ds), tuple(ts))] = _ready_cells(g, ds, ts)
        return _ready_cells(got[0], dtypes, transforms)

    def compute(self, transform: str, backend: str, dtype: str) -> Any:
        """The result of ``transform`` on ``backend`` in ``dtype``, as NumPy."""
        if transform in ("value", "grad", "hvp"):
            return opchecks.run(self.info, self.sample, transform, backend, dtype)
        if transform not in ("jvp", "vjp", "jvp_vjp"):
            raise ValueError(f"an op case has no transform {transform!r}")
        if transform != "jvp_vjp":
            return self._once(transform, backend, dtype)[1]
        return opchecks.consistency(
            self._once("jvp", backend, dtype), self._once("vjp", backend, dtype)
        )

    def _once(self, which: str, backend: str, dtype: str) -> Any:
        """A jvp or vjp computed once per backend and dtype (one that fails is tried again by
        the next cell that needs it: compare runs a cell that fails under ``one_off`` again)."""
        key = (which, backend, dtype)
        if key not in self._memo:
            fn = opchecks.jvp if which == "jvp" else opchecks.vjp
            self._memo[key] = fn(self.info, self.sample.cast(dtype), backend, dtype)
        return self._memo[key]

    def fd_check(self, transform: str, ref: Any) -> str:
        """The reference result against central finite differences: 'ok', 'n/a' or why not."""
        if transform == "value":
            return "n/a"
        if self.sample.kink:
            return f"n/a (kink: {self.sample.label}; the derivative is a convention)"
        want = opchecks.finite_differences(self.info, self.sample, transform)
        got, want = _flat(ref), _flat(want)
        verdict = oracle.compare(got, want, "float64", oracle.FD_TOLERANCE)
        return "ok" if verdict.passed else f"mismatch: {verdict.detail}"


#: cells computed with an earlier case's program, until their case is asked for
_READY: dict[tuple[str, str, tuple, tuple], dict[tuple[str, str], Any]] = {}


def _checks(transforms: Sequence[str]) -> list[str]:
    """The checks ``opchecks.together_many`` computes for these transforms."""
    checks = [c for c in ("value", "grad", "jvp", "vjp", "hvp") if c in transforms]
    if "jvp_vjp" in transforms:
        checks += [c for c in ("jvp", "vjp") if c not in checks]
    return checks


def _ready_cells(
    got: dict[tuple[str, str], Any], dtypes: Sequence[str], transforms: Sequence[str]
) -> dict[tuple[str, str], Any]:
    """The cells' values from the checks ``together_many`` computed."""
    ready = {}
    for t in transforms:
        for d in dtypes:
            if t in ("value", "grad", "hvp") and (t, d) in got:
                ready[(t, d)] = got[(t, d)]
            elif t in ("jvp", "vjp") and (t, d) in got:
                ready[(t, d)] = got[(t, d)][1]
            elif t == "jvp_vjp" and ("jvp", d) in got and ("vjp", d) in got:
                ready[(t, d)] = opchecks.consistency(got[("jvp", d)], got[("vjp", d)])
    return ready


def _flat(tree: Any) -> np.ndarray:
    leaves = [np.ravel(np.asarray(v, np.float64)) for v in pytree.tree_leaves(tree)]
    return np.concatenate(leaves) if leaves else np.zeros(0)


@functools.cache
def _sources() -> list[tuple[Path, list[str]]]:
    import unigrad.cases.opinfos as table

    folder = Path(table.__file__).resolve().parent
    return [(p, p.read_text().splitlines()) for p in sorted(folder.glob("*.py"))]


@functools.cache
def _entry_location(name: str) -> str:
    """``file:line`` of the op's entry in the table (the first line that names it)."""
    for written in (name, name.split(".", 1)[-1]):
        pattern = re.compile(rf"""["']{re.escape(written)}["']""")
        for path, lines in _sources():
            for n, line in enumerate(lines, 1):
                if pattern.search(line):
                    return f"{path}:{n}"
    return SUITE


def transforms_of(info: OpInfo, sample: Sample, level: str) -> tuple[str, ...]:
    """The transforms an op case runs at ``level``."""
    if info.orders < 1 or not sample.argnums:
        return ("value",)
    if level == "full" and info.orders >= 2:
        return TRANSFORMS
    return FIRST_ORDER


def _tolerance(info: OpInfo) -> dict[str, dict[str, float]]:
    tol = {d: dict(v) for d, v in info.tolerance.items()}
    f32 = tol.setdefault("float32", {})
    for k, floor in FLOAT32_FLOOR.items():
        f32[k] = max(f32.get(k, 0.0), floor)
    return tol


def samples(info: OpInfo) -> list[Sample]:
    """The op's samples, drawn from its name's seed (as tests/test_ops.py draws them)."""
    return list(info.samples(np.random.default_rng(sum(map(ord, info.name)))))


def case_id(info: OpInfo, index: int) -> str:
    """``op.<name>/<sample index>``."""
    return f"{info.id}/{index}"


def make(info: OpInfo, index: int, sample: Sample, level: str = "full") -> OpCase:
    """The op case of ``info`` at its ``index``-th sample."""
    op = info.op()
    with np.errstate(all="ignore"):
        exact = info.expected(sample)
    return OpCase(
        id=case_id(info, index),
        function=lambda *a: op(*a, **sample.kwargs),
        inputs=sample.args,
        source=f"per-op table: {info.name}, sample {index} ({sample.label})",
        transforms=transforms_of(info, sample, level),
        argnums=sample.argnums or 0,
        expected={"value": exact},
        tolerance=_tolerance(info),
        gaps=info.gaps,
        dtypes=info.dtypes,
        notes=info.notes,
        no_finite_differences="the op is not smooth at this sample" if sample.kink else "",
        file=SUITE,
        line=0,
        info=info,
        index=index,
        sample=sample,
    )


def suite(level: str = "quick") -> list[OpCase]:
    """The ops suite at ``level``: every op's first sample (quick) or every sample (full)."""
    from unigrad.cases.opinfos import OPINFOS

    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    out = []
    for info in OPINFOS:
        drawn = samples(info)
        for i, s in enumerate(drawn[:1] if level == "quick" else drawn):
            out.append(make(info, i, s, level))
    return out


@functools.cache
def _by_id() -> dict[str, tuple[OpInfo, int, Sample]]:
    from unigrad.cases.opinfos import OPINFOS

    return {case_id(o, i): (o, i, s) for o in OPINFOS for i, s in enumerate(samples(o))}


_made: dict[str, OpCase] = {}


def find(cid: str) -> OpCase:
    """The op case ``cid`` at the full level (a worker runs the transforms it is sent)."""
    if cid not in _made:
        try:
            info, i, s = _by_id()[cid]
        except KeyError:
            raise KeyError(f"no op case {cid!r} in the per-op table") from None
        _made[cid] = make(info, i, s, "full")
    return _made[cid]
