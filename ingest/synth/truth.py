"""What the warehouse should find in the synthetic twin (studies 1 and 2), computed in plain Python.

This is deliberately a second, independent implementation of STUDY.md's inclusion
flow (pandas on the XPT files, not SQL on the warehouse). The twin's TRUTH.json is
computed under ``DEFINITION``, the paper's literal reading (postmenopausal = women aged
50+, hypertension = BPQ020, all three BMD sites, lumbar-spine reference 1.047/0.110,
"don't know"/"refused" as missing, borderline diabetes as "no"), and a warehouse that holds
the twin is built with these vars (``ingest.build.base_vars``). The real-data
tests run the same flow on the genuine files under the project's default vars, which may
also ask for the income-poverty ratio, the RHQ031 / RHD043 menopause rules, measured blood
pressure, another spine reference and one-decimal T-scores.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ingest.synth import truth_model as tm
from ingest.synth.definition import DEFINITION
from nhanes_bone.core import vocabulary
from nhanes_bone.core.errors import InputError

METAL_COLUMNS = {name: m.nhanes_variable for name, m in vocabulary.METALS.items()}
SITE_COLUMNS = {"total_femur": "DXXOFBMD", "femoral_neck": "DXXNKBMD", "lumbar_spine": "DXXOSBMD"}
# the values of each var this implementation knows; others raise
SUPPORTED = {
    "postmenopausal_rule": {
        "age_50_plus",
        "no_periods_12m",
        "menopause_reported",
        "menopause_or_hysterectomy",
    },
    "require_income_poverty_ratio": {False, True},
    "spine_bmd_source": {"total"},
    "hypertension_definition": {"told", "measured"},
    "fracture_definition": {"hip_wrist_spine"},
    "borderline_diabetes_as": {"no"},
    "dont_know_as": {"missing"},
    "tscore_rounding": {"exact", "one_decimal"},
}
# the spine references of seeds/tscore_reference.csv (mean, SD), female
SPINE_REFERENCES = {
    "spine_1047_0110": (1.047, 0.110),
    "spine_1064_0106": (1.064, 0.106),
    "spine_1065_0122": (1.065, 0.122),
    "spine_1068_0118": (1.068, 0.118),
}
FLOW_STEPS = (
    "all_participants",
    "women",
    "aged_50_plus",
    "postmenopausal",
    "all_five_metals",
    "bmd_all_sites",
    "complete_covariates",
)


# The variables this module reads, per NHANES component (both cycles' names; a cycle has the
# ones it has). `wide` keeps only these: every variable of every file is ~85 MB at the twin's
# 1x and would be ~8 GB at 100x; these are a tenth of it.
USED = {
    "DEMO": ("RIAGENDR", "RIDAGEYR", "DMDEDUC2", "DMDMARTL", "DMDMARTZ", "INDFMPIR"),
    "PBCD": tuple(METAL_COLUMNS.values()),
    "DXXFEM": ("DXXOFBMD", "DXXNKBMD"),
    "DXXSPN": ("DXXOSBMD",),
    "BMX": ("BMXBMI",),
    "BPQ": ("BPQ020",),
    "DIQ": ("DIQ010",),
    "SMQ": ("SMQ020",),
    "OSQ": ("OSQ010A", "OSQ010B", "OSQ010C", "OSQ150", "OSQ072"),
    "RHQ": ("RHQ031", "RHD043"),
    "CBC": ("LBXHGB",),
    "RXQ_RX": ("RXDDRUG", "RXDDRGID"),
}


def used_columns(table: str) -> list[str]:
    """The columns of ``table`` (e.g. ``DEMO_H``, ``P_DEMO``) that the truth reads: SEQN and,
    for a component of ``USED``, its variables (whichever the cycle has: pass the result to
    pyreadstat's ``usecols`` only after intersecting it with the file's columns)."""
    component = table.removeprefix("P_").removesuffix("_H")
    return ["SEQN", *USED.get(component, ())]


def wide(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every participant of both cycles with the variables of their files that the truth reads."""
    frames = []
    for cycle, pattern, bp_table in (("2013-2014", "{}_H", "BPX_H"), ("2017-2020", "P_{}", "P_BPXO")):
        demo = _used(tables, pattern.format("DEMO"))
        demo["cycle"] = cycle
        for component in ("PBCD", "DXXFEM", "DXXSPN", "BMX", "BPQ", "DIQ", "SMQ", "OSQ", "RHQ", "CBC"):
            demo = demo.merge(_used(tables, pattern.format(component)), on="SEQN", how="left")
        if bp_table in tables:
            demo = demo.merge(measured_blood_pressure(tables[bp_table]), on="SEQN", how="left")
        frames.append(demo)
    return pd.concat(frames, ignore_index=True)


def _used(tables: dict[str, pd.DataFrame], name: str) -> pd.DataFrame:
    table = tables[name]
    return table[[c for c in used_columns(name) if c in table.columns]]


def measured_blood_pressure(table: pd.DataFrame) -> pd.DataFrame:
    """Mean systolic and diastolic of the valid readings (a diastolic of 0 is not one)."""
    sys_cols = [c for c in table.columns if c.startswith(("BPXSY", "BPXOSY"))]
    dia_cols = [c for c in table.columns if c.startswith(("BPXDI", "BPXODI"))]
    return pd.DataFrame(
        {
            "SEQN": table["SEQN"],
            "_sbp": table[sys_cols].mean(axis=1),
            "_dbp": table[dia_cols].where(table[dia_cols] > 0).mean(axis=1),
        }
    )


