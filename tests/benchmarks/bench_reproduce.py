"""The reproduction search on the genuine NHANES files: definitions per second, against its
anchor — one `dbt run` per definition (measured here once, on the same warehouse).

Prints figures; asserts nothing. Usage: python tests/benchmarks/bench_reproduce.py [DATA_DIR] [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from analysis.studies.peng2025.reproduce import grid_size, load_candidates, search
from ingest.build import build_warehouse, dbt_build
from nhanes_bone.core.settings import PROJECT_ROOT, quiet_third_parties


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data_dir", nargs="?", default=str(PROJECT_ROOT.parent / "shared" / "nhanes"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    quiet_third_parties()
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = Path(tmp) / "bench.duckdb"
        build_warehouse(Path(args.data_dir), warehouse, dbt_args=("build", "--quiet"))
        start = time.perf_counter()
        candidates = load_candidates(warehouse)
        load_seconds = time.perf_counter() - start
        timings = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            search(candidates)
            timings.append(time.perf_counter() - start)
        start = time.perf_counter()
        dbt_build(warehouse, {"hypertension_definition": "told"}, ("run", "--quiet"))
        one_rebuild = time.perf_counter() - start
    n = grid_size()
    best, median = min(timings), statistics.median(timings)
    print(f"reproduction search: {n:,} definitions, candidates read in {load_seconds:.2f} s")
    print(
        f"  search      best {best:.2f} s, median {median:.2f} s over {args.repeat} runs: {n / best:,.0f} definitions/s"
    )
    print(
        f"  anchor      one `dbt run` per definition: {one_rebuild:.1f} s each (measured), "
        f"{n * one_rebuild / 3600:,.0f} h for the grid — the search is {n * one_rebuild / best:,.0f}× faster"
    )


if __name__ == "__main__":
    main()
