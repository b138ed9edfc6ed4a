"""Which cases a run uses: from paths, ids and id globs, and the problems met loading them."""

from __future__ import annotations

import difflib
import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from unigrad.compare.case import (
    Case,
    CaseLoadError,
    CaseNameError,
    case_files,
    default_case_dir,
    read_file,
)
from unigrad.compare.records import Problem


class UsageError(ValueError):
    """A bad option (an unknown backend, case id or dtype, or a name a case file gets wrong):
    exit code 2."""


@dataclass
class Selection:
    """The cases to run and the problems met while loading them."""

    cases: list[Case] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _pool(paths: list[str], sel: Selection, timeout: float) -> list[Case]:
    """Every good case of the files under ``paths``, the first definition of each id.

    Each file is imported in a separate process first (``loading.vet``, each under
    ``timeout``): one that raises, crashes, exits or hangs there is a problem of its own, and
    only the others are imported here."""
    from unigrad.compare import loading

    pool: list[Case] = []
    unknown_names: list[str] = []
    seen: set[Path] = set()
    files: list[Path] = []
    for f in case_files(paths):
        if not f.exists():
            raise UsageError(f"case file {f} does not exist")
        if f.resolve() in seen:  # the same file named twice (or through a folder) runs once
            continue
        seen.add(f.resolve())
        files.append(f)
    vetted = loading.vet(files, timeout)
    for f in files:
        if f in vetted:
            sel.problems.append(vetted[f])
            continue
        try:
            cases, errors = read_file(f)
        except CaseLoadError as exc:
            sel.problems.append(Problem("case_file", exc.where, str(exc)))
            continue
        if not cases and not errors:
            sel.problems.append(Problem("case_file", f"{f.resolve()}:1", _no_cases(f)))
        for e in errors:
            if isinstance(e, CaseNameError):
                unknown_names.append(str(e))
            else:
                sel.problems.append(Problem("bad_case", e.where, str(e)))
        pool.extend(cases)
    if unknown_names:
        raise UsageError("\n".join(unknown_names))
    first: dict[str, Case] = {}
    for c in pool:
        if c.id in first:
            sel.problems.append(
                Problem(
                    "duplicate_id",
                    c.where,
                    f"{c.where}: case id {c.id!r} is already defined at {first[c.id].where}; "
                    "this definition is not run (give it another id)",
                )
            )
        else:
            first[c.id] = c
    return list(first.values())


def _no_cases(path: Path) -> str:
    return (
        f"{path.resolve()}:1: this case file defines no case: give it a module-level "
        "CASES = [Case(...), ...] list (a helper module beside your case files: start its "
        "name with _ and a --cases folder leaves it out)"
    )


def resolve_suite(specs: Sequence[str] | None, suite: str | None) -> str:
    """The suite a run uses: as asked, else ``all``, or ``cases`` when case files are given."""
    from unigrad.compare.opcases import SUITES

    if suite is None:
        paths = [s for s in specs or [] if Path(s).exists() or s.endswith(".py")]
        return "cases" if paths else "all"
    if suite not in SUITES:
        raise UsageError(f"--suite must be one of {', '.join(SUITES)}, not {suite!r}")
    return suite


def select_cases(
    specs: Sequence[str] | None,
    suite: str | None = None,
    level: str = "quick",
    timeout: float = 60.0,
) -> Selection:
    """Cases from paths (files or folders), ids and id globs, in the chosen suite.

    ``suite``: ``cases`` (the case files: the shipped library if no path is given), ``ops``
    (the per-op table at ``level``: quick or full) or ``all`` (both); None means ``all``, or
    ``cases`` when a path is given. Case files are imported in a separate process first,
    each under ``timeout`` seconds. A case file that does not load (there: it raises,
    crashes, exits or hangs), a case with badly typed
    fields and a duplicated id become problems (the run goes on without them and exits 1); a
    name a case gets wrong (a transform, dtype or backend) and a pattern that matches no case
    are a ``UsageError``.
    """
    from unigrad.compare import opcases

    if level not in opcases.LEVELS:
        raise UsageError(f"--level must be one of {', '.join(opcases.LEVELS)}, not {level!r}")
    suite = resolve_suite(specs, suite)
    sel = Selection()
    paths, patterns = [], []
    for s in specs or []:
        if not s.strip():
            raise UsageError(
                f"--cases {s!r} names nothing; give a case file, a folder of case files, a case "
                "id or an id glob ('seed00*')"
            )
        (paths if Path(s).exists() or s.endswith(".py") else patterns).append(s)
    ops: list[Case] = list(opcases.suite(level)) if suite in ("ops", "all") else []
    if suite == "ops" and paths:
        raise UsageError("--suite ops runs the per-op table: give ids or globs, not case files")
    if not patterns:
        files = _pool(paths or [str(default_case_dir())], sel, timeout) if suite != "ops" else []
        sel.cases = files + ops
        return sel
    # ids and globs pick from the shipped library and the given files alike
    pool = _pool([*paths, str(default_case_dir())], sel, timeout) if suite != "ops" else []
    pool += ops
    for pat in patterns:
        hits = [c for c in pool if fnmatch.fnmatchcase(c.id, pat)]
        if not hits:
            close = difflib.get_close_matches(pat, [c.id for c in pool], n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise UsageError(f"no case matches {pat!r} in the {suite} suite{hint}")
        sel.cases.extend(c for c in hits if c not in sel.cases)
    return sel
