"""The unigrad pytest plugin (entry point ``pytest11``). It changes nothing unless asked.

Options: ``--unigrad-backends`` (or ``UNIGRAD_BACKENDS``), ``--unigrad-dtypes``,
``--unigrad-xfails FILE``, ``--unigrad-report DIR``. The fixture ``unigrad_backend`` is
parametrised over the chosen backends and dtypes (ids like ``torch-float32``) and makes its
backend the active one inside the test. ``@pytest.mark.unigrad_requires("hessian")`` skips a
backend that declares that gap.
"""

from __future__ import annotations

import fnmatch
import os
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
        help="expected failures: one 'pattern: reason' a line, patterns match test ids (fnmatch)",
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


def _read_xfails(path: str) -> list[dict]:
    entries = []
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        pattern, _, reason = line.partition(":") if ": " in line else (line, "", "")
        entries.append(
            {
                "pattern": pattern.strip(),
                "reason": reason.strip() or "expected to fail (xfail file)",
                "line": n,
                "hits": 0,
            }
        )
    return entries


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "unigrad_requires(capability): skip backends that declare this gap "
        "(a capability such as 'higher_order' or a transform such as 'hessian')",
    )
    config.stash[_RECORDS] = []
    xf = config.getoption("--unigrad-xfails")
    if xf:
        if not Path(xf).exists():
            raise pytest.UsageError(f"--unigrad-xfails: no file {xf}")
        config.stash[_XFAILS] = _read_xfails(xf)


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    if not (config.getoption("--unigrad-backends") or os.environ.get("UNIGRAD_BACKENDS")):
        return None
    from unigrad import __version__

    parts = []
    for b in chosen_backends(config):
        a = registry.specs()[b].availability()
        where = "" if a.runs_in == "process" else " (worker)"
        parts.append(f"{b} {a.version or 'not installed'}{where}")
    return [f"unigrad {__version__}: " + ", ".join(parts)]


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


def requirement_gap(name: str, needs: tuple[str, ...]) -> str | None:
    """Why backend ``name`` cannot serve ``needs`` (capabilities or transform names)."""
    caps = registry.specs()[name].capabilities
    for need in needs:
        for cap in C.TRANSFORM_NEEDS.get(need, (need,)):
            if not caps.get(cap):
                return f"{name} declares no {cap} (needed for {need})"
    return None


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
            pytest.skip(gap)
    with unigrad.use_backend(param.name):
        yield param


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    entries = config.stash.get(_XFAILS, None)
    if not entries:
        return
    for item in items:
        for e in entries:
            if fnmatch.fnmatchcase(item.nodeid, e["pattern"]) or fnmatch.fnmatchcase(
                item.name, e["pattern"]
            ):
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


def record(config: pytest.Config, rec: Any) -> None:
    """Keep a conformance cell's record (a ``unigrad.compare.records.Record``) for the report."""
    config.stash[_RECORDS].append(rec)


def pytest_sessionfinish(session: pytest.Session) -> None:
    out = session.config.getoption("--unigrad-report", None)
    records = session.config.stash.get(_RECORDS, [])
    if not out or not records:
        return
    import time

    from unigrad.compare import reports
    from unigrad.compare.records import ResultsStream, RunResult
    from unigrad.compare.verdicts import pairwise
    from unigrad.conformance.suite import suite_state

    state = suite_state(session.config)
    run_dir = Path(out) / time.strftime("%Y%m%d-%H%M%S")
    run_dir.mkdir(parents=True, exist_ok=True)
    stream = ResultsStream(run_dir / "results.jsonl")
    stream.write_all([*state.problems, *records])
    stream.close()
    res = RunResult(
        run_dir=run_dir,
        records=records,
        cases=state.cases,
        backends=state.backends,
        dtypes=state.dtypes,
        problems=state.problems,
        disagreements=pairwise(records, {c.id: c for c in state.cases}),
        backend_info=state.info,
        backend_time={},
        wall=0.0,
    )
    reports.write(res)
