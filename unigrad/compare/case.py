"""The case format of ``unigrad compare``: a small declarative Python API.

A case file is a Python module that defines ``Case`` objects (collected from a module-level
``CASES`` list, or from every module-level ``Case``). Example::

    from unigrad.case import Case
    import unigrad.numpy as unp

    CASES = [
        Case(
            id="seed000.partials",
            source="000_85e16e08a85d67b8.txt In[7]",
            function=lambda x, y: x**2 + x * y + y**2,
            inputs=(3.0, 4.0),
            argnums=(0, 1),
            transforms=("value", "grad", "hessian"),
            expected={"value": 37.0, "grad": (10.0, 11.0)},
            gaps={"mxnet": {"hessian": "MXNet has no second-order gradient for x*y"}},
        ),
    ]

Inputs are given (or generated, by a function of a NumPy ``Generator``) in float64 and cast
to each dtype the case runs in; integer data stays integer.
"""

from __future__ import annotations

import ast
import contextlib
import contextvars
import hashlib
import importlib.resources
import importlib.util
import linecache
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from unigrad import pytree
from unigrad.compare import case_checks
from unigrad.compare.case_checks import CaseError
from unigrad.compare.case_checks import CaseNameError as CaseNameError  # re-exported
from unigrad.compare.records import error_text

TRANSFORMS = ("value", "grad", "jacobian", "hessian", "vjp", "jvp", "hvp")
DTYPES = ("float32", "float64")

# While a case file is read: the cases made with bad fields, and why (read_file reports them).
_BAD_CASES: contextvars.ContextVar[list[tuple[Case, CaseError]] | None] = contextvars.ContextVar(
    "unigrad_bad_cases", default=None
)


@dataclass
class Case:
    """One function, its inputs, the transforms to run and what they must give."""

    id: str
    function: Callable[..., Any]
    inputs: Sequence[Any] | Callable[[np.random.Generator], Sequence[Any]]
    source: str = ""
    transforms: Sequence[str] = ("value", "grad")
    argnums: int | tuple[int, ...] = 0
    expected: dict[str, Any] = field(default_factory=dict)
    tolerance: dict[str, dict[str, float]] = field(default_factory=dict)
    gaps: dict[str, dict[str, str]] = field(default_factory=dict)
    dtypes: Sequence[str] = DTYPES
    native: dict[str, Callable[..., Any]] = field(default_factory=dict)
    notes: str = ""
    #: why finite differences cannot check this case (stop_gradient changes the derivative
    #: on purpose); empty means they can
    no_finite_differences: str = ""
    file: str = ""
    line: int = 0
    #: the case file whose import made this case (set when it is read; ``file`` may be a
    #: module beside it that built the Case): workers and repro scripts import this one
    loaded_from: str = field(default="", init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.file:
            frame = sys._getframe(2)  # where Case(...) was written
            self.file, self.line = frame.f_code.co_filename, frame.f_lineno
        try:
            case_checks.check(self, TRANSFORMS, DTYPES)
        except CaseError as exc:
            sink = _BAD_CASES.get()
            if sink is None:  # made outside a case file being read: raise at once
                raise
            sink.append((self, exc))

    @property
    def case_file(self) -> str:
        """The file that workers import to find this case (see ``cells.find_case``)."""
        return self.loaded_from or self.file

    @property
    def where(self) -> str:
        """``file:line`` of the case's definition."""
        return f"{self.file}:{self.line}"

    def seed(self) -> int:
        """A stable seed for this case's generated inputs, tangents and cotangents."""
        return int.from_bytes(hashlib.sha256(self.id.encode()).digest()[:4], "little")

    def make_inputs(self, dtype: str) -> list[Any]:
        """The inputs, generated in float64 and cast to ``dtype`` (integers stay integers)."""
        raw = (
            self.inputs(np.random.default_rng(self.seed()))
            if callable(self.inputs)
            else (self.inputs)
        )
        return [pytree.tree_map(lambda v: cast(v, dtype), a) for a in raw]

    def prepare(
        self,
        backend: str,
        dtypes: list[str],
        transforms: list[str],
        ahead: Sequence[tuple[str, list[str], list[str]]] = (),
    ) -> dict[tuple[str, str], Any]:
        """The cells computed ahead, together, where the backend runs them faster that way:
        ``{(transform, dtype): value}`` (see ``cells.together``); the others run one by one.
        ``ahead`` (the cases asked for next) is for the ops suite's cases, which share one
        program (``OpCase.prepare``)."""
        from unigrad.compare.cells import together

        return together(self, backend, dtypes, transforms)

    def gap(self, backend: str, transform: str) -> str | None:
        """The declared reason ``backend`` cannot run ``transform`` here, if any."""
        return self.gaps.get(backend, {}).get(transform) or self.gaps.get(backend, {}).get("*")


def cast(v: Any, dtype: str) -> Any:
    """Cast a float (or float array) to ``dtype``; anything else is left alone."""
    if isinstance(v, bool):
        return v
    if isinstance(v, float | np.floating):
        return np.asarray(v, dtype=np.float64).astype(dtype)
    if isinstance(v, np.ndarray) and v.dtype.kind == "f":
        return v.astype(dtype)
    return v


def directions(case: Case, shapes: Sequence[tuple[int, ...]], salt: str, dtype: str) -> list:
    """Deterministic random tangents or cotangents of the given shapes (float64, then cast)."""
    rng = np.random.default_rng(case.seed() + sum(map(ord, salt)))
    return [rng.standard_normal(s).astype(dtype) for s in shapes]


class CaseLoadError(Exception):
    """A case file could not be imported; ``where`` is file:line of the failure."""

    def __init__(self, path: str, where: str, message: str) -> None:
        self.path = path
        self.where = where
        super().__init__(f"{where}: {message}")


def _where(exc: BaseException, path: str) -> str:
    line = getattr(exc, "lineno", None) if isinstance(exc, SyntaxError) else None
    if line is None:
        for frame in reversed(traceback.extract_tb(exc.__traceback__)):
            if Path(frame.filename).resolve() == Path(path).resolve():
                line = frame.lineno
                break
    return f"{path}:{line or 1}"


def _cases_line(path: str) -> int:
    """The line of the module-level ``CASES = ...`` in a case file (1 if there is none)."""
    try:
        tree = ast.parse(Path(path).read_text())
    except (OSError, SyntaxError, ValueError):
        return 1
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        if any(isinstance(t, ast.Name) and t.id == "CASES" for t in targets):
            return node.lineno
    return 1


@contextlib.contextmanager
def _folder_on_path(folder: Path) -> Iterator[None]:
    """``folder`` first on ``sys.path`` while a case file in it is imported (as ``python
    file.py`` would have it): the file can import the modules beside it."""
    entry = str(folder)
    sys.path.insert(0, entry)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):  # the case file took it off itself
            sys.path.remove(entry)


