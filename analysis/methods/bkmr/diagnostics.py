"""Convergence diagnostics for BKMR chains: rank-normalised split R̂, bulk and tail ESS,
acceptance rates and plain-language warnings when they are poor (the trace plots are
``analysis.report.figures.bkmr_traces``).

R̂ and ESS are those of Vehtari, Gelman, Simpson, Carpenter & Bürkner (2021), "Rank-
normalization, folding, and localization: an improved R̂ for assessing convergence of MCMC",
as arviz-stats computes them: R̂ is the larger of the rank-normalised split R̂ of the draws
and of their folded (|x − median|) values; bulk ESS is the ESS of the rank-normalised draws,
tail ESS the smaller ESS of the 5% and 95% quantile indicators. The paper's thresholds: R̂
below 1.01 and bulk and tail ESS of at least 100 per chain.

bkmr reports none of these; a probit BKMR at n ≈ 900 can sit in a "rough kernel" mode for
thousands of iterations, so every fit carries them and says when they are poor.
"""

from __future__ import annotations

import math

import numpy as np
from arviz_stats.base import array_stats

RHAT_MAX = 1.01
ESS_MIN_PER_CHAIN = 100
PIP_SPREAD_MAX = 0.2  # chains' PIPs for one exposure further apart than this disagree
ACCEPT_RANGE = (0.05, 0.9)
TAIL_PROBS = (0.05, 0.95)
# the overall-risk grid whose ESS is reported (a subset of summaries' 0.25…0.75 by 0.05)
OVERALL_RISK_QUANTILE_LABELS = ("0.25", "0.35", "0.45", "0.55", "0.65", "0.75")


def _chains(chains: list[np.ndarray]) -> np.ndarray:
    """(chain, draw) of equal length; one chain is split into its halves, so that R̂ still
    compares the start of the run with its end."""
    arrays = [np.asarray(c, dtype=float) for c in chains]
    n = min(len(c) for c in arrays)
    if len(arrays) == 1:
        half = n // 2
        return np.array([arrays[0][:half], arrays[0][half : 2 * half]])
    return np.array([c[:n] for c in arrays])


def _stacked(chains: list[np.ndarray]) -> np.ndarray:
    """(chain, draw) for ESS: the chains as they are (one chain is not split for ESS)."""
    return _chains(chains) if len(chains) > 1 else np.asarray(chains[0], dtype=float)[None, :]


def _constant(arr: np.ndarray) -> bool:
    return bool(np.all(arr == arr.flat[0]))


def bulk_ess(chains: list[np.ndarray]) -> float:
    """Bulk ESS over all chains (rank-normalised); a constant trace has no ESS (NaN)."""
    arr = _stacked(chains)
    return math.nan if _constant(arr) else float(array_stats.ess(arr, 0, 1, method="bulk"))


def tail_ess(chains: list[np.ndarray]) -> float:
    arr = _stacked(chains)
    if _constant(arr):
        return math.nan
    return float(array_stats.ess(arr, 0, 1, method="tail", prob=TAIL_PROBS))


def mean_ess(chains: list[np.ndarray]) -> float:
    """The ESS for the Monte Carlo error of a posterior mean (no rank normalisation)."""
    arr = _stacked(chains)
    return math.nan if _constant(arr) else float(array_stats.ess(arr, 0, 1, method="mean"))


def rank_rhat(chains: list[np.ndarray]) -> float:
    """Rank-normalised split R̂ (the larger of bulk and folded); 1 for a constant trace."""
    arr = _chains(chains)
    if _constant(arr):
        return 1.0
    return float(array_stats.rhat(arr, 0, 1, method="rank"))


