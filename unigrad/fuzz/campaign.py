"""A fuzz campaign: shards of generated programs through the lanes, judged, filtered, shrunk.

Program ``i`` of a seed is always the same program, and shard ``k`` holds programs
``k*S .. (k+1)*S - 1``, so a campaign is the same on any executor. Shards are submitted ahead
(two at a time), and processed in order as they come back: judged (``judge``), filtered
(``stability``), rechecked under perturbation, shrunk (``shrink``) and deduplicated
(``findings``). A finished shard is one line in ``progress.jsonl`` (its counts and the findings
it met again), written after its new findings reached ``findings.jsonl``: ``--resume`` goes on
after the last finished shard, and a shard cut short by Ctrl-C is run again, never counted
twice.
"""

from __future__ import annotations

import collections
import difflib
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from unigrad import registry
from unigrad.errors import WorkerError
from unigrad.fuzz import stability
from unigrad.fuzz.execute import CHECKS
from unigrad.fuzz.executors import REFERENCE
from unigrad.fuzz.findings import Finding, Store, make
from unigrad.fuzz.generate import Generator, Options, eligible
from unigrad.fuzz.judge import Candidate, _versus, judge, judge_native, tolerance
from unigrad.fuzz.program import Program
from unigrad.fuzz.shrink import shrink

DEPTH = 2  #: shards submitted ahead of the one being processed
#: the checks a transform's disagreement needs to be seen again
NEEDS = {
    "value": ("value",),
    "grad": ("grad",),
    "jvp": ("jvp",),
    "vjp": ("vjp",),
    "hvp": ("hvp",),
    "jvp/vjp": ("jvp", "vjp"),
    "grad/hvp": ("hvp",),
}


class UsageError(ValueError):
    """A bad option, found before any work starts."""


class Interrupted(KeyboardInterrupt):
    """A signal stopped the campaign."""

    def __init__(self, signal_name: str = "SIGINT") -> None:
        self.signal_name = signal_name
        super().__init__(signal_name)


@dataclass
class Settings:
    """What a campaign runs (``unigrad fuzz``'s options)."""

    backends: list[str] | None = None
    seed: int = 0
    programs: int | None = None
    budget: float | None = None
    ops: list[str] | None = None
    dtype: str = "both"
    native: bool = False
    out: str = "fuzz-reports"
    executor: str = "local"
    address: str | None = None
    jobs: int | None = None
    shard: int = 8
    timeout: float = 60.0
    max_ops: int = 4
    shrink_budget: int = 40

    #: the options a resumed campaign must keep
    FIXED = ("backends", "seed", "ops", "dtype", "native", "shard", "max_ops")

    def dtypes(self) -> list[str]:
        return ["float32", "float64"] if self.dtype == "both" else [self.dtype]

    def fixed(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.FIXED}


@dataclass
class Result:
    """What a campaign did (the summary's numbers)."""

    run_dir: Path
    settings: Settings
    programs: int = 0
    shards: int = 0
    wall: float = 0.0
    candidates: int = 0
    filtered: dict[str, int] = field(default_factory=dict)
    gaps: int = 0
    native_unavailable: dict[str, int] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    busy: dict[str, float] = field(default_factory=dict)
    info: dict[str, dict] = field(default_factory=dict)
    interrupted: str | None = None
    executor: str = "local"
    new_findings: int = 0
    resumed: int = 0  #: programs run before this session (a resumed campaign's)

    def summary(self) -> dict:
        """summary.json: counts, rates (of this session's programs), findings by kind,
        filtered candidates by reason."""
        by_kind = collections.Counter(f.kind for f in self.findings)
        ran = self.programs - self.resumed
        per_backend = {
            lane: {
                "busy_s": round(t, 3),
                "programs_per_s": round(ran / t, 3) if t > 0 else None,
            }
            for lane, t in sorted(self.busy.items())
        }
        return {
            "run_dir": str(self.run_dir),
            "seed": self.settings.seed,
            "executor": self.executor,
            "native": self.settings.native,
            "dtypes": self.settings.dtypes(),
            "programs": self.programs,
            "programs_this_session": ran,
            "shards": self.shards,
            "wall_s": round(self.wall, 3),
            "programs_per_s": round(ran / self.wall, 3) if self.wall > 0 else None,
            "per_backend": per_backend,
            "candidates": self.candidates,
            "filtered": dict(sorted(self.filtered.items())),
            "declared_gaps": self.gaps,
            "native_unavailable": dict(sorted(self.native_unavailable.items())),
            "findings": len(self.findings),
            "findings_by_kind": dict(sorted(by_kind.items())),
            "versions": versions(self.info),
            "interrupted": self.interrupted,
            "settings": {k: v for k, v in asdict(self.settings).items()},
        }


