"""A BKMR fit's files: pips.csv, overall_risk.csv, univariate.csv, singvar.csv, beta.csv,
diagnostics.json, trace.png and the draws (draws.csv.gz, one row per chain and iteration)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.methods.bkmr.diagnostics import diagnose
from analysis.methods.bkmr.summaries import Fit


def draws_frame(fit: Fit) -> pd.DataFrame:
    parts = []
    for i, c in enumerate(fit.chains):
        d = {
            "chain": i,
            "iteration": np.arange(c.iterations),
            "burn_in": np.arange(c.iterations) < c.iterations // 2,
        }
        d["loglik"] = c.loglik
        d["lambda"] = c.lam
        for k, name in enumerate(fit.covariates):
            d[f"beta[{name}]"] = c.beta[:, k]
        for m, name in enumerate(fit.exposures):
            d[f"r[{name}]"] = c.r[:, m]
            d[f"delta[{name}]"] = c.delta[:, m].astype(int)
        if fit.settings.family == "gaussian":
            d["sigsq"] = c.sigsq
        parts.append(pd.DataFrame(d))
    return pd.concat(parts, ignore_index=True)


def summaries(fit: Fit, method: str = "approx") -> dict[str, pd.DataFrame]:
    return {
        "pips": fit.pips(),
        "overall_risk": fit.overall_risk(method=method),
        "univariate": fit.univariate(method=method),
        "singvar": fit.single_variable(method=method),
        "beta": fit.beta(),
    }


def write_fit(fit: Fit, out: Path, method: str = "approx") -> dict:
    """Write every file; returns the diagnostics (with their warnings)."""
    out.mkdir(parents=True, exist_ok=True)
    for name, table in summaries(fit, method).items():
        table.to_csv(out / f"{name}.csv", index=False)
    diagnostics = diagnose(fit)
    diagnostics["summary_method"] = method
    (out / "diagnostics.json").write_text(json.dumps(diagnostics, indent=2, default=float))
    draws = draws_frame(fit)
    draws.to_csv(out / "draws.csv.gz", index=False)
    from analysis.methods.bkmr import plots

    fig = plots.bkmr_traces(draws)
    fig.savefig(out / "trace.png", dpi=110)
    plots.plt.close(fig)
    return diagnostics
