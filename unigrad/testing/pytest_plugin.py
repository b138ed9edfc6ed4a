"""The unigrad pytest plugin (entry point ``pytest11``). It changes nothing unless asked.

Options: ``--unigrad-backends`` (or ``UNIGRAD_BACKENDS``), ``--unigrad-dtypes``,
``--unigrad-xfails FILE``, ``--unigrad-report DIR``. The fixture ``unigrad_backend`` is
parametrised over the chosen backends and dtypes (ids like ``torch-float32``) and makes its
backend the active one inside the test. ``@pytest.mark.unigrad_requires("hessian")`` skips a
backend that lacks the capability, and reports a test that raises ``UnsupportedError`` on a
backend that has it only partly as skipped, with the reason; an unknown capability name is a
usage error. ``--unigrad-report`` writes the report files of ``unigrad compare`` for every
``unigrad_backend`` test and every conformance cell; under pytest-xdist each worker sends its
records to the controller, which writes the one run folder.
"""

from __future__ import annotations

import os
import pickle
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from unigrad import capabilities as C
from unigrad import registry

DEFAULT_BACKENDS = ("numpy",)
DEFAULT_DTYPES = ("float64",)
_RECORDS = pytest.StashKey[list]()
_XFAILS = pytest.StashKey[list]()
_RESULT = pytest.StashKey[dict]()  # per test item: the record made of its outcome
_POSITIONS = pytest.StashKey[dict]()  # test id -> its place in the collection
_CURRENT = pytest.StashKey[int]()  # the place of the test running now
_ORDER = pytest.StashKey[list]()  # per record: the place of the test that made it
_FROM_WORKERS = pytest.StashKey[list]()  # under xdist, on the controller: each worker's part
_WORKER_KEY = "unigrad_report"  # the key of a worker's part in config.workeroutput


@dataclass(frozen=True)
class BackendParam:
    """What the ``unigrad_backend`` fixture gives a test."""

    name: str
    dtype: str

    def asarray(self, x: Any) -> Any:
        """``x`` as this backend's array in this dtype."""
        import numpy as np

        import unigrad

        return unigrad.get_backend(self.name).impl.asarray(np.asarray(x, dtype=self.dtype))

    def __str__(self) -> str:
        return f"{self.name}-{self.dtype}"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("unigrad", "unigrad backend conformance")
    group.addoption(
        "--unigrad-backends",
        default=None,
        help="all, or a comma list (numpy,torch,jax,tensorflow,mxnet); "
        "default from UNIGRAD_BACKENDS, else numpy",
    )
    group.addoption(
        "--unigrad-dtypes",
        default=None,
        help="comma list of float32,float64, or both (default float64)",
    )
    group.addoption(
        "--unigrad-xfails",
        default=None,
        metavar="FILE",
        help="expected failures: one 'test id: reason' a line; * and ? glob, brackets are literal",
    )
    group.addoption(
        "--unigrad-report",
        default=None,
        metavar="DIR",
        help="write the unigrad compare report files for the conformance cells",
    )


def chosen_backends(config: pytest.Config) -> list[str]:
    """The backends asked for by option or environment (``all``: every known backend)."""
    raw = config.getoption("--unigrad-backends") or os.environ.get("UNIGRAD_BACKENDS")
    if not raw:
        return list(DEFAULT_BACKENDS)
    if raw.strip() == "all":
        return registry.backend_names()
    names = [b.strip() for b in raw.split(",") if b.strip()]
    for b in names:
        try:
            registry.check_name(b, "--unigrad-backends")
        except ValueError as exc:
            raise pytest.UsageError(str(exc)) from exc
    return names


def chosen_dtypes(config: pytest.Config) -> list[str]:
    """The dtypes asked for (``both``: float32 and float64)."""
    raw = config.getoption("--unigrad-dtypes")
    if not raw:
        return list(DEFAULT_DTYPES)
    if raw.strip() == "both":
        return ["float32", "float64"]
    names = [d.strip() for d in raw.split(",") if d.strip()]
    bad = [d for d in names if d not in ("float32", "float64")]
    if bad:
        raise pytest.UsageError(f"--unigrad-dtypes: unknown dtype(s) {bad}; use float32,float64")
    return names


def _split_entry(line: str) -> tuple[str, str]:
    """``pattern: reason`` split at the first ": " outside the brackets of a parametrised id."""
    depth, i = 0, 0
    while i < len(line):
        if line.startswith(("[[]", "[]]"), i):  # fnmatch's escaped bracket: a literal
            i += 3
            continue
        ch = line[i]
        depth += {"[": 1, "]": -1}.get(ch, 0)
        if ch == ":" and depth <= 0 and line[i + 1 : i + 2] in (" ", "\t", ""):
            return line[:i].strip(), line[i + 1 :].strip()
        i += 1
    return line.strip(), ""


