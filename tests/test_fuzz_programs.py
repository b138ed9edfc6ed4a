"""Issue 12, in-process pieces of ``unigrad fuzz``: generation, shrinking, the stability filter,
findings and their repro scripts (campaigns through the CLI are in test_fuzz_campaign.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from unigrad.fuzz import execute, stability
from unigrad.fuzz.findings import Store, make, signature_op
from unigrad.fuzz.generate import Generator, Options, eligible, skipped
from unigrad.fuzz.judge import Candidate, judge
from unigrad.fuzz.program import Input, Node, Program, Ref
from unigrad.fuzz.repro import native_script, unigrad_script
from unigrad.fuzz.shrink import shrink

from .fuzz_helpers import campaign, candidates

ROOT = Path(__file__).resolve().parent.parent


def _program(*ops: tuple[str, tuple], inputs: list[np.ndarray], key: str = "test") -> Program:
    nodes = tuple(
        Node(op, tuple(Ref(a) if isinstance(a, int) else a for a in args)) for op, args in ops
    )
    return Program(
        tuple(Input(np.asarray(x, np.float64)) for x in inputs),
        nodes,
        len(inputs) + len(nodes) - 1,
        key,
    )


# ------------------------------------------------------------------------------ generation
def test_a_seed_gives_the_same_programs_in_any_order() -> None:
    a = Generator(11, Options(max_ops=4))
    b = Generator(11, Options(max_ops=4))
    forward = [a.program(i).to_json() for i in range(12)]
    backward = [b.program(i).to_json() for i in reversed(range(12))][::-1]
    assert json.dumps(forward) == json.dumps(backward)
    other = [Generator(12).program(i).to_json() for i in range(12)]
    assert json.dumps(other) != json.dumps(forward)


def test_programs_run_in_numpy_and_respect_the_ops_domains() -> None:
    gen = Generator(5, Options(max_ops=4))
    for i in range(40):
        p = gen.program(i)
        assert 1 <= len(p.nodes) <= 4
        out = np.asarray(p.values()[p.output])
        assert out.dtype.kind == "f" and np.all(np.isfinite(out)), p.source()
        assert json.dumps(Program.from_json(p.to_json()).to_json()) == json.dumps(p.to_json())


def test_edge_points_are_drawn() -> None:
    gen = Generator(2, Options(max_ops=3, p_edge=0.6))
    labels = {i.label.split(":")[0] for k in range(60) for i in gen.program(k).inputs}
    assert {"zeros", "huge", "tiny"} <= labels
    assert "edge" in labels  # an op's declared edge (a pinned convention)


def test_edge_samples_and_the_guarded_branch_pattern_are_drawn() -> None:
    gen = Generator(4, Options(max_ops=3, ops=("power", "where", "sqrt")))
    programs = [gen.program(k) for k in range(60)]
    # power's own edge sample, whole: a base with a 0 and the constant exponent 0
    assert any(
        n.op == "power" and n.args[1] == 0.0 and 0.0 in p.values()[n.args[0].index]
        for p in programs
        for n in p.nodes
        if isinstance(n.args[0], Ref)
    )
    # where(x > 0, sqrt(x), y) with a 0 in x, the branch sqrt(x) taken where x > 0
    guarded = []
    for p in programs:
        for n in p.nodes:
            refs = n.args[:2]
            if n.op != "where" or not all(
                isinstance(a, Ref) and a.index >= len(p.inputs) for a in refs
            ):
                continue
            cond, taken = (p.nodes[a.index - len(p.inputs)] for a in refs)
            if cond.op == "greater" and taken.op == "sqrt" and cond.args[0] == taken.args[0]:
                guarded.append(p.values()[taken.args[0].index])
    assert any(np.any(x == 0.0) for x in guarded)


@pytest.mark.parametrize("family", ["core", "structure", "elementwise", "nn"])
def test_every_family_of_the_table_joins_the_fuzzer(family: str) -> None:
    import importlib

    module = importlib.import_module(f"unigrad.cases.opinfos.{family}")
    names = {i.name for i in module.OPINFOS}
    pool = {i.name for i in eligible()}
    drawn = names & pool
    assert drawn, f"no op of the {family} family is fuzzed"
    why = skipped()
    for name in names - pool:  # an op left out says why
        assert why.get(name), name
    gen = Generator(3, Options(max_ops=2, ops=tuple(sorted(drawn))))
    used = {op for k in range(30) for op in gen.program(k).ops()}
    assert len(used & drawn) >= min(3, len(drawn))


# ------------------------------------------------------------------------------ shrinking
def test_shrinking_keeps_the_failing_op_and_drops_the_rest() -> None:
    p = _program(
        ("sin", (0,)),
        ("multiply", (2, 1)),
        ("tanh", (3,)),
        ("add", (4, 2)),
        ("exp", (5,)),
        inputs=[np.linspace(0.1, 0.9, 6).reshape(2, 3), np.full((2, 3), 0.37)],
    )
    calls = []

    def still_fails(programs: list[Program]) -> list[bool]:
        calls.append(len(programs))
        return ["tanh" in q.ops() for q in programs]

    small = shrink(p, still_fails, budget=80)
    assert small.ops() == ["tanh"]
    assert small.inputs[0].value.size == 1
    assert sum(calls) <= 80
    # a predicate that never holds leaves the program as it was
    assert shrink(p, lambda ps: [False] * len(ps)).to_json() == p.to_json()


# ------------------------------------------------------------------------ stability filter
def test_an_ill_conditioned_program_is_filtered_not_reported() -> None:
    from unigrad.fuzz.campaign import Campaign, Settings

    # x - y with x and y close and large: float32 loses every digit of the difference, and
    # the reference's sensitivity says that rounding explains it
    x = np.array([10000.0123, 20000.0456])
    p = _program(("subtract", (0, 1)), inputs=[x, x - np.array([0.0031, 0.0077])])
    found, ref, per = candidates(p, "numpy")
    assert any(c.dtype == "float32" and c.kind == "wrong value" for c in found)
    camp = Campaign.__new__(Campaign)
    camp.s = Settings()
    reasons = [camp._filter(c, p, ref, per) for c in found]
    assert reasons and set(reasons) <= {"ill-conditioned", "float32 precision"}, found


def test_a_wrong_derivative_is_not_filtered() -> None:
    from unigrad.fuzz.campaign import Campaign, Settings

    p = _program(("tanh", (0,)), inputs=[np.array([0.3, -0.8, 1.2])])
    ref = execute.reference_program(p, execute.CHECKS)
    per = {"numpy": {"float64": execute.run_program(p, "numpy", "float64", execute.CHECKS)}}
    per["numpy"]["float64"]["grad"]["value"] = tuple(
        -np.asarray(g) for g in per["numpy"]["float64"]["grad"]["value"]
    )
    found, _ = judge(0, p, per, ref)
    assert [c.transform for c in found if c.kind == "wrong value"] == ["grad"]
    camp = Campaign.__new__(Campaign)
    camp.s = Settings()
    assert camp._filter(found[0], p, ref, per) is None
    assert stability.perturbable(found[0], p)


@pytest.mark.parametrize(
    "node, x",
    [  # found by a seeded campaign: a step of sqrt's differences at 0 leaves its domain; an
        # input that is nan or inf has no finite differences at all
        (("sqrt", (0,)), np.array([[3.1, 2.5, 1.0], [0.96, 3.5, 3.9], [0.81, 3.8, 0.0]])),
        (("nan_to_num", (0,)), np.array([[1.0, np.nan, np.inf]])),
    ],
)
def test_finite_differences_that_are_not_finite_judge_nothing(node, x) -> None:
    from unigrad.fuzz.campaign import Campaign, Settings

    p = _program(node, inputs=[x])
    found, ref, per = candidates(p, "numpy")
    by_fd = [c for c in found if c.against.startswith(("finite", "itself (hvp"))]
    assert by_fd, found  # the differences disagree: nan where the derivative is defined
    camp = Campaign.__new__(Campaign)
    camp.s = Settings()
    for c in by_fd:
        assert camp._filter(c, p, ref, per) == "finite differences undefined"
    assert "finite differences undefined" in stability.REASONS


# ------------------------------------------------------------------------ findings, repros
def _candidate(backend: str, transform: str = "grad", index: int = 0) -> Candidate:
    return Candidate(index, backend, "float64", transform, "wrong value", "the reference", "x")


def test_findings_are_deduplicated_by_signature(tmp_path: Path) -> None:
    store = Store(tmp_path / "findings.jsonl")
    p = _program(("tanh", (0,)), inputs=[np.array([0.5])])
    q = _program(("sin", (0,)), ("tanh", (1,)), inputs=[np.array([0.2, 0.4])])
    f1, new1 = store.add(make(_candidate("torch"), p, p, {}))
    f2, new2 = store.add(make(_candidate("torch", index=3), p, q, {}))
    _, new3 = store.add(make(_candidate("jax"), p, p, {}))
    _, new4 = store.add(make(_candidate("torch", "jvp"), p, p, {}))
    assert (new1, new2, new3, new4) == (True, False, True, True)
    assert f2 is f1 and f1.signature == ("tanh", "torch", "grad", 1, "wrong value")
    assert store.known(_candidate("torch"), q) is f1  # q holds tanh: explained by f1
    assert store.known(_candidate("torch"), _program(("sin", (0,)), inputs=[[0.1]])) is None
    lines = (tmp_path / "findings.jsonl").read_text().splitlines()
    assert len(lines) == 3
    assert len(Store(tmp_path / "findings.jsonl").findings) == 3  # read back on resume
    assert signature_op(_program(("sqrt", (0,)), ("greater", (0, 0.0)), inputs=[[1.0]])) == "sqrt"


def _run_without_unigrad(script: Path) -> subprocess.CompletedProcess:
    # sys.modules["unigrad"] = None makes any import of unigrad fail, as where it is not installed
    code = (
        "import runpy, sys; sys.modules['unigrad'] = None; "
        f"runpy.run_path({str(script)!r}, run_name='__main__')"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_both_repro_scripts_run_and_the_native_one_needs_no_unigrad(tmp_path: Path) -> None:
    p = _program(
        ("tanh", (0,)), ("multiply", (1, 0)), inputs=[np.array([[0.25, -0.5, 1.5]])], key="k1"
    )
    c = Candidate(7, "torch", "float32", "grad", "wrong value", "the reference", "a test")
    f = make(c, p, p, {"torch": "test"})
    uni, nat = tmp_path / "uni.py", tmp_path / "native.py"
    uni.write_text(unigrad_script(f))
    script = native_script(f)
    assert script is not None
    nat.write_text(script)
    run = subprocess.run([sys.executable, str(uni)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "grad on torch float32" in run.stdout and "grad by the reference engine" in run.stdout
    run = _run_without_unigrad(nat)
    assert "torch.tanh" in script and "import unigrad" not in script
    # torch is right here: the script compares its numbers with the reference engine's
    assert run.returncode == 0, run.stdout + run.stderr
    assert "grad on torch" in run.stdout and run.stdout.strip().endswith("all agree")
    wrong = nat.read_text().replace("torch.tanh(", "torch.sin(")
    nat.write_text(wrong)
    run = _run_without_unigrad(nat)
    assert run.returncode == 1 and "reproduced: value, grad, jvp, vjp differ" in run.stdout
    # and the same check of a broken import is real: unigrad cannot be imported that way
    probe = tmp_path / "probe.py"
    probe.write_text("import unigrad\n")
    assert _run_without_unigrad(probe).returncode != 0


def test_a_shard_runs_inside_the_mxnet_environment() -> None:
    # what an MXNet worker runs (numpy 1.23, in .venv-mxnet); the Makefile runs this there
    pytest.importorskip("mxnet")
    gen = Generator(4, Options(max_ops=3))
    progs = [gen.program(i) for i in range(6)]
    got = execute.run_shard(
        {
            "backend": "mxnet",
            "programs": [p.to_json() for p in progs],
            "dtypes": ["float32", "float64"],
            "checks": list(execute.CHECKS),
            "mode": "unigrad",
        }
    )
    assert len(got) == len(progs)
    for p, one in zip(progs, got):
        for dt in ("float32", "float64"):
            value = one[dt]["value"]
            assert value["ok"], value.get("error")
            want = np.asarray(p.values()[p.output])
            np.testing.assert_allclose(value["value"], want, rtol=1e-3, atol=1e-5)


# a user's campaign (seed 1, 40 programs, numpy,torch) reported linalg.norm+multiply at a tiny
# input: the differences' step (1e-5 of the largest input) crosses norm's kink at 0, while the
# hvp, W·sign(x)·(u_c, u_x), is right
TINY_NORM = _program(
    ("linalg.norm", (0,)),
    ("multiply", (2, 1)),
    inputs=[np.array([[-4.3e-08]]), np.array(1.1604236080519001)],
    key="seed 1, program 4",
)


def test_finite_differences_across_a_kink_judge_nothing() -> None:
    from unigrad.fuzz.campaign import Campaign, Settings

    found, ref, per = candidates(TINY_NORM, "numpy")
    (c,) = [c for c in found if c.transform == "grad/hvp"]
    d = execute.directions(TINY_NORM, ())
    hvp = per["numpy"]["float64"]["hvp"]["value"]
    w_sign = float(d["W"]) * -1.0
    assert np.allclose(np.ravel(hvp[0]), w_sign * d["u"][1]), hvp  # the hvp is right
    assert np.allclose(np.ravel(hvp[1]), w_sign * np.ravel(d["u"][0])), hvp
    # the finding shows what the backend returned, not a value moved towards the differences
    assert c.got[1]["values"] == [float(hvp[1])], c.got
    assert f"got {float(hvp[1])!r}" in c.detail, c.detail
    camp = Campaign.__new__(Campaign)
    camp.s = Settings()
    assert camp._filter(c, TINY_NORM, ref, per) == "finite differences cross a kink"


def test_a_wrong_hvp_beside_the_kink_is_still_a_finding() -> None:
    # the same program away from the kink, its hvp tampered: the differences converge there
    from unigrad.fuzz.campaign import Campaign, Settings

    p = TINY_NORM.with_inputs([np.array([[-0.7]]), np.array(1.16)])
    ref = execute.reference_program(p, execute.CHECKS)
    res = execute.run_program(p, "numpy", "float64", execute.CHECKS)
    res["hvp"]["value"] = tuple(2 * np.asarray(h) for h in res["hvp"]["value"])
    found, _ = judge(0, p, {"numpy": {"float64": res}}, ref)
    (c,) = [c for c in found if c.transform == "grad/hvp"]
    camp = Campaign.__new__(Campaign)
    camp.s = Settings()
    assert camp._filter(c, p, ref, {"numpy": {"float64": res}}) is None


def test_the_new_user_campaign_reports_no_norm_finding(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    run, run_dir = campaign(
        tmp_path, "--programs", "40", "--seed", "1", "--backends", "numpy,torch"
    )
    findings = (run_dir / "findings.jsonl").read_text()
    assert "linalg.norm+multiply" not in findings, findings
    assert run.returncode == 0, run.stdout + run.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["filtered"].get("finite differences cross a kink", 0) >= 1, summary
