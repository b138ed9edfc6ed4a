"""Issue 12, ``unigrad fuzz`` campaigns through the command line: the injected bug found and
shrunk, determinism for a seed, resume, Ctrl-C, usage errors.

The injected bug is tests/fuzz_buggy_backend/: the reference engine with tanh's derivative of
the wrong sign, installed for these tests as a distribution in a temporary folder on PYTHONPATH
(a dist-info with its entry point), so that the campaign's workers find it as users' backends
are found. Campaigns run on numpy and that backend (fast: no framework to compile).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Ctrl-C live in the campaign even when the test run inherited SIGINT ignored (a background job)
LIVE_SIGINT = (
    sys.executable,
    "-c",
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv[0] = 'unigrad'; runpy.run_module('unigrad.cli', run_name='__main__')",
)
OPS = "tanh,sin,add,multiply,exp,sum"
BUGGY = ("--backends", "numpy,buggy", "--ops", OPS, "--max-ops", "4")
#: seed 2: the first program with tanh has three ops (add, tanh, exp), for the shrinker
RUN = (*BUGGY, "--seed", "2", "--shard", "4")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("buggy") / "site"
    shutil.copytree(
        ROOT / "tests" / "fuzz_buggy_backend" / "unigrad_buggy", target / "unigrad_buggy"
    )
    info = target / "unigrad_buggy-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: unigrad-buggy\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("[unigrad.backends]\nbuggy = unigrad_buggy:SPEC\n")
    return target


def _env(site: Path) -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(site), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path}


def fuzz(site: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*LIVE_SIGINT, "fuzz", *args],
        env=_env(site),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
    )


def only_run(out: Path) -> Path:
    runs = [p for p in out.iterdir() if p.is_dir() and not p.is_symlink()]
    assert len(runs) == 1, runs
    assert (out / "latest").resolve() == runs[0].resolve()  # as compare's reports/latest
    return runs[0]


def rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def comparable(run_dir: Path) -> tuple[list, list]:
    """What must be the same for the same seed: findings (no versions or paths) and counts."""
    findings = [
        {k: v for k, v in r.items() if k not in ("versions", "repro", "native_repro")}
        for r in rows(run_dir / "findings.jsonl")
    ]
    return sorted(findings, key=lambda r: r["id"]), sorted(
        rows(run_dir / "progress.jsonl"), key=lambda r: r["shard"]
    )


@pytest.fixture(scope="module")
def campaign(site: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("campaign")
    run = fuzz(site, *RUN, "--programs", "16", "--out", str(out))
    assert run.returncode == 1, run.stdout + run.stderr  # 1: something was found
    return only_run(out)


def test_the_injected_bug_is_found_and_shrunk(campaign: Path, site: Path) -> None:
    found = rows(campaign / "findings.jsonl")
    assert found and all(f["backend"] == "buggy" for f in found), found  # no false alarm on numpy
    grads = [f for f in found if f["transform"] in ("grad", "vjp", "jvp")]
    assert grads and all(f["kind"] == "wrong value" for f in grads)
    for f in found:
        assert "tanh" in f["op"].split("+")
        assert len(f["program"]["nodes"]) <= 3, f
    assert any(f["original_ops"] > len(f["program"]["nodes"]) for f in found)  # shrunk
    summary = json.loads((campaign / "summary.json").read_text())
    assert summary["programs"] == 16 and summary["findings"] == len(found)
    assert set(summary["per_backend"]) == {"numpy", "buggy", "reference"}
    assert all(v["programs_per_s"] > 0 for v in summary["per_backend"].values())
    md = (campaign / "findings.md").read_text()
    assert "| wrong value | tanh | buggy | grad |" in md
    assert (campaign / "findings.html").read_text().count("<tr") >= len(found)
    # the repro through unigrad runs and shows the wrong gradient next to the reference's
    g = next(f for f in found if f["transform"] == "grad")
    script = campaign / g["repro"]
    run = subprocess.run(
        [sys.executable, str(script)], env=_env(site), capture_output=True, text=True
    )
    assert run.returncode == 1, run.stdout + run.stderr  # 1: it reproduces
    lines = run.stdout.splitlines()
    got = next(x for x in lines if x.startswith("grad on buggy"))
    want = next(x for x in lines if x.startswith("grad by the reference"))
    assert got.split(":", 1)[1] != want.split(":", 1)[1]
    # the finding's own numbers: those of its shrunk program (inputs, directions), compared as
    # the fuzzer compared them
    assert f"the finding reported: {g['detail']}" in lines, run.stdout
    assert lines[-1] == f"reproduced: {g['detail']}", run.stdout
    assert not g["native_repro"]  # a backend with no framework of its own has no native repro


def test_a_seed_gives_the_same_campaign(campaign: Path, site: Path, tmp_path: Path) -> None:
    run = fuzz(site, *RUN, "--programs", "16", "--out", str(tmp_path))
    assert run.returncode == 1, run.stdout + run.stderr
    assert comparable(only_run(tmp_path)) == comparable(campaign)


def test_findings_are_counted_once_per_program(campaign: Path) -> None:
    progress = rows(campaign / "progress.jsonl")
    assert [p["shard"] for p in progress] == [0, 1, 2, 3]
    assert sum(p["programs"] for p in progress) == 16
    found = {f["id"]: f for f in rows(campaign / "findings.jsonl")}
    for fid, f in found.items():
        seen = sum(p["occurrences"].get(fid, 0) for p in progress)
        assert f["occurrences"] == seen >= 1
        assert seen <= 16


def test_resume_goes_on_after_the_finished_shards(
    campaign: Path, site: Path, tmp_path: Path
) -> None:
    first = fuzz(site, *RUN, "--programs", "8", "--out", str(tmp_path))
    assert first.returncode == 1, first.stdout + first.stderr
    run_dir = only_run(tmp_path)
    assert len(rows(run_dir / "progress.jsonl")) == 2
    # the seed and options come from the campaign folder
    # through <out>/latest; the rate is of this session's programs (it counted all 16)
    again = fuzz(site, "--resume", str(tmp_path / "latest"), "--programs", "16")
    assert again.returncode == 1, again.stdout + again.stderr
    assert comparable(run_dir) == comparable(campaign)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["programs"] == 16 and summary["programs_this_session"] == 8
    assert "8 programs in " in again.stdout and "(8 before this session)" in again.stdout
    assert f"reports: {tmp_path / 'latest'}" not in again.stdout  # the campaign's own folder
    clash = fuzz(site, "--resume", str(run_dir), "--seed", "4", "--programs", "20")
    assert clash.returncode == 2 and "seed=2" in clash.stderr


def test_ctrl_c_keeps_what_was_found_and_resume_finishes(
    campaign: Path, site: Path, tmp_path: Path
) -> None:
    proc = subprocess.Popen(
        [*LIVE_SIGINT, "fuzz", *RUN, "--budget", "600", "--out", str(tmp_path)],
        env=_env(site),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        progress = None
        while time.monotonic() < deadline and proc.poll() is None:
            found = list(tmp_path.glob("*/progress.jsonl"))
            if found and len(rows(found[0])) >= 2:
                progress = found[0]
                break
            time.sleep(0.2)
        assert progress is not None, "no shard finished"
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 130, out + err
    assert "Traceback" not in err and "--resume" in out
    run_dir = progress.parent
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["interrupted"] == "SIGINT" and summary["programs"] >= 8
    kept = rows(run_dir / "findings.jsonl")
    assert kept and (run_dir / "findings.md").exists()
    done = summary["programs"]
    again = fuzz(site, "--resume", str(run_dir), "--programs", str(max(16, done)))
    assert again.returncode == 1, again.stdout + again.stderr
    shards = [p["shard"] for p in rows(run_dir / "progress.jsonl")]
    assert len(shards) == len(set(shards))  # no shard counted twice
    if done <= 16:
        assert comparable(run_dir) == comparable(campaign)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("--backends", "numpy,nope"), "nope"),
        (("--ops", "tanh,no_such_op"), "no_such_op"),
        (("--ops", "sqrtt"), "did you mean sqrt?"),
        (("--ops", "linalg.svd"), "linalg.svd is not fuzzed: left out by its entry"),
        (("--programs", "0"), "--programs"),
        (("--budget", "-1"), "--budget"),
        (("--budget", "nan"), "--budget"),  # was accepted: a campaign that never stopped
        (("--budget", "inf"), "--budget"),
        (("--timeout", "nan"), "--timeout"),
        (("--seed", "-5"), "--seed"),  # was NumPy's traceback, exit 1
        (("--jobs", "-1"), "--jobs must be"),  # was taken as 1
        (("--ops", ""), "--ops names no op"),  # fuzzed every op
        (("--ops", " , "), "--ops names no op"),
        (("--backends", ""), "--backends names no backend"),
        (("--address", "tcp://127.0.0.1:1"), "--executor dask"),
        (("--executor", "ray"), "dask"),
    ],
)
def test_usage_errors_exit_2_with_a_clear_message(
    site: Path, tmp_path: Path, args: tuple, says: str
) -> None:
    more = () if "--programs" in args else ("--programs", "4")
    run = fuzz(site, *args, *more, "--out", str(tmp_path), timeout=120)
    assert run.returncode == 2, run.stdout + run.stderr
    assert says in run.stderr and "Traceback" not in run.stderr
    assert not list(tmp_path.iterdir())  # refused before the campaign folder is made


def test_resume_of_a_folder_that_is_no_campaign_is_a_usage_error(
    site: Path, tmp_path: Path
) -> None:
    run = fuzz(site, "--resume", str(tmp_path), timeout=120)
    assert run.returncode == 2 and "campaign.json" in run.stderr


# ----------------------------------------------------------------------------------- dask
def test_a_local_dask_cluster_gives_the_local_executors_results(
    campaign: Path, site: Path, tmp_path: Path
) -> None:
    dask = ("--executor", "dask", "--jobs", "2")
    run = fuzz(site, *RUN, "--programs", "16", *dask, "--out", str(tmp_path))
    assert run.returncode == 1, run.stdout + run.stderr
    run_dir = only_run(tmp_path)
    assert comparable(run_dir) == comparable(campaign)
    assert json.loads((run_dir / "summary.json").read_text())["executor"] == "dask"


# A campaign on a local dask cluster of two workers, one of them killed (SIGKILL) while the
# campaign runs: after the first shard, the worker that holds or runs shards of the next ones.
KILLED_WORKER = """
import json, os, signal, sys
from pathlib import Path
from unigrad.fuzz.campaign import Campaign, Settings, check, prepare
from unigrad.fuzz.executors import DaskExecutor

