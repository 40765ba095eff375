"""The report's figures (matplotlib, Agg): each saved as a print-resolution PNG and
returned as a data URI so that the HTML report needs no other file."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from analysis.methods.bkmr.plots import bkmr_traces  # noqa: E402, F401  (the report draws it too)
from nhanes_bone.core import vocabulary  # noqa: E402

DPI = 300
SYNTHETIC_MARK = "SYNTHETIC DATA — not findings"


def save(fig, folder: Path, name: str, synthetic: bool) -> str:
    """Write ``folder/name.png`` at 300 dpi and return it as an embeddable data URI."""
    if synthetic:
        fig.text(0.99, 0.01, SYNTHETIC_MARK, ha="right", va="bottom", fontsize=8, color="#b00020")
    folder.mkdir(parents=True, exist_ok=True)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    data = buffer.getvalue()
    (folder / f"{name}.png").write_bytes(data)
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def flow_diagram(flow: pd.DataFrame, paper_n: int | None, paper_op: int | None, title: str):
    """Boxes for the steps, arrows between them, exclusions to the side."""
    steps = flow.sort_values("step_order").to_dict("records")
    fig, ax = plt.subplots(figsize=(8, 1.35 * len(steps) + 0.8))
    ax.set_xlim(0, 10)
    ax.set_ylim(0, len(steps) * 1.35 + 0.5)
    ax.axis("off")
    for i, step in enumerate(steps):
        y = (len(steps) - i) * 1.35 - 0.4
        label = step["step"].replace("_", " ")
        text = f"{label}\nn = {step['n_remaining']:,}  (osteoporosis {step['n_osteoporosis']:,})"
        ax.text(
            3.5,
            y,
            text,
            ha="center",
            va="center",
            fontsize=9,
            bbox={"boxstyle": "round,pad=0.4", "fc": "#eef3fb", "ec": "#3559a8"},
        )
        if i:
            ax.annotate(
                "",
                xy=(3.5, y + 0.38),
                xytext=(3.5, y + 0.97),
                arrowprops={"arrowstyle": "->", "color": "#3559a8"},
            )
            if step["n_excluded"]:
                ax.text(
                    7.6,
                    y + 0.67,
                    f"excluded {step['n_excluded']:,}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    bbox={"boxstyle": "round,pad=0.3", "fc": "#fdf0ef", "ec": "#b23b2e"},
                )
                ax.annotate(
                    "",
                    xy=(6.6, y + 0.67),
                    xytext=(3.5, y + 0.67),
                    arrowprops={"arrowstyle": "->", "color": "#b23b2e"},
                )
    if paper_n is not None:
        ax.text(
            3.5,
            0.1,
            f"Peng et al. 2025: n = {paper_n:,}, osteoporosis {paper_op:,}",
            ha="center",
            fontsize=9,
            style="italic",
            color="#444",
        )
    ax.set_title(title, fontsize=11)
    return fig


def forest(table2: pd.DataFrame, paper: dict | None):
    """Table 2, Model 3: Q2-Q4 odds ratios per metal, ours (both weightings) and the paper's."""
    rows = table2[(table2.model == "model_3") & table2.term.isin(["Q2", "Q3", "Q4"])]
    metals = list(dict.fromkeys(rows.metal))
    fig, ax = plt.subplots(figsize=(7.5, 0.55 * 3 * len(metals) + 1))
    labels, y = [], 0
    styles = {
        "unweighted": ("o", "#3559a8", -0.15),
        "design": ("s", "#2a8a5c", 0.0),
        "paper": ("D", "#b23b2e", 0.15),
    }
    for metal in metals:
        for q in ("Q2", "Q3", "Q4"):
            for weighting in ("unweighted", "design"):
                r = rows[(rows.metal == metal) & (rows.term == q) & (rows.weighting == weighting)]
                if len(r) and np.isfinite(r.odds_ratio.iloc[0]):
                    m, c, dy = styles[weighting]
                    ax.errorbar(
                        r.odds_ratio.iloc[0],
                        y + dy,
                        xerr=[
                            [r.odds_ratio.iloc[0] - r.or_ci_low.iloc[0]],
                            [r.or_ci_high.iloc[0] - r.odds_ratio.iloc[0]],
                        ],
                        fmt=m,
                        color=c,
                        ms=4,
                        capsize=2,
                        lw=1,
                    )
            ref = (paper or {}).get(metal, {}).get("model_3", {}).get(q)
            if ref:
                m, c, dy = styles["paper"]
                ax.errorbar(
                    ref[0],
                    y + dy,
                    xerr=[[ref[0] - ref[1]], [ref[2] - ref[0]]],
                    fmt=m,
                    color=c,
                    ms=4,
                    capsize=2,
                    lw=1,
                )
            labels.append((y, f"{metal} {q}"))
            y -= 1
        y -= 0.5
    ax.axvline(1, color="#888", lw=0.8, ls="--")
    ax.set_xscale("log")
    ticks = [0.1, 0.2, 0.5, 1, 2, 5, 10]
    lo, hi = ax.get_xlim()
    ax.set_xticks([t for t in ticks if lo <= t <= hi], [f"{t:g}" for t in ticks if lo <= t <= hi])
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_yticks([p for p, _ in labels], [t for _, t in labels], fontsize=8)
    ax.set_xlabel("odds ratio vs Q1 (Model 3), log scale")
    handles = [plt.Line2D([], [], marker=m, color=c, ls="", label=k) for k, (m, c, _) in styles.items()]
    ax.legend(handles=handles, fontsize=8, loc="lower right")
    ax.set_title("Table 2 as a forest plot", fontsize=11)
    return fig


