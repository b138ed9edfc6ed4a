"""Ops whose meaning unigrad pins, written once for every backend over its own op table.

``PINS`` hold unigrad's meaning of an op (used on every backend unless it lists the name in
``native_pins``); ``FALLBACKS`` are compositions for ops a framework's namespace lacks;
``LINALG_PINS`` the same for ``unigrad.numpy.linalg``. Each module of this package registers its
ops into them: ``core`` (creation, kinks, reductions, indexing), and one module per family of
ops added later.
"""

from unigrad.backends.conventions import elementwise  # noqa: F401  (issue 16: elementwise)
from unigrad.backends.conventions.core import FALLBACKS, LINALG_PINS, PINS

__all__ = ["FALLBACKS", "LINALG_PINS", "PINS"]
