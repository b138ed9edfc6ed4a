"""A compare you can trust: a hostile case costs its own cells, and no wrong number passes.

One run of ``unigrad compare --backends torch,jax`` over hostile case files: a case that
segfaults, exits or loops on the reference engine, badly typed fields, a duplicated id, a
reference that raises while two frameworks disagree, and an output of the wrong shape.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from unigrad.compare import oracle
from unigrad.compare.records import Status

HERE = Path(__file__).parent
HOSTILE = HERE / "compare_cases" / "hostile.py"

TYPED = """\
import numpy as np
import unigrad.numpy as unp
from unigrad.case import Case

X = (np.array([1.0, 2.0]),)
CASES = [
    Case(id="t.ok", function=lambda x: unp.sum(x * x), inputs=X),
    Case(id="t.rtol", function=lambda x: unp.sum(x), inputs=X,
         tolerance={"float64": {"rtol": "loose"}}),
    Case(id="t.gaps", function=lambda x: unp.sum(x), inputs=X, gaps={"numpy": "str"}),
    Case(id="t.expected", function=lambda x: unp.sum(x), inputs=X, expected={"value": "abc"}),
    Case(id="t.str", function=lambda x: "hello", inputs=X, transforms=("value",)),
    Case(id="t.none", function=lambda x: None, inputs=X, transforms=("value",)),
]
"""

DUP = """\
import numpy as np
import unigrad.numpy as unp
from unigrad.case import Case

CASES = [Case(id="d.same", function=lambda x: unp.sum(x ** {power}), inputs=(np.array([1.0, 2.0]),),
              transforms=("grad",))]
"""

NOREF = """\
import numpy as np
import unigrad
import unigrad.numpy as unp
from unigrad.case import Case


def f(x):
    name = unigrad.get_backend().name
    if name == "numpy":
        raise RuntimeError("the reference engine cannot do this")
    return unp.sum(x * x) * (2.0 if name == "jax" else 1.0)


def shape1(x):
    out = unp.sum(x * x)
    return unp.reshape(out, (1,)) if unigrad.get_backend().name == "jax" else out


