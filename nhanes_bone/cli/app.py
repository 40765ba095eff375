"""The ``nhanes-bone`` command: the commands of each group register on one Typer app."""

from __future__ import annotations

import gc
import sys

from nhanes_bone.cli import (
    methods,  # noqa: F401
    studies,  # noqa: F401
    warehouse,  # noqa: F401
)

# isort: off  (the order of registration is the order of --help's panels)
from nhanes_bone.cli.common import app

# isort: on


def main() -> None:  # pragma: no cover - console-script entry point
    try:
        app()
    finally:
        # The command is done (its files closed, its output written). Frozen objects are left
        # out of the interpreter's last garbage collections, which otherwise walk everything
        # the imports made (pandas, numpy, …): ~0.1 s of every short command (`nhanes-bone wqs`:
        # medians 1.15 → 1.07 s). Only garbage in reference cycles is left uncollected, and the
        # process is ending. nanobind (DuckDB's bindings) reports every object still alive at
        # teardown as a leak, so a command that loaded DuckDB exits the ordinary way.
        if "_duckdb" not in sys.modules:
            gc.freeze()


if __name__ == "__main__":  # pragma: no cover
    main()
