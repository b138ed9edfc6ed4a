"""Shared state of a conformance session: cases, reference, and per-backend workers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from unigrad.compare.case import Case
from unigrad.compare.records import CaseResults, Problem
from unigrad.compare.reference import Reference, reference
from unigrad.compare.runner import request_case
from unigrad.compare.selection import select_cases

_STATE = pytest.StashKey["SuiteState"]()


@dataclass
class SuiteState:
    """Cases and reference (computed once), worker results cached per (backend, case)."""

    cases: list[Case]
    backends: list[str]
    dtypes: list[str]
    problems: list[Problem]
    reference: Reference | None = None
    results: dict[tuple[str, str], CaseResults] = field(default_factory=dict)
    workers: dict[str, Any] = field(default_factory=dict)
    info: dict[str, dict] = field(default_factory=dict)

    def ref(self) -> Reference:
        """The reference results (computed on first use)."""
        if self.reference is None:
            self.reference = reference(self.cases)
        return self.reference

    def results_of(self, backend: str, case: Case, timeout: float = 120.0) -> CaseResults:
        """The worker's results for every dtype and transform of ``case`` (one request)."""
        from unigrad.workers.client import Worker

        key = (backend, case.id)
        if key not in self.results:
            w = self.workers.get(backend)
            if w is None:
                w = self.workers[backend] = Worker(backend)
                self.info[backend] = w.ping(timeout=180)
            ds = [d for d in self.dtypes if d in case.dtypes]
            self.results[key] = request_case(w, case, backend, ds, timeout)
        return self.results[key]

    def close(self) -> None:
        """Stop the workers."""
        for w in self.workers.values():
            w.kill()


def existing_state(config: pytest.Config) -> SuiteState | None:
    """The session's conformance state, if the conformance suite ran."""
    return config.stash.get(_STATE, None)


def suite_state(config: pytest.Config) -> SuiteState:
    """The session's conformance state (built on first use)."""
    from unigrad.testing.pytest_plugin import chosen_backends, chosen_dtypes

    st = config.stash.get(_STATE, None)
    if st is None:
        sel = select_cases(None)
        st = SuiteState(sel.cases, chosen_backends(config), chosen_dtypes(config), sel.problems)
        config.stash[_STATE] = st
    return st
