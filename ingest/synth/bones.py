"""DXA scans of the synthetic participants, carrying the planted osteoporosis model.

First who has a scan (eligible ages, femur/spine status, ~40% of spine scans without a
valid total), then — once the analytic cohort and its metal quartiles are known — the
BMD values, built so that ``lowest T ≤ -2.5`` holds exactly when the logistic latent
variable of ``truth_model.STUDY1`` is ≥ 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ingest.synth import truth_model as tm
from ingest.synth.people import METAL_VARS, CycleDesign

SITES = ("total_femur", "femoral_neck", "lumbar_spine")


def scan_status(df: pd.DataFrame, design: CycleDesign, rng: np.random.Generator) -> None:
    """Add DXA eligibility and scan status: DXAFMRST, DXASPNST, invalidity codes."""
    n = len(df)
    a = df.RIDAGEYR.to_numpy()
    pregnant = (df.get("RIDEXPRG") == 1).to_numpy()
    eligible = df["_examined"].to_numpy() & (a >= design.dxa_min_age) & ~pregnant
    femur = np.select(
        [rng.random(n) < 0.77, rng.random(n) < 0.33, rng.random(n) < 0.004], [1.0, 2.0, 4.0], 5.0
    )
    scanned = np.isin(femur, (1.0, 2.0))
    spine = np.where(scanned, np.where(rng.random(n) < 0.05, 2.0, 1.0), femur)
    # ~40% of rows lack a valid total spine: not scanned, invalid scan, or a bad vertebra
    spine_ok = (spine == 1) & (rng.random(n) < 0.72)
    df["_dxa"] = eligible
    df["DXAFMRST"] = np.where(eligible, femur, np.nan)
    df["DXXFMBCC"] = np.where(eligible & scanned, np.where(femur == 1, 0.0, 6.0), np.nan)
    df["DXASPNST"] = np.where(eligible, spine, np.nan)
    spine_code = np.where(spine_ok, 0.0, np.where(rng.random(n) < 0.6, 1.0, 6.0))
    df["DXXOSBCC"] = np.where(eligible & np.isin(spine, (1.0, 2.0)), spine_code, np.nan)
    df["_femur_valid"] = eligible & (femur == 1)
    df["_spine_valid"] = eligible & spine_ok


def quartile_of(values: np.ndarray, cuts: tuple[float, float, float]) -> np.ndarray:
    """1-4 with right-closed upper bounds (Q1 = value ≤ first cut), NaN stays NaN."""
    q = 1.0 + (values > cuts[0]) + (values > cuts[1]) + (values > cuts[2])
    return np.where(np.isnan(values), np.nan, q)


def linear_predictor(df: pd.DataFrame, cuts: dict[str, tuple[float, float, float]]) -> np.ndarray:
    """Study 1's logistic linear predictor for women 50+ (missing covariates add 0)."""
    s1 = tm.STUDY1
    a = df.RIDAGEYR.to_numpy()
    bmi = df.BMXBMI.to_numpy()
    eta = s1["intercept"] + s1["age_per_year"] * a
    eta = eta + np.select(
        [bmi < 25, bmi < 30, bmi >= 30], [s1["bmi_group"]["<25"], 0.0, s1["bmi_group"][">=30"]], 0.0
    )
    race = df.RIDRETH1.to_numpy()
    for code, name in {
        1: "mexican_american",
        2: "other_hispanic",
        4: "non_hispanic_black",
        5: "other_race",
    }.items():
        eta = eta + np.where(race == code, s1["race"][name], 0.0)
    eta = eta + np.where(df.OSQ150 == 1, s1["parental_osteoporosis"], 0.0)
    fracture = (df.OSQ010A == 1) | (df.OSQ010B == 1) | (df.OSQ010C == 1)
    eta = eta + np.where(fracture, s1["previous_fracture"], 0.0)
    eta = eta + np.where(df.SMQ020 == 1, s1["ever_smoked"], 0.0)
    eta = eta + np.where(df.DIQ010 == 1, s1["diabetes"], 0.0)
    sens = tm.SENSITIVITY
    eta = eta + sens["op_log_or_per_ln_cotinine"] * (
        df["_ln_cotinine"].to_numpy() - sens["ln_cotinine_centre"]
    )
    median, log_sd = tm.METAL_WOMEN_50["manganese"]
    u = np.log(df[METAL_VARS["manganese"][0]].to_numpy()) - np.log(median)
    eta = eta + np.nan_to_num(sens["manganese_u_kappa"] * (u**2 - log_sd**2))
    for metal, effects in s1["quartile_log_or"].items():
        var = METAL_VARS[metal][0]
        q = quartile_of(df[var].to_numpy(), cuts[metal])
        for level, log_or in effects.items():
            eta = eta + np.where(q == int(level), log_or, 0.0)
    return eta


