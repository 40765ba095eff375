"""Ingest throughput on the genuine NHANES files beside the project: MB/s and rows/s.

Prints figures; asserts nothing (speed is measured here, never in tests).
Usage: python tests/benchmarks/bench_ingest.py [DATA_DIR] [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from ingest.load import ingest
from nhanes_bone.core.settings import PROJECT_ROOT


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data_dir", nargs="?", default=str(PROJECT_ROOT.parent / "shared" / "nhanes"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    data = Path(args.data_dir)
    timings, report = [], None
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            report = ingest(data, Path(tmp) / "bench.duckdb", force=True)
            timings.append(time.perf_counter() - start)
    loaded = [r for r in report.results if r.status == "loaded"]
    size = sum(r.size for r in loaded)
    rows = sum(r.rows for r in loaded)
    best, median = min(timings), statistics.median(timings)
    print(f"ingest of {data}: {len(loaded)} files, {size / 1e6:.1f} MB, {rows:,} rows")
    print(
        f"  wall time   best {best:.2f} s, median {median:.2f} s over {args.repeat} runs (fresh warehouse each)"
    )
    print(f"  throughput  {size / 1e6 / best:.1f} MB/s, {rows / best:,.0f} rows/s (best run)")
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = Path(tmp) / "bench.duckdb"
        ingest(data, warehouse)
        start = time.perf_counter()
        ingest(data, warehouse)
        print(
            f"  re-ingest with nothing changed: {time.perf_counter() - start:.2f} s (sha256 of every file, all skipped)"
        )


if __name__ == "__main__":
    main()
