"""Every case x transform x backend x dtype of the case library and of the ops suite (its quick
level), as a test.

Verdicts come from ``unigrad.compare.verdicts.judge``: the same oracle as ``unigrad compare``.
"""

from __future__ import annotations

import pytest

from unigrad.compare.records import Status
from unigrad.compare.selection import select_cases
from unigrad.compare.verdicts import judge
from unigrad.conformance.suite import suite_state
from unigrad.testing.pytest_plugin import (
    chosen_backends,
    chosen_dtypes,
    record,
    skip_or_fail_unavailable,
)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "cell" not in metafunc.fixturenames:
        return
    cases = select_cases(None).cases
    cells, ids = [], []
    for case in cases:
        for t in case.transforms:
            for b in chosen_backends(metafunc.config):
                for d in chosen_dtypes(metafunc.config):
                    if d in case.dtypes:
                        cells.append((case.id, t, b, d))
                        ids.append(f"{case.id}/{t}/{b}/{d}")
    metafunc.parametrize("cell", cells, ids=ids)


@pytest.fixture(scope="session")
def state(request: pytest.FixtureRequest):
    st = suite_state(request.config)
    yield st
    st.close()


def test_cell(cell, state, request):
    case_id, transform, backend, dtype = cell
    skip_or_fail_unavailable(backend, in_process=False)
    case = next(c for c in state.cases if c.id == case_id)
    result = state.results_of(backend, case).cells[(dtype, transform)]
    rec = judge(case, transform, backend, dtype, result, state.ref())
    record(request.config, rec)
    if rec.status == Status.UNSUPPORTED and rec.declared_gap:
        pytest.skip(f"declared gap: {rec.declared_gap}")
    assert rec.status == Status.PASS, (
        f"{case_id} {transform} on {backend} {dtype}: {rec.status}: {rec.detail} "
        f"(case defined at {case.where})"
    )