def read_file(path: str | Path) -> tuple[list[Case], list[CaseError]]:
    """Import one case file: its good cases, and a located error for each bad one.

    A file that does not import, or whose ``CASES`` is not a list, raises ``CaseLoadError``
    (file:line); a case with bad fields, or an entry of ``CASES`` that is not a ``Case``, costs
    only itself.
    """
    path = str(Path(path).resolve())
    name = "unigrad_cases_" + hashlib.sha256(path.encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise CaseLoadError(path, f"{path}:1", "not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    linecache.checkcache(path)
    bad: list[tuple[Case, CaseError]] = []
    token = _BAD_CASES.set(bad)
    try:
        with _folder_on_path(Path(path).parent):
            spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:  # any failure of user code becomes a located error
        raise CaseLoadError(path, _where(exc, path), error_text(exc)) from exc
    finally:
        _BAD_CASES.reset(token)
    found = getattr(module, "CASES", None)
    if found is None:
        found = [v for v in vars(module).values() if isinstance(v, Case)]
    if not isinstance(found, list | tuple):
        where = f"{path}:{_cases_line(path)}"
        raise CaseLoadError(
            path, where, f"CASES must be a list of Case objects, not {type(found).__name__}"
        )
    errors = [exc for _, exc in bad]
    rejected = {id(c) for c, _ in bad}
    cases = []
    for i, c in enumerate(found):
        if not isinstance(c, Case):
            where = f"{path}:{_cases_line(path)}"
            problem = f"CASES[{i}] is a {type(c).__name__}, not a Case"
            errors.append(CaseError(where, None, [problem]))
        elif id(c) not in rejected:
            c.loaded_from = path
            cases.append(c)
    return cases, errors


def load_file(path: str | Path) -> list[Case]:
    """Import one case file and return its cases; any problem raises CaseLoadError (file:line)."""
    cases, errors = read_file(path)
    if errors:
        first = errors[0]
        raise CaseLoadError(str(path), first.where, str(first).split(": ", 1)[1]) from first
    return cases


def default_case_dir() -> Path:
    """The folder of the case library that ships with unigrad (the package ``unigrad.cases``)."""
    folder = importlib.resources.files("unigrad.cases")
    if not isinstance(folder, Path):  # case files are imported from their paths
        raise RuntimeError(
            f"unigrad's case library is not a folder on disk ({folder}); install unigrad from a "
            "wheel or a checkout, not from a zip archive"
        )
    return folder


def case_files(paths: Sequence[str | Path]) -> list[Path]:
    """Python case files under the given files or folders."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out.extend(sorted(q for q in p.glob("*.py") if not q.name.startswith("_")))
        else:
            out.append(p)
    return out