def distributions(cohort: pd.DataFrame):
    """ln blood metals and T-scores by osteoporosis status."""
    metals = [
        "blood_lead_ug_dl",
        "blood_cadmium_ug_l",
        "blood_mercury_ug_l",
        "blood_selenium_ug_l",
        "blood_manganese_ug_l",
    ]
    scores = ["total_femur_tscore", "femoral_neck_tscore", "lumbar_spine_tscore", "lowest_tscore"]
    fig, axes = plt.subplots(2, 5, figsize=(13, 6))
    op = cohort.has_osteoporosis.astype(bool)
    for ax, col in zip(axes[0], metals, strict=True):
        ax.boxplot(
            [np.log(cohort.loc[~op, col]), np.log(cohort.loc[op, col])],
            tick_labels=["no OP", "OP"],
            widths=0.6,
        )
        ax.set_title("ln " + col.replace("blood_", "").split("_")[0], fontsize=9)
    for ax, col in zip(axes[1], scores, strict=False):
        ax.boxplot(
            [cohort.loc[~op, col].dropna(), cohort.loc[op, col].dropna()],
            tick_labels=["no OP", "OP"],
            widths=0.6,
        )
        ax.axhline(-2.5, color="#b23b2e", lw=0.8, ls="--")
        ax.set_title(col.replace("_", " "), fontsize=9)
    axes[1][4].axis("off")
    fig.suptitle("Blood metals and T-scores by osteoporosis status", fontsize=11)
    fig.tight_layout()
    return fig


