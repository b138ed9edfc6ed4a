"""Read-only settings: ``[tool.unigrad]`` in the nearest pyproject.toml, or a unigrad.toml.

Walking up from the working directory, the first ``unigrad.toml`` or ``pyproject.toml`` with a
``[tool.unigrad]`` table wins. ``unigrad.toml`` may hold the keys at top level or under
``[tool.unigrad]``. The files are only read, never written. Lookups are cached per working
directory and re-checked when the file's modification time changes.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_RECHECK_S = 1.0  # how often a cached lookup stats its file again
_cache: dict[str, tuple[float, Path | None, float, dict[str, Any]]] = {}


class ConfigError(ValueError):
    """A configuration file exists but cannot be read."""


def _table(path: Path) -> dict[str, Any] | None:
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read unigrad settings from {path}: {exc}") from exc
    table = data.get("tool", {}).get("unigrad")
    if table is None and path.name == "unigrad.toml":
        table = {k: v for k, v in data.items() if k != "tool"}
    return table


def find_config(start: Path | None = None) -> tuple[Path | None, dict[str, Any]]:
    """Return (file, settings) for the nearest unigrad configuration above ``start``."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        for name in ("unigrad.toml", "pyproject.toml"):
            path = folder / name
            if path.is_file():
                table = _table(path)
                if table is not None:
                    return path, table
    return None, {}


def settings() -> tuple[Path | None, dict[str, Any]]:
    """The cached (file, settings) for the current working directory."""
    cwd = os.getcwd()
    now = time.monotonic()
    hit = _cache.get(cwd)
    if hit is not None:
        checked, path, mtime, table = hit
        if now - checked < _RECHECK_S:
            return path, table
        current = path.stat().st_mtime if path is not None and path.exists() else -1.0
        if path is not None and current == mtime:
            _cache[cwd] = (now, path, mtime, table)
            return path, table
    path, table = find_config(Path(cwd))
    mtime = path.stat().st_mtime if path is not None else -1.0
    _cache[cwd] = (now, path, mtime, table)
    return path, table


def clear_cache() -> None:
    """Forget cached lookups (tests use this after writing a config file)."""
    _cache.clear()
