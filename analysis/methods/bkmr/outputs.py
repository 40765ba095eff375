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


def summaries(fit: Fit, method: str = "approx", per_chain: bool = False) -> dict[str, pd.DataFrame]:
    """The pooled summaries (``chain`` = "all"); with ``per_chain`` — which write_fit and the
    study ask for when the chains disagree — each chain's own rows after them (chain 0, 1, …)."""
    fits = [("all", fit)] + ([(str(i), fit.chain(i)) for i in range(len(fit.chains))] if per_chain else [])
    out: dict[str, list[pd.DataFrame]] = {}
    for label, f in fits:
        for name, table in (
            ("pips", f.pips()),
            ("overall_risk", f.overall_risk(method=method)),
            ("univariate", f.univariate(method=method)),
            ("singvar", f.single_variable(method=method)),
            ("beta", f.beta()),
        ):
            out.setdefault(name, []).append(table.assign(chain=label))
    return {name: pd.concat(parts, ignore_index=True) for name, parts in out.items()}


def write_fit(fit: Fit, out: Path, method: str = "approx") -> dict:
    """Write every file; returns the diagnostics (with their warnings)."""
    out.mkdir(parents=True, exist_ok=True)
    diagnostics = diagnose(fit)
    for name, table in summaries(fit, method, per_chain=not diagnostics["chains_agree"]).items():
        table.to_csv(out / f"{name}.csv", index=False)
    diagnostics["summary_method"] = method
    diagnostics["covariate_scaling"] = fit.covariate_scaling
    diagnostics["bkmr_compat"] = fit.settings.bkmr_compat
    (out / "diagnostics.json").write_text(json.dumps(diagnostics, indent=2, default=float))
    draws = draws_frame(fit)
    draws.to_csv(out / "draws.csv.gz", index=False)
    from analysis.methods.bkmr import plots

    fig = plots.bkmr_traces(draws, disagree=not diagnostics["chains_agree"])
    fig.savefig(out / "trace.png", dpi=110)
    plots.plt.close(fig)
    return diagnostics
