"""Ops whose meaning unigrad pins, written once for every backend over its own op table.

``PINS`` hold unigrad's meaning of an op (used on every backend unless it lists the name in
``native_pins``); ``FALLBACKS`` are compositions for ops a framework's namespace lacks;
``LINALG_PINS`` the same for ``unigrad.numpy.linalg``; ``NN_PINS`` and ``NN_FALLBACKS`` for
``unigrad.nn``. Each module of this package registers its ops into them: ``core`` (creation,
kinks, reductions, indexing), ``nn`` (the neural-network ops), and one module per family of
ops added later: ``structure`` and ``elementwise`` (issue 16), ``constants`` (argmax, any,
real, ...).
"""

from unigrad.backends.conventions import constants, elementwise, structure
from unigrad.backends.conventions.core import FALLBACKS, LINALG_PINS, PINS
from unigrad.backends.conventions.nn import NN_FALLBACKS, NN_PINS

__all__ = [
    "FALLBACKS",
    "LINALG_PINS",
    "NN_FALLBACKS",
    "NN_PINS",
    "PINS",
    "constants",
    "elementwise",
    "structure",
]