def _uncomment(line: str) -> str:
    """The line without a comment: ``#`` at its start or after whitespace (ids may hold #)."""
    m = re.search(r"(^|\s)#", line)
    return line[: m.start()] if m else line


def _read_xfails(path: str) -> list[dict]:
    entries = []
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        line = _uncomment(line).strip()
        if not line:
            continue
        pattern, reason = _split_entry(line)
        entries.append(
            {
                "pattern": pattern,
                "regex": id_pattern(pattern),
                "reason": reason or "expected to fail (xfail file)",
                "line": n,
                "hits": 0,
            }
        )
    return entries


def id_pattern(pattern: str) -> re.Pattern[str]:
    """A test-id pattern: ``*`` and ``?`` glob, everything else (brackets, ``::``) is literal.

    fnmatch's escapes ``[[]`` and ``[]]`` still mean a literal bracket.
    """
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith(("[[]", "[]]"), i):
            out.append(re.escape(pattern[i + 1]))
            i += 3
            continue
        ch = pattern[i]
        out.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
        i += 1
    return re.compile("".join(out), re.DOTALL)


def _matches(entry: dict, item: pytest.Item) -> bool:
    """An entry matches a test's full id, its name, or its id without leading folders."""
    rx: re.Pattern[str] = entry["regex"]
    nodeid = item.nodeid
    tails = [nodeid[i + 1 :] for i, ch in enumerate(nodeid.split("::")[0]) if ch == "/"]
    return any(rx.fullmatch(text) for text in (nodeid, item.name, *tails))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "unigrad_requires(capability): skip backends that lack it (a capability such as "
        "'higher_order' or a transform such as 'hessian'); where a backend has it partly, "
        "an UnsupportedError skips the test with its reason",
    )
    config.stash[_RECORDS] = []
    config.stash[_ORDER] = []
    config.stash[_FROM_WORKERS] = []
    xf = config.getoption("--unigrad-xfails")
    if xf:
        if not Path(xf).exists():
            raise pytest.UsageError(f"--unigrad-xfails: no file {xf}")
        config.stash[_XFAILS] = _read_xfails(xf)


_OPTIONS = ("--unigrad-backends", "--unigrad-dtypes", "--unigrad-xfails", "--unigrad-report")
_HEADER_SHOWN = pytest.StashKey[bool]()


def _asked(config: pytest.Config) -> bool:
    """Whether a unigrad option (or ``UNIGRAD_BACKENDS``) was given."""
    return bool(any(config.getoption(o) for o in _OPTIONS) or os.environ.get("UNIGRAD_BACKENDS"))


def header(config: pytest.Config) -> str:
    """``unigrad 0.1.0: numpy 2.1.3, torch 2.5.1, mxnet 1.9.1 (worker); float64``."""
    from unigrad import __version__

    parts = []
    for b in chosen_backends(config):
        a = registry.specs()[b].availability()
        where = "" if a.runs_in == "process" else " (worker)"
        parts.append(f"{b} {a.version or 'not installed'}{where}")
    return f"unigrad {__version__}: " + ", ".join(parts) + "; " + ", ".join(chosen_dtypes(config))


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    if not _asked(config):
        return None
    config.stash[_HEADER_SHOWN] = True
    return [header(config)]


def pytest_report_collectionfinish(
    config: pytest.Config, items: list[pytest.Item]
) -> list[str] | None:
    """Without options, the backends and versions are shown once a test uses them."""
    if config.stash.get(_HEADER_SHOWN, False):
        return None
    uses = any("unigrad_backend" in getattr(i, "fixturenames", ()) for i in items)
    return [header(config)] if uses else None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "unigrad_backend" in metafunc.fixturenames:
        params = [
            BackendParam(b, d)
            for b in chosen_backends(metafunc.config)
            for d in chosen_dtypes(metafunc.config)
        ]
        metafunc.parametrize("unigrad_backend", params, ids=[str(p) for p in params], indirect=True)


