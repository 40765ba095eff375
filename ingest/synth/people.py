"""Synthetic participants: one wide frame per cycle, before it is cut into NHANES files.

Distributions are calibrated to the genuine 2013-2014 and 2017-2020 files where they
exist offline (age histogram, sex, race, education, marital status, BMI, smoking and
osteoporosis-questionnaire answers among women 50+, PBCD_H's subsample structure); the
rest follow the NHANES codebooks. Everything is vectorised and driven by one
``numpy.random.Generator`` so that a seed fixes every byte.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ingest.synth import truth_model as tm


@dataclass(frozen=True)
class CycleDesign:
    suffix: str  # H | P
    cycle: str
    n: int  # DEMO rows at scale 1
    first_seqn: int
    share_examined: float
    strata: tuple[int, int]
    max_psu: int
    dxa_min_age: int
    osq_min_age: int
    metals_half_sample: bool  # 2013-2014: children 1-11 all, 12+ a random half
    release_stamp: str  # written into the XPT headers, ddMMMyy:hh:mm:ss
    sddsrvyr: int
    # age histogram of the genuine DEMO file: bins 0-1,2-5,6-11,12-15,16-19,20-29,...,70-79,80
    age_counts: tuple[int, ...]
    race_shares: tuple[float, ...]  # RIDRETH1 1..5 among women 50+ of the genuine file


AGE_EDGES = (0, 2, 6, 12, 16, 20, 30, 40, 50, 60, 70, 80, 81)

CYCLES = {
    "H": CycleDesign(
        "H",
        "2013-2014",
        10175,
        73557,
        9813 / 10175,
        (104, 118),
        2,
        40,
        40,
        True,
        "01JAN26:00:00:00",
        8,
        (667, 936, 1371, 737, 695, 956, 998, 1035, 939, 940, 549, 352),
        (0.107, 0.091, 0.485, 0.196, 0.121),
    ),
    "P": CycleDesign(
        "P",
        "2017-2020",
        15560,
        109263,
        14300 / 15560,
        (149, 172),
        3,
        50,
        50,
        False,
        "01JAN26:00:00:00",
        66,
        (980, 1362, 1985, 1038, 963, 1378, 1421, 1446, 1565, 1746, 994, 682),
        (0.091, 0.107, 0.383, 0.269, 0.150),
    ),
}


def seqn_starts(scale: float) -> dict[str, int]:
    """Each cycle's first SEQN at ``scale``: the genuine one, moved up when the cycle before
    would reach into it (at 10× the 2013-2014 range passes 109,263, where 2017-2020 starts), so
    that a participant id never repeats across cycles at any scale."""
    starts, next_free = {}, 0
    for suffix, design in CYCLES.items():
        starts[suffix] = max(design.first_seqn, next_free)
        next_free = starts[suffix] + max(1, round(design.n * scale))
    return starts


RACE_NAMES = {
    1: "mexican_american",
    2: "other_hispanic",
    3: "non_hispanic_white",
    4: "non_hispanic_black",
    5: "other_race",
}


def _choice(rng: np.random.Generator, codes, probs, size: int) -> np.ndarray:
    p = np.asarray(probs, dtype=float)
    return rng.choice(np.asarray(codes, dtype=float), size=size, p=p / p.sum())


def _expit(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def people(
    design: CycleDesign, scale: float, rng: np.random.Generator, extra: np.random.Generator
) -> pd.DataFrame:
    """Demographics, questionnaires, body measures, blood counts and metals for a cycle.

    ``extra`` draws what the sensitivity analyses need (cotinine, creatinine, medicines), so
    that adding them left every draw of ``rng`` — and the rest of the twin — as it was."""
    n = max(1, round(design.n * scale))
    df = pd.DataFrame({"SEQN": np.arange(design.first_seqn, design.first_seqn + n, dtype=float)})

    # demographics ------------------------------------------------------------------
    counts = np.asarray(design.age_counts, dtype=float)
    bins = rng.choice(len(counts), size=n, p=counts / counts.sum())
    lo, hi = np.asarray(AGE_EDGES[:-1])[bins], np.asarray(AGE_EDGES[1:])[bins]
    age = np.floor(lo + rng.random(n) * (hi - lo))
    df["RIDAGEYR"] = np.minimum(age, 80)
    df["RIAGENDR"] = _choice(rng, [1, 2], [0.492, 0.508], n)
    df["RIDRETH1"] = _choice(rng, [1, 2, 3, 4, 5], design.race_shares, n)
    df["RIDRETH3"] = np.where(df.RIDRETH1 == 5, _choice(rng, [6, 7], [0.6, 0.4], n), df.RIDRETH1)
    df["RIDSTATR"] = np.where(rng.random(n) < design.share_examined, 2.0, 1.0)
    adult = df.RIDAGEYR >= 20
    educ = _choice(rng, [1, 2, 3, 4, 5, 7, 9], [0.105, 0.13, 0.235, 0.31, 0.215, 0.0007, 0.0015], n)
    df["DMDEDUC2"] = np.where(adult, educ, np.nan)
    # marital status drawn in the three 2017-2020 groups, split into DMDMARTL codes for 2013-2014
    group = _choice(rng, [1, 2, 3, 77, 99], [0.48, 0.43, 0.086, 0.0012, 0.0008], n)
    young = df.RIDAGEYR < 35
    group = np.where(young & (group == 2) & (rng.random(n) < 0.6), 3.0, group)
    if design.suffix == "H":
        split_married = np.where(rng.random(n) < 0.93, 1.0, 6.0)
        split_widowed = _choice(rng, [2, 3, 4], [0.5, 0.4, 0.1], n)
        detail = np.select(
            [group == 1, group == 2, group == 3], [split_married, split_widowed, np.full(n, 5.0)], group
        )
        df["DMDMARTL"] = np.where(adult, detail, np.nan)
    else:
        df["DMDMARTZ"] = np.where(adult, group, np.nan)
    women = df.RIAGENDR == 2
    childbearing = women & df.RIDAGEYR.between(20, 44)
    df["RIDEXPRG"] = np.where(childbearing, _choice(rng, [1, 2, 3], [0.05, 0.87, 0.08], n), np.nan)
    pir = np.minimum(5.0, np.round(rng.gamma(2.2, 1.1, n), 2))
    df["INDFMPIR"] = np.where(rng.random(n) < 0.1, np.nan, pir)
    s_lo, s_hi = design.strata
    df["SDMVSTRA"] = rng.integers(s_lo, s_hi + 1, n).astype(float)
    three_psu = (df.SDMVSTRA % 6 == 0) & (design.max_psu >= 3)
    df["SDMVPSU"] = np.where(three_psu, rng.integers(1, 4, n), rng.integers(1, 3, n)).astype(float)
    interview_weight = np.round(np.exp(rng.normal(9.9, 0.75, n)) * scale**-1, 6)
    examined = df.RIDSTATR == 2
    df["_examined"] = examined
    df["_wt_int"] = interview_weight
    df["_wt_mec"] = np.where(examined, np.round(interview_weight * rng.uniform(1.0, 1.15, n), 6), 0.0)

    # questionnaires ----------------------------------------------------------------
    a = df.RIDAGEYR.to_numpy()
    ever_smoked = rng.random(n) < np.where(women, 0.37, 0.52)
    smq = np.where(ever_smoked, 1.0, 2.0)
    smq = np.where(rng.random(n) < 0.0015, _choice(rng, [7, 9], [0.3, 0.7], n), smq)
    df["SMQ020"] = np.where(a >= 18, smq, np.nan)
    df["SMQ040"] = np.where(df.SMQ020 == 1, _choice(rng, [1, 2, 3], [0.25, 0.05, 0.7], n), np.nan)
    df["_ever_smoked"] = df.SMQ020 == 1

    hyper = np.where(rng.random(n) < _expit(-3.2 + 0.065 * (a - 20)), 1.0, 2.0)
    hyper = np.where(rng.random(n) < 0.0015, 9.0, hyper)
    df["BPQ020"] = np.where(a >= 16, hyper, np.nan)
    df["BPQ030"] = np.where(df.BPQ020 == 1, _choice(rng, [1, 2], [0.85, 0.15], n), np.nan)
    df["BPQ080"] = np.where(a >= 16, _choice(rng, [1, 2, 9], [0.35, 0.645, 0.005], n), np.nan)

    diab = np.where(rng.random(n) < _expit(-5.6 + 0.065 * a), 1.0, 2.0)
    borderline = (diab == 2) & (a >= 20) & (rng.random(n) < 0.04)
    diab = np.where(borderline, 3.0, diab)
    diab = np.where(rng.random(n) < 0.0015, _choice(rng, [7, 9], [0.2, 0.8], n), diab)
    df["DIQ010"] = np.where(a >= 1, diab, np.nan)

    osq = a >= design.osq_min_age
    parent = _choice(rng, [1, 2, 9, 7], [0.18, 0.74, 0.075, 0.002], n)
    df["OSQ150"] = np.where(osq, parent, np.nan)
    for var, p_yes in (("OSQ010A", 0.03), ("OSQ010B", 0.095), ("OSQ010C", 0.028)):
        df[var] = np.where(osq, _choice(rng, [1, 2, 9], [p_yes, 1 - p_yes - 0.0012, 0.0012], n), np.nan)
    df["OSQ080"] = np.where(osq, _choice(rng, [1, 2, 9], [0.25, 0.748, 0.002], n), np.nan)
    told_op = np.where(women, 0.17, 0.03)
    df["OSQ060"] = np.where(osq, np.where(rng.random(n) < told_op, 1.0, 2.0), np.nan)

    rhq = women & (a >= 12)
    no_period = np.where(
        a >= 50, rng.random(n) < 0.94, np.where(a >= 45, rng.random(n) < 0.4, rng.random(n) < 0.05)
    )
    df["RHQ031"] = np.where(rhq, np.where(no_period, 2.0, 1.0), np.nan)
    reason = _choice(rng, [7, 3, 1, 9], [0.6, 0.33, 0.05, 0.02], n)
    df["RHD043"] = np.where(df.RHQ031 == 2, reason, np.nan)
    last_age = np.clip(np.round(rng.normal(49, 4.5, n)), 30, np.maximum(a, 30))
    df["RHQ060"] = np.where(df.RHD043 == 7, np.where(rng.random(n) < 0.02, 999.0, last_age), np.nan)

    # body measures ---------------------------------------------------------------
    child_median = 15.5 + 0.45 * np.minimum(a, 18)
    adult_median = np.where(women, 28.9, 28.5)
    median = np.where(a >= 18, adult_median, child_median)
    bmi = np.round(np.exp(np.log(median) + rng.normal(0, 0.22, n)), 1)
    bmi = np.clip(bmi, 12.0, 84.0)
    df["BMXBMI"] = np.where(examined & (a >= 2) & (rng.random(n) > 0.02), bmi, np.nan)
    height = np.where(
        a >= 18, np.where(women, rng.normal(160, 7, n), rng.normal(174, 7.5, n)), 80 + 5.5 * np.minimum(a, 18)
    )
    df["BMXHT"] = np.where(df.BMXBMI.notna(), np.round(height, 1), np.nan)
    df["BMXWT"] = np.round(df.BMXBMI * (df.BMXHT / 100) ** 2, 1)
    df["BMDSTATS"] = np.where(examined, np.where(df.BMXBMI.notna(), 1.0, 3.0), np.nan)

    # complete blood count ------------------------------------------------------------
    hgb_centre = np.where(women, 13.1, 15.0 - 0.012 * np.maximum(a - 40, 0))
    hgb = np.round(hgb_centre + rng.normal(0, np.where(women, 1.15, 1.35), n), 1)
    has_cbc = examined & (a >= 1) & (rng.random(n) > 0.04)
    df["LBXHGB"] = np.where(has_cbc, hgb, np.nan)
    df["LBXHCT"] = np.where(has_cbc, np.round(hgb * 2.95 + rng.normal(0, 0.8, n), 1), np.nan)
    df["LBXRBCSI"] = np.where(has_cbc, np.round(hgb / 3.0 + rng.normal(0, 0.2, n), 2), np.nan)
    df["_has_cbc"] = has_cbc

    _sensitivity_covariates(df, extra)
    _metals(df, design, rng)
    return df


def _sensitivity_covariates(df: pd.DataFrame, rng: np.random.Generator) -> None:
    """Serum cotinine (examined, 3+), serum creatinine (examined, 12+), OSQ072 and the
    prescription medicines of the past month, with the planted treated group
    (``truth_model.SENSITIVITY``) among women 50+."""
    n = len(df)
    a = df.RIDAGEYR.to_numpy()
    women = (df.RIAGENDR == 2).to_numpy()
    examined = df["_examined"].to_numpy()
    current = (df.SMQ040.isin([1, 2])).to_numpy()
    cot = tm.COTININE
    ln_cot = np.where(
        current,
        rng.normal(*cot["current_smoker_ln"], n),
        rng.normal(*cot["others_ln"], n),
    )
    value = np.round(np.exp(np.minimum(ln_cot, np.log(cot["max"]))), 3)
    below = value < cot["lod"]
    has_cot = examined & (a >= 3) & (rng.random(n) > 0.07)
    df["LBXCOT"] = np.where(has_cot, np.where(below, 0.011, value), np.nan)
    df["LBDCOTLC"] = np.where(has_cot, below.astype(float), np.nan)
    # what cadmium and the OP model see: the log of the value as published
    df["_ln_cotinine"] = np.where(has_cot, np.log(df.LBXCOT.to_numpy()), tm.SENSITIVITY["ln_cotinine_centre"])

    median = np.where(women, 0.72, 0.95) * np.exp(0.004 * np.maximum(a - 40, 0))
    creatinine = np.round(np.exp(np.log(median) + rng.normal(0, 0.22, n)), 2)
    df["LBXSCR"] = np.where(examined & (a >= 12) & (rng.random(n) > 0.05), creatinine, np.nan)
    df["_has_biopro"] = examined & (a >= 12)

    sens = tm.SENSITIVITY
    told = (df.OSQ060 == 1).to_numpy()
    share = np.where(
        told, sens["treated_share_told_osteoporosis"], sens["treated_share_others_women_50_plus"]
    )
    treated = women & (a >= 50) & (rng.random(n) < share)
    df["_treated"] = treated
    df["OSQ072"] = np.where(told, np.where(treated, 1.0, 2.0), np.nan)
    names = [m[0] for m in tm.BONE_MEDICINES]
    shares = np.array([m[2] for m in tm.BONE_MEDICINES])
    df["_bone_medicine"] = np.where(treated, rng.choice(len(names), n, p=shares / shares.sum()), -1)
    # other medicines: more with age; a list of indices into OTHER_MEDICINES per person
    count = rng.poisson(np.clip(0.03 * (a - 10), 0.05, 2.5))
    picks = rng.integers(0, len(tm.OTHER_MEDICINES), size=(n, 6))
    df["_other_medicines"] = [tuple(row[: min(k, 6)]) for row, k in zip(picks, count, strict=True)]


# LOD/√2 fill values and LODs (µg/dL for lead, µg/L otherwise), after the 2013-2014 file
METAL_VARS = {
    "lead": ("LBXBPB", "LBDBPBSI", "LBDBPBLC", 0.0483, 0.07),
    "cadmium": ("LBXBCD", "LBDBCDSI", "LBDBCDLC", 8.897, 0.10),
    "mercury": ("LBXTHG", "LBDTHGSI", "LBDTHGLC", 4.99, 0.28),
    "selenium": ("LBXBSE", "LBDBSESI", "LBDBSELC", 0.0127, 24.48),
    "manganese": ("LBXBMN", "LBDBMNSI", "LBDBMNLC", 18.2, 0.99),
}
METAL_CORRELATION = np.array(
    [
        [1.0, 0.25, 0.15, 0.05, 0.05],
        [0.25, 1.0, 0.05, 0.0, 0.05],
        [0.15, 0.05, 1.0, 0.25, 0.0],
        [0.05, 0.0, 0.25, 1.0, 0.1],
        [0.05, 0.05, 0.0, 0.1, 1.0],
    ]
)


def _metals(df: pd.DataFrame, design: CycleDesign, rng: np.random.Generator) -> None:
    n = len(df)
    a = df.RIDAGEYR.to_numpy()
    men = (df.RIAGENDR == 1).to_numpy()
    examined = df["_examined"].to_numpy()
    if design.metals_half_sample:
        in_sample = examined & (a >= 1) & ((a < 12) | (rng.random(n) < 0.5))
    else:
        in_sample = examined & (a >= 1) & (rng.random(n) < 0.965)
    drawn = in_sample & (rng.random(n) > (0.09 if design.metals_half_sample else 0.04))
    z = rng.multivariate_normal(np.zeros(5), METAL_CORRELATION, size=n)
    smoker = df["_ever_smoked"].to_numpy().astype(float)
    sens = tm.SENSITIVITY
    cotinine = df["_ln_cotinine"].to_numpy() - sens["ln_cotinine_centre"]
    for j, metal in enumerate(tm.METALS):
        median, log_sd = tm.METAL_WOMEN_50[metal]
        mu = np.log(median)
        if metal == "cadmium":
            shift = tm.CADMIUM_SMOKING_LOG_SHIFT
            mu = mu + shift * (smoker - 0.37)
            log_sd = np.sqrt(max(log_sd**2 - shift**2 * 0.37 * 0.63, 0.05))
            mu = mu + np.where(a < 20, -0.9, 0.0) + np.where(men, -0.15, 0.0)
            mu = mu + sens["cadmium_ln_per_ln_cotinine"] * cotinine
        elif metal == "lead":
            mu = mu + np.where(men, 0.35, 0.0) + np.where(a < 50, -0.35, 0.0)
        elif metal == "manganese":
            mu = mu + np.where(men, -0.12, 0.0) + np.where(a < 20, 0.1, 0.0)
        value = np.round(np.exp(mu + log_sd * z[:, j]), 2)
        var, si_var, lc_var, si_factor, lod = METAL_VARS[metal]
        below = value < lod
        value = np.where(below, np.round(lod / np.sqrt(2), 2), value)
        df[var] = np.where(drawn, value, np.nan)
        df[si_var] = np.where(drawn, np.round(value * si_factor, 3), np.nan)
        df[lc_var] = np.where(drawn, below.astype(float), np.nan)
    df["_in_metal_sample"] = in_sample
    if design.metals_half_sample:
        ratio = np.where(a < 12, 1.0, rng.uniform(1.8, 2.3, n))
        weight = np.round(df["_wt_mec"].to_numpy() * ratio, 6)
        df["WTSH2YR"] = np.where(in_sample, np.where(drawn | (rng.random(n) < 0.3), weight, 0.0), np.nan)