def hemoglobin_effects(regression: pd.DataFrame, paper: dict | None):
    """Study 2: β for hemoglobin (g/cm² per g/dL) by site and sex, with the IMOS values."""
    rows = regression[
        (regression.model == "model_1")
        & regression.outcome.isin(["total_femur", "femoral_neck", "lumbar_spine"])
    ]
    fig, ax = plt.subplots(figsize=(7.5, 4))
    y, ticks = 0, []
    for sex in ("male", "female"):
        for site in ("total_femur", "femoral_neck", "lumbar_spine"):
            for dy, weighting, color in ((-0.15, "unweighted", "#3559a8"), (0.05, "design", "#2a8a5c")):
                r = rows[(rows.sex == sex) & (rows.outcome == site) & (rows.weighting == weighting)]
                if len(r):
                    r = r.iloc[0]
                    ax.errorbar(
                        r.estimate,
                        y + dy,
                        xerr=[[r.estimate - r.ci_low], [r.ci_high - r.estimate]],
                        fmt="o",
                        color=color,
                        ms=4,
                        capsize=2,
                    )
            ref = next(
                (
                    p
                    for p in (paper or {}).get("linear", [])
                    if p["sex"] == sex and p["site"] == site and p["beta"]
                ),
                None,
            )
            if ref:
                ax.errorbar(
                    ref["beta"],
                    y + 0.25,
                    xerr=[[ref["beta"] - ref["ci_low"]], [ref["ci_high"] - ref["beta"]]],
                    fmt="D",
                    color="#b23b2e",
                    ms=4,
                    capsize=2,
                )
            ticks.append((y, f"{sex} {site.replace('_', ' ')}"))
            y -= 1
    ax.axvline(0, color="#888", lw=0.8, ls="--")
    ax.set_yticks([p for p, _ in ticks], [t for _, t in ticks], fontsize=8)
    ax.set_xlabel("β: BMD (g/cm²) per g/dL hemoglobin, Model 1 (age, BMI)")
    handles = [
        plt.Line2D([], [], marker=m, color=c, ls="", label=k)
        for k, m, c in (
            ("unweighted", "o", "#3559a8"),
            ("design", "o", "#2a8a5c"),
            ("IMOS paper", "D", "#b23b2e"),
        )
    ]
    ax.legend(handles=handles, fontsize=8)
    ax.set_title("Study 2: hemoglobin and BMD", fontsize=11)
    return fig


def wqs_weights(weights: pd.DataFrame, models: pd.DataFrame):
    """Figure 2: WQS weights in each direction, with the index's odds ratio."""
    directions = list(dict.fromkeys(weights.direction))
    fig, axes = plt.subplots(1, len(directions), figsize=(5 * len(directions), 3.6), sharex=True)
    axes = np.atleast_1d(axes)
    for ax, direction in zip(axes, directions, strict=True):
        part = weights[weights.direction == direction].sort_values("weight")
        ax.barh(part.metal, part.weight, color="#3559a8" if direction == "positive" else "#2a8a5c")
        ax.axvline(1 / len(part), color="#b23b2e", lw=0.8, ls="--")
        m = models[models.direction == direction].iloc[0]
        constrained = " (sign constrained)" if m.b_constrained else ""
        ax.set_title(
            f"{direction}{constrained}: OR {m.odds_ratio:.2f} ({m.or_ci_low:.2f}-{m.or_ci_high:.2f})",
            fontsize=9,
        )
        ax.set_xlabel("weight")
    fig.suptitle("Figure 2: WQS weights (dashed: 1/5)", fontsize=11)
    fig.tight_layout()
    return fig


