"""One error root for the project: every problem the project knows how to explain is a
``NhanesBoneError``, so the command line prints it as one line, and anything else (a bug, in
the project or in a library) shows its traceback."""

from __future__ import annotations

from pathlib import Path


class NhanesBoneError(Exception):
    """A problem with the input or the environment, explained for a person."""


class IngestError(NhanesBoneError):
    """A problem with an input file: says which file and what was expected."""

    def __init__(self, path: Path | str, problem: str):
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")

    def __reduce__(self):  # raised in an ingest worker process, re-raised in the build
        return (type(self), (self.path, self.problem))


class WarehouseError(NhanesBoneError):
    """The warehouse cannot be opened as asked (missing, or locked by another process)."""


class DbtError(NhanesBoneError):
    """dbt did not succeed; the message names the failing model or test."""


class FetchError(NhanesBoneError):
    """A download from CDC failed or is impossible offline."""


class InputError(NhanesBoneError, ValueError):
    """A command-line argument, a setting or a data frame given to a method is not what it
    needs (a ValueError too, so that ``except ValueError`` in callers keeps working)."""
