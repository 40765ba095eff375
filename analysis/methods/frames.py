"""Data frames to model matrices, shared by the methods (WQS's covariates, BKMR's X)."""

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
