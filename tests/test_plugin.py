"""Issue 7: the pytest plugin (through pytester), assert_agree, and the conformance suite."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import unigrad
from unigrad.testing import assert_agree

from .plugin_helpers import backend_dependent, smooth

# pytester's in-process runs drop modules first imported during a run; a framework imported
# twice in one process crashes (torch segfaults), so load the ones these runs use up front.
for _name in ("numpy", "torch"):
    unigrad.get_backend(_name).impl


@pytest.fixture(autouse=True)
def _restore_registry():
    """pytester runs in this process: backends registered by its conftests must not leak."""
    from unigrad import registry

    specs, handles = dict(registry.specs()), dict(registry._handles)
    yield
    registry.specs().clear()
    registry.specs().update(specs)
    registry._handles.clear()
    registry._handles.update(handles)


FIXTURE_TEST = """
import numpy as np
import unigrad
import unigrad.numpy as unp

def test_active(unigrad_backend):
    assert unigrad.get_backend().name == unigrad_backend.name
    x = unigrad_backend.asarray([0.5, 1.5])
    g = unigrad.grad(lambda v: unp.sum(v * v))(x)
    assert unigrad.get_backend().dtype_name(g) == unigrad_backend.dtype
"""


def test_plugin_changes_nothing_unless_asked(pytester):
    pytester.makepyfile("def test_plain():\n    assert True\n")
    result = pytester.runpytest("-v")
    result.assert_outcomes(passed=1)
    assert "unigrad" not in "\n".join(result.outlines[:5])


def test_fixture_ids_and_active_backend(pytester):
    pytester.makepyfile(FIXTURE_TEST)
    result = pytester.runpytest(
        "-v", "--unigrad-backends=numpy,torch", "--unigrad-dtypes=float32,float64"
    )
    result.assert_outcomes(passed=4)
    result.stdout.fnmatch_lines(
        ["*test_active[[]numpy-float64[]] PASSED*", "*test_active[[]torch-float32[]] PASSED*"]
    )
    result.stdout.fnmatch_lines(["unigrad *: numpy *, torch 2.13*"])  # the report header


def test_backends_from_environment(pytester, monkeypatch):
    monkeypatch.setenv("UNIGRAD_BACKENDS", "torch")
    pytester.makepyfile(FIXTURE_TEST)
    result = pytester.runpytest("-v")
    result.stdout.fnmatch_lines(["*test_active[[]torch-float64[]] PASSED*"])


def test_unknown_backend_is_a_usage_error(pytester):
    pytester.makepyfile(FIXTURE_TEST)
    result = pytester.runpytest("--unigrad-backends=pytorch")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*did you mean 'torch'*"])


def test_marker_skips_a_backend_that_declares_the_gap(pytester):
    pytester.makeconftest("""
from unigrad import registry
from unigrad.registry import BackendSpec
registry.register(BackendSpec(
    name="revonly", adapter="unigrad.backends.numpy.backend:NumpyBackend", module="numpy",
    distribution="numpy", install_hint="-", capabilities={"reverse": "native"}))
""")
    pytester.makepyfile("""
import pytest
import unigrad

@pytest.mark.unigrad_requires("hessian")
def test_needs_hessian(unigrad_backend):
    assert unigrad.hessian(lambda x: x ** 3)(2.0) == 12.0
""")
    result = pytester.runpytest("-rs", "--unigrad-backends=numpy,revonly")
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(["*revonly declares no higher_order (needed for hessian)*"])


def test_not_installed_is_skipped_but_broken_fails(pytester):
    pytester.makepyfile(broken_adapter="raise ImportError('libsomething.so: cannot open')\n")
    pytester.makeconftest("""
from unigrad import registry
from unigrad.registry import BackendSpec
registry.register(BackendSpec(
    name="missingfw", adapter="x:Y", module="surely_not_installed_fw", distribution="nope",
    install_hint="pip install missingfw"))
registry.register(BackendSpec(
    name="brokenfw", adapter="broken_adapter:Adapter", module="numpy", distribution="numpy",
    install_hint="pip install brokenfw"))
