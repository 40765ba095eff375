"""Convergence diagnostics for BKMR chains: ESS, split R̂, acceptance rates and plain-language
warnings when they are poor (the trace plots are ``analysis.report.figures.bkmr_traces``).

bkmr reports none of these; a probit BKMR at n ≈ 900 can sit in a "rough kernel" mode for
thousands of iterations, so every fit carries them and says when they are poor.
"""

from __future__ import annotations

import math

import numpy as np

# Thresholds behind the warnings (the usual ones: Vehtari et al. 2021 for R̂ and ESS).
RHAT_MAX = 1.1
ESS_MIN = 100
PIP_SPREAD_MAX = 0.2  # chains' PIPs for one exposure further apart than this disagree
ACCEPT_RANGE = (0.05, 0.9)


def effective_sample_size(draws: np.ndarray) -> float:
    """ESS of one chain by Geyer's initial positive sequence of autocorrelations."""
    x = np.asarray(draws, dtype=float)
    n = len(x)
    if n < 4 or np.var(x) == 0:
        return float(n)
    x = x - x.mean()
    f = np.fft.rfft(x, 2 * n)
    acf = np.fft.irfft(f * np.conj(f))[:n] / (np.arange(n, 0, -1) * np.var(x))
    total, t = 0.0, 0
    while t + 1 < n:
        pair = acf[t] + acf[t + 1]
        if pair <= 0:
            break
        total += pair
        t += 2
    tau = -1.0 + 2.0 * total  # integrated autocorrelation time
    return float(n / tau) if tau > 0 else float(n)


def split_rhat(chains: list[np.ndarray]) -> float:
    """Gelman–Rubin R̂ on chains split in halves (post burn-in draws)."""
    halves = []
    for c in chains:
        c = np.asarray(c, dtype=float)
        h = len(c) // 2
        halves += [c[:h], c[h : 2 * h]]
    n = min(len(h) for h in halves)
    arr = np.array([h[:n] for h in halves])
    w = arr.var(axis=1, ddof=1).mean()
    b = n * arr.mean(axis=1).var(ddof=1)
    if w == 0:
        return 1.0 if b == 0 else math.inf
    var_plus = (n - 1) / n * w + b / n
    return float(math.sqrt(var_plus / w))


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
    """Per parameter ESS (summed over chains) and split R̂; per chain acceptance rates and
    PIPs; the starts; and warnings. ``ok`` is False when any warning was raised."""
    params = {}
    warnings: list[str] = []
    for name, per_chain in _scalars(fit).items():
        ess = float(sum(effective_sample_size(v) for v in per_chain))
        rhat = split_rhat(per_chain)
        params[name] = {"ess": round(ess, 1), "rhat": round(rhat, 4)}
        if rhat > RHAT_MAX:
            warnings.append(
                f"{name}: split R-hat {rhat:.2f} > {RHAT_MAX} (chains disagree or have not converged)"
            )
        if ess < ESS_MIN and not name.startswith("r["):
            warnings.append(f"{name}: effective sample size {ess:.0f} < {ESS_MIN} (run more iterations)")
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
            "ess_min": ESS_MIN,
            "pip_spread_max": PIP_SPREAD_MAX,
            "accept_range": list(ACCEPT_RANGE),
        },
        "warnings": warnings,
        "ok": not warnings,
    }
