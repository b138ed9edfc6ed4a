"""Which cases a run uses: from paths, ids and id globs, and the problems met loading them."""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from unigrad.compare.case import Case, CaseLoadError, case_files, default_case_dir, load_file
from unigrad.compare.records import Problem


class UsageError(ValueError):
    """A bad option (an unknown backend, case id or dtype): exit code 2."""


@dataclass
class Selection:
    """The cases to run and the problems met while loading them."""

    cases: list[Case] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def select_cases(specs: Sequence[str] | None) -> Selection:
    """Cases from paths (files or folders), ids and id globs; the shipped library if no path.

    A case file that does not load and a duplicated id become problems (the run goes on and
    exits 1); a pattern that matches no case is a ``UsageError``.
    """
    sel = Selection()
    paths, patterns = [], []
    for s in specs or []:
        (paths if Path(s).exists() or s.endswith(".py") else patterns).append(s)
    if not paths:
        paths = [str(default_case_dir())]
    pool: list[Case] = []
    for f in case_files(paths):
        if not f.exists():
            raise UsageError(f"case file {f} does not exist")
        try:
            pool.extend(load_file(f))
        except CaseLoadError as exc:
            sel.problems.append(Problem("case_file", exc.where, str(exc)))
    seen: set[str] = set()
    for c in pool:
        if c.id in seen:
            sel.problems.append(
                Problem("duplicate_id", c.where, f"{c.where}: case id {c.id!r} is defined twice")
            )
        seen.add(c.id)
    if not patterns:
        sel.cases = pool
        return sel
    for pat in patterns:
        hits = [c for c in pool if fnmatch.fnmatchcase(c.id, pat)]
        if not hits:
            close = difflib.get_close_matches(pat, [c.id for c in pool], n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise UsageError(f"no case matches {pat!r}{hint}")
        sel.cases.extend(c for c in hits if c not in sel.cases)
    return sel
