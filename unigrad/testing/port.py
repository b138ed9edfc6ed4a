"""``assert_port``: a port check as a test assertion."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any


def assert_port(
    functions: Mapping[str, Any],
    params: Any,
    inputs: Any = (),
    *,
    layout: Mapping[str, Mapping[str, Any]] | None = None,
    transforms: Sequence[str] | str = ("value", "grad"),
    dtypes: Sequence[str] | str | None = None,
    reference: str | None = None,
    tolerance: dict[str, dict[str, float]] | None = None,
    diagnose: bool = True,
    timeout: float = 120.0,
) -> Any:
    """Check that native implementations agree (``unigrad.port.compare``, same arguments).

    On failure, raises ``unigrad.port.PortMismatchError`` (an ``AssertionError``) whose
    message is the table of failing leaves: the worst element and both values, the
    framework's error, and the porting mistake that explains it where one was found, in the
    style of ``torch.testing.assert_close``. Returns the report when every leaf agrees.
    """
    from unigrad.port import compare

    report = compare(
        functions,
        params,
        inputs,
        layout=layout,
        transforms=transforms,
        dtypes=dtypes,
        reference=reference,
        tolerance=tolerance,
        diagnose=diagnose,
        timeout=timeout,
    )
    return report.raise_if_disagree()
