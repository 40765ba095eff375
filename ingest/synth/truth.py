"""What the warehouse should find in the synthetic twin (studies 1 and 2), computed in plain Python.

This is deliberately a second, independent implementation of STUDY.md's inclusion
flow (pandas on the generator's own files, not SQL on the warehouse), with the
warehouse's default choices: postmenopausal = women aged 50+, all three BMD sites
required, lumbar-spine reference 1.047/0.110, "don't know"/"refused" as missing,
borderline diabetes as "no". The dbt models must arrive at the same numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ingest.synth import truth_model as tm

METAL_COLUMNS = {
    "lead": "LBXBPB",
    "cadmium": "LBXBCD",
    "mercury": "LBXTHG",
    "selenium": "LBXBSE",
    "manganese": "LBXBMN",
}
SITE_COLUMNS = {"total_femur": "DXXOFBMD", "femoral_neck": "DXXNKBMD", "lumbar_spine": "DXXOSBMD"}
FLOW_STEPS = (
    "all_participants",
    "women",
    "aged_50_plus",
    "postmenopausal",
    "all_five_metals",
    "bmd_all_sites",
    "complete_covariates",
)


def wide(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every participant of both cycles with the variables of all their files."""
    frames = []
    for cycle, pattern in (("2013-2014", "{}_H"), ("2017-2020", "P_{}")):
        demo = tables[pattern.format("DEMO")].copy()
        demo["cycle"] = cycle
        for component in ("PBCD", "DXXFEM", "DXXSPN", "BMX", "BPQ", "DIQ", "SMQ", "OSQ", "RHQ", "CBC"):
            other = tables[pattern.format(component)]
            keep = [c for c in other.columns if c == "SEQN" or c not in demo.columns]
            demo = demo.merge(other[keep], on="SEQN", how="left")
        frames.append(demo)
    return pd.concat(frames, ignore_index=True)


def _known(series: pd.Series, codes: tuple[float, ...]) -> pd.Series:
    return series.isin(codes)


def covariates_complete(df: pd.DataFrame) -> pd.Series:
    """All of Model 3's covariates known (7/9, 77/99 are missing; borderline diabetes = no)."""
    marital = df["DMDMARTZ"].isin((1, 2, 3)) | df["DMDMARTL"].isin((1, 2, 3, 4, 5, 6))
    fractures = df[["OSQ010A", "OSQ010B", "OSQ010C"]]
    fracture_known = (fractures == 1).any(axis=1) | (fractures == 2).all(axis=1)
    return (
        df["BMXBMI"].notna()
        & _known(df["DMDEDUC2"], (1, 2, 3, 4, 5))
        & marital
        & _known(df["SMQ020"], (1, 2))
        & _known(df["BPQ020"], (1, 2))
        & _known(df["DIQ010"], (1, 2, 3))
        & _known(df["OSQ150"], (1, 2))
        & fracture_known
    )


def lowest_tscore(df: pd.DataFrame) -> pd.Series:
    scores = pd.DataFrame(
        {
            site: (df[col] - tm.TSCORE_REFERENCE[site][0]) / tm.TSCORE_REFERENCE[site][1]
            for site, col in SITE_COLUMNS.items()
        }
    )
    return scores.min(axis=1, skipna=True)


def flow_masks(df: pd.DataFrame) -> list[tuple[str, pd.Series]]:
    """The cumulative inclusion masks, step by step."""
    mask = pd.Series(True, index=df.index)
    steps = [("all_participants", mask.copy())]
    for step, keep in (
        ("women", df["RIAGENDR"] == 2),
        ("aged_50_plus", df["RIDAGEYR"] >= 50),
        ("postmenopausal", df["RIDAGEYR"] >= 50),
        ("all_five_metals", df[list(METAL_COLUMNS.values())].notna().all(axis=1)),
        ("bmd_all_sites", df[list(SITE_COLUMNS.values())].notna().all(axis=1)),
        ("complete_covariates", covariates_complete(df)),
    ):
        mask = mask & keep
        steps.append((step, mask.copy()))
    return steps


def study2_masks(df: pd.DataFrame) -> list[tuple[str, pd.Series]]:
    """Study 2's cumulative inclusion masks (adults 50+ of both sexes)."""
    mask = pd.Series(True, index=df.index)
    steps = [("all_participants", mask.copy())]
    for step, keep in (
        ("aged_50_plus", df["RIDAGEYR"] >= 50),
        ("hemoglobin_measured", df["LBXHGB"].notna()),
        ("bmd_all_sites", df[list(SITE_COLUMNS.values())].notna().all(axis=1)),
        (
            "complete_covariates",
            df["BMXBMI"].notna() & _known(df["SMQ020"], (1, 2)) & _known(df["DIQ010"], (1, 2, 3)),
        ),
    ):
        mask = mask & keep
        steps.append((step, mask.copy()))
    return steps


def flow_table(masks: list[tuple[str, pd.Series]], counted: dict[str, pd.Series]) -> list[dict]:
    """One row per step: remaining, excluded since the last step, and each ``counted`` subset."""
    flow, previous = [], None
    for order, (step, mask) in enumerate(masks, start=1):
        n = int(mask.sum())
        row = {
            "step_order": order,
            "step": step,
            "n_remaining": n,
            "n_excluded": 0 if previous is None else previous - n,
        }
        row |= {name: int((mask & subset).sum()) for name, subset in counted.items()}
        flow.append(row)
        previous = n
    return flow


def expected_study2(df: pd.DataFrame) -> dict:
    """Study 2's flow: osteoporosis is the lowest T-score < -2.5 (strict, as the IMOS paper)."""
    flow = flow_table(
        study2_masks(df),
        {
            "n_men": df["RIAGENDR"] == 1,
            "n_women": df["RIAGENDR"] == 2,
            "n_osteoporosis": lowest_tscore(df) < tm.OP_THRESHOLD,
        },
    )
    return {"inclusion_flow": flow, "cohort_n": flow[-1]["n_remaining"]}


def quartile_cuts(values: pd.Series) -> tuple[float, float, float]:
    """Upper bounds of Q1..Q3: R type-7 quantiles (numpy's default 'linear')."""
    q = np.quantile(values.to_numpy(dtype=float), [0.25, 0.5, 0.75])
    return (float(q[0]), float(q[1]), float(q[2]))


def expected(tables: dict[str, pd.DataFrame]) -> dict:
    """The study-1 flow, cohort, OP cases and quartiles the warehouse must reproduce."""
    df = wide(tables)
    is_op = lowest_tscore(df) <= tm.OP_THRESHOLD
    masks = flow_masks(df)
    flow = flow_table(masks, {"n_osteoporosis": is_op})
    cohort = df[masks[-1][1]]
    quartiles = {}
    for metal, col in METAL_COLUMNS.items():
        cuts = quartile_cuts(cohort[col])
        q = 1 + (cohort[col] > cuts[0]).astype(int) + (cohort[col] > cuts[1]) + (cohort[col] > cuts[2])
        quartiles[metal] = {
            "q1_upper": cuts[0],
            "q2_upper": cuts[1],
            "q3_upper": cuts[2],
            "counts": {str(k): int((q == k).sum()) for k in (1, 2, 3, 4)},
        }
    return {
        "study2": expected_study2(df),
        "inclusion_flow": flow,
        "cohort_n": int(len(cohort)),
        "cohort_osteoporosis_n": int(is_op[cohort.index].sum()),
        "cohort_by_cycle": {k: int(v) for k, v in cohort["cycle"].value_counts().sort_index().items()},
        "metal_quartiles": quartiles,
    }
