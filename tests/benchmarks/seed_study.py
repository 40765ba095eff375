"""Over many seeds of the synthetic twin: are the planted effects recovered, are null metals null?

For each seed: synthesize → ingest → dbt build → Table 2 (Model 3, unweighted and
design-based). Prints, per metal, how often the planted Q4 odds ratio lies in the 95% CI
and how often a null metal shows no significant quartile or trend (p > 0.05).
Usage: python tests/benchmarks/seed_study.py [--seeds 20] [--first 1]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conftest import build_warehouse  # noqa: E402

from analysis.pipeline import load  # noqa: E402
from analysis.studies.peng2025 import tables as study1  # noqa: E402
from ingest.synth import synthesize  # noqa: E402


def one_seed(seed: int) -> pd.DataFrame:
    with tempfile.TemporaryDirectory() as tmp:
        data_dir, warehouse = Path(tmp) / "data", Path(tmp) / "w.duckdb"
        truth = synthesize(data_dir, seed=seed)
        build_warehouse(data_dir, warehouse)
        cohort, design, _ = load(warehouse)
    data = study1.StudyData.build(cohort, design)
    planted = truth["planted"]["study1_logistic_model"]["quartile_log_or"]
    rows = []
    for weighting in ("unweighted", "design"):
        t2 = study1.regression_table(
            data, "op", {"model_3": study1.TABLE2_MODELS["model_3"]}, "binomial", weighting
        )
        for metal in study1.METALS:
            part = t2[t2.metal == metal].set_index("term")
            q4 = part.loc["Q4"]
            rows.append(
                {
                    "seed": seed,
                    "weighting": weighting,
                    "metal": metal,
                    "planted_q4_or": float(np.exp(planted[metal]["4"])),
                    "q4_or": q4.odds_ratio,
                    "covered": q4.or_ci_low < np.exp(planted[metal]["4"]) < q4.or_ci_high,
                    "any_quartile_or_trend_significant": bool(
                        (part.loc[["Q2", "Q3", "Q4", "trend"], "p_value"] < 0.05).any()
                    ),
                }
            )
    return pd.DataFrame(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seeds", type=int, default=20)
    parser.add_argument("--first", type=int, default=1)
    args = parser.parse_args()
    results = pd.concat([one_seed(s) for s in range(args.first, args.first + args.seeds)], ignore_index=True)
    summary = results.groupby(["weighting", "metal"]).agg(
        seeds=("seed", "size"),
        q4_ci_covers_planted=("covered", "mean"),
        significant_somewhere=("any_quartile_or_trend_significant", "mean"),
        median_q4_or=("q4_or", "median"),
    )
    print(f"SYNTHETIC twin, {args.seeds} seeds from {args.first}; Table 2 Model 3, Q4 vs Q1")
    print(summary.to_string(float_format=lambda v: f"{v:.2f}"))
    print(
        json.dumps(
            {
                "null_metals_null_rate": {
                    w: float(
                        1
                        - results[
                            (results.weighting == w) & results.metal.isin(["lead", "mercury", "manganese"])
                        ].any_quartile_or_trend_significant.mean()
                    )
                    for w in ("unweighted", "design")
                }
            }
        )
    )


if __name__ == "__main__":
    main()
