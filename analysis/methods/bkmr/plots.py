"""BKMR's own diagnostic figure (matplotlib, Agg): the chains' traces."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402


def bkmr_traces(draws: pd.DataFrame, disagree: bool = False):
    """Trace of the log-likelihood, λ, each r_m and each β, one colour per chain, burn-in shaded;
    ``disagree`` marks the figure when the diagnostics found the chains apart."""
    columns = ["loglik", "lambda"] + [c for c in draws.columns if c.startswith(("r[", "beta["))]
    cols = 2
    rows = int(np.ceil(len(columns) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(11, 1.9 * rows), squeeze=False)
    burn_rows = draws.iteration[draws.burn_in.astype(bool)]
    burn = int(burn_rows.max()) + 1 if len(burn_rows) else 0
    for ax, column in zip(axes.flat, columns, strict=False):
        for chain, part in draws.groupby("chain"):
            ax.plot(part.iteration, part[column], lw=0.5, color=f"C{chain}", label=f"chain {chain}")
        ax.axvspan(0, burn, color="0.92", zorder=-1)
        ax.set_title(column, fontsize=8, loc="left")
        ax.tick_params(labelsize=7)
        if column.startswith("r["):
            ax.set_yscale("symlog", linthresh=0.01)
    for ax in list(axes.flat)[len(columns) :]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=7, loc="lower right")
    title = "BKMR traces (shaded: burn-in, the first half of each chain)"
    if disagree:
        title += " — THE CHAINS DISAGREE: pooled summaries describe neither; see the per-chain rows"
    fig.suptitle(title, fontsize=9, color="#b00020" if disagree else "black")
    fig.tight_layout()
    return fig
