"""The per-op table: one OpInfo per op (see unigrad/compare/opinfo.py), one module per family.

``OPINFOS`` is every entry; tests/test_ops.py and compare's ops suite run them on every backend.
"""

from unigrad.cases.opinfos.core import OPINFOS as CORE
from unigrad.cases.opinfos.elementwise import OPINFOS as ELEMENTWISE
from unigrad.cases.opinfos.linalg import OPINFOS as LINALG
from unigrad.cases.opinfos.nn import OPINFOS as NN
from unigrad.cases.opinfos.structure import OPINFOS as STRUCTURE

OPINFOS = [*CORE, *STRUCTURE, *ELEMENTWISE, *LINALG, *NN]

__all__ = ["OPINFOS"]
