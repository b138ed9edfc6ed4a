"""``unigrad compare`` as a new user meets it: bad options are usage errors, selections that
test nothing say so, and an interrupt is a quiet exit 130 whenever it comes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from unigrad.cli import cli
from unigrad.compare import runner
from unigrad.compare.selection import UsageError, select_cases

GOOD = """\
import numpy as np
import unigrad.numpy as unp
from unigrad.case import Case

CASES = [
    Case(id="g.square", function=lambda x: unp.sum(x * x), inputs=(np.array([1.0, 2.0]),),
         dtypes=("float64",)),
]
"""


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "good.py"
    path.write_text(GOOD)
    return path


def compare(*args: str | Path, cwd: Path | None = None):
    """``unigrad compare ARGS`` in this process (usage errors stop before any worker starts)."""
    old = Path.cwd()
    try:
        if cwd is not None:
            os.chdir(cwd)
        return CliRunner().invoke(cli, ["compare", *map(str, args)])
    finally:
        os.chdir(old)


def usage_error(result) -> str:
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    (line,) = [x for x in result.output.splitlines() if x.startswith("Error:")]
    return line


def test_an_empty_cases_option_is_a_usage_error_and_runs_nothing(tmp_path):
    (tmp_path / "stray.py").write_text(
        "from pathlib import Path\nPath(__file__).with_suffix('.ran').touch()\n"
    )
    line = usage_error(compare("--cases", "", "--backends", "numpy", cwd=tmp_path))
    assert "--cases ''" in line and "names nothing" in line
    assert not (tmp_path / "stray.ran").exists()  # no .py file of the directory was imported


def test_a_selection_with_no_cell_is_a_usage_error_naming_it(good, tmp_path):
    out = tmp_path / "reports"
    line = usage_error(
        compare(
            "--cases", str(good), "--dtype", "float32", "--backends", "numpy", "--out", str(out)
        )
    )
    assert "g.square" in line and "float32" in line and "no cell" in line
    assert not out.exists()  # stopped before any work


@pytest.mark.parametrize("value", ["nan", "inf", "0", "-1"])
def test_timeout_must_be_a_finite_positive_number(good, value):
    line = usage_error(compare("--cases", str(good), "--backends", "numpy", "--timeout", value))
    assert "--timeout" in line and "finite number of seconds above 0" in line


def test_jobs_must_be_positive(good):
    line = usage_error(compare("--cases", str(good), "--backends", "numpy", "--jobs", "-1"))
    assert "--jobs" in line and "-1" in line and "0: one per core" in line


@pytest.mark.parametrize("value", ["", ",", " , "])
def test_backends_that_name_nothing_are_a_usage_error(good, value):
    line = usage_error(compare("--cases", str(good), "--backends", value))
    assert "--backends names no backend" in line


def test_a_backend_named_twice_runs_once(good, tmp_path):
    # --backends numpy,numpy ran every cell twice ("2/1 cells")
    res = runner.run([str(good)], ["numpy", "numpy"], "float64", tmp_path / "out", timeout=30)
    assert res.backends == ["numpy"]
    rows = [json.loads(x) for x in (res.run_dir / "results.jsonl").read_text().splitlines()]
    cells = [(r["case"], r["transform"], r["backend"], r["dtype"]) for r in rows]
    assert len(cells) == len(set(cells)) > 0


def test_jobs_0_means_the_cores(good, tmp_path):
    # --help documents 0 (the default) as the number of cores: not a usage error
    result = compare("--cases", good, "--backends", "numpy", "--jobs", "0", "--out", tmp_path)
    assert result.exit_code == 0, result.output


def test_an_out_path_that_cannot_be_made_is_a_usage_error(good, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("")
    line = usage_error(compare("--cases", str(good), "--backends", "numpy", "--out", str(afile)))
    assert "is a file" in line
    sub = afile / "reports"
    line = usage_error(compare("--cases", str(good), "--backends", "numpy", "--out", str(sub)))
    assert str(sub) in line and "cannot make the report folder" in line
    with pytest.raises(UsageError, match="cannot make the report folder"):
        runner.new_run_dir(sub)


def test_the_same_file_given_twice_runs_once(good, tmp_path):
    sel = select_cases([str(good), str(tmp_path / "." / "good.py"), str(tmp_path)])
    assert [c.id for c in sel.cases] == ["g.square"] and not sel.problems


def test_a_case_file_without_cases_is_a_problem(tmp_path):
    (tmp_path / "nocases.py").write_text("X = 1\n")
    (tmp_path / "emptylist.py").write_text("CASES = []\n")
    sel = select_cases([str(tmp_path)])
    assert not sel.cases
    assert sorted(Path(p.where).name for p in sel.problems) == ["emptylist.py:1", "nocases.py:1"]
    assert all("defines no case" in p.error and "CASES" in p.error for p in sel.problems)
    assert all("start its name with _" in p.error for p in sel.problems)


def test_a_case_that_tests_nothing_is_a_problem(tmp_path):
    (tmp_path / "idle.py").write_text(
        GOOD.replace('dtypes=("float64",)', "transforms=()")
        + 'CASES.append(Case(id="g.no_dtype", function=abs, inputs=(1.0,), dtypes=()))\n'
    )
    sel = select_cases([str(tmp_path / "idle.py")])
    assert not sel.cases
    errors = " / ".join(p.error for p in sel.problems)
    assert len(sel.problems) == 2
    assert "'g.no_dtype': dtypes is empty: the case would test nothing" in errors
    assert "'g.square': transforms is empty: the case would test nothing" in errors


def test_a_run_of_only_broken_files_exits_1_with_the_problem(tmp_path):
    (tmp_path / "nocases.py").write_text("X = 1\n")
    out = subprocess.run(
        [
            *(sys.executable, "-m", "unigrad.cli", "compare", "--cases", tmp_path / "nocases.py"),
            *("--backends", "numpy", "--out", tmp_path / "reports"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 1, out.stdout + out.stderr
    assert "nocases.py:1: this case file defines no case" in out.stderr
    agreement = (tmp_path / "reports" / "latest" / "agreement.md").read_text()
    assert "| case · transform |" not in agreement  # was a table without a backend column
    assert "No cell ran; see the case files with problems below." in agreement
    assert "nocases.py:1: this case file defines no case" in agreement


def test_ctrl_c_while_starting_is_a_quiet_130(good, monkeypatch):
    """An interrupt before the run starts (while modules and frameworks import)."""
    from unigrad.compare import reports

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(reports, "missing_packages", interrupted)
    result = compare("--cases", str(good), "--backends", "numpy")
    assert result.exit_code == 130, result.output
    assert "interrupted (SIGINT) before any cell ran" in result.output
    assert "Aborted" not in result.output


def test_summary_of_an_interrupted_run_says_so(good, tmp_path):
    from unigrad.compare import reports
    from unigrad.compare.records import RunResult

    res = RunResult(tmp_path, [], [], ["numpy"], ["float64"], [], [], {}, {}, 0.0, "SIGINT")
    summ = reports.summary(res)
    assert summ["interrupted"] is True and summ["interrupted_by"] == "SIGINT"
    assert summ["exit_code"] == 130 == res.exit_code
    res.interrupted = "SIGTERM"
    assert reports.summary(res)["exit_code"] == 143
    res.interrupted = None
    assert reports.summary(res)["interrupted"] is False and res.exit_code == 0


SPAWNS = """\
import subprocess
import sys
import time