""")
    pytester.makepyfile(FIXTURE_TEST)
    result = pytester.runpytest("-rsfE", "--unigrad-backends=missingfw,brokenfw")
    result.assert_outcomes(skipped=1, errors=1)  # a failing fixture is a pytest error
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["*missingfw is not installed*pip install missingfw*"])
    result.stdout.fnmatch_lines(["*brokenfw is installed but broken*libsomething*"])


def test_xfail_file(pytester):
    pytester.makepyfile("""
def test_known_bad(unigrad_backend):
    assert unigrad_backend.name != "torch"
""")
    xf = pytester.path / "xfails.txt"
    xf.write_text(
        "# known gaps\n*known_bad[[]torch-*: torch differs here\n*does_not_exist*: stale entry\n"
    )
    result = pytester.runpytest("-rxX", "--unigrad-backends=numpy,torch", f"--unigrad-xfails={xf}")
    result.assert_outcomes(passed=1, xfailed=1)
    result.stdout.fnmatch_lines(["*'*does_not_exist*' (line 3) matches no test*"])
    result.stdout.fnmatch_lines(["*XFAIL*torch-float64*torch differs here*"])


def test_conformance_suite_report(pytester, tmp_path):
    out = tmp_path / "rep"
    result = pytester.runpytest(
        "--pyargs",
        "unigrad.conformance",
        "--unigrad-backends=numpy",
        "-k",
        "seed000",
        f"--unigrad-report={out}",
        "-p",
        "no:cacheprovider",
    )
    result.assert_outcomes(passed=10)
    import json

    summary = json.loads(next(out.glob("*/summary.json")).read_text())
    assert summary["counts"] == {"pass": 10} and summary["exit_code"] == 0
    rows = [json.loads(line) for line in next(out.glob("*/results.jsonl")).read_text().splitlines()]
    assert len(rows) == 10 and {r["status"] for r in rows} == {"pass"}
    assert {"case", "transform", "backend", "dtype", "max_abs", "reference_fd"} <= set(rows[0])
    assert (out / "latest" / "agreement.md").exists()


def test_assert_agree_passes_across_backends():
    assert_agree(
        smooth,
        np.array([0.3, 1.2]),
        transforms=("value", "grad", "hessian"),
        backends=["numpy", "torch", "jax", "tensorflow"],
        dtypes=("float32", "float64"),
    )


def test_assert_agree_reaches_mxnet_through_its_worker():
    assert_agree(
        smooth, np.array([0.3, 1.2]), transforms=("value", "grad"), backends=["numpy", "mxnet"]
    )


def test_assert_agree_fails_with_backends_values_and_tolerance():
    with pytest.raises(AssertionError) as info:
        assert_agree(backend_dependent, np.array([1.0, 2.0]), backends=["numpy", "torch"])
    text = str(info.value)
    assert "grad of backend_dependent disagrees between torch and numpy" in text
    assert "element [1]" in text and "4.004" in text and "tolerance" in text


def test_assert_agree_wants_module_level_functions_for_workers():
    with pytest.raises(TypeError, match="module level"):
        assert_agree(lambda x: x * 2.0, 1.0, backends=["numpy", "mxnet"])


def test_plugin_is_registered_as_entry_point():
    import importlib.metadata as md

    eps = {ep.name: ep.value for ep in md.entry_points(group="pytest11")}
    assert eps.get("unigrad") == "unigrad.testing.pytest_plugin"
    assert "unigrad.testing.pytest_plugin" in sys.modules


# --------------------------------------------------------------- xfails, requirements, report

KNOWN_BAD = """
def test_known_bad(unigrad_backend):
    assert unigrad_backend.name != "torch"