def qgcomp_weights(weights: pd.DataFrame, model: pd.DataFrame):
    """qgcomp's weight plot: each metal's share of the positive and of the negative partial
    effect (the conditional fit), the partial effects in the titles."""
    noboot = model.set_index("method").loc["noboot"]
    fig, axes = plt.subplots(1, 2, figsize=(8.5, 2.8), sharex=True)
    for ax, direction, psi in (
        (axes[0], "negative", noboot.negative_psi),
        (axes[1], "positive", noboot.positive_psi),
    ):
        part = weights[weights.direction == direction].sort_values("weight")
        ax.barh(part.metal, part.weight, color="#b05a3c" if direction == "negative" else "#3559a8")
        ax.set_title(f"{direction}: partial ψ = {psi:+.3f}", fontsize=9)
        ax.set_xlim(0, 1)
        ax.set_xlabel("weight within the direction")
    fig.suptitle(
        f"qgcomp: OR per quartile of all metals {noboot.odds_ratio:.2f} "
        f"({noboot.or_ci_low:.2f}–{noboot.or_ci_high:.2f}), conditional",
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def sensitivity_forest(table: pd.DataFrame):
    """Q4 vs Q1 OR (95% CI) of each metal in each sensitivity analysis: one panel per metal,
    unweighted (circles) and design-based (squares) side by side."""
    metals = list(dict.fromkeys(table.metal.dropna()))
    analyses = list(dict.fromkeys(table.analysis))
    fig, axes = plt.subplots(
        1, len(metals), figsize=(2.3 * len(metals), 0.35 * len(analyses) + 1.4), sharey=True
    )
    for ax, metal in zip(np.atleast_1d(axes), metals, strict=True):
        for offset, (weighting, marker) in ((-0.15, ("unweighted", "o")), (0.15, ("design", "s"))):
            part = table[(table.metal == metal) & (table.weighting == weighting)].set_index("analysis")
            y = np.array([analyses.index(a) for a in part.index]) + offset
            ax.errorbar(
                part.q4_or,
                y,
                xerr=[part.q4_or - part.q4_or_ci_low, part.q4_or_ci_high - part.q4_or],
                fmt=marker,
                ms=3.5,
                lw=0.8,
                label=weighting,
            )
        ax.axvline(1, color="0.5", lw=0.6)
        ax.set_xscale("log")
        low, high = ax.get_xlim()
        ax.set_xticks([t for t in (0.125, 0.25, 0.5, 1, 2, 4, 8) if low <= t <= high])
        ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_title(metal, fontsize=9)
        ax.set_xlabel("Q4 vs Q1 OR", fontsize=8)
    first = np.atleast_1d(axes)[0]
    first.set_yticks(range(len(analyses)), analyses, fontsize=8)
    first.invert_yaxis()
    handles, labels = first.get_legend_handles_labels()
    fig.legend(handles, labels, fontsize=7, loc="lower left", ncol=2, frameon=False)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


def spline_curves(curves: pd.DataFrame):
    """One panel per metal: the OR against a woman at the median from the 4-knot spline model,
    unweighted and design-based, 95% bands, log scales."""
    metals = list(dict.fromkeys(curves.metal))
    fig, axes = plt.subplots(1, len(metals), figsize=(2.7 * len(metals), 2.9), sharey=True)
    for ax, metal in zip(np.atleast_1d(axes), metals, strict=True):
        for weighting, color in (("unweighted", "#3559a8"), ("design", "#b05a3c")):
            part = curves[(curves.metal == metal) & (curves.weighting == weighting)]
            ax.fill_between(part.metal_value, part.or_ci_low, part.or_ci_high, color=color, alpha=0.15)
            ax.plot(part.metal_value, part.odds_ratio, color=color, lw=1.2, label=weighting)
        ax.axhline(1, color="0.5", lw=0.6, ls=":")
        ax.set_yscale("log")
        ax.yaxis.set_major_locator(matplotlib.ticker.FixedLocator([0.25, 0.5, 1, 2, 4]))
        ax.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
        ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        unit = vocabulary.METALS[metal].unit if metal in vocabulary.METALS else ""
        ax.set_xlabel(unit, fontsize=7)
        ax.set_title(metal, fontsize=9)
        ax.tick_params(labelsize=7)
    np.atleast_1d(axes)[0].set_ylabel("OR vs the median")
    np.atleast_1d(axes)[0].legend(fontsize=7)
    fig.suptitle(
        "Dose–response: restricted cubic splines of ln(metal), 4 knots, Model 3 (95% bands)", fontsize=10
    )
    fig.tight_layout()
    return fig


def correlation_heatmap(correlations: pd.DataFrame):
    """Spearman correlations of the ln-metals."""
    matrix = correlations.pivot(index="metal_a", columns="metal_b", values="rho")
    order = list(dict.fromkeys(correlations.metal_a))
    matrix = matrix.loc[order, order]
    fig, ax = plt.subplots(figsize=(4.4, 3.8))
    image = ax.imshow(matrix.to_numpy(), cmap="RdBu_r", vmin=-1, vmax=1)
    ax.set_xticks(range(len(order)), order, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(order)), order, fontsize=8)
    for i in range(len(order)):
        for j in range(len(order)):
            ax.text(j, i, f"{matrix.iat[i, j]:.2f}", ha="center", va="center", fontsize=7)
    fig.colorbar(image, ax=ax, shrink=0.8, label="Spearman ρ")
    ax.set_title("Correlations of the ln-metals", fontsize=10)
    fig.tight_layout()
    return fig


