"""One error type for every input problem, so the CLI can print it without a traceback."""

from __future__ import annotations

from pathlib import Path


class IngestError(Exception):
    """A problem with an input file: says which file and what was expected."""

    def __init__(self, path: Path | str, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")
