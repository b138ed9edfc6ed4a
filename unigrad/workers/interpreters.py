"""Where a backend that lives in another environment (MXNet) finds its Python interpreter.

Order: ``UNIGRAD_<NAME>_PYTHON``, ``[tool.unigrad] <name>_python`` (relative to its file), then
a ``.venv-<name>/`` folder in, in turn: the folder holding the nearest unigrad configuration,
the working directory, and the source checkout unigrad runs from (``make env`` builds
``.venv-mxnet`` there; an editable install runs from it). An installed wheel has no checkout, so
the last place is skipped. These are only places to look for an interpreter; nothing here
changes ``sys.path``.
"""

from __future__ import annotations

import os
from pathlib import Path

from unigrad.api import config


def _checkout_root() -> Path | None:
    """The unigrad source checkout this package runs from, or None when installed (a wheel)."""
    root = Path(__file__).resolve().parents[2]
    markers = ("pyproject.toml", "backends", "cases")  # site-packages holds none of them
    return root if all((root / m).exists() for m in markers) else None


SOURCE_ROOT = _checkout_root()


def _named(name: str) -> tuple[Path, str] | None:
    """The interpreter named by the environment variable, else by the configuration, if any."""
    env = os.environ.get(f"UNIGRAD_{name.upper()}_PYTHON")
    if env:
        return Path(env), f"UNIGRAD_{name.upper()}_PYTHON"
    path, table = config.settings()
    key = f"{name}_python"
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise config.ConfigError(
            f"{path}: [tool.unigrad] {key} must be the path of a Python interpreter as a "
            f'string, such as {key} = ".venv-{name}/bin/python", not {value!r}'
        )
    p = Path(value).expanduser()
    if not p.is_absolute() and path is not None:
        p = path.parent / p
    return p, f"[tool.unigrad] {key} in {path}"


def _candidates(name: str) -> list[tuple[Path, str]]:
    found: list[tuple[Path, str]] = []
    path, _ = config.settings()
    roots = [Path.cwd()]
    if path is not None:
        roots.insert(0, path.parent)
    if SOURCE_ROOT is not None:
        roots.append(SOURCE_ROOT)
    for root in roots:
        found.append((root / f".venv-{name}" / "bin" / "python", f"{root}/.venv-{name}"))
    return found


def find_python(name: str) -> tuple[Path | None, str]:
    """The interpreter for backend ``name`` and where the choice came from, or (None, why).

    An interpreter named by ``UNIGRAD_<NAME>_PYTHON`` or ``[tool.unigrad] <name>_python`` is
    the one used: when it does not exist, the reason names the variable or the file and key.
    """
    try:
        named = _named(name)
    except config.ConfigError as exc:
        return None, str(exc)
    if named is not None:
        p, origin = named
        if p.is_file():
            return p, origin
        fix = "unset it" if origin.startswith("UNIGRAD_") else "remove the key"
        return None, (
            f"{origin} names {p}, which does not exist; fix the path (make env builds "
            f".venv-{name}/bin/python) or {fix} to use the default .venv-{name}"
        )
    tried = []
    for p, origin in _candidates(name):
        if p.exists():
            return p, origin
        tried.append(str(p))
    return None, "no interpreter found; looked for " + ", ".join(dict.fromkeys(tried))


def dist_version_in(python: Path, dist: str) -> str | None:
    """Read ``dist``'s version from the site-packages beside ``python`` without running it."""
    env_root = python.parent.parent
    for info in env_root.glob(f"lib/python*/site-packages/{dist}-*.dist-info"):
        return info.name[len(dist) + 1 : -len(".dist-info")]
    return None
