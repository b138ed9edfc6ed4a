"""``unigrad fuzz`` and the documented 0 × inf placement, found by a new-user trial.

``unigrad fuzz --programs 40 --seed 3 --backends numpy,torch`` reported ``where(x > 0,
sqrt(x), y)`` at x = 0 as a "nan" finding on both backends: vᵀ(J u) is nan by reverse mode and
a number by forward mode. The README pins that ("A zero cotangent or tangent beside an infinite
derivative": the two modes put the nan of 0 × inf in different places, the same on every
backend), so it is filtered with its reason, and only where the reference engine puts the nan
alike: a nan elsewhere, or a wrong number on the other side, is still a finding. Its repro
scripts showed other numbers than the finding (the finding kept the numbers of the program
before shrinking) and exited 0; they now compute the finding's own quantity and exit 1.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from unigrad.fuzz.campaign import Campaign, Settings
from unigrad.fuzz.findings import make
from unigrad.fuzz.judge import Candidate
from unigrad.fuzz.program import Input, Node, Program, Ref
from unigrad.fuzz.repro import native_script, unigrad_script

from .fuzz_helpers import campaign, candidates

ROOT = Path(__file__).resolve().parent.parent
REASON = "nan placed by mode (0 × inf)"
MODES = "itself (vᵀ(J u) by reverse vs forward mode)"


def _program(*ops: tuple[str, tuple], inputs: list[np.ndarray], key: str) -> Program:
    nodes = tuple(
        Node(op, tuple(Ref(a) if isinstance(a, int) else a for a in args)) for op, args in ops
    )
    return Program(
        tuple(Input(np.asarray(x, np.float64), "edge: 0", True) for x in inputs),
        nodes,
        len(inputs) + len(nodes) - 1,
        key,
    )


#: where(x > 0, sqrt(x), y) with x at 0 in its first element (seed 3's program 13, shrunk)
GUARDED = _program(
    ("sqrt", (0,)),
    ("greater", (0, 0.0)),
    ("where", (3, 2, 1)),
    inputs=[np.array([0.0, 2.3]), np.array([-0.7, 0.4])],
    key="seed 3, program 13",
)


def _backend(name: str) -> str:
    if name != "numpy":
        pytest.importorskip(name)
    return name


def _judged(
    program: Program, backend: str, tamper: Callable[[dict], None] | None = None
) -> list[tuple[Candidate, str | None]]:
    """Every candidate of ``program`` on ``backend`` with the stability filter's reason."""
    found, ref, per = candidates(program, backend, tamper)
    camp = Campaign.__new__(Campaign)
    camp.s = Settings()
    return [(c, camp._filter(c, program, ref, per)) for c in found]


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_the_documented_nan_of_a_guarded_sqrt_is_filtered_with_its_reason(backend: str) -> None:
    judged = _judged(GUARDED, _backend(backend))
    modes = [c for c, _ in judged if c.transform == "jvp/vjp"]
    assert {c.dtype for c in modes} == {"float32", "float64"}, judged
    for c in modes:  # reverse mode nan, forward mode a number: the documented placement
        assert c.kind == "nan" and c.got[0]["values"] == ["nan"], c
        assert np.isfinite(c.want[0]["values"][0])
    assert [why for _, why in judged] == [REASON] * len(judged), judged


def _leaves(tree: object) -> list[np.ndarray]:
    return [np.array(x, np.float64) for x in (tree if isinstance(tree, tuple | list) else [tree])]


def _nan_elsewhere(res: dict) -> None:  # reverse mode's nan also where the reference has none
    vjp = _leaves(res["vjp"]["value"])
    vjp[0][1] = np.nan
    res["vjp"]["value"] = tuple(vjp)


def _forward_wrong(res: dict) -> None:  # the other side of the check is a wrong number
    res["jvp"]["value"] = np.asarray(res["jvp"]["value"]) * 1.5


@pytest.mark.parametrize("tamper", [_nan_elsewhere, _forward_wrong])
def test_a_departure_from_the_documented_placement_is_still_a_finding(tamper) -> None:
    judged = _judged(GUARDED, "numpy", tamper)
    modes = [why for c, why in judged if c.transform == "jvp/vjp" and c.dtype == "float64"]
    assert modes == [None], judged


def test_a_nan_where_the_reference_has_a_number_is_still_a_finding() -> None:
    p = _program(("tanh", (0,)), inputs=[np.array([0.3, -0.8])], key="k")

    def nan_in_reverse(res: dict) -> None:
        vjp = _leaves(res["vjp"]["value"])
        vjp[0][0] = np.nan
        res["vjp"]["value"] = tuple(vjp)

    judged = _judged(p, "numpy", nan_in_reverse)
    modes = [(c.kind, why) for c, why in judged if c.transform == "jvp/vjp"]
    assert modes == [("nan", None)], judged


def test_the_new_user_campaign_reports_no_sqrt_where_finding(tmp_path: Path) -> None:
    _backend("torch")
    run, run_dir = campaign(
        tmp_path, "--programs", "40", "--seed", "3", "--backends", "numpy,torch"
    )
    findings = (run_dir / "findings.jsonl").read_text()
    assert "sqrt+where" not in findings, findings
    assert run.returncode == 0, run.stdout + run.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["findings"] == 0 and summary["filtered"].get(REASON, 0) >= 2, summary


@pytest.mark.parametrize("backend", ["numpy", "torch"])
def test_a_repro_computes_the_findings_quantity_and_exits_1(backend: str, tmp_path: Path) -> None:
    # a finding made of the reverse-vs-forward candidate (as the campaign made it before the
    # filter): both scripts show that very quantity, with the finding's numbers, and exit 1
    (c, *_) = [
        c
        for c, _ in _judged(GUARDED, _backend(backend))
        if c.transform == "jvp/vjp" and c.dtype == "float64"
    ]
    f = make(c, GUARDED, GUARDED, {backend: "test"})
    script = tmp_path / "repro.py"
    script.write_text(unigrad_script(f))
    run = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert run.returncode == 1, run.stdout + run.stderr
    assert f"reproduced: {c.detail}" in run.stdout.splitlines(), run.stdout
    assert f"vᵀ(J u) by forward mode on {backend}: {c.want[0]['values'][0]!r}" in run.stdout
    native = native_script(f)
    if backend == "numpy":
        assert native is None  # the engine has no framework of its own
        return
    assert native is not None
    script.write_text(native)
    run = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, run.stdout + run.stderr
    lines = run.stdout.splitlines()
    assert lines[-1] == "reproduced: reverse and forward mode differ", run.stdout
    assert any(x.endswith(f"by forward mode: {c.want[0]['values'][0]!r}") for x in lines), lines


def test_a_repro_of_a_finding_that_does_not_reproduce_exits_0(tmp_path: Path) -> None:
    # the numbers of a tampered gradient: the engine itself is right, so nothing reproduces
    p = _program(("tanh", (0,)), inputs=[np.array([0.3, -0.8])], key="k")

    def negate(res: dict) -> None:
        res["grad"]["value"] = tuple(-g for g in _leaves(res["grad"]["value"]))

    (c,) = [c for c, _ in _judged(p, "numpy", negate) if c.transform == "grad"]
    script = tmp_path / "repro.py"
    script.write_text(unigrad_script(make(c, p, p, {"numpy": "test"})))
    run = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.splitlines()[-1] == "not reproduced: they agree"
    assert f"the finding reported: {c.detail}" in run.stdout
