"""Interrupts and processes: Ctrl-C stops a run and keeps what finished; no worker outlives it.

Each test starts ``unigrad compare`` on a case file whose last case hangs (on the numpy engine,
so the reference hangs too), waits until the cells before it are in results.jsonl, then signals
the run. The hanging cell's timeout is far longer than any wait here: a run that does not stop
on the signal fails the test by running into it.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SLOW = """\
import time

import numpy as np
import unigrad.numpy as unp
from unigrad.case import Case


def hangs(x):
    while True:
        time.sleep(0.01)


X = (np.array([1.0, 2.0]),)
CASES = [
    Case(id="s.one", function=lambda x: unp.sum(x * x), inputs=X),
    Case(id="s.two", function=lambda x: unp.sum(unp.sin(x)), inputs=X),
    Case(id="s.hang", function=hangs, inputs=X, transforms=("value",)),
]
"""
FINISHED = 4  # s.one and s.two: value and grad in float64 on numpy

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/task").exists(), reason="reads the process tree from Linux's /proc"
)
HANG_TIMEOUT = "300"


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (Linux /proc)."""
    found, todo = set(), [pid]
    while todo:
        p = todo.pop()
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                kids = (task / "children").read_text().split()
            except OSError:
                continue
            for k in map(int, kids):
                if k not in found:
                    found.add(k)
                    todo.append(k)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def wait_gone(pids: set[int], seconds: float) -> set[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.1)
    return {p for p in pids if alive(p)}


# `unigrad` with Ctrl-C live: a test run started in the background by a shell inherits SIGINT
# as ignored, and the run under test must see Ctrl-C as a terminal user's run does
LIVE_SIGINT = (
    sys.executable,
    "-c",
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv[0] = 'unigrad'; runpy.run_module('unigrad.cli', run_name='__main__')",
)


# the same, with report writing slowed down, so that a second signal surely comes during it
SLOW_REPORTS = (
    sys.executable,
    "-c",
    "import runpy, signal, sys, time; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "import unigrad.compare.reports as r; write = r.write; "
    "r.write = lambda *a, **k: (time.sleep(1.5), write(*a, **k))[1]; "
    "sys.argv[0] = 'unigrad'; runpy.run_module('unigrad.cli', run_name='__main__')",
)


@pytest.fixture
def started(tmp_path):
    """A compare run in its own process group, stopped at its hanging case."""
    yield from _started(tmp_path, LIVE_SIGINT)


@pytest.fixture
def started_slow_reports(tmp_path):
    """The same run, whose reports take 1.5 s to write."""
    yield from _started(tmp_path, SLOW_REPORTS)


