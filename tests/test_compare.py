"""Issue 6: the case library, the oracle, the runner, the reports and the exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import unigrad
from unigrad.case import Case, load_file
from unigrad.compare import oracle, reports, runner
from unigrad.compare.records import Status

HERE = Path(__file__).parent
PLANTED = str(HERE / "compare_cases" / "planted.py")
ROOT = HERE.parent


def by(records, case, backend=None, dtype="float64", transform=None):
    out = [
        r
        for r in records
        if r.case == case
        and (backend is None or r.backend == backend)
        and r.dtype == dtype
        and (transform is None or r.transform == transform)
    ]
    assert out, (case, backend)
    return out


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    res = runner.run([PLANTED], ["numpy", "torch"], "float64", out, timeout=8.0)
    summ = reports.write(res)
    return res, summ


# ------------------------------------------------------------------------------ the oracle


def test_oracle_tolerance_scales_atol_with_the_reference():
    tol = oracle.tolerance("float32")
    big = np.array([1e4, 1e-3])
    # an absolute error of 0.05 on the small element is cancellation noise next to 1e4
    assert oracle.compare(big + np.array([0.0, 0.05]), big, "float32", tol).status == "pass"
    assert oracle.compare(big + np.array([1.0, 0.0]), big, "float32", tol).status == "fail"


def test_oracle_compares_nan_and_inf_by_position():
    tol = oracle.tolerance("float64")
    assert oracle.compare(np.array([np.nan, 1.0]), np.array([np.nan, 1.0]), "float64", tol).passed
    v = oracle.compare(np.array([np.nan, 1.0]), np.array([0.0, 1.0]), "float64", tol)
    assert v.status == Status.NAN_MISMATCH and "element [0]" in v.detail
    v = oracle.compare(np.array([np.inf]), np.array([-np.inf]), "float64", tol)
    assert v.status == Status.NAN_MISMATCH


def test_oracle_reads_nested_lists_under_an_array_as_rows():
    got = (np.array([4.0, 1.0]), np.array([2.0, -1.0]))
    assert oracle.compare(got, ([4.0, 1.0], [2.0, -1.0]), "float64", {"rtol": 0, "atol": 0}).passed


def test_oracle_reports_ulp_and_errors():
    v = oracle.compare(
        np.array([1.0 + 2**-52]), np.array([1.0]), "float64", oracle.tolerance("float64")
    )
    assert v.passed and v.ulp == pytest.approx(1.0)


# ---------------------------------------------------------------------- runner verdicts


def test_good_case_passes(planted_run):
    res, _ = planted_run
    assert {r.status for r in by(res.records, "planted.good")} == {Status.PASS}


def test_wrong_exact_value_fails(planted_run):
    res, _ = planted_run
    r = by(res.records, "planted.wrong_exact", "numpy")[0]
    assert r.status == Status.FAIL and r.exact == Status.FAIL and "exact" in r.detail


def test_injected_disagreement_is_caught(planted_run):
    res, summ = planted_run
    assert by(res.records, "planted.disagree", "numpy", transform="grad")[0].status == "pass"
    t = by(res.records, "planted.disagree", "torch", transform="grad")[0]
    assert t.status == Status.FAIL and t.max_abs > 1e-4
    pairs = [d for d in summ["disagreements"] if d["case"] == "planted.disagree"]
    assert pairs and pairs[0]["backends"] == ["numpy", "torch"]


def test_nan_position_mismatch(planted_run):
    res, _ = planted_run
    assert by(res.records, "planted.nan", "torch")[0].status == Status.NAN_MISMATCH


def test_crashing_worker_marks_its_cells_and_the_run_goes_on(planted_run):
    res, _ = planted_run
    assert by(res.records, "planted.crash", "torch")[0].status == Status.CRASH
    assert by(res.records, "planted.after", "torch")[0].status == Status.PASS


def test_hanging_case_times_out_and_the_run_goes_on(planted_run):
    res, _ = planted_run
    r = by(res.records, "planted.hang", "torch")[0]
    assert r.status == Status.TIMEOUT
    assert by(res.records, "planted.hang", "numpy")[0].status == Status.PASS


def test_case_that_raises_is_reported_with_file_and_line(planted_run):
    res, _ = planted_run
    r = by(res.records, "planted.raises", "numpy")[0]
    assert r.status == Status.ERROR and "broken on purpose" in r.detail
    assert r.where.startswith(PLANTED) and r.where.rsplit(":", 1)[1].isdigit()


# ------------------------------------------------------------------------ report files


def test_report_files(planted_run):
    import pandas as pd

    res, _ = planted_run
    d = res.run_dir
    lines = [json.loads(x) for x in (d / "results.jsonl").read_text().splitlines()]
    assert len(lines) == len(res.records)
    df = pd.read_csv(d / "results.csv")
    assert {
        "case",
        "transform",
        "backend",
        "dtype",
        "status",
        "max_abs",
        "max_rel",
        "ulp",
        "time",
    } <= set(df.columns)
    s = json.loads((d / "summary.json").read_text())
    assert s["unigrad"] == unigrad.__version__ and "torch" in s["backends"]
    assert s["backends"]["torch"]["version"].startswith("2.13")
    assert s["per_backend"]["torch"]["crash"] == 1 and s["exit_code"] == 1
    assert set(s["time_per_backend_s"]) == {"numpy", "torch"}
    md = (d / "agreement.md").read_text()
    assert "| case · transform | numpy | torch |" in md and "planted.disagree" in md
    page = (d / "agreement.html").read_text()
    assert page.startswith("<!doctype html>") and 'data-k="' in page
    assert "<script src" not in page and "<link" not in page  # self-contained
    assert (d.parent / "latest").resolve() == d.resolve()


def test_repro_script_recomputes_a_failing_cell(planted_run):
    res, _ = planted_run
    r = by(res.records, "planted.disagree", "torch", transform="grad")[0]
    run = subprocess.run([sys.executable, r.repro], capture_output=True, text=True)
    assert run.returncode == 1, run.stderr  # it shows the disagreement
    out = run.stdout
    assert "torch float64:" in out and "reference (numpy engine, float64):" in out
    assert "fail: vs reference" in out


def test_streamed_results_survive_an_interrupted_run(tmp_path):
    res = runner.run([PLANTED], ["numpy"], "float64", tmp_path, timeout=8.0)
    # results.jsonl is complete before any report is written
    assert (res.run_dir / "results.jsonl").exists()
    assert not (res.run_dir / "summary.json").exists()


# ------------------------------------------------------------------- bad input, exit codes


def test_broken_case_file_is_reported_with_line_and_run_continues(tmp_path):
    bad = tmp_path / "broken.py"
    bad.write_text("import numpy as np\n\n\nraise ImportError('nope')\n")
    good = tmp_path / "fine.py"
    good.write_text(
        "import numpy as np\nfrom unigrad.case import Case\nimport unigrad.numpy as unp\n"
        "CASES = [Case(id='fine', function=lambda x: unp.sum(x * x), "
        "inputs=(np.ones(2),), transforms=('grad',))]\n"
    )
    res = runner.run([str(tmp_path)], ["numpy"], "float64", tmp_path / "out")
    assert res.problems and res.problems[0].where == f"{bad}:4"
    assert [r.status for r in res.records] == [Status.PASS]
    assert res.exit_code == 1


def cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "unigrad.cli", "compare", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
    )


def test_exit_codes(tmp_path):
    ok = cli(
        "--cases", PLANTED, "--cases", "planted.good", "--backends", "numpy", "--out", str(tmp_path)
    )
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = cli(
        "--cases",
        PLANTED,
        "--cases",
        "planted.wrong_exact",
        "--backends",
        "numpy",
        "--out",
        str(tmp_path),
    )
    assert bad.returncode == 1
    usage = cli("--backends", "pytorch", "--out", str(tmp_path))
    assert usage.returncode == 2 and "did you mean 'torch'" in usage.stderr
    usage = cli("--cases", "seed000.jax_argnum", "--out", str(tmp_path))
    assert usage.returncode == 2 and "seed000.jax_argnums" in usage.stderr


def test_seed_cases_pass_on_numpy_and_torch(tmp_path):
    res = runner.run(["seed*"], ["numpy", "torch"], "both", tmp_path)
    bad = [r for r in res.records if r.status != Status.PASS]
    assert not bad, bad[:3]
    assert all(r.exact == Status.PASS for r in res.records if r.exact is not None)
    assert all(r.reference_fd == "ok" or r.reference_fd.startswith("n/a") for r in res.records)


def test_every_seed_file_has_cases_naming_it():
    cases = load_file(ROOT / "cases" / "seeds.py")
    for seed in sorted((ROOT.parent / "shared" / "seeds").glob("0*.txt")):
        assert any(seed.name in c.source for c in cases), seed.name


def test_seed000_grad_fn_walk_is_the_recorded_graph():
    # zt.grad_fn: AddBackward0 <- (AddBackward0 <- (PowBackward0, MulBackward0), PowBackward0)
    from cases.seeds import seed000_f

    g = unigrad.trace_graph(seed000_f, 3.0, 4.0)
    top = g.nodes[g.outputs[0]]
    assert top.op == "add"
    left, right = (g.nodes[i] for i in top.inputs)
    assert left.op == "add" and right.op == "power"
    assert [g.nodes[i].op for i in left.inputs] == ["power", "multiply"]


def test_case_format_rejects_unknown_transform():
    with pytest.raises(ValueError, match="unknown transform"):
        Case(id="x", function=abs, inputs=(1.0,), transforms=("gradd",))


def test_native_catalogue_reports_departures_without_failing(tmp_path):
    res = runner.run(
        [str(ROOT / "cases" / "kinks.py")], ["numpy", "torch", "jax"], "float64", tmp_path
    )
    summ = reports.write(res, ("json", "md"))
    assert res.exit_code == 0, [r for r in res.records if r.counts_against]
    found = {f["case"]: f for f in summ["native_findings"]}
    abs_row = found["kink.abs_at_0"]
    assert abs_row["values"] == {"torch": "0", "jax": "1"}
    assert abs_row["unigrad"] == "0"
    assert found["kink.clip_bounds"]["values"]["jax"] == "[0.5, 0.5]"
    assert found["kink.pow0_at_0"]["values"]["jax"] == "nan"
    md = (res.run_dir / "agreement.md").read_text()
    assert "## Native catalogue" in md and "depart" in md


def test_one_rule_decides_what_counts_against_the_run(tmp_path):
    from unigrad.compare.records import Problem, Record, RunResult, counts_against

    def rec(status, gap=None):
        return Record(
            case="c",
            transform="grad",
            backend="b",
            dtype="float64",
            status=status,
            declared_gap=gap,
        )

    fine = [
        rec(Status.PASS),
        rec(Status.SKIPPED),
        rec(Status.FINDING),
        rec(Status.UNSUPPORTED, "no second order here"),
    ]
    bad = [
        rec(s)
        for s in (
            Status.FAIL,
            Status.NAN_MISMATCH,
            Status.UNSUPPORTED,
            Status.ERROR,
            Status.TIMEOUT,
            Status.CRASH,
        )
    ]
    assert not any(counts_against(r) for r in fine)
    assert all(counts_against(r) for r in bad)

    def result(records, problems=()):
        return RunResult(tmp_path, records, [], ["b"], ["float64"], list(problems), [], {}, {}, 0.0)

    assert result(fine).exit_code == 0
    assert [result([*fine, r]).exit_code for r in bad] == [1] * len(bad)
    assert result(fine, [Problem("case_file", "x.py:1", "x.py:1: boom")]).exit_code == 1
    # the report's "Not passing" list is the same rule
    res = result([*fine, bad[0]])
    res.run_dir = tmp_path / "run"
    res.run_dir.mkdir()
    summ = reports.write(res, ("md",))
    md = (res.run_dir / "agreement.md").read_text()
    assert md.count("\n- c · grad on b float64: **") == 1 and "**fail**" in md
    assert summ["exit_code"] == 1 and summ["counts"]["unsupported"] == 1


def test_record_rows_keep_the_report_field_names():
    from unigrad.compare.records import Record

    r = Record(
        case="c",
        transform="grad",
        backend="b",
        dtype="float32",
        status=Status.FAIL,
        exact=Status.PASS,
        value=np.ones(2),
    )
    row = r.row()
    assert "value" not in row and row["status"] == "fail" and row["exact"] == "pass"
    assert json.loads(json.dumps(row))["status"] == "fail"
    assert f"{r.status}" == "fail" and str(Status.NAN_MISMATCH) == "nan_mismatch"
