"""Case files a user may write wrong: every mistake is one located error, never a traceback.

Badly typed fields and stray CASES entries cost their own case only; unknown names (a transform,
a dtype, a backend in ``gaps``) are usage errors; a duplicated id runs its first definition only.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from unigrad.case import Case
from unigrad.compare.selection import UsageError, select_cases

HEAD = """\
import numpy as np
import unigrad.numpy as unp
from unigrad.case import Case

X = (np.array([1.0, 2.0]),)
"""


def write(folder: Path, name: str, body: str) -> Path:
    path = folder / name
    path.write_text(HEAD + textwrap.dedent(body))
    return path


def line_of(path: Path, text: str) -> int:
    """The 1-based line of the first line of ``path`` holding ``text``."""
    return next(i for i, s in enumerate(path.read_text().splitlines(), 1) if text in s)


BAD_FIELDS = """\
CASES = [
    Case(id="t.ok", function=lambda x: unp.sum(x * x), inputs=X),
    Case(id="t.rtol", function=lambda x: unp.sum(x), inputs=X,
         tolerance={"float64": {"rtol": "loose"}}),
    Case(id="t.gaps", function=lambda x: unp.sum(x), inputs=X, gaps={"numpy": "str"}),
    Case(id="t.expected", function=lambda x: unp.sum(x), inputs=X, expected={"value": "abc"}),
    Case(id="t.transforms_str", function=lambda x: unp.sum(x), inputs=X, transforms="grad"),
    Case(id="t.function", function="not callable", inputs=X),
    Case(id="t.ok2", function=lambda x: unp.sum(x * x * x), inputs=X),
]
"""


def test_badly_typed_fields_cost_their_own_case_only(tmp_path):
    path = write(tmp_path, "typed.py", BAD_FIELDS)
    sel = select_cases([str(path)])
    assert [c.id for c in sel.cases] == ["t.ok", "t.ok2"]
    by_where = {p.where: p.error for p in sel.problems}
    expect = {
        "t.rtol": "rtol",
        "t.gaps": "gaps",
        "t.expected": "abc",
        "t.transforms_str": "transforms",
        "t.function": "function",
    }
    assert len(sel.problems) == len(expect)
    for cid, word in expect.items():
        where = f"{path}:{line_of(path, repr(cid).replace(chr(39), chr(34)))}"
        assert where in by_where, (cid, by_where)
        assert word in by_where[where] and cid in by_where[where]
        assert "Traceback" not in by_where[where]


def test_cases_that_is_not_a_list_is_located(tmp_path):
    path = write(tmp_path, "five.py", "\n\nCASES = 5\n")
    sel = select_cases([str(path)])
    assert not sel.cases
    (p,) = sel.problems
    assert p.where == f"{path}:{line_of(path, 'CASES = 5')}"
    assert "CASES" in p.error and "int" in p.error


def test_a_stray_entry_in_cases_costs_only_itself(tmp_path):
    body = """\
    CASES = [
        Case(id="s.ok", function=lambda x: unp.sum(x), inputs=X),
        "oops",
    ]
    """
    path = write(tmp_path, "stray.py", body)
    sel = select_cases([str(path)])
    assert [c.id for c in sel.cases] == ["s.ok"]
    (p,) = sel.problems
    assert p.where.startswith(f"{path}:") and "CASES[1]" in p.error and "str" in p.error


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ('gaps={"pytorch": {"grad": "no"}}', "did you mean 'torch'"),
        ('transforms=("value", "gradd")', "did you mean 'grad'"),
        ('gaps={"torch": {"hesian": "no"}}', "did you mean 'hessian'"),
        ('dtypes=("float46",)', "float64"),
        ('tolerance={"float46": {"rtol": 1e-3}}', "float64"),
        ('expected={"gradd": 1.0}', "did you mean 'grad'"),
        ('native={"jaxx": abs}', "did you mean 'jax'"),
    ],
)
def test_unknown_names_in_a_case_are_usage_errors(tmp_path, field, message):
    body = f"""\
    CASES = [
        Case(id="u.ok", function=lambda x: unp.sum(x), inputs=X),
        Case(id="u.bad", function=lambda x: unp.sum(x), inputs=X, {field}),
    ]
    """
    path = write(tmp_path, "names.py", body)
    with pytest.raises(UsageError) as info:
        select_cases([str(path)])
    text = str(info.value)
    assert f"{path}:{line_of(path, 'u.bad')}" in text and "u.bad" in text
    assert message in text


def test_direct_construction_still_raises():
    with pytest.raises(ValueError, match="rtol"):
        Case(id="x", function=abs, inputs=(1.0,), tolerance={"float64": {"rtol": "loose"}})
    with pytest.raises(ValueError, match="did you mean 'grad'"):
        Case(id="x", function=abs, inputs=(1.0,), transforms=("gradd",))


def test_duplicate_id_runs_its_first_definition_only(tmp_path):
    a = write(
        tmp_path,
        "a.py",
        'CASES = [Case(id="d.same", function=lambda x: unp.sum(x * x), '
        'inputs=X, transforms=("grad",))]\n',
    )
    b = write(
        tmp_path,
        "b.py",
        'CASES = [Case(id="d.same", function=lambda x: unp.sum(x ** 3), '
        'inputs=X, transforms=("grad",))]\n',
    )
    sel = select_cases([str(tmp_path)])
    (case,) = sel.cases
    assert case.file == str(a)
    (p,) = sel.problems
    assert p.kind == "duplicate_id" and p.where == f"{b}:{line_of(b, 'd.same')}"
    assert f"{a}:{line_of(a, 'd.same')}" in p.error  # names the definition that runs
