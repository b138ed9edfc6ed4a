"""compare's ops suite: the per-op table run by ``unigrad compare --suite ops``, its levels, its
gaps, and the README's coverage matrix generated from the table."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from unigrad.cases.opinfos import OPINFOS

from unigrad.cli import cli
from unigrad.compare import coverage, opcases, runner, verdicts
from unigrad.compare.opinfo import OpInfo, Sample
from unigrad.compare.records import CellResult, Outcome, Status
from unigrad.compare.reference import Reference
from unigrad.compare.selection import UsageError, select_cases

ROOT = Path(__file__).resolve().parent.parent


def test_quick_level_is_every_op_first_sample_first_order():
    cases = select_cases(None, "ops", "quick").cases
    assert [c.info.name for c in cases] == [o.name for o in OPINFOS]
    assert {c.index for c in cases} == {0}
    for c in cases:
        assert "hvp" not in c.transforms
        if c.info.orders >= 1 and c.sample.argnums:
            assert c.transforms == ("value", "grad", "jvp", "vjp", "jvp_vjp"), c.id


def test_full_level_is_every_sample_and_second_order():
    cases = select_cases(None, "ops", "full").cases
    drawn = sum(len(opcases.samples(o)) for o in OPINFOS)
    assert len(cases) == drawn
    sin = [c for c in cases if c.info.name == "sin"]
    assert len(sin) > 1 and all("hvp" in c.transforms for c in sin)


def test_suites_and_their_defaults(tmp_path: Path):
    everything = select_cases(None).cases
    ids = {c.id for c in everything}
    assert "op.sin/0" in ids and any(i.startswith("seed") for i in ids)
    assert not any(c.id.startswith("op.") for c in select_cases(None, "cases").cases)
    only_ops = select_cases(None, "ops").cases
    assert all(c.id.startswith("op.") for c in only_ops)
    # case files given: their cases only, unless the ops suite is asked for
    f = tmp_path / "mine.py"
    f.write_text(
        "from unigrad.case import Case\n"
        "CASES = [Case(id='mine.sq', function=lambda x: x * x, inputs=(2.0,))]\n"
    )
    assert [c.id for c in select_cases([str(f)]).cases] == ["mine.sq"]
    assert [c.id for c in select_cases(["op.nn.soft*"]).cases] == [
        "op.nn.softmax/0",
        "op.nn.softmax_cross_entropy/0",
    ]
    with pytest.raises(UsageError, match="did you mean"):
        select_cases(["op.sine/0"], "ops")
    with pytest.raises(UsageError, match="--level"):
        select_cases(None, "ops", "deep")
    with pytest.raises(UsageError, match="not case files"):
        select_cases([str(f)], "ops")


def test_an_op_case_points_at_its_table_entry():
    case = opcases.find("op.tensordot/0")
    path, line = case.where.rsplit(":", 1)
    assert Path(path).name == "structure.py"
    assert "tensordot" in Path(path).read_text().splitlines()[int(line) - 1]


def test_ops_run_through_compare_on_torch(tmp_path: Path):
    res = runner.run(["op.sin/*", "op.nn.softmax/0"], ["numpy", "torch"], "both", tmp_path)
    by = {(r.case, r.transform, r.backend, r.dtype): r for r in res.records}
    assert {r.status for r in res.records} == {Status.PASS}, [
        (r.case, r.transform, r.backend, r.detail) for r in res.records if r.status != "pass"
    ]
    rec = by[("op.sin/0", "jvp_vjp", "torch", "float32")]
    forward, backward = rec.value
    assert abs(forward - backward) <= 1e-4 * max(1.0, abs(forward))
    assert by[("op.sin/0", "grad", "torch", "float64")].reference_fd == "ok"
    assert by[("op.sin/0", "value", "torch", "float64")].exact == Status.PASS
    assert res.exit_code == 0


def test_full_level_checks_hvp_against_finite_differences(tmp_path: Path):
    res = runner.run(["op.tanh/0"], ["numpy"], "float64", tmp_path, level="full")
    hvp = next(r for r in res.records if r.transform == "hvp")
    assert hvp.status == Status.PASS and hvp.reference_fd == "ok"


def _planted(gaps: dict) -> OpInfo:
    # a wrong op: numpy's sin as the reference, but cos computed
    import unigrad.numpy as unp

    return OpInfo(
        "planted",
        lambda r: [Sample((np.array([0.3, 1.1]),))],
        reference=np.sin,
        function=unp.cos,
        gaps=gaps,
    )


def test_a_wrong_value_fails_and_a_declared_gap_is_unsupported(tmp_path: Path):
    info = _planted({"numpy": {"hvp": "planted gap"}})
    case = opcases.make(info, 0, opcases.samples(info)[0], "full")
    got = case.compute("value", "numpy", "float64")
    rec = verdicts.judge(
        case, "value", "numpy", "float64", CellResult(Outcome.OK, value=got), Reference()
    )
    assert rec.status == Status.FAIL and "exact value" in rec.detail
    assert case.gap("numpy", "hvp") == "planted gap"
    assert case.gap("numpy", "grad") is None
    assert case.gap("mxnet", "hvp")  # MXNet's partial second order: every refused hvp declared
    assert case.gap("torch", "hvp") is None


def test_summary_reports_cells_per_second(tmp_path: Path):
    args = ["compare", "--suite", "ops", "--cases", "op.exp/0", "--backends", "numpy"]
    out = CliRunner().invoke(cli, [*args, "--out", str(tmp_path), "--format", "json"])
    assert out.exit_code == 0, out.output
    summ = json.loads(next(tmp_path.glob("*/summary.json")).read_text())
    assert summ["cells_per_second"]["numpy"] > 0
    assert summ["cells"] == 10  # value, grad, jvp, vjp, jvp_vjp in two dtypes


def test_readme_coverage_matrix_is_what_the_table_gives():
    readme = (ROOT / "README.md").read_text()
    block = coverage.current(readme)
    assert block is not None, "the README lost its ops coverage matrix block"
    assert block == coverage.markdown(), (
        "the README's ops coverage matrix differs from the per-op table: run "
        "`python -m unigrad.compare.coverage --write README.md`"
    )


def test_coverage_cells_follow_orders_and_gaps():
    info = _planted({"mxnet": {"hvp": "no"}, "torch": {"*": "none at all"}})
    assert coverage.cell(info, "numpy") == "2"
    assert coverage.cell(info, "mxnet") == "1, gap"
    assert coverage.cell(info, "torch") == "gap"
    assert "`planted` | 2 | gap | 2 | 2 | 1, gap |" in coverage.markdown([info])


def test_coverage_writer_rewrites_only_its_block(tmp_path: Path):
    f = tmp_path / "README.md"
    f.write_text(f"before\n{coverage.BEGIN}\nstale\n{coverage.END}\nafter\n")
    done = subprocess.run(
        [sys.executable, "-m", "unigrad.compare.coverage", "--write", str(f)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    text = f.read_text()
    assert text.startswith("before\n") and text.endswith("\nafter\n") and "stale" not in text
    assert coverage.current(text) == coverage.markdown()
    f.write_text("no block here\n")
    bad = subprocess.run(
        [sys.executable, "-m", "unigrad.compare.coverage", "--write", str(f)],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "no coverage block" in bad.stderr