import numpy as np
from unigrad.case import Case


def spawns(x):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
    with open({pids!r}, "a") as fh:
        fh.write(f"{{child.pid}}\\n")
    while True:
        time.sleep(0.01)


CASES = [Case(id="spawn.hang", function=spawns, inputs=(np.ones(2),), transforms=("value",))]
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads Linux's /proc")
def test_what_a_case_starts_dies_with_its_worker(tmp_path):
    pids = tmp_path / "pids.txt"
    case_file = tmp_path / "spawn.py"
    case_file.write_text(SPAWNS.format(pids=str(pids)))
    res = runner.run([str(case_file)], ["numpy"], "float64", tmp_path / "out", timeout=3.0)
    assert {r.status for r in res.records} == {"timeout"}
    started = [int(p) for p in pids.read_text().split()]
    assert len(started) == 2  # the reference's worker and the numpy backend's
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(p) for p in started):
        time.sleep(0.1)
    left = [p for p in started if _alive(p)]
    for p in left:
        os.kill(p, 9)
    assert not left, "a process started by a case outlived its worker"


def test_control_characters_in_ids_are_escaped_in_every_report(tmp_path):
    case_file = tmp_path / "ctrl.py"
    case_file.write_text(GOOD.replace('id="g.square"', 'id="g.\\x1b[31mred\\x07bell"'))
    res = runner.run([str(case_file)], ["numpy"], "float64", tmp_path / "out", timeout=30)
    from unigrad.compare import reports

    reports.write(res)
    for name in ("results.jsonl", "results.csv", "summary.json", "agreement.md", "agreement.html"):
        text = (res.run_dir / name).read_text()
        assert "\x1b" not in text and "\x07" not in text, name
    md = (res.run_dir / "agreement.md").read_text()
    html = (res.run_dir / "agreement.html").read_text()
    assert "\\x1b[31mred\\x07bell" in md.replace("\\\\", "\\")
    assert "\\x1b" in html or "\\u001b" in html
    rows = [json.loads(x) for x in (res.run_dir / "results.jsonl").read_text().splitlines()]
    assert rows[0]["case"] == "g.\x1b[31mred\x07bell"  # the data keeps the id as it is


