"""Tables to model matrices, quantile scores and complete rows, shared by the methods (WQS's
and qgcomp's quantised exposures, covariates and weights, BKMR's X).

A table is either a pandas DataFrame or ``Columns``: the column name → one 1-D numpy array,
float64 for a numeric column (NaN where missing) and object for any other (``str`` values,
None where missing). ``Columns`` lets a one-off fit on a CSV run without importing pandas,
which costs more than a WQS fit's own start-up (``nhanes-bone wqs``); every function here
takes either, and ``columns_of`` turns a DataFrame into the same ``Columns`` a CSV gives."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

Columns = dict[str, np.ndarray]
Table = Any  # a pandas DataFrame or Columns (typed loosely: pandas is not imported here)


def n_rows(table: Table) -> int:
    """The number of rows of a DataFrame or of ``Columns`` (whose len() counts columns)."""
    if isinstance(table, Mapping):
        return len(next(iter(table.values()))) if table else 0
    return len(table)


def columns_of(table: Table, names: list[str]) -> Columns:
    """``names`` of ``table`` as ``Columns``. A DataFrame's numeric columns (bool excepted)
    become float64 with NaN for missing values; every other column its values as text (what
    ``astype(str)`` gives, so a bool column has the levels False and True), None for missing."""
    if isinstance(table, Mapping):
        return {name: table[name] for name in names}
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    columns = {}
    for name in names:
        col = table[name]
        if is_numeric_dtype(col) and not is_bool_dtype(col):
            columns[name] = col.to_numpy(dtype=float, na_value=np.nan)
        else:
            text = col.astype(str).to_numpy(dtype=object)
            text[col.isna().to_numpy()] = None
            columns[name] = text
    return columns


def take_rows(columns: Columns, rows: np.ndarray) -> Columns:
    """The rows ``rows`` (a mask or positions) of every column."""
    return {name: values[rows] for name, values in columns.items()}


def _present(values: Any) -> np.ndarray:
    """Where a column (a pandas Series or a ``Columns`` array) holds a value."""
    if hasattr(values, "notna"):
        return values.notna().to_numpy()
    if values.dtype.kind == "f":
        return ~np.isnan(values)
    return np.array([value is not None for value in values], dtype=bool)


def _is_text(values: Any) -> bool:
    return values.dtype.kind not in "iuf"


def model_matrix(table: Table, covariates: list[str]) -> tuple[np.ndarray, list[str]]:
    """Intercept, then numeric covariates as is and others as R's treatment dummies (sorted levels)."""
    columns = columns_of(table, covariates)
    matrix, names = [np.ones(n_rows(table))], ["(Intercept)"]
    for name in covariates:
        col = columns[name]
        if not _is_text(col):
            matrix.append(np.asarray(col, dtype=float))
            names.append(name)
        else:
            text = col.astype(str)
            for level in sorted(set(text))[1:]:
                matrix.append((text == level).astype(float))
                names.append(f"{name}{level}")
    return np.column_stack(matrix), names


def complete_rows(
    data: Table, columns: list[str], weights: np.ndarray | None, error: type[Exception]
) -> tuple[np.ndarray, np.ndarray | None]:
    """The rows of ``data`` with every column present (and a weight, when weights are given:
    na.omit of the model frame, as R's glm does with ``weights``), and those rows' weights —
    checked finite and non-negative, and raising ``error`` when they are not."""
    complete = np.ones(n_rows(data), dtype=bool)
    for name in columns:
        complete &= _present(data[name])
    if weights is None:
        return complete, None
    weights = np.asarray(weights, dtype=float)
    if len(weights) != len(complete):
        raise error(f"weights has {len(weights)} values for {len(complete)} rows of the data")
    complete &= ~np.isnan(weights)
    if np.any(weights[complete] < 0) or not np.all(np.isfinite(weights[complete])):
        raise error("weights must be finite and non-negative")
    return complete, weights[complete]


def r_quantile(x: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """R's ``quantile(x, probs, type = 7)``."""
    return np.quantile(np.asarray(x, dtype=float), probs, method="linear")


def quantile_scores(mixture: pd.DataFrame | Columns, q: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """gWQS's ``gwqs_rank``: scores 0…q−1 per component, and the cut-points used."""
    names = list(mixture) if isinstance(mixture, Mapping) else list(mixture.columns)
    scores = np.empty((n_rows(mixture), len(names)), dtype=float)
    cuts = {}
    for j, name in enumerate(names):
        x = np.asarray(mixture[name], dtype=float)
        qi = np.unique(r_quantile(x, np.linspace(0, 1, q + 1)))  # R's unique() keeps order; these are sorted
        if len(qi) == 1:
            qi = np.array([-np.inf, qi[0]])
        else:
            qi = qi.copy()
            qi[0], qi[-1] = -np.inf, np.inf
        # cut(x, qi, right = TRUE) - 1: the bin (qi[k], qi[k+1]] gets score k
        scores[:, j] = np.searchsorted(qi, x, side="left") - 1
        cuts[name] = qi
    return scores, cuts


def _csv_cell(value: Any) -> Any:
    """A cell as pandas' ``to_csv`` writes it: floats by their shortest repr, NaN and None empty."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return value


def write_csv(columns: Columns, path: Path) -> None:
    """``columns`` as a CSV file with a header, the bytes ``pd.DataFrame(columns).to_csv(path,
    index=False)`` writes, without pandas."""
    import csv

    names = list(columns)
    rows = zip(*(columns[name].tolist() for name in names), strict=True)
    with path.open("w", newline="", encoding="utf-8") as handle:  # as to_csv, whatever the locale
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(names)
        writer.writerows([_csv_cell(v) for v in row] for row in rows)


# pandas' default missing-value markers (read_csv's na_values)
_NA_TEXT = frozenset(
    [
        "#N/A",
        "#N/A N/A",
        "#NA",
        "-1.#IND",
        "-1.#QNAN",
        "-NaN",
        "-nan",
        "1.#IND",
        "1.#QNAN",
        "<NA>",
        "N/A",
        "NA",
        "NULL",
        "NaN",
        "None",
        "n/a",
        "nan",
        "null",
    ]
) | {""}
_NUMBER = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?"


def read_csv(path: Path) -> Columns:
    """A CSV file's columns as ``Columns``, as ``columns_of(pd.read_csv(path), …)`` gives them.

    A file whose every cell is a plain decimal number or one of pandas' missing-value markers
    (the usual input of a fit) is read with the standard library; anything else (text,
    padded cells, repeated or empty headers, blank or ragged rows) is left to pandas, so the
    two readers never disagree about what a cell is."""
    import csv
    import re

    number = re.compile(_NUMBER)
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle))
    except (UnicodeDecodeError, csv.Error):
        rows = []
    header = rows[0] if rows else []
    body = rows[1:]
    plain = (
        len(body) > 0
        and all(header)
        and len(set(header)) == len(header)
        and all(len(row) == len(header) for row in body)
        and all(cell in _NA_TEXT or number.fullmatch(cell) for row in body for cell in row)
    )
    if not plain:
        import pandas as pd

        frame = pd.read_csv(path)
        return columns_of(frame, list(frame.columns))
    return {
        name: np.array([np.nan if cell in _NA_TEXT else float(cell) for cell in cells], dtype=float)
        for name, cells in zip(header, zip(*body, strict=True), strict=True)
    }