"""


@pytest.mark.parametrize(
    "entry",
    [
        "test_known_bad.py::test_known_bad[torch-float64]: torch differs here",
        "test_known_bad[torch-float64]: torch differs here",
        "*::test_known_bad[torch-*]: torch differs here",
        "*known_bad[[]torch-*: torch differs here",  # fnmatch's escape still means a bracket
    ],
)
def test_xfail_entries_match_parametrised_ids_literally(pytester, entry):
    pytester.makepyfile(test_known_bad=KNOWN_BAD)
    xf = pytester.path / "xfails.txt"
    xf.write_text(entry + "\n")
    result = pytester.runpytest("-rxX", "--unigrad-backends=numpy,torch", f"--unigrad-xfails={xf}")
    result.assert_outcomes(passed=1, xfailed=1)
    result.stdout.fnmatch_lines(["*XFAIL*torch-float64*torch differs here*"])
    assert "matches no test" not in result.stdout.str()


PARTIAL_CONFTEST = """
from unigrad import registry
from unigrad.registry import BackendSpec
registry.register(BackendSpec(
    name="partialfw", adapter="unigrad.backends.numpy.backend:NumpyBackend", module="numpy",
    distribution="numpy", install_hint="-",
    capabilities={"reverse": "native", "higher_order": "partial"}))
"""


def test_requires_runs_a_partial_backend_and_skips_what_it_refuses(pytester):
    pytester.makeconftest(PARTIAL_CONFTEST)
    pytester.makepyfile("""
import pytest
import unigrad

@pytest.mark.unigrad_requires("hessian")
def test_refused(unigrad_backend):
    if unigrad_backend.name == "partialfw":
        raise unigrad.UnsupportedError("partialfw", "hessian", "no second order for this op")
    assert unigrad.hessian(lambda x: x ** 3)(2.0) == 12.0

@pytest.mark.unigrad_requires("hessian")
def test_served(unigrad_backend):
    assert unigrad.hessian(lambda x: x ** 3)(2.0) == 12.0

def test_unmarked_gap_still_fails(unigrad_backend):
    if unigrad_backend.name == "partialfw":
        raise unigrad.UnsupportedError("partialfw", "hessian", "not marked")
""")
    result = pytester.runpytest("-rs", "--unigrad-backends=numpy,partialfw")
    result.assert_outcomes(passed=4, skipped=1, failed=1)
    result.stdout.fnmatch_lines(["*partialfw*no second order for this op*"])


def test_a_misspelled_requirement_is_a_usage_error(pytester):
    pytester.makepyfile("""
import pytest

@pytest.mark.unigrad_requires("hesian")
def test_needs_hessian(unigrad_backend):
    pass
""")
    result = pytester.runpytest("--unigrad-backends=numpy")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*'hesian'*did you mean 'hessian'*"])


def test_report_of_your_own_tests_writes_the_summary(pytester, tmp_path):
    pytester.makeconftest(PARTIAL_CONFTEST)
    pytester.makepyfile("""
import pytest
import unigrad
import unigrad.numpy as unp

def test_grad(unigrad_backend):
    x = unigrad_backend.asarray([0.5, 1.5])
    unigrad.grad(lambda v: unp.sum(v * v))(x)

@pytest.mark.unigrad_requires("hessian")
def test_curvature(unigrad_backend):
    if unigrad_backend.name == "partialfw":
        raise unigrad.UnsupportedError("partialfw", "hessian", "no second order here")

def test_broken(unigrad_backend):
    assert unigrad_backend.name == "numpy"
""")
    out = tmp_path / "rep"
    result = pytester.runpytest("--unigrad-backends=numpy,partialfw", f"--unigrad-report={out}")
    result.assert_outcomes(passed=4, skipped=1, failed=1)
    import json

    summary = json.loads((out / "latest" / "summary.json").read_text())
    assert summary["per_backend"]["numpy"] == {"pass": 3}
    assert summary["per_backend"]["partialfw"] == {"pass": 1, "unsupported": 1, "fail": 1}
    assert summary["exit_code"] == 1
    rows = [json.loads(x) for x in (out / "latest" / "results.jsonl").read_text().splitlines()]
    broken = next(r for r in rows if r["backend"] == "partialfw" and "broken" in r["case"])
    assert broken["status"] == "fail" and "assert" in broken["detail"]
    assert (out / "latest" / "agreement.md").exists()


# --------------------------------------------------------------- the report under pytest-xdist

TWO_TESTS = """
import unigrad
import unigrad.numpy as unp

