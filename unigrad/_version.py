"""unigrad's version, read from the installed metadata when there is one."""

from __future__ import annotations

import importlib.metadata

try:
    __version__ = importlib.metadata.version("unigrad")
except importlib.metadata.PackageNotFoundError:  # running from a source tree
    __version__ = "0.1.0+src"