settings = Settings(backends=["numpy", "buggy"], seed=2, programs=16, shard=4, max_ops=4,
                    ops=sys.argv[2].split(","), out=sys.argv[1], executor="dask", jobs=2)
settings, run_dir = prepare(settings, None)
ex = DaskExecutor(jobs=2)
killed = {}

def kill_one(shard, result):
    if killed:
        return
    # the next shards' tasks are queued, running, or done and held: kill where most of them are
    pids = ex.workers()
    busy = {a: len(keys) for a, keys in ex.client.processing().items()}
    held = {a: len(keys) for a, keys in ex.client.has_what().items()}
    victim = max(pids, key=lambda a: busy.get(a, 0) + held.get(a, 0))
    killed.update(address=victim, pid=pids[victim], processing=busy.get(victim, 0),
                  held=held.get(victim, 0))
    os.kill(pids[victim], signal.SIGKILL)

camp = Campaign(settings, run_dir, ex, on_shard=kill_one)
try:
    camp.start(check(settings), asked=True)
    res = camp.run()
    from unigrad.fuzz import reports
    reports.write(res, camp.store)
finally:
    ex.close()
print(json.dumps({"run_dir": str(run_dir), "killed": killed, "programs": res.programs}))
"""


def test_a_killed_dask_worker_loses_nothing_and_counts_nothing_twice(
    campaign: Path, site: Path, tmp_path: Path
) -> None:
    run = subprocess.run(
        [sys.executable, "-c", KILLED_WORKER, str(tmp_path), OPS],
        env=_env(site),
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stdout + run.stderr[-3000:]
    said = json.loads(run.stdout.strip().splitlines()[-1])
    assert said["killed"]["pid"] and said["programs"] == 16
    # the kill cost something: a shard it was running, or shards' results it held
    assert said["killed"]["processing"] + said["killed"]["held"] > 0, said
    run_dir = Path(said["run_dir"])
    shards = [p["shard"] for p in rows(run_dir / "progress.jsonl")]
    assert sorted(shards) == [0, 1, 2, 3]
    assert comparable(run_dir) == comparable(campaign)
