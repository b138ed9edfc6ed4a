"""Run every benchmark and print the ratios: ``make bench``. Exit 1 if a target is missed."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import bench_engine
import bench_facade

if __name__ == "__main__":
    ok = bench_engine.report("reference engine (numpy backend)", bench_engine.main())
    ok &= bench_engine.report("facade overhead over native idioms", bench_facade.main())
    sys.exit(0 if ok else 1)