X = (np.array([1.0, 2.0]),)
CASES = [
    Case(id="n.noref", function=f, inputs=X, transforms=("value", "grad")),
    Case(id="n.shape", function=shape1, inputs=X, transforms=("value",)),
]
"""


def cli(*args, cwd=None, env=None, timeout=240):
    return subprocess.run(
        [sys.executable, "-m", "unigrad.cli", "compare", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
    )


def rows_of(run_dir: Path) -> list[dict]:
    return [json.loads(x) for x in (run_dir / "results.jsonl").read_text().splitlines()]


def cells(rows, case, backend=None, transform=None):
    out = [
        r
        for r in rows
        if r.get("case") == case
        and (backend is None or r["backend"] == backend)
        and (transform is None or r["transform"] == transform)
    ]
    assert out, (case, backend, transform)
    return out


@pytest.fixture(scope="module")
def trust_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("trust")
    folder = d / "cases"
    folder.mkdir()
    shutil.copy(HOSTILE, folder / "hostile.py")
    (folder / "typed.py").write_text(TYPED)
    (folder / "dup_a.py").write_text(DUP.format(power=2))
    (folder / "dup_b.py").write_text(DUP.format(power=3))
    (folder / "noref.py").write_text(NOREF)
    out = d / "reports"
    proc = cli(
        *("--cases", str(folder), "--backends", "torch,jax", "--dtype", "float64"),
        *("--timeout", "8", "--out", str(out)),
    )
    run_dir = (out / "latest").resolve()
    assert run_dir.is_dir(), proc.stdout + proc.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    return proc, run_dir, rows_of(run_dir), summary, folder


def test_the_run_survives_and_writes_every_report(trust_run):
    proc, run_dir, _, summary, _ = trust_run
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    for name in ("results.csv", "agreement.md", "agreement.html"):
        assert (run_dir / name).exists(), name
    assert summary["exit_code"] == 1


@pytest.mark.parametrize("case", ["hostile.segfault", "hostile.sys_exit", "hostile.loop"])
def test_a_reference_that_dies_costs_its_own_cells_only(trust_run, case):
    _, _, rows, _, _ = trust_run
    for r in cells(rows, case):
        assert r["status"] == "unverified", r
        assert "reference" in r["detail"], r
    assert {r["status"] for r in cells(rows, "hostile.fine")} == {"pass"}


def test_reference_failures_say_what_happened(trust_run):
    _, _, rows, _, _ = trust_run
    assert "crash" in cells(rows, "hostile.segfault")[0]["detail"]
    assert "SystemExit" in cells(rows, "hostile.sys_exit")[0]["detail"]
    assert "8 s" in cells(rows, "hostile.loop")[0]["detail"]


def test_an_exact_value_judges_when_the_reference_cannot(trust_run):
    _, _, rows, _, _ = trust_run
    assert {r["status"] for r in cells(rows, "hostile.exit")} == {"pass"}
    assert {r["exact"] for r in cells(rows, "hostile.exit")} == {"pass"}


def test_badly_typed_fields_are_located_problems(trust_run):
    _, _, rows, summary, folder = trust_run
    typed = str(folder / "typed.py")
    wheres = {p["where"] for p in summary["problems"] if p["where"].startswith(typed)}
    assert wheres == {f"{typed}:{n}" for n in (8, 10, 11)}, summary["problems"]
    assert {r["status"] for r in cells(rows, "t.ok")} == {"pass"}
    for r in cells(rows, "t.str"):
        assert r["status"] == "error" and "str" in r["detail"], r
    for r in cells(rows, "t.none"):  # was a fail: "structure differs: 0 arrays, reference 1"
        assert r["status"] == "error", r
        assert r["detail"] == "the function returned None, not numbers", r


def test_a_duplicated_id_is_never_judged_against_the_other_function(trust_run):
    _, _, rows, summary, folder = trust_run
    dup = cells(rows, "d.same")
    assert {r["file"] for r in dup} == {f"{folder / 'dup_a.py'}:5"}
    assert {r["status"] for r in dup} == {"pass"}
    (p,) = [p for p in summary["problems"] if p["kind"] == "duplicate_id"]
    assert p["where"] == f"{folder / 'dup_b.py'}:5"


def test_no_reference_is_not_a_pass_and_a_pairwise_disagreement_fails(trust_run):
    _, _, rows, summary, _ = trust_run
    for r in cells(rows, "n.noref"):
        assert r["status"] == "fail", r
        other = "jax" if r["backend"] == "torch" else "torch"
        assert other in r["detail"] and r["against"] == "pairwise"
        assert r["max_abs"] and r["max_abs"] > 1
    pairs = [d for d in summary["disagreements"] if d["case"] == "n.noref"]
    assert {d["transform"] for d in pairs} == {"value", "grad"}
    assert all(d["backends"] == ["jax", "torch"] for d in pairs)


def test_an_output_of_the_wrong_shape_fails(trust_run):
    _, _, rows, _, _ = trust_run
    (jax,) = cells(rows, "n.shape", "jax")
    assert jax["status"] == "fail" and "shape (1,)" in jax["detail"], jax
    assert cells(rows, "n.shape", "torch")[0]["status"] == "pass"


def test_shapes_must_match_exactly():
    tol = oracle.tolerance("float64")
    v = oracle.compare(np.ones(1), np.float64(1.0), "float64", tol)
    assert v.status == Status.FAIL and "shape (1,)" in v.detail and "shape ()" in v.detail
    assert not oracle.compare(np.ones((1, 1)), np.ones(1), "float64", tol).passed
    assert oracle.compare(np.ones(1), np.ones(1), "float64", tol).passed


def test_messages_read_as_numbers_and_elements():
    tol = oracle.tolerance("float64")
    v = oracle.compare(np.array([[1.0, 2.0], [3.0, 4.5]]), np.ones((2, 2)) * 4.0, "float64", tol)
    assert "element [0, 0]" in v.detail and "got 1.0" in v.detail and "np." not in v.detail
    v = oracle.compare(np.array([np.nan, 1.0]), np.array([0.0, 1.0]), "float64", tol)
    assert "element [0]: got nan, reference 0.0" in v.detail
    v = oracle.compare((np.ones(2), np.ones(3)), (np.ones(2), np.zeros(3)), "float64", tol)
    assert "output 1 element [0]" in v.detail


ENGINE_CASE = """\
import numpy as np
import unigrad.numpy as unp
from unigrad.case import Case

CASES = [Case(id="e.inf", function=lambda x: unp.sum(x * x),
              inputs=(np.array([np.nan, np.inf, -np.inf, 1.5]),), transforms=("jacobian",),
              no_finite_differences="the inputs hold nan and inf")]
