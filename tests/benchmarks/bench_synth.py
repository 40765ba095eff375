"""Synthetic-twin generation time at scale 1 and 10 (and 100 with --large).

Prints figures; asserts nothing. Usage: python tests/benchmarks/bench_synth.py [--large]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from ingest.synth import synthesize


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--large", action="store_true", help="also scale 100 (about 2.6 million participants)"
    )
    args = parser.parse_args()
    for scale in (1, 10, 100) if args.large else (1, 10):
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            truth = synthesize(Path(tmp), seed=1, scale=scale)
            elapsed = time.perf_counter() - start
            size = sum(p.stat().st_size for p in Path(tmp).glob("*.XPT"))
            people = truth["table_rows"]["DEMO_H.XPT"] + truth["table_rows"]["P_DEMO.XPT"]
        print(
            f"synth scale {scale:>3}: {elapsed:6.2f} s, {people:,} participants, {size / 1e6:.0f} MB of XPT "
            f"(cohort {truth['study1_expected']['cohort_n']:,})"
        )


if __name__ == "__main__":
    main()
