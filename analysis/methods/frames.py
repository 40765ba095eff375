"""Data frames to model matrices, quantile scores and complete rows, shared by the methods
(WQS's and qgcomp's quantised exposures, covariates and weights, BKMR's X)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def model_matrix(frame: pd.DataFrame, covariates: list[str]) -> tuple[np.ndarray, list[str]]:
    """Intercept, then numeric covariates as is and others as R's treatment dummies (sorted levels)."""
    columns, names = [np.ones(len(frame))], ["(Intercept)"]
    for name in covariates:
        col = frame[name]
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
            columns.append(col.to_numpy(dtype=float))
            names.append(name)
        else:
            levels = sorted(col.astype(str).unique())
            for level in levels[1:]:
                columns.append((col.astype(str) == level).to_numpy(dtype=float))
                names.append(f"{name}{level}")
    return np.column_stack(columns), names


def complete_rows(
    data: pd.DataFrame, columns: list[str], weights: np.ndarray | None, error: type[Exception]
) -> tuple[np.ndarray, np.ndarray | None]:
    """The rows of ``data`` with every column present (and a weight, when weights are given:
    na.omit of the model frame, as R's glm does with ``weights``), and those rows' weights —
    checked finite and non-negative, and raising ``error`` when they are not."""
    complete = data[columns].notna().all(axis=1).to_numpy().copy()
    if weights is None:
        return complete, None
    weights = np.asarray(weights, dtype=float)
    if len(weights) != len(data):
        raise error(f"weights has {len(weights)} values for {len(data)} rows of the data")
    complete &= ~np.isnan(weights)
    if np.any(weights[complete] < 0) or not np.all(np.isfinite(weights[complete])):
        raise error("weights must be finite and non-negative")
    return complete, weights[complete]


def r_quantile(x: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """R's ``quantile(x, probs, type = 7)``."""
    return np.quantile(np.asarray(x, dtype=float), probs, method="linear")


def quantile_scores(mixture: pd.DataFrame, q: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """gWQS's ``gwqs_rank``: scores 0…q−1 per component, and the cut-points used."""
    scores = np.empty(mixture.shape, dtype=float)
    cuts = {}
    for j, name in enumerate(mixture.columns):
        x = mixture[name].to_numpy(dtype=float)
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
