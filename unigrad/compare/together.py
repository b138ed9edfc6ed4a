"""Cells computed together as one compiled program, where a backend compiles one-off work
faster that way (``Backend.compile_one_off``: JAX compiles every primitive it runs eagerly).

A ``Part`` is one case's share of the program: the arguments it takes and, for each of its
cells, how to compute the cell from those arguments as the compiler traces them. A cell that
fails while it is traced, or whose result is not arrays, is left out of the program (it runs on
its own, where its error is reported); results come back as NumPy in unigrad's pytree order (a
compiler may reorder a dict's keys).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from unigrad import pytree


@dataclass
class Part:
    """One case's share of a program."""

    inputs: list[Any]  #: the program's arguments this part takes
    cells: dict[Any, Callable[[list[Any]], Any]]  #: each cell, from this part's traced inputs


def run(backend: str, build: Callable[[], list[Part | None]]) -> list[dict[Any, Any]] | None:
    """The cells of the parts ``build`` gives (None for a part that could not be built), as
    ``[{cell key: value as NumPy}]`` in their order; None where ``backend`` does not compile
    one-off work (``build`` is not called then). If the program as a whole fails, every part
    gets ``{}``."""
    import unigrad
    from unigrad.api.array import unwrap

    impl = unigrad.get_backend(backend).impl
    parts: list[Part | None] = []
    kept: list[tuple[int, Any, Any]] = []  # (part, cell key, result structure) of each result

    def program(*leaves: Any) -> list[Any]:
        kept.clear()
        results, at = [], 0
        for k, part in enumerate(parts):
            if part is None:
                continue
            mine, at = list(leaves[at : at + len(part.inputs)]), at + len(part.inputs)
            for key, cell in part.cells.items():
                try:
                    out, tdef = pytree.tree_flatten(unwrap(cell(mine)))
                except (Exception, SystemExit):  # it runs on its own, where its error is reported
                    continue
                if all(impl.is_array(v) for v in out):
                    kept.append((k, key, tdef))
                    results.append(out)
        return results

    compiled = impl.compile_one_off(program)
    if compiled is None:
        return None
    parts.extend(build())
    got: list[dict[Any, Any]] = [{} for _ in parts]
    try:
        results = compiled(*[a for p in parts if p is not None for a in p.inputs])
    except Exception:  # the whole program failed: every cell runs on its own
        return got
    for (k, key, tdef), r in zip(kept, results):
        got[k][key] = unigrad.to_numpy(pytree.tree_unflatten(tdef, list(r)))
    return got