def _started(tmp_path: Path, launcher: tuple[str, ...]):
    (tmp_path / "slow.py").write_text(SLOW)
    out = tmp_path / "reports"
    proc = subprocess.Popen(
        [
            *launcher,
            *("compare", "--cases", str(tmp_path / "slow.py")),
            *("--backends", "numpy", "--dtype", "float64", "--timeout", HANG_TIMEOUT),
            *("--out", str(out)),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    workers: set[int] = set()
    try:
        run_dir = _wait_for_finished_cells(proc, out)
        workers = {p for p in descendants(proc.pid) if "workers.server" in cmdline(p)}
        assert len(workers) >= 2  # the reference and the numpy backend, both in the hang
        yield proc, run_dir, workers
    finally:  # also when the run never got there: nothing it started outlives the test
        workers |= {p for p in descendants(proc.pid) if "workers.server" in cmdline(p)}
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        for p in wait_gone(workers, 0):
            os.kill(p, signal.SIGKILL)


def _wait_for_finished_cells(proc: subprocess.Popen, out: Path) -> Path:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        runs = list(out.glob("*/results.jsonl"))
        if runs and len(runs[0].read_text().splitlines()) >= FINISHED:
            return runs[0].parent
        assert proc.poll() is None, "the run ended before its hanging case"
        time.sleep(0.2)
    pytest.fail("the finished cells never reached results.jsonl")


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ")
    except OSError:
        return ""


def finish(proc: subprocess.Popen, seconds: float = 30) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=seconds)
    return proc.returncode, out, err


def assert_reports_of_finished_cells(run_dir: Path) -> None:
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["interrupted"] and summary["counts"] == {"pass": FINISHED}
    rows = [json.loads(x) for x in (run_dir / "results.jsonl").read_text().splitlines()]
    assert {r["status"] for r in rows} == {"pass"} and len(rows) == FINISHED
    assert (run_dir / "agreement.md").exists() and (run_dir / "agreement.html").exists()


def test_ctrl_c_to_the_process_stops_the_run_and_keeps_its_reports(started):
    proc, run_dir, workers = started
    proc.send_signal(signal.SIGINT)
    rc, out, err = finish(proc)
    assert rc == 130, out + err
    assert "interrupted" in out and "Traceback" not in err and "Aborted" not in err
    assert_reports_of_finished_cells(run_dir)
    assert not wait_gone(workers, 10)


def test_ctrl_c_to_the_process_group_records_no_crash(started):
    proc, run_dir, workers = started
    os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    rc, out, err = finish(proc)
    assert rc == 130, out + err
    assert_reports_of_finished_cells(run_dir)
    assert not wait_gone(workers, 10)


def test_sigterm_stops_the_workers_too(started):
    proc, run_dir, workers = started
    proc.terminate()
    rc, out, err = finish(proc)
    assert rc == 128 + signal.SIGTERM, out + err
    assert_reports_of_finished_cells(run_dir)
    assert not wait_gone(workers, 10)


def test_more_signals_while_the_reports_are_written_do_not_cut_them_short(
    started_slow_reports,
):
    """A second Ctrl-C 0.1-0.3 s after the first, while the reports were written, left only
    summary.json and an empty results.jsonl ("interrupted while writing the reports")."""
    proc, run_dir, workers = started_slow_reports
    proc.send_signal(signal.SIGINT)
    time.sleep(0.3)
    for sig in (signal.SIGINT, signal.SIGINT, signal.SIGTERM, signal.SIGINT):
        proc.send_signal(sig)
        time.sleep(0.15)
    rc, out, err = finish(proc)
    assert rc == 130, out + err
    assert "while writing" not in err and "Traceback" not in err
    assert_reports_of_finished_cells(run_dir)
    assert len((run_dir / "results.csv").read_text().splitlines()) == 1 + FINISHED
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["interrupted_by"] == "SIGINT" and summary["exit_code"] == 130
    assert not wait_gone(workers, 10)


def test_workers_die_with_a_parent_killed_outright(started):
    proc, _, workers = started
    proc.kill()  # SIGKILL: no handler runs in the parent
    proc.wait()
    assert not wait_gone(workers, 15)


# --------------------------------------------------------------- workers that cannot start


def fake_mxnet_env(tmp_path: Path, script: str) -> Path:
    """A folder that looks like an MXNet environment whose python is ``script``."""
    env = tmp_path / "fake-mxnet"
    (env / "bin").mkdir(parents=True)
    (env / "lib" / "python3.9" / "site-packages" / "mxnet-1.9.1.dist-info").mkdir(parents=True)
    python = env / "bin" / "python"
    python.write_text(f"#!/bin/sh\n{script}\n")
    python.chmod(0o755)
    return python


def test_a_worker_that_dies_at_start_is_reported_and_progress_completes(tmp_path):
    python = fake_mxnet_env(tmp_path, 'echo "cannot start: no unigrad here" >&2\nexit 1')
    env = {**os.environ, "UNIGRAD_MXNET_PYTHON": str(python)}
    proc = subprocess.run(
        [
            *(sys.executable, "-m", "unigrad.cli", "compare", "--cases", "kink.abs_at_0"),
            *("--backends", "numpy,mxnet", "--out", str(tmp_path / "reports")),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    summary = json.loads((tmp_path / "reports/latest/summary.json").read_text())
    assert "no unigrad here" in summary["backends"]["mxnet"]["error"]
    assert set(summary["per_backend"]["mxnet"]) == {"error"}
    assert "mxnet" in proc.stdout and "no unigrad here" in proc.stdout
    # the plain progress lines reach 100% for every backend
    last = {}
    for line in proc.stdout.splitlines():
        if line.startswith("[") and " cells" in line:
            backend, count = line[1:].split("] ")
            last[backend] = count.split()[0]
    assert set(last) == {"numpy", "mxnet"}
    assert all(a == b for a, b in (v.split("/") for v in last.values())), last
