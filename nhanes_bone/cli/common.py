"""What every command shares: the app, consoles, common options and types, one comma-list
parser, and one error handler that turns the project's own errors (NhanesBoneError) into one
red line and exit code 1 — anything else is a bug and shows its traceback."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from nhanes_bone.core.errors import InputError, NhanesBoneError

app = typer.Typer(
    help="NHANES bone-health warehouse: ingest XPT files into DuckDB, build it with dbt, "
    "check it, analyse it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)
console = Console()
err = Console(stderr=True)


class _NoticeHandler(logging.Handler):
    """The project's log records of level WARNING and up (a leftover of a killed build removed,
    …) as one yellow line each on stderr."""

    def emit(self, record: logging.LogRecord) -> None:
        err.print(f"[yellow]note:[/] {record.getMessage()}", highlight=False, soft_wrap=True)


_notices = logging.getLogger("nhanes_bone")
if not any(isinstance(h, _NoticeHandler) for h in _notices.handlers):
    _notices.addHandler(_NoticeHandler(logging.WARNING))

WAREHOUSE_PANEL = "Warehouse: build, check, explore"
STUDIES_PANEL = "Studies: Peng et al. 2025 and IMOS on NHANES"
METHODS_PANEL = "Methods on any CSV"

DataDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Folder searched (with subfolders) for NHANES .xpt files [env NHANES_DATA_DIR; default data/raw].",
    ),
]
WarehouseOpt = Annotated[
    Path | None,
    typer.Option(
        "--warehouse", help="DuckDB warehouse file [env WAREHOUSE; default warehouse/nhanes.duckdb]."
    ),
]
CsvOpt = Annotated[
    Path,
    typer.Option(exists=True, dir_okay=False, readable=True, help="CSV file."),
]


OutcomeOpt = Annotated[str, typer.Option(help="Outcome column (0/1 for binomial).")]
MixtureOpt = Annotated[str, typer.Option(help="Mixture exposures, comma-separated.")]
CovariatesOpt = Annotated[
    str, typer.Option(help="Covariate columns, comma-separated (text columns become dummies).")
]
QuantilesOpt = Annotated[int, typer.Option(help="Number of quantiles.")]


class Family(StrEnum):
    binomial = "binomial"
    gaussian = "gaussian"


class Direction(StrEnum):
    positive = "positive"
    negative = "negative"


class Signal(StrEnum):
    t2 = "t2"
    abst = "abst"
    one = "one"
    t3 = "t3"
    expt = "expt"


class SplitRule(StrEnum):
    bernoulli = "bernoulli"
    fixed = "fixed"


class Summaries(StrEnum):
    approx = "approx"
    exact = "exact"


class OutputFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"
    markdown = "markdown"


@contextlib.contextmanager
def clear_errors() -> Iterator[None]:
    """The project's own errors become one red line and exit code 1; a bug keeps its traceback."""
    try:
        yield
    except NhanesBoneError as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def progress_bar(label: str, width: int = 0):
    """The one look of a progress bar: ``label`` description, bar, done/total, elapsed."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(
        TextColumn(f"[bold]{label}[/] {{task.description{f':<{width}' if width else ''}}}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def comma_list(text: str | None) -> list[str]:
    """``"a, b,,c"`` → ``["a", "b", "c"]``: the one parser of comma-separated options."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def _existing_csv(path: Path) -> Path:
    if not path.exists():
        raise InputError(f"{path}: no such CSV file")
    return path


def read_csv_option(path: Path):
    """A CSV named on the command line, or one clear error."""
    import pandas as pd

    return pd.read_csv(_existing_csv(path))


def read_csv_columns_option(path: Path):
    """A CSV named on the command line as ``Columns`` (``analysis.methods.frames``), read
    without pandas when its cells are plain numbers; or one clear error."""
    from analysis.methods.frames import read_csv

    return read_csv(_existing_csv(path))


def parse_vars(values: list[str] | None) -> dict:
    parsed = {}
    for item in values or []:
        key, sep, raw = item.partition("=")
        if not sep:
            raise InputError(f"--var expects NAME=VALUE, got {item!r}")
        try:
            parsed[key] = json.loads(raw)
        except json.JSONDecodeError:
            parsed[key] = raw
    return parsed


VarOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--var",
        help="A dbt var as NAME=VALUE (JSON values allowed), e.g. --var spine_reference=looker_1998; repeatable.",
    ),
]
