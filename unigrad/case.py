"""The case format of ``unigrad compare`` (``from unigrad.case import Case`` in case files).

The implementation lives in ``unigrad.compare.case``.
"""

from unigrad.compare.case import (
    DTYPES,
    TRANSFORMS,
    Case,
    CaseError,
    CaseLoadError,
    CaseNameError,
    cast,
    load_file,
    read_file,
)

__all__ = [
    "DTYPES",
    "TRANSFORMS",
    "Case",
    "CaseError",
    "CaseLoadError",
    "CaseNameError",
    "cast",
    "load_file",
    "read_file",
]