def _by_chain(table: pd.DataFrame) -> tuple[pd.DataFrame, list[tuple[str, pd.DataFrame]]]:
    """The pooled rows, and each chain's own rows (present when the chains disagreed)."""
    if "chain" not in table:
        return table, []
    chain = table["chain"].astype(str)
    return table[chain == "all"], [(c, table[chain == c]) for c in dict.fromkeys(chain) if c != "all"]


DISAGREE = " — CHAINS DISAGREE: each chain dashed; the pooled summary describes neither"


def bkmr_univariate(univariate: pd.DataFrame):
    """Figure 3A: h(metal) with the others at their medians, 95% bands (bkmr's centred curves);
    when the chains disagreed, each chain's curve dashed over the pooled one, and the title says so."""
    pooled, chains = _by_chain(univariate)
    metals = list(dict.fromkeys(pooled.metal))
    fig, axes = plt.subplots(1, len(metals), figsize=(2.6 * len(metals), 2.8), sharey=True)
    for ax, metal in zip(np.atleast_1d(axes), metals, strict=True):
        part = pooled[pooled.metal == metal]
        ax.fill_between(part.z, part.est - 1.96 * part.se, part.est + 1.96 * part.se, color="#c9d4ec")
        ax.plot(part.z, part.est, color="#3559a8", lw=1.2)
        for k, (label, rows) in enumerate(chains):
            mine = rows[rows.metal == metal]
            ax.plot(mine.z, mine.est, color=f"C{k + 1}", lw=0.9, ls="--", label=f"chain {label}")
        ax.axhline(0, color="0.5", lw=0.6, ls=":")
        ax.set_title(metal, fontsize=9)
        ax.set_xlabel("ln metal (z-score)", fontsize=8)
    np.atleast_1d(axes)[0].set_ylabel("h(z), probit scale")
    if chains:
        np.atleast_1d(axes)[0].legend(fontsize=7)
    fig.suptitle(
        "Figure 3A: BKMR exposure-response, the other metals at their medians (95% bands)"
        + (DISAGREE if chains else ""),
        fontsize=10,
        color="#b00020" if chains else "black",
    )
    fig.tight_layout()
    return fig


def bkmr_overall(risk: pd.DataFrame):
    """Figure 3B: h with all metals at a quantile minus h with all at their medians (each chain
    beside the pooled estimate when the chains disagreed)."""
    pooled, chains = _by_chain(risk)
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    ax.errorbar(
        pooled["quantile"],
        pooled.est,
        yerr=1.96 * pooled.sd,
        fmt="o",
        color="#3559a8",
        capsize=2,
        ms=4,
        label="pooled",
    )
    for k, (label, rows) in enumerate(chains):
        ax.errorbar(
            rows["quantile"] + 0.01 * (k + 1),
            rows.est,
            yerr=1.96 * rows.sd,
            fmt="s",
            color=f"C{k + 1}",
            capsize=2,
            ms=3,
            alpha=0.8,
            label=f"chain {label}",
        )
    ax.axhline(0, color="0.5", lw=0.6, ls=":")
    ax.set_xlabel("quantile of every metal")
    ax.set_ylabel("change in h vs medians")
    ax.set_title(
        "Figure 3B: BKMR overall mixture effect (95% intervals)" + ("\nCHAINS DISAGREE" if chains else ""),
        fontsize=10,
        color="#b00020" if chains else "black",
    )
    if chains:
        ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