def test_grad(unigrad_backend):
    unigrad.grad(lambda v: unp.sum(v * v))(unigrad_backend.asarray([0.5, 1.5]))

def test_broken(unigrad_backend):
    assert unigrad_backend.name == "numpy"
"""


def _one_run(out):
    """The report's one run folder (``latest`` points at it) and its summary and rows."""
    import json

    runs = [p for p in out.iterdir() if p.is_dir() and not p.is_symlink()]
    assert len(runs) == 1, sorted(p.name for p in out.iterdir())
    assert (out / "latest").resolve() == runs[0].resolve()
    summary = json.loads((runs[0] / "summary.json").read_text())
    rows = [json.loads(x) for x in (runs[0] / "results.jsonl").read_text().splitlines()]
    return runs[0], summary, rows


def test_report_under_xdist_is_one_run_with_every_cell(pytester, tmp_path):
    import importlib.metadata as md

    pytester.makepyfile(TWO_TESTS)
    out = tmp_path / "rep"
    result = pytester.runpytest_subprocess(
        "-n",
        "2",
        "-p",
        "no:cacheprovider",
        "--unigrad-backends=numpy,torch",
        "--unigrad-dtypes=both",
        f"--unigrad-report={out}",
    )
    result.assert_outcomes(passed=6, failed=2)
    run, summary, rows = _one_run(out)
    assert summary["cells"] == 8 and summary["exit_code"] == 1
    assert summary["per_backend"] == {"numpy": {"pass": 4}, "torch": {"pass": 2, "fail": 2}}
    # in the order of the collection, as without -n, whichever worker ran which test
    ids = [
        f"{t}[{b}-{d}]"
        for t in ("test_grad", "test_broken")
        for b in ("numpy", "torch")
        for d in ("float32", "float64")
    ]
    assert [r["source"].split("::")[-1] for r in rows] == ids
    line = f"Backends: numpy {md.version('numpy')}, torch {md.version('torch')}\n"
    assert line in (run / "agreement.md").read_text()


def test_conformance_report_under_xdist_is_one_run(pytester, tmp_path):
    from unigrad.compare.selection import select_cases

    out = tmp_path / "rep"
    args = ["--pyargs", "unigrad.conformance", "--unigrad-backends=numpy,torch", "-k", "seed000"]
    result = pytester.runpytest_subprocess(
        *args, "-n", "2", "-p", "no:cacheprovider", f"--unigrad-report={out}"
    )
    result.assert_outcomes(passed=20)
    _, summary, rows = _one_run(out)
    assert summary["counts"] == {"pass": 20} and summary["cases"] > 1
    assert set(summary["backends"]) == {"numpy", "torch"}  # the workers' greetings
    assert all(summary["backends"][b]["version"] for b in ("numpy", "torch"))
    cases = [c for c in select_cases(None).cases if "seed000" in c.id.lower()]
    collected = [
        (c.id, t, b, "float64") for c in cases for t in c.transforms for b in ("numpy", "torch")
    ]
    assert [(r["case"], r["transform"], r["backend"], r["dtype"]) for r in rows] == collected


def test_report_names_the_backends_that_ran(pytester, tmp_path):
    import importlib.metadata as md

    pytester.makeconftest(PARTIAL_CONFTEST)
    pytester.makepyfile(TWO_TESTS)
    out = tmp_path / "rep"
    pytester.runpytest("--unigrad-backends=numpy,partialfw", f"--unigrad-report={out}")
    run, summary, _ = _one_run(out)
    numpy = md.version("numpy")
    assert summary["backends"] == {"numpy": {"version": numpy}, "partialfw": {"version": numpy}}
    assert f"Backends: numpy {numpy}, partialfw {numpy}\n" in (run / "agreement.md").read_text()