def bmd_values(
    df: pd.DataFrame, cuts: dict[str, tuple[float, float, float]], rng: np.random.Generator
) -> None:
    """Fill the femur and spine BMD (and their areas and contents) of valid scans."""
    n = len(df)
    a = df.RIDAGEYR.to_numpy()
    women = (df.RIAGENDR == 2).to_numpy()
    eta = np.where(
        women & (a >= 50),
        linear_predictor(df, cuts),
        np.where(women, tm.OTHERS["women_under_50_intercept"], tm.OTHERS["men_intercept"])
        + tm.OTHERS["age_per_year"] * a
        + np.where(df.BMXBMI.to_numpy() < 25, 0.6, 0.0),
    )
    latent = eta + rng.logistic(0.0, 1.0, n)
    lowest = tm.OP_THRESHOLD - tm.STUDY1["latent_to_tscore_scale"] * latent
    lowest = lowest + np.where(df["_treated"].to_numpy(), tm.SENSITIVITY["treated_tscore_gain"], 0.0)
    lowest = np.maximum(lowest, -6.0)  # keeps BMD physical; OP status is unchanged
    offsets = rng.exponential([0.55, 0.9, 1.1], size=(n, 3))
    offsets[np.arange(n), rng.choice(3, size=n, p=[0.1, 0.5, 0.4])] = 0.0
    offsets -= offsets.min(axis=1, keepdims=True)
    centre = np.where(
        women, tm.STUDY2["hemoglobin_centre_g_dl"]["women"], tm.STUDY2["hemoglobin_centre_g_dl"]["men"]
    )
    hgb = np.nan_to_num(df.LBXHGB.to_numpy() - centre)
    slopes = tm.STUDY2["hemoglobin_bmd_slope_g_cm2_per_g_dl"]
    values = {}
    for k, site in enumerate(SITES):
        mean, sd = tm.TSCORE_REFERENCE[site]
        bmd = mean + sd * (lowest + offsets[:, k])
        bmd = bmd + np.where(women, slopes["women"][site], slopes["men"][site]) * hgb
        values[site] = np.round(np.clip(bmd, 0.25, 1.95), 3)
    femur = df["_femur_valid"].to_numpy()
    spine = df["_spine_valid"].to_numpy()
    tf, fn, ls = values["total_femur"], values["femoral_neck"], values["lumbar_spine"]
    area_f = np.round(rng.normal(np.where(women, 32.0, 40.0), 2.5), 2)
    area_n = np.round(rng.normal(np.where(women, 4.9, 5.8), 0.35), 2)
    femur_cols = {
        "DXXOFBMD": tf,
        "DXXOFA": area_f,
        "DXXOFBMC": np.round(tf * area_f, 2),
        "DXXNKBMD": fn,
        "DXXNKA": area_n,
        "DXXNKBMC": np.round(fn * area_n, 2),
        "DXXTRBMD": np.round(tf * 0.76, 3),
        "DXXINBMD": np.round(tf * 1.16, 3),
        "DXXWDBMD": np.round(fn * 0.78, 3),
    }
    for col, v in femur_cols.items():
        df[col] = np.where(femur, v, np.nan)
    area_s = np.round(rng.normal(np.where(women, 58.0, 68.0), 4.0), 2)
    spine_cols = {"DXXOSBMD": ls, "DXXOSA": area_s, "DXXOSBMC": np.round(ls * area_s, 2)}
    for k, factor in enumerate((0.93, 0.98, 1.02, 1.05), start=1):
        spine_cols[f"DXXL{k}BMD"] = np.round(ls * factor, 3)
    for col, v in spine_cols.items():
        df[col] = np.where(spine, v, np.nan)
    df["DXXL1BCC"] = np.where(df.DXXOSBCC.notna(), np.where(spine, 0.0, df.DXXOSBCC), np.nan)