# ------------------------------------------------------------------------------ cosmetics


def test_the_oracle_measures_overflowing_errors_without_warnings():
    import warnings

    import numpy as np

    from unigrad.compare import oracle

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning would reach the user's terminal
        for dtype in ("float64", "float32"):
            v = oracle.compare(
                np.array([1e308, 1.0]), np.array([-1e308, 1.0]), dtype, oracle.tolerance(dtype)
            )
            assert v.status == "fail" and v.max_abs == float("inf") and v.index == (0,)


def test_a_worker_crash_message_reads_well():
    from unigrad.errors import WorkerError
    from unigrad.workers.client import Worker

    w = Worker("numpy", python=sys.executable)
    try:
        with pytest.raises(WorkerError) as info:
            w.invoke("os:_exit", 3, timeout=30)
    finally:
        w.kill()
    text = str(info.value)
    assert "during an invoke request (exit code 3)" in text
    assert "It wrote nothing on stderr." in text and not text.rstrip().endswith(":")


def test_an_error_without_a_message_has_no_dangling_colon(tmp_path):
    from unigrad.compare.case import CaseLoadError, read_file
    from unigrad.compare.records import error_text

    assert error_text(ValueError()) == "ValueError"
    assert error_text(ValueError("bad x")) == "ValueError: bad x"
    (tmp_path / "raises.py").write_text("raise ImportError()\n")
    with pytest.raises(CaseLoadError) as info:
        read_file(tmp_path / "raises.py")
    assert str(info.value) == f"{tmp_path / 'raises.py'}:1: ImportError"


def test_ctrl_c_in_any_command_is_a_quiet_130(monkeypatch):
    """`unigrad backends` imports the frameworks to list their devices: Ctrl-C there."""
    import unigrad.cli as cli_module

    def interrupted(probe: bool = True):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_module, "backend_rows", interrupted)
    result = CliRunner().invoke(cli, ["backends"])
    assert result.exit_code == 130, result.output
    assert "interrupted (SIGINT)" in result.output and "Aborted" not in result.output


def test_a_run_with_no_finished_cell_reads_without_a_dangling_colon(tmp_path, capsys):
    from unigrad.cli import _print_summary
    from unigrad.compare import reports
    from unigrad.compare.records import RunResult

    run_dir = tmp_path / "run"
    run_dir.mkdir()
    res = RunResult(run_dir, [], [], ["numpy"], ["float64"], [], [], {}, {}, 0.5, "SIGINT")
    summ = reports.write(res, ("json", "md", "html"))
    _print_summary(res, summ)
    out = capsys.readouterr().out
    assert "0 cells in 0.5 s\n" in out and "s: \n" not in out
    assert "0 cells." in (run_dir / "agreement.md").read_text()
    assert "0 cells</p>" in (run_dir / "agreement.html").read_text()