def _check(definition: dict) -> None:
    for name, allowed in SUPPORTED.items():
        if definition[name] not in allowed:
            raise InputError(
                f"truth.py does not implement {name} = {definition[name]!r} (it knows {allowed})"
            )


def _known(series: pd.Series, codes: tuple[float, ...]) -> pd.Series:
    return series.isin(codes)


def hypertension_known(df: pd.DataFrame, definition: dict) -> pd.Series:
    if definition["hypertension_definition"] == "measured":
        if "_sbp" not in df:
            return pd.Series(False, index=df.index)
        return df["_sbp"].notna() & df["_dbp"].notna() | (df["_sbp"] >= 140) | (df["_dbp"] >= 90)
    return _known(df["BPQ020"], (1, 2))


def covariates_complete(df: pd.DataFrame, definition: dict = DEFINITION) -> pd.Series:
    """All of Model 3's covariates known (7/9, 77/99 are missing; borderline diabetes = no)."""
    marital = df["DMDMARTZ"].isin((1, 2, 3)) | df["DMDMARTL"].isin((1, 2, 3, 4, 5, 6))
    fractures = df[["OSQ010A", "OSQ010B", "OSQ010C"]]
    fracture_known = (fractures == 1).any(axis=1) | (fractures == 2).all(axis=1)
    return (
        df["BMXBMI"].notna()
        & _known(df["DMDEDUC2"], (1, 2, 3, 4, 5))
        & marital
        & _known(df["SMQ020"], (1, 2))
        & hypertension_known(df, definition)
        & _known(df["DIQ010"], (1, 2, 3))
        & _known(df["OSQ150"], (1, 2))
        & fracture_known
        & (df["INDFMPIR"].notna() if definition["require_income_poverty_ratio"] else True)
    )


# The warehouse's documented rule (tscore_rounding = exact): T-scores are rounded to 9 decimals
# before they are classified, so that a three-decimal BMD exactly at a cut-off counts as at it
# ((0.558 - 0.858) / 0.120 is -2.4999999999999996 in floating point).
TSCORE_DECIMALS = 9


def lowest_tscore(df: pd.DataFrame, definition: dict = DEFINITION) -> pd.Series:
    reference = {**tm.TSCORE_REFERENCE, "lumbar_spine": SPINE_REFERENCES[definition["spine_reference"]]}
    digits = 1 if definition["tscore_rounding"] == "one_decimal" else TSCORE_DECIMALS
    scores = pd.DataFrame(
        {
            # numpy rounds half to even; the warehouse (DuckDB) rounds half away from zero
            site: _round_half_away((df[col] - reference[site][0]) / reference[site][1], digits)
            for site, col in SITE_COLUMNS.items()
        }
    )
    return scores.min(axis=1, skipna=True)


def _round_half_away(values: pd.Series, digits: int) -> pd.Series:
    scale = 10.0**digits
    return np.sign(values) * np.floor(np.abs(values) * scale + 0.5) / scale


def postmenopausal(df: pd.DataFrame, rule: str) -> pd.Series:
    if rule == "no_periods_12m":
        return df["RHQ031"] == 2
    if rule == "menopause_reported":
        return df["RHD043"] == 7
    if rule == "menopause_or_hysterectomy":
        return df["RHD043"].isin((3, 7))
    return df["RIDAGEYR"] >= 50


def flow_masks(df: pd.DataFrame, definition: dict = DEFINITION) -> list[tuple[str, pd.Series]]:
    """The cumulative inclusion masks, step by step."""
    _check(definition)
    sites = [SITE_COLUMNS[s] for s in definition["required_bmd_sites"]]
    mask = pd.Series(True, index=df.index)
    steps = [("all_participants", mask.copy())]
    for step, keep in (
        ("women", df["RIAGENDR"] == 2),
        ("aged_50_plus", df["RIDAGEYR"] >= 50),
        ("postmenopausal", postmenopausal(df, definition["postmenopausal_rule"])),
        ("all_five_metals", df[list(METAL_COLUMNS.values())].notna().all(axis=1)),
        ("bmd_all_sites", df[sites].notna().all(axis=1)),
        ("complete_covariates", covariates_complete(df, definition)),
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


def treated(df: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> pd.Series:
    """Per row of ``df = wide(tables)``: a bone medicine of ``truth_model.BONE_MEDICINES`` among
    the participant's prescriptions (name or code), or OSQ072 = 1."""
    rx = pd.concat([tables["RXQ_RX_H"], tables["P_RXQ_RX"]])
    names = {m[0] for m in tm.BONE_MEDICINES}
    codes = {m[1] for m in tm.BONE_MEDICINES}
    on_medicine = set(rx.loc[rx.RXDDRUG.isin(names) | rx.RXDDRGID.isin(codes), "SEQN"])
    return df["SEQN"].isin(on_medicine) | (df["OSQ072"] == 1)


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
        "cohort_treated_n": int(treated(df, tables)[cohort.index].sum()) if "RXQ_RX_H" in tables else None,
        "inclusion_flow": flow,
        "cohort_n": int(len(cohort)),
        "cohort_osteoporosis_n": int(is_op[cohort.index].sum()),
        "cohort_by_cycle": {k: int(v) for k, v in cohort["cycle"].value_counts().sort_index().items()},
        "metal_quartiles": quartiles,
    }
