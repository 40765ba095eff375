"""BKMR from a data frame: named columns in, a ``Fit`` out, bad input named."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.methods.bkmr.chains import run_chains
from analysis.methods.bkmr.model import BkmrSettings
from analysis.methods.bkmr.sampler import BkmrError
from analysis.methods.bkmr.summaries import Fit


def exposure_matrix(frame: pd.DataFrame, exposures: list[str], log: bool, standardize: bool) -> np.ndarray:
    """Exposures as a matrix: ln-transformed (``log``, positive values only) and z-scored
    (``standardize``, SD with n − 1 as R's scale())."""
    z = frame[exposures].to_numpy(dtype=float)
    if log:
        bad = [e for e, ok in zip(exposures, (z > 0).all(axis=0), strict=True) if not ok]
        if bad:
            raise BkmrError(f"--log needs positive exposures; not positive in: {', '.join(bad)}")
        z = np.log(z)
    if standardize:
        sd = z.std(axis=0, ddof=1)
        flat = [e for e, s in zip(exposures, sd, strict=True) if not s > 0]
        if flat:
            raise BkmrError(f"cannot standardize constant exposures: {', '.join(flat)}")
        z = (z - z.mean(axis=0)) / sd
    return z


def fit_bkmr(
    frame: pd.DataFrame,
    outcome: str,
    exposures: list[str],
    covariates: list[str],
    settings: BkmrSettings,
    *,
    chains: int = 2,
    seed: int = 1,
    log: bool = False,
    standardize: bool = False,
    workers: int | None = None,
    scale_covariates: bool = True,
) -> Fit:
    """Check the columns, build y, Z and X (no intercept, as bkmr; text covariates become
    treatment dummies) and run the chains.

    ``scale_covariates``: centre and scale each continuous covariate (more than two distinct
    values; SD with n − 1). With no intercept in X, h carries the level Xβ leaves: with an
    uncentred covariate such as age (≈ 63) β and that level trade off along a long ridge the
    Gibbs steps cross slowly, and h's prior is spent on the offset — bkmr's posterior is not
    invariant to shifting a covariate, so this is a (better-posed) model, not only a faster
    chain (README: the measured difference). β is then per SD (``beta.csv`` gives both). bkmr
    does not scale: ``scale_covariates=False`` (and ``--bkmr-compat``) fit X as given."""
    from analysis.methods.frames import model_matrix

    if not exposures:
        raise BkmrError("BKMR needs at least one exposure")
    missing = [c for c in [outcome, *exposures, *covariates] if c not in frame.columns]
    if missing:
        raise BkmrError(
            f"columns not in the data: {', '.join(missing)} (have: {', '.join(map(str, frame.columns))})"
        )
    used = frame[[outcome, *exposures, *covariates]]
    holes = used.columns[used.isna().any()].tolist()
    if holes:
        counts = ", ".join(f"{c} ({int(used[c].isna().sum())})" for c in holes)
        raise BkmrError(f"missing values in {counts}: BKMR needs complete rows (bkmr stops on NA too)")
    for c in exposures:
        if not pd.api.types.is_numeric_dtype(frame[c]):
            raise BkmrError(f"exposure {c} is not numeric")
    y = pd.to_numeric(frame[outcome], errors="coerce").to_numpy(dtype=float)
    if settings.family == "binomial" and not np.isin(y, [0.0, 1.0]).all():
        raise BkmrError(
            f"outcome {outcome} must be 0/1 for --family binomial; found {sorted(set(y[~np.isin(y, [0, 1])]))[:5]}"
        )
    if np.isnan(y).any():
        raise BkmrError(f"outcome {outcome} is not numeric")
    z = exposure_matrix(frame, exposures, log, standardize)
    x, names = model_matrix(frame, covariates)
    x, names = x[:, 1:], names[1:]
    if x.shape[1] and np.linalg.matrix_rank(x) < x.shape[1]:
        raise BkmrError(f"covariates are collinear: {', '.join(names)}")
    scaling: dict[str, dict[str, float]] = {}
    if scale_covariates:
        x = x.copy()
        for k, name in enumerate(names):
            if len(np.unique(x[:, k])) > 2:
                mean, sd = float(x[:, k].mean()), float(x[:, k].std(ddof=1))
                x[:, k] = (x[:, k] - mean) / sd
                scaling[name] = {"mean": mean, "sd": sd}
    result = run_chains(y, z, x, settings, chains=chains, seed=seed, workers=workers)
    return Fit(
        y, z, x, result, settings, exposures=list(exposures), covariates=names, covariate_scaling=scaling
    )