"""


def test_the_reference_jacobian_keeps_inf_times_zero_out_of_other_elements(tmp_path):
    from unigrad.compare import runner

    (tmp_path / "engine.py").write_text(ENGINE_CASE)
    res = runner.run([str(tmp_path / "engine.py")], ["numpy", "torch"], "float64", tmp_path)
    statuses = {r.backend: r.status for r in res.records}
    assert statuses == {"numpy": Status.PASS, "torch": Status.PASS}, res.records
    ref = next(r for r in res.records if r.backend == "numpy").value
    np.testing.assert_array_equal(ref, [np.nan, np.inf, -np.inf, 3.0])


# Case files that misbehave when imported: each costs its own file, never the run.
AT_IMPORT = """\
import numpy as np
from unigrad.case import Case
CASES = [Case(id="imp.{name}", function=lambda x: x * 2.0, inputs=(1.0,))]

{statement}
"""
IMPORT_KILLERS = {
    "osexit": ("import os; os._exit(5)", "exit code 5"),
    "segv": ("import ctypes; ctypes.string_at(0)", "signal 11"),
    "sleep": ("import time; time.sleep(600)", "did not finish within 3 s"),
    "sysexit": ("import sys; sys.exit('bye from import')", "SystemExit: bye from import"),
}

# A case file that imports a module beside it (its function, and a Case built there).
HELPER = """\
import unigrad.numpy as unp
from unigrad.case import Case


def cube(x):
    return unp.sum(x ** 3)


def made_here(case_id):
    return Case(id=case_id, function=cube, inputs=(2.0,), expected={"value": 8.0})
"""
NEIGHBOUR = """\
from h_helper import cube, made_here
from unigrad.case import Case

CASES = [
    Case(id="nb.cube", function=cube, inputs=(2.0,), expected={"value": 8.0, "grad": 12.0}),
    made_here("nb.made_beside"),
]
"""


@pytest.fixture(scope="module")
def import_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("imports")
    folder = d / "cases"
    folder.mkdir()
    for name, (statement, _) in IMPORT_KILLERS.items():
        (folder / f"i_{name}.py").write_text(AT_IMPORT.format(name=name, statement=statement))
    (folder / "h_helper.py").write_text(HELPER)
    (folder / "neighbour.py").write_text(NEIGHBOUR)
    elsewhere = d / "elsewhere"  # not the case files' folder: they are found beside the file
    elsewhere.mkdir()
    out = d / "reports"
    files = [str(folder / f"i_{name}.py") for name in IMPORT_KILLERS]
    proc = cli(
        *[a for f in files for a in ("--cases", f)],
        *("--cases", str(folder / "neighbour.py"), "--backends", "numpy,torch"),
        *("--dtype", "float64", "--timeout", "3", "--out", str(out)),
        cwd=elsewhere,
        timeout=120,
    )
    run_dir = (out / "latest").resolve()
    assert run_dir.is_dir(), proc.stdout + proc.stderr
    summary = json.loads((run_dir / "summary.json").read_text())
    return proc, run_dir, rows_of(run_dir), summary, folder


def test_a_case_file_that_kills_or_hangs_at_import_costs_its_file(import_run):
    proc, run_dir, _, summary, folder = import_run
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert summary["exit_code"] == 1
    for name in ("results.csv", "agreement.md", "agreement.html"):
        assert (run_dir / name).exists(), name
    problems = {Path(p["where"]).name: p for p in summary["problems"]}
    for name, (_, says) in IMPORT_KILLERS.items():
        p = problems[f"i_{name}.py:5"]  # the line of the statement that kills it
        assert p["kind"] == "case_file" and says in p["error"], p
        assert f"problem: {folder / f'i_{name}.py'}:5: " in proc.stderr
    assert len(summary["problems"]) == len(IMPORT_KILLERS), summary["problems"]


def test_the_good_files_run_beside_files_that_kill_their_import(import_run):
    _, _, rows, summary, _ = import_run
    assert not [r for r in rows if str(r.get("case", "")).startswith("imp.")]
    for case in ("nb.cube", "nb.made_beside"):
        assert {r["status"] for r in cells(rows, case)} == {"pass"}, cells(rows, case)
        assert {r["backend"] for r in cells(rows, case)} == {"numpy", "torch"}
    assert summary["counts"] == {"pass": 8}


def test_a_case_file_imports_the_modules_beside_it(import_run):
    _, _, rows, _, folder = import_run
    made = cells(rows, "nb.made_beside")
    assert {r["file"] for r in made} == {f"{folder / 'h_helper.py'}:10"}  # where it was written