def skip_or_fail_unavailable(name: str, in_process: bool = True) -> None:
    """Skip a backend that is not installed (with the install hint); fail a broken one."""
    import unigrad
    from unigrad.errors import BackendUnavailableError

    spec = registry.specs()[name]
    avail = spec.availability()
    if not avail.available:
        pytest.skip(f"{name} is not installed: {avail.reason}. Install: {spec.install_hint}")
    if avail.runs_in == "worker":
        if in_process:
            pytest.skip(
                f"{name} runs in its own environment ({avail.reason}); run these tests "
                "with that environment's python, or use unigrad.testing.assert_agree"
            )
        return
    try:
        unigrad.get_backend(name).impl  # noqa: B018 - loading is the check
    except BackendUnavailableError as exc:
        pytest.fail(f"{name} is installed but broken: {exc}", pytrace=False)


REQUIREMENTS = (*C.ALL, *C.TRANSFORM_NEEDS)


def requirement_gap(name: str, needs: tuple[str, ...]) -> str | None:
    """Why backend ``name`` cannot serve ``needs`` (capabilities or transform names) at all.

    A capability the backend has partly (or emulated) is no gap: the test runs, and an
    ``UnsupportedError`` it raises skips it.
    """
    caps = registry.specs()[name].capabilities
    for need in needs:
        for cap in C.TRANSFORM_NEEDS.get(need, (need,)):
            if not caps.get(cap):
                return f"{name} declares no {cap} (needed for {need})"
    return None


def _check_requirements(item: pytest.Item) -> None:
    for marker in item.iter_markers("unigrad_requires"):
        if not marker.args:
            raise pytest.UsageError(
                f"{item.nodeid}: @pytest.mark.unigrad_requires needs a capability, e.g. "
                "unigrad_requires('hessian')"
            )
        for need in marker.args:
            if need not in REQUIREMENTS:
                from unigrad.compare.case_checks import suggest

                raise pytest.UsageError(
                    f"{item.nodeid}: @pytest.mark.unigrad_requires: "
                    + suggest(need, REQUIREMENTS, "capability")
                )


@pytest.fixture
def unigrad_backend(request: pytest.FixtureRequest) -> Any:
    """The backend and dtype of this test's parameters, active for the whole test."""
    import unigrad

    param: BackendParam = request.param
    skip_or_fail_unavailable(param.name)
    marker = request.node.get_closest_marker("unigrad_requires")
    if marker is not None:
        gap = requirement_gap(param.name, tuple(marker.args))
        if gap:
            request.node.stash[_RESULT] = {"gap": gap}
            pytest.skip(gap)
    with unigrad.use_backend(param.name):
        yield param


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    """Under ``unigrad_requires``, an ``UnsupportedError`` is a skip that says why."""
    from unigrad.errors import UnsupportedError

    try:
        return (yield)
    except UnsupportedError as exc:
        if item.get_closest_marker("unigrad_requires") is None:
            raise
        item.stash[_RESULT] = {"gap": str(exc)}
        pytest.skip(str(exc))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        _check_requirements(item)
    entries = config.stash.get(_XFAILS, None)
    if not entries:
        return
    for item in items:
        for e in entries:
            if _matches(e, item):
                e["hits"] += 1
                item.add_marker(pytest.mark.xfail(reason=e["reason"], strict=True))
                break
    for e in entries:
        if not e["hits"]:
            warnings.warn(
                pytest.PytestWarning(
                    f"unigrad xfail entry {e['pattern']!r} (line {e['line']}) matches no test; "
                    "remove it or fix the pattern"
                ),
                stacklevel=1,
            )


def pytest_collection_finish(session: pytest.Session) -> None:
    session.config.stash[_POSITIONS] = {item.nodeid: i for i, item in enumerate(session.items)}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """Note which test runs, so that a record keeps its test's place in the collection."""
    item.config.stash[_CURRENT] = item.config.stash.get(_POSITIONS, {}).get(item.nodeid, -1)
    return (yield)


def record(config: pytest.Config, rec: Any) -> None:
    """Keep a conformance cell's record (a ``unigrad.compare.records.Record``) for the report."""
    config.stash[_RECORDS].append(rec)
    config.stash[_ORDER].append(config.stash.get(_CURRENT, -1))


