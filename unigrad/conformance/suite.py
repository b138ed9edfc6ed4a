"""Shared state of a conformance session: cases, reference, and per-backend workers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from unigrad.compare import runner
from unigrad.compare.case import Case

_STATE = pytest.StashKey["SuiteState"]()


@dataclass
class SuiteState:
    """Cases and reference (computed once), worker results cached per (backend, case)."""

    cases: list[Case]
    backends: list[str]
    dtypes: list[str]
    problems: list[dict]
    reference: runner.Reference | None = None
    results: dict[tuple[str, str], dict] = field(default_factory=dict)
    workers: dict[str, Any] = field(default_factory=dict)
    info: dict[str, dict] = field(default_factory=dict)

    def ref(self) -> runner.Reference:
        if self.reference is None:
            self.reference = runner.reference(self.cases)
        return self.reference

    def raw(self, backend: str, case: Case, timeout: float = 120.0) -> dict:
        """The worker's results for every dtype and transform of ``case`` (one request)."""
        from unigrad.workers.client import Worker

        key = (backend, case.id)
        if key not in self.results:
            w = self.workers.get(backend)
            if w is None:
                w = self.workers[backend] = Worker(backend)
                self.info[backend] = w.request({"op": "ping", "backend": backend}, timeout=180)
            ds = [d for d in self.dtypes if d in case.dtypes]
            self.results[key] = runner.request_case(w, case, backend, ds, timeout)
        return self.results[key]

    def close(self) -> None:
        for w in self.workers.values():
            w.kill()


def suite_state(config: pytest.Config) -> SuiteState:
    """The session's conformance state (built on first use)."""
    from unigrad.testing.pytest_plugin import chosen_backends, chosen_dtypes

    st = config.stash.get(_STATE, None)
    if st is None:
        sel = runner.select_cases(None)
        st = SuiteState(sel.cases, chosen_backends(config), chosen_dtypes(config), sel.problems)
        config.stash[_STATE] = st
    return st
