"""Findings: disagreements that survived the stability filter, shrunk and deduplicated.

A finding's signature is (op, backend, transform, order, kind); ``op`` names the ops of its
shrunk program (``"sqrt+where"``), comparisons that only build a condition left out. The store
streams each new finding to ``findings.jsonl`` as it is found, and counts the later programs
that show it again (``occurrences``).
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from unigrad.fuzz.judge import Candidate
from unigrad.fuzz.program import Program

HELPER_OPS = frozenset({"greater"})  #: ops that only build a condition


def signature_op(program: Program) -> str:
    """The op part of a signature: the program's ops, sorted, joined by '+'."""
    ops = sorted({op for op in program.ops() if op not in HELPER_OPS})
    return "+".join(ops) or "+".join(sorted(set(program.ops())))


@dataclass
class Finding:
    """One deduplicated finding."""

    op: str
    backend: str
    transform: str
    order: int
    kind: str
    dtype: str
    against: str
    detail: str
    program: dict  #: the shrunk program (Program.to_json)
    first_program: int  #: the campaign's number of the program that found it
    original_ops: int  #: ops in that program before shrinking
    versions: dict[str, str] = field(default_factory=dict)
    got: Any = None
    want: Any = None
    occurrences: int = 0  #: programs of finished shards that showed it
    dtypes: list[str] = field(default_factory=list)
    repro: str = ""
    native_repro: str = ""

    @property
    def signature(self) -> tuple[str, str, str, int, str]:
        return (self.op, self.backend, self.transform, self.order, self.kind)

    @property
    def id(self) -> str:
        """A short stable name for the signature."""
        return hashlib.sha256(json.dumps(self.signature).encode()).hexdigest()[:10]

    def row(self) -> dict:
        """What findings.jsonl holds for this finding."""
        return {"id": self.id, **asdict(self)}

    @classmethod
    def from_row(cls, row: dict) -> Finding:
        """The inverse of ``row``."""
        data = {k: v for k, v in row.items() if k != "id"}
        return cls(**data)

    def shrunk(self) -> Program:
        return Program.from_json(self.program)


def make(c: Candidate, shrunk: Program, original: Program, versions: dict[str, str]) -> Finding:
    """A finding for candidate ``c``, shown by the shrunk program."""
    return Finding(
        op=signature_op(shrunk),
        backend=c.backend,
        transform=c.transform,
        order=c.order,
        kind=c.kind,
        dtype=c.dtype,
        against=c.against,
        detail=c.detail,
        program=shrunk.to_json(),
        first_program=c.index,
        original_ops=len(original.nodes),
        versions=versions,
        got=c.got,
        want=c.want,
        dtypes=[c.dtype],
        occurrences=0,  # counted with its shard
    )


class Store:
    """Every finding of a campaign by signature, streamed to ``findings.jsonl``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.findings: dict[tuple, Finding] = {}
        self._lock = threading.Lock()
        if path.exists():
            for line in path.read_text().splitlines():
                if line.strip():
                    f = Finding.from_row(json.loads(line))
                    self.findings.setdefault(f.signature, f)
            for f in self.findings.values():
                f.occurrences = 0  # counted again from the shards that finished
        self.path.touch()

    def known(self, c: Candidate, program: Program) -> Finding | None:
        """A finding that already explains ``c``: same backend, transform, order, kind and
        opponent, and every op of its shrunk program is in ``program``."""
        ops = set(program.ops())
        for f in self.findings.values():
            if (f.backend, f.transform, f.order, f.kind, f.against) != (
                c.backend,
                c.transform,
                c.order,
                c.kind,
                c.against,
            ):
                continue
            if set(f.shrunk().ops()) <= ops:
                return f
        return None

    def add(self, finding: Finding) -> tuple[Finding, bool]:
        """Record ``finding``; (the stored finding, whether it is new)."""
        with self._lock:
            old = self.findings.get(finding.signature)
            if old is not None:
                return old, False
            self.findings[finding.signature] = finding
            with self.path.open("a") as fh:
                fh.write(json.dumps(finding.row(), default=str) + "\n")
            return finding, True

    def rewrite(self) -> None:
        """findings.jsonl with the final rows (occurrences, repro paths)."""
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(f.row(), default=str) + "\n" for f in self.sorted()))
        tmp.replace(self.path)

    def sorted(self) -> list[Finding]:
        """Findings by kind, op, backend, transform."""
        return sorted(self.findings.values(), key=lambda f: (f.kind, f.op, f.backend, f.transform))