def versions(info: dict[str, dict]) -> dict[str, str]:
    """Framework versions by lane, from what each worker said."""
    import unigrad

    out = {"unigrad": unigrad.__version__}
    for lane, i in sorted(info.items()):
        if i.get("version"):
            out[lane] = str(i["version"])
    return out


def check(settings: Settings) -> list[str]:
    """The backends the campaign runs; raises ``UsageError`` for a bad option."""
    if settings.dtype not in ("float32", "float64", "both"):
        raise UsageError(f"--dtype must be float32, float64 or both, not {settings.dtype!r}")
    if settings.programs is not None and settings.programs < 1:
        raise UsageError("--programs must be at least 1")
    if settings.budget is not None and settings.budget <= 0:
        raise UsageError("--budget must be a positive number of seconds")
    if settings.shard < 1 or settings.max_ops < 1:
        raise UsageError("--shard and --max-ops must be at least 1")
    names = settings.backends or registry.backend_names()
    for b in names:
        try:
            registry.check_name(b, "--backends")
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
    try:
        eligible(settings.ops)
    except KeyError as exc:
        from unigrad.fuzz.generate import skipped

        name = str(exc.args[0]).strip("'")
        why = skipped().get(name)
        if why:  # in the table, but programs may not use it
            raise UsageError(f"--ops: {name} is not fuzzed: {why}") from exc
        names = [i.name for i in eligible()]
        close = difflib.get_close_matches(name, names, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise UsageError(
            f"--ops: no fuzzable op {exc.args[0]} in the per-op table{hint}; the ops are: "
            + ", ".join(names)
        ) from exc
    return list(dict.fromkeys(names))


class _Progress:
    """progress.jsonl: one line per finished shard."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done: dict[int, dict] = {}
        if path.exists():
            for line in path.read_text().splitlines():
                if line.strip():
                    row = json.loads(line)
                    self.done[row["shard"]] = row

    def record(self, row: dict) -> None:
        with self.path.open("a") as fh:
            fh.write(json.dumps(row) + "\n")
        self.done[row["shard"]] = row


class Campaign:
    """One campaign's run: its lanes, its executor, its findings."""

    def __init__(
        self,
        settings: Settings,
        run_dir: Path,
        executor: Any,
        on_shard: Callable[[int, Result], None] | None = None,
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.s = settings
        self.run_dir = run_dir
        self.ex = executor
        self.on_shard = on_shard
        self.say = say or (lambda text: None)
        ops = tuple(settings.ops) if settings.ops else None
        self.gen = Generator(settings.seed, Options(max_ops=settings.max_ops, ops=ops))
        self.store = Store(run_dir / "findings.jsonl")
        self.progress = _Progress(run_dir / "progress.jsonl")
        self.result = Result(run_dir, settings, executor=executor.name)
        self.backends: list[str] = []
        self._vers: dict[str, str] = {}

    # ------------------------------------------------------------------------ lanes
    def start(self, names: list[str], asked: bool) -> None:
        lanes = list(names) if self.s.native else [*names, REFERENCE]
        info = self.ex.start(lanes)
        self.result.info = info
        if REFERENCE in info and info[REFERENCE].get("error"):
            raise RuntimeError(f"the reference worker could not start: {info[REFERENCE]['error']}")
        broken = {b: info[b]["error"] for b in names if info.get(b, {}).get("error")}
        if broken and asked:
            raise RuntimeError(
                "; ".join(f"backend {b} cannot run: {e.splitlines()[0]}" for b, e in broken.items())
            )
        for b, e in broken.items():
            self.say(f"skipped {b}: {e.splitlines()[0]}")
        self.backends = [b for b in names if b not in broken]
        if self.s.native and "numpy" not in self.backends:
            raise RuntimeError("--native compares with unigrad's pinned meaning: keep numpy")
        self._vers = versions(info)

    def _payload(self, programs: list[Program], dtypes: list[str], checks: tuple) -> dict:
        return {
            "programs": [p.to_json() for p in programs],
            "dtypes": dtypes,
            "checks": list(checks),
            "mode": "native" if self.s.native else "unigrad",
        }

    def _submit(
        self, programs: list[Program], lanes: list[str], dtypes: list[str], checks: tuple = CHECKS
    ) -> dict[str, Any]:
        payload = self._payload(programs, dtypes, checks)
        return {lane: self.ex.submit(lane, payload, self.s.timeout) for lane in lanes}

    def _lanes(self) -> list[str]:
        return list(self.backends) if self.s.native else [*self.backends, REFERENCE]

    # ------------------------------------------------------------------------- loop
    def run(self) -> Result:
        """Run shards until the programs or the budget are used up (or Ctrl-C)."""
        t0 = time.perf_counter()
        s = self.s
        for row in self.progress.done.values():
            self._count(row)
        self.result.resumed = self.result.programs
        queue: collections.deque = collections.deque()
        k = 0
        try:
            while True:
                while len(queue) < DEPTH:
                    while k in self.progress.done:
                        k += 1
                    if not self._more(k, t0):
                        break
                    progs = self._shard_programs(k)
                    if not progs:
                        break
                    queue.append((k, progs, self._submit(progs, self._lanes(), s.dtypes())))
                    k += 1
                if not queue:
                    break
                shard, progs, futs = queue.popleft()
                results = {lane: f.result() for lane, f in futs.items()}
                self._process(shard, progs, results)
        except (KeyboardInterrupt, WorkerError) as exc:
            if isinstance(exc, WorkerError) and exc.kind != "stopped":
                raise
            name = exc.signal_name if isinstance(exc, Interrupted) else "SIGINT"
            self.result.interrupted = name
            self.ex.halt()
        self.result.wall = time.perf_counter() - t0
        self.result.busy = dict(self.ex.busy)
        self.result.findings = self.store.sorted()
        return self.result

    def _more(self, k: int, t0: float) -> bool:
        if self.s.programs is not None and k * self.s.shard >= self.s.programs:
            return False
        if self.s.budget is not None and time.perf_counter() - t0 >= self.s.budget:
            return False
        return self.s.programs is not None or self.s.budget is not None

    def _shard_programs(self, k: int) -> list[Program]:
        end = (k + 1) * self.s.shard
        if self.s.programs is not None:
            end = min(end, self.s.programs)
        return [self.gen.program(i) for i in range(k * self.s.shard, end)]

    def _count(self, row: dict) -> None:
        r = self.result
        r.programs += row["programs"]
        r.shards += 1
        r.candidates += row["candidates"]
        r.gaps += row["gaps"]
        for reason, n in row["filtered"].items():
            r.filtered[reason] = r.filtered.get(reason, 0) + n
        for what, n in row.get("native_unavailable", {}).items():
            r.native_unavailable[what] = r.native_unavailable.get(what, 0) + n
        for fid, n in row["occurrences"].items():
            for f in self.store.findings.values():
                if f.id == fid:
                    f.occurrences += n

    # ---------------------------------------------------------------------- a shard
    def _results_of(self, results: dict[str, list], j: int) -> tuple[dict, dict]:
        per: dict[str, dict] = {}
        ref: dict = {}
        for lane, got in results.items():
            one = got[j]
            if lane == REFERENCE:
                ref = (
                    one.get("float64", {})
                    if "failed" not in one
                    else {"value": {"ok": False, "outcome": one["failed"], "error": one["error"]}}
                )
                continue
            if "failed" in one:
                failed = {
                    "ok": False,
                    "outcome": "error",
                    "error": f"the worker {one['failed']}ed: {one['error']}",
                }
                if self.s.native:
                    per[lane] = {"float64": {"native grad": failed}}
                else:
                    per[lane] = {d: {"value": failed} for d in self.s.dtypes()}
            else:
                per[lane] = one
        return per, ref

    def _judge(
        self, index: int, program: Program, results: dict[str, list], j: int
    ) -> tuple[list[Candidate], list[str], dict]:
        per, ref = self._results_of(results, j)
        if self.s.native:
            found, unavailable = judge_native(index, program, per)
            return found, unavailable, {}
        found, gaps = judge(index, program, per, ref)
        return found, gaps, ref

    def _filter(self, c: Candidate, program: Program, ref: dict, per: dict) -> str | None:
        """Why the stability filter drops ``c`` (rounding, float32, the documented placement
        of 0 × inf), or None."""
        if self.s.native or c.kind not in ("wrong value", "nan"):
            return None
        sens = stability.sensitivity_of(ref)
        reason = (
            stability.by_differences(c)
            or stability.by_kink(c)
            or stability.by_mode(c)
            or stability.by_rounding(c, sens)
        )
        if reason:
            return reason
        agrees = False
        if c.dtype == "float32" and c.transform in CHECKS:
            r64 = per.get(c.backend, {}).get("float64", {}).get(c.transform, {})
            want = ref.get(c.transform, {})
            if r64.get("ok") and want.get("ok"):
                agrees = (
                    _versus(
                        c.index,
                        c.backend,
                        "float64",
                        c.transform,
                        r64["value"],
                        want["value"],
                        tolerance(program, "float64"),
                        "the reference",
                    )
                    is None
                )
        return stability.by_float64(c, sens, agrees)

    def _process(self, shard: int, progs: list[Program], results: dict[str, list]) -> None:
        with np.errstate(all="ignore"):  # inf and nan in results are judged, not warned of
            self._process_shard(shard, progs, results)

    def _process_shard(self, shard: int, progs: list[Program], results: dict[str, list]) -> None:
        first = shard * self.s.shard
        row: dict[str, Any] = {
            "shard": shard,
            "programs": len(progs),
            "candidates": 0,
            "filtered": {},
            "gaps": 0,
            "occurrences": {},
            "native_unavailable": {},
        }
        survivors: list[tuple[Candidate, Program]] = []
        for j, program in enumerate(progs):
            found, notes, ref = self._judge(first + j, program, results, j)
            if self.s.native:
                for n in notes:
                    key = n.split(":")[0] + ": op missing or failing"
                    row["native_unavailable"][key] = row["native_unavailable"].get(key, 0) + 1
            else:
                row["gaps"] += len(notes)
            per, _ = self._results_of(results, j)
            for c in found:
                row["candidates"] += 1
                reason = self._filter(c, program, ref, per)
                if reason:
                    row["filtered"][reason] = row["filtered"].get(reason, 0) + 1
                else:
                    survivors.append((c, program))
        for c, program in self._perturbation(survivors, row):
            finding = self.store.known(c, program)
            if finding is None:
                shrunk, shown = self._shrink(c, program)
                finding, new = self.store.add(make(shown, shrunk, program, self._vers))
                if new:
                    self.result.new_findings += 1
                    self.say(
                        f"finding: {finding.kind} in {finding.op} on {finding.backend} "
                        f"({finding.transform}, {finding.dtype})"
                    )
            if c.dtype not in finding.dtypes:
                finding.dtypes.append(c.dtype)
            row["occurrences"][finding.id] = row["occurrences"].get(finding.id, 0) + 1
        self.progress.record(row)
        self._count(row)
        if self.on_shard is not None:
            self.on_shard(shard, self.result)

    # ------------------------------------------------------------ perturbation, shrink
    def _rerun(self, programs: list[Program], c: Candidate) -> list[list[Candidate]]:
        """The candidates of ``programs`` run again for the backend and check of ``c``."""
        checks = tuple(dict.fromkeys(("value", *NEEDS.get(c.transform, ()), "grad")))
        lanes = [] if c.backend == "numpy" and c.against.startswith("finite") else [c.backend]
        if self.s.native:
            lanes = sorted({c.backend, "numpy"})
        elif REFERENCE not in lanes:
            lanes.append(REFERENCE)
        dtypes = ["float64"] if self.s.native else [c.dtype]
        futs = self._submit(programs, lanes, dtypes, checks)
        results = {lane: f.result() for lane, f in futs.items()}
        out = []
        for j, p in enumerate(programs):
            found, _, ref = self._judge(c.index, p, results, j)
            per, _ = self._results_of(results, j)
            out.append([x for x in found if x.same_kind(c) and not self._filter(x, p, ref, per)])
        return out

    def _perturbation(
        self, survivors: list[tuple[Candidate, Program]], row: dict
    ) -> list[tuple[Candidate, Program]]:
        if self.s.native:
            return survivors
        kept = []
        for c, program in survivors:
            if not stability.perturbable(c, program) or self.store.known(c, program):
                kept.append((c, program))
                continue
            moved = [stability.perturbed(program, k) for k in (1, 2)]
            again = self._rerun(moved, c)
            if any(again):
                kept.append((c, program))
            else:
                key = "vanishes under perturbation"
                row["filtered"][key] = row["filtered"].get(key, 0) + 1
        return kept

    def _shrink(self, c: Candidate, program: Program) -> tuple[Program, Candidate]:
        """The shrunk program and its own candidate: a finding reports the numbers of the
        program it shows (its inputs, and the directions drawn for its shapes), which its
        repro scripts compute again. Where no smaller program showed it and the pruned one,
        run once more, does not either, the finding keeps the original program and numbers."""
        shown: dict[int, tuple[Program, Candidate]] = {}  # holding each program keeps ids apart

        def still_fails(programs: list[Program]) -> list[bool]:
            verdicts = []
            for p, found in zip(programs, self._rerun(programs, c)):
                if found:
                    shown[id(p)] = (p, found[0])
                verdicts.append(bool(found))
            return verdicts

        small = shrink(program, still_fails, budget=self.s.shrink_budget)
        if id(small) not in shown:  # the pruned program (no edit accepted): run it once
            found = self._rerun([small], c)[0]
            if found:
                shown[id(small)] = (small, found[0])
        if id(small) not in shown:
            return program, c
        return small, shown[id(small)][1]


def new_run_dir(out: str | Path) -> Path:
    """A new folder for one campaign (atomic, as compare's run folders)."""
    from unigrad.compare.runner import new_run_dir as make_dir

    return make_dir(out)


def prepare(settings: Settings, resume: str | None) -> tuple[Settings, Path]:
    """The campaign folder and its settings: new, or the resumed one's (whose fixed options
    must match what was given)."""
    if resume is None:
        run_dir = new_run_dir(settings.out)
        (run_dir / "campaign.json").write_text(json.dumps(asdict(settings), indent=2))
        return settings, run_dir
    run_dir = Path(resume)
    if run_dir.is_symlink():  # --resume <out>/latest: the campaign it points at
        run_dir = run_dir.parent / os.readlink(run_dir)
    meta = run_dir / "campaign.json"
    if not meta.exists():
        raise UsageError(f"--resume {resume}: no campaign.json there (not a campaign folder)")
    saved = Settings(**json.loads(meta.read_text()))
    given = settings.fixed()
    default = Settings().fixed()
    clash = [k for k in Settings.FIXED if given[k] != default[k] and given[k] != getattr(saved, k)]
    if clash:
        raise UsageError(
            f"--resume {resume}: the campaign ran with "
            + ", ".join(f"{k}={getattr(saved, k)!r}" for k in clash)
            + "; leave those options out or give the same values"
        )
    for k in ("programs", "budget", "timeout", "shrink_budget", "executor", "address", "jobs"):
        setattr(saved, k, getattr(settings, k))
    saved.out = str(run_dir.parent)
    return saved, run_dir
