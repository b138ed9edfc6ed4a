"""compare's one-off speed-ups give the numbers the cells give one by one.

- JAX computes an op case's checks, in both dtypes, as one XLA program
  (``Backend.compile_one_off``, ``opchecks.together``);
- TensorFlow traces forward mode once per op, not per shape, inside ``one_off``, and leaves
  TensorFlow as it found it;
- a cell that fails under ``one_off`` runs again outside it.
"""

from __future__ import annotations

import numpy as np
import pytest

from unigrad import pytree
from unigrad.compare import cells, opcases, opchecks
from unigrad.compare.records import CaseResults, Outcome

DTYPES = ["float32", "float64"]


def _run(case_id: str, backend: str, transforms: list[str] | None = None) -> CaseResults:
    case = opcases.find(case_id)
    payload = {
        "file": opcases.SUITE,
        "id": case_id,
        "backend": backend,
        "dtypes": [d for d in DTYPES if d in case.dtypes],
        "transforms": transforms or list(case.transforms),
    }
    return CaseResults.from_wire(cells.run_case(payload))


def _close(a, b, dtype: str) -> None:
    tol = 1e-5 if dtype == "float32" else 1e-12
    for x, y in zip(pytree.tree_leaves(a), pytree.tree_leaves(b), strict=True):
        np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=tol, atol=tol)


@pytest.mark.parametrize("case_id", ["op.sin/0", "op.matmul/0", "op.linalg.svd/0", "op.sum/1"])
def test_jax_checks_in_one_program_equal_the_checks_one_by_one(case_id: str):
    pytest.importorskip("jax")
    case = opcases.find(case_id)
    info, sample = case.info, case.sample
    checks = ["value", "grad", "jvp", "vjp", "hvp"]
    got = opchecks.together(info, sample, "jax", DTYPES, checks)
    assert set(got) == {(c, d) for c in checks for d in DTYPES}  # nothing fell back
    for d in DTYPES:
        s = sample.cast(d)
        for c in ("value", "grad", "hvp"):
            _close(got[(c, d)], opchecks.run(info, sample, c, "jax", d), d)
        u, tout = got[("jvp", d)]
        u0, tout0 = opchecks.jvp(info, s, "jax", d)
        _close(u, u0, d)
        _close(tout, tout0, d)
        v, ct = got[("vjp", d)]
        v0, ct0 = opchecks.vjp(info, s, "jax", d)
        _close(v, v0, d)
        _close(ct, ct0, d)


def test_backends_that_do_not_compile_one_off_work_run_cells_one_by_one():
    case = opcases.find("op.sin/0")
    assert opchecks.together(case.info, case.sample, "numpy", DTYPES, ["value", "grad"]) == {}


def test_an_op_that_cannot_be_traced_runs_on_its_own():
    pytest.importorskip("jax")
    case = opcases.find("op.nonzero/0")  # its result's shape depends on the values
    assert opchecks.together(case.info, case.sample, "jax", DTYPES, ["value"]) == {}
    got = _run("op.nonzero/0", "jax")
    assert {c.outcome for c in got.cells.values()} == {Outcome.OK}
    want = np.nonzero(case.sample.args[0])
    _close(got.cells[("float64", "value")].value, want, "float64")


def test_a_check_that_fails_in_the_program_keeps_its_own_error():
    pytest.importorskip("jax")
    got = _run("op.sin/0", "jax", ["value", "grad", "hessian_of_nothing"])
    assert got.cells[("float64", "grad")].outcome is Outcome.OK
    bad = got.cells[("float64", "hessian_of_nothing")]
    assert bad.outcome is Outcome.ERROR and "hessian_of_nothing" in bad.error


def test_tensorflow_forward_mode_that_needs_static_shapes_still_gives_its_values():
    pytest.importorskip("tensorflow")
    # SVD's and QR's forward mode fail with relaxed shapes: their cells run again outside
    # one_off, and every sample of every shape gives a value
    for case_id in ["op.linalg.svd/0", "op.linalg.svd/1", "op.linalg.svd.tied/0", "op.linalg.qr/1"]:
        got = _run(case_id, "tensorflow", ["jvp", "vjp", "jvp_vjp"])
        for key, cell in got.cells.items():
            assert cell.outcome is Outcome.OK, (case_id, key, cell.error)
            if key[1] == "jvp_vjp":
                forward, backward = cell.value
                assert np.isclose(forward, backward, rtol=1e-3), (case_id, key)


def _library(case_id: str):
    from unigrad.compare.selection import select_cases

    (case,) = [c for c in select_cases(None, "cases").cases if c.id == case_id]
    return case