def _scalars(fit) -> dict[str, list[np.ndarray]]:
    """Post-burn-in traces, per chain, of every scalar worth diagnosing."""
    out: dict[str, list[np.ndarray]] = {}
    for c in fit.chains:
        keep = slice(c.iterations // 2, None)
        series = {"loglik": c.loglik[keep], "lambda": c.lam[keep]}
        for k, name in enumerate(fit.covariates):
            series[f"beta[{name}]"] = c.beta[keep, k]
        for m, name in enumerate(fit.exposures):
            series[f"r[{name}]"] = c.r[keep, m]
        if fit.settings.family == "gaussian":
            series["sigsq"] = c.sigsq[keep]
        for key, v in series.items():
            out.setdefault(key, []).append(v)
    return out


def diagnose(fit) -> dict:
    """Per parameter bulk and tail ESS and R̂ (all chains); per chain acceptance rates and PIPs;
    the starts; whether the chains agree; and warnings. ``ok`` is False when any warning was
    raised."""
    params = {}
    warnings: list[str] = []
    n_chains = len(fit.chains)
    ess_min = ESS_MIN_PER_CHAIN * n_chains
    series = _scalars(fit)
    if min(len(c.thin_rows) for c in fit.chains) >= 8:  # thinned draws: every thin-th iteration
        risk = fit.overall_risk_draws(np.array([float(q) for q in OVERALL_RISK_QUANTILE_LABELS]))
        for j, q in enumerate(OVERALL_RISK_QUANTILE_LABELS):
            series[f"overall_risk[{q}]"] = [r[:, j] for r in risk]
    for name, per_chain in series.items():
        bulk, tail, rhat = bulk_ess(per_chain), tail_ess(per_chain), rank_rhat(per_chain)
        params[name] = {
            "ess_bulk": round(bulk, 1),
            "ess_tail": round(tail, 1),
            "rhat": round(rhat, 4),
            # kept for readers of older outputs: the bulk ESS
            "ess": round(bulk, 1),
        }
        if rhat > RHAT_MAX:
            warnings.append(
                f"{name}: rank-normalised R-hat {rhat:.3f} > {RHAT_MAX} (chains disagree or have not "
                "converged)"
            )
        if name.startswith("r[") or name.startswith("overall_risk["):
            # r sits at 0 for stretches under variable selection; the overall risk is kept at
            # every thin-th draw only, so its ESS counts thinned draws: neither is warned of
            continue
        low = [f"{kind} {value:.0f}" for kind, value in (("bulk", bulk), ("tail", tail)) if value < ess_min]
        if low:
            warnings.append(
                f"{name}: effective sample size ({', '.join(low)}) < {ess_min} ({ESS_MIN_PER_CHAIN} per "
                "chain; run more iterations)"
            )
    chains = []
    for i, c in enumerate(fit.chains):
        acc_l = float(c.accept_lambda[1:].mean())
        info = {
            "chain": i,
            "seed": c.seed,
            "start": c.start,
            "seconds": round(c.seconds, 2),
            "iterations_per_second": round((c.iterations - 1) / c.seconds, 1) if c.seconds > 0 else None,
            "accept_lambda": round(acc_l, 3),
            "accept_lambda_after_burn_in": round(float(c.accept_lambda[c.iterations // 2 :].mean()), 3),
            **(
                {}
                if c.accept_lambda_interwoven is None
                else {
                    "accept_lambda_interwoven_after_burn_in": round(
                        float(c.accept_lambda_interwoven[c.iterations // 2 :].mean()), 3
                    )
                }
            ),
            "jumps": c.jumps,
            # where the time went: seconds per update, "other" = recording and bookkeeping
            "step_seconds": {
                **{k: round(v, 2) for k, v in c.step_seconds.items()},
                "other": round(c.seconds - sum(c.step_seconds.values()), 2),
            },
            "pips": dict(
                zip(
                    fit.exposures,
                    np.round(c.delta[c.iterations // 2 :].mean(axis=0), 3).tolist(),
                    strict=True,
                )
            ),
        }
        if fit.settings.varsel:
            moves = c.move[1:]
            acc = c.accept_r[1:, 0]
            info["accept_switch"] = round(float(acc[moves == 1].mean()), 3) if (moves == 1).any() else None
            info["accept_refine"] = round(float(acc[moves == 2].mean()), 3) if (moves == 2).any() else None
        else:
            info["accept_r"] = np.round(c.accept_r[1:].mean(axis=0), 3).tolist()
        lo, hi = ACCEPT_RANGE
        if fit.settings.update_lambda and not lo <= acc_l <= hi:
            warnings.append(f"chain {i}: lambda acceptance rate {acc_l:.3f} outside [{lo}, {hi}]")
        chains.append(info)
    if len(fit.chains) > 1 and fit.settings.varsel:
        pips = np.array([[c["pips"][e] for e in fit.exposures] for c in chains])
        for m, e in enumerate(fit.exposures):
            spread = float(pips[:, m].max() - pips[:, m].min())
            if spread > PIP_SPREAD_MAX:
                warnings.append(f"PIP of {e} differs between chains by {spread:.2f} > {PIP_SPREAD_MAX}")
    disagreement = [
        w for w in warnings if ("R-hat" in w and not w.startswith("r[")) or w.startswith("PIP of ")
    ]
    if len(fit.chains) == 1:
        warnings.append(
            "one chain only: R-hat compares its two halves; run --chains 2 or more to compare starts"
        )
    return {
        "family": fit.settings.family,
        "varsel": fit.settings.varsel,
        "est_h": fit.settings.est_h,
        "chains": len(fit.chains),
        "iterations": fit.chains[0].iterations,
        "burn_in": fit.chains[0].iterations // 2,
        "parameters": params,
        "per_chain": chains,
        "thresholds": {
            "rhat_max": RHAT_MAX,
            "ess_min_per_chain": ESS_MIN_PER_CHAIN,
            "ess_min": ESS_MIN_PER_CHAIN * len(fit.chains),
            "pip_spread_max": PIP_SPREAD_MAX,
            "accept_range": list(ACCEPT_RANGE),
        },
        "warnings": warnings,
        "ok": not warnings,
        # R̂ above its threshold or PIPs apart: summaries pooled over these chains describe none
        # of them; outputs then carry per-chain summaries and the figures say so
        "chains_agree": len(fit.chains) < 2 or not disagreement,
        "disagreement": disagreement,
    }