def _outcome_record(item: pytest.Item, report: pytest.TestReport, param: BackendParam) -> Any:
    """The record of one ``unigrad_backend`` test's outcome, for ``--unigrad-report``."""
    from unigrad.compare.records import Record, Status

    gap = item.stash.get(_RESULT, {}).get("gap")
    if hasattr(report, "wasxfail"):
        status, gap = Status.UNSUPPORTED, f"expected to fail: {report.wasxfail}"
    elif report.passed:
        status = Status.PASS
    elif report.skipped:
        status = Status.UNSUPPORTED if gap else Status.SKIPPED
    else:
        status = Status.FAIL if report.when == "call" else Status.ERROR
    path, line, _ = item.location
    detail = ""
    if report.failed:
        detail = getattr(report.longrepr, "reprcrash", None)
        detail = detail.message if detail is not None else str(report.longrepr)[-500:]
    elif report.skipped and isinstance(report.longrepr, tuple):
        detail = report.longrepr[2]
    return Record(
        case=item.nodeid.split("[", 1)[0],
        source=item.nodeid,
        file=f"{path}:{(line or 0) + 1}",
        transform="test",
        backend=param.name,
        dtype=param.dtype,
        status=status,
        declared_gap=gap if status == Status.UNSUPPORTED else None,
        time=report.duration,
        detail=detail,
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    callspec = getattr(item, "callspec", None)
    param = callspec.params.get("unigrad_backend") if callspec is not None else None
    if not isinstance(param, BackendParam) or not item.config.getoption("--unigrad-report"):
        return report
    # one record per test: its call, or its setup when the test never ran
    if report.when == "call" or (report.when == "setup" and not report.passed):
        record(item.config, _outcome_record(item, report, param))
    return report


def _worker_part(config: pytest.Config) -> bytes:
    """What an xdist worker sends the controller: its records (values included, for the
    cross-backend checks), their tests' places, and the conformance suite's backend info."""
    from unigrad.conformance.suite import existing_state

    state = existing_state(config)
    part = {
        "records": config.stash.get(_RECORDS, []),
        "order": config.stash.get(_ORDER, []),
        "conformance": state is not None,
        "info": state.info if state is not None else {},
    }
    return pickle.dumps(part)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """xdist's controller: keep the part of the report a worker sent (none if it crashed)."""
    data = getattr(node, "workeroutput", {}).get(_WORKER_KEY)
    if data is not None:
        node.config.stash[_FROM_WORKERS].append(pickle.loads(data))


def backend_info(backends: list[str], ran: dict[str, dict]) -> dict[str, dict]:
    """Per backend, what the report's "Backends:" line shows: the conformance suite's worker
    greeting where it ran one, else the installed framework's version (or why it is not)."""
    info = {}
    for b in backends:
        if b in ran:
            info[b] = ran[b]
            continue
        spec = registry.specs().get(b)
        if spec is None:
            continue
        a = spec.availability()
        info[b] = {"version": a.version} if a.available else {"error": a.reason or "not installed"}
    return info


def pytest_sessionfinish(session: pytest.Session) -> None:
    out = session.config.getoption("--unigrad-report", None)
    if not out:
        return
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller writes
        session.config.workeroutput[_WORKER_KEY] = _worker_part(session.config)  # type: ignore[attr-defined]
        return
    from unigrad.compare import reports
    from unigrad.compare.records import ResultsStream, RunResult
    from unigrad.compare.runner import new_run_dir
    from unigrad.compare.selection import select_cases
    from unigrad.compare.verdicts import cross_check
    from unigrad.conformance.suite import existing_state

    config = session.config
    records = list(config.stash.get(_RECORDS, []))
    state = existing_state(config)
    cases = state.cases if state is not None else []
    problems = state.problems if state is not None else []
    ran = dict(state.info) if state is not None else {}
    parts = config.stash.get(_FROM_WORKERS, [])
    if parts:  # xdist: every worker's records, in the order of their tests' collection
        placed = [(pos, rec) for p in parts for pos, rec in zip(p["order"], p["records"])]
        placed.sort(key=lambda pr: pr[0])
        records += [rec for _, rec in placed]
        for p in parts:
            ran.update(p["info"])
        if state is None and any(p["conformance"] for p in parts):
            sel = select_cases(None)  # as the workers' suites did
            cases, problems = sel.cases, sel.problems
    backends = [*chosen_backends(config), *(r.backend for r in records)]
    backends = list(dict.fromkeys(backends))
    run_dir = new_run_dir(out)
    stream = ResultsStream(run_dir / "results.jsonl")
    stream.write_all([*problems, *records])
    stream.close()
    res = RunResult(
        run_dir=run_dir,
        records=records,
        cases=cases,
        backends=backends,
        dtypes=chosen_dtypes(config),
        problems=problems,
        disagreements=cross_check(records, {c.id: c for c in cases}),
        backend_info=backend_info(backends, ran),
        backend_time={},
        wall=0.0,
    )
    reports.write(res, tuple(f for f in reports.FORMATS if not reports.missing_packages((f,))))