@pytest.mark.parametrize(
    "case_id", ["extra.pytree_params", "seed001.hessian_jacobian_of_grad", "extra.mlp_loss"]
)
def test_jax_runs_a_library_case_in_one_program_with_the_same_numbers(case_id: str):
    pytest.importorskip("jax")
    case = _library(case_id)
    dtypes = list(case.dtypes)
    got = cells.together(case, "jax", dtypes, list(case.transforms))
    assert got, "nothing was computed in one program"
    for (t, d), value in got.items():
        want = cells.run_cell(case, t, "jax", d)
        assert want.outcome is Outcome.OK, want.error
        # same structure: a dict of parameters keeps its keys' order (jit would sort them)
        assert pytree.tree_flatten(value)[1] == pytree.tree_flatten(want.value)[1], (t, d)
        _close(value, want.value, d)


def _case_file(tmp_path, body: str):
    from unigrad.compare.case import read_file

    f = tmp_path / "cases_one_off.py"
    f.write_text("import numpy as np\nimport unigrad.numpy as unp\nfrom unigrad.case import Case\n")
    f.write_text(f.read_text() + body)
    cases, errors = read_file(f)
    assert not errors
    return cases


def test_cells_that_cannot_run_in_one_program_run_one_by_one(tmp_path):
    pytest.importorskip("jax")
    (branching, out_of_range) = _case_file(
        tmp_path,
        "def branch(x):\n"
        "    return unp.sum(x * x) if float(x[0]) > 0 else unp.sum(x)\n"
        "CASES = [\n"
        "  Case(id='t.branch', function=branch, inputs=(np.array([1.0, 2.0]),),\n"
        "       transforms=('value', 'grad')),\n"
        "  Case(id='t.oob', function=lambda x: x[5] * 2.0, inputs=(np.array([1.0, 2.0]),),\n"
        "       transforms=('value', 'grad')),\n"
        "]\n",
    )
    assert cells.together(branching, "jax", ["float64"], ["value", "grad"]) == {}
    payload = {"file": branching.file, "id": "t.branch", "backend": "jax"}
    got = CaseResults.from_wire(
        cells.run_case({**payload, "dtypes": ["float64"], "transforms": ["value", "grad"]})
    )
    np.testing.assert_allclose(got.cells[("float64", "grad")].value, [2.0, 4.0])
    # an index out of range is an IndexError, never the clamped value a compiled JAX gives
    assert cells.together(out_of_range, "jax", ["float64"], ["value", "grad"]) == {}
    got = CaseResults.from_wire(
        cells.run_case(
            {**payload, "id": "t.oob", "dtypes": ["float64"], "transforms": ["value", "grad"]}
        )
    )
    for cell in got.cells.values():
        assert cell.outcome is Outcome.ERROR and "IndexError" in cell.error, cell


def test_ops_cases_sent_ahead_share_one_program_and_give_their_own_numbers():
    pytest.importorskip("jax")
    from unigrad.compare.runner import _ahead

    ids = ["op.cos/0", "op.tanh/0", "op.nonzero/0", "op.matmul/0"]
    cases = [opcases.find(i) for i in ids]
    alone = {i: _run(i, "jax") for i in ids}
    opcases._READY.clear()
    for n, case in enumerate(cases):
        payload = {
            "file": opcases.SUITE,
            "id": case.id,
            "backend": "jax",
            "dtypes": list(case.dtypes),
            "transforms": list(case.transforms),
            "ahead": _ahead(cases[n + 1 :], DTYPES),
        }
        got = CaseResults.from_wire(cells.run_case(payload))
        if n == 0:  # the first request computed the others' cells too (nonzero's cannot be)
            assert {k[1] for k in opcases._READY} == {"op.tanh/0", "op.matmul/0", "op.nonzero/0"}
        for key, cell in got.cells.items():
            want = alone[case.id].cells[key]
            assert cell.outcome is want.outcome is Outcome.OK, (case.id, key, cell.error)
            _close(cell.value, want.value, key[0])
    assert not opcases._READY  # each kept cell was handed out once


def test_sys_exit_in_a_case_is_its_cells_error_not_the_workers_death(tmp_path):
    pytest.importorskip("jax")
    from unigrad.compare import runner

    f = tmp_path / "cases_exit.py"
    f.write_text(
        "import sys\nimport numpy as np\nfrom unigrad.case import Case\n"
        "def quits(x):\n    sys.exit(3)\n"
        "CASES = [Case(id='t.exit', function=quits, inputs=(np.array([1.0, 2.0]),),\n"
        "              transforms=('value', 'grad'))]\n"
    )
    res = runner.run([str(f)], ["numpy", "jax"], "float64", tmp_path / "out")
    for r in res.records:
        assert r.status.value == "error" and "SystemExit" in r.detail, (r.backend, r.detail)
