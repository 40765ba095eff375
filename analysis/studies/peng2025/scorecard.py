"""How close the warehouse comes to Peng et al. 2025, in one table the report opens with.

Each row is one comparison with the paper's published values (analysis/paper/peng2025.json):
the cohort, Table 1's counts and metal means, Table 2's cut-points, ORs and directions,
Table 3's directions, Table 4's ORs, Figure 2's leading weights and Figure 3's overall risk.
Data in (the analysis tables, the flow), a frame out; nothing here reads the warehouse.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from nhanes_bone.core import vocabulary
from nhanes_bone.core.settings import PAPERS_DIR

PAPER = json.loads((PAPERS_DIR / "peng2025.json").read_text())
METALS = tuple(vocabulary.METALS)


def _row(item: str, paper: str, ours: str, agree: bool | None, note: str = "") -> dict:
    return {"comparison": item, "paper": paper, "ours": ours, "agrees": agree, "note": note}


def _mean(text: str) -> float:
    return float(text.split(" (")[0])


def scorecard(tables: dict[str, pd.DataFrame | None], flow: pd.DataFrame | None) -> pd.DataFrame:
    rows = []
    cohort = PAPER["cohort"]
    if flow is not None and len(flow):
        last = flow.iloc[-1]
        rows.append(
            _row(
                "Cohort: women / with osteoporosis",
                f"{cohort['n']} / {cohort['osteoporosis']}",
                f"{int(last.n_remaining)} / {int(last.n_osteoporosis)}",
                int(last.n_remaining) == cohort["n"] and int(last.n_osteoporosis) == cohort["osteoporosis"],
                f"difference {int(last.n_remaining) - cohort['n']:+d} / "
                f"{int(last.n_osteoporosis) - cohort['osteoporosis']:+d}",
            )
        )
    rows += _table1_rows(tables.get("table1"))
    rows += _reproduction_rows(tables.get("reproduction"))
    rows += _table2_rows(tables.get("table2"))
    rows += _table3_rows(tables.get("table3"))
    rows += _table4_rows(tables.get("table4"))
    rows += _wqs_rows(tables.get("wqs_weights"))
    rows += _bkmr_rows(tables.get("bkmr_overall_risk"))
    return pd.DataFrame(rows, columns=["comparison", "paper", "ours", "agrees", "note"])


def paper_levels(t1: pd.DataFrame) -> pd.Series:
    """The paper's Table 1 level each of our rows stands for. Age groups go by position: with
    age_group_breaks = [61, 71] ours read 50-61 / 61-71 / >=71 (the groups [50, 61) ...), the
    paper's 50-60 / 60-70 / >70."""
    out = t1["level"].astype(str).copy()
    age = t1.variable == "Age group (years)"
    ours = sorted(
        t1.loc[age, "level"].astype(str).unique(), key=lambda lv: float(lv.strip("<>=").split("-")[0])
    )
    theirs = list(PAPER["table1"]["categorical"]["Age group (years)"])
    if len(ours) == len(theirs):
        out[age] = t1.loc[age, "level"].astype(str).map(dict(zip(ours, theirs, strict=True)))
    return out


def _table1_rows(t1: pd.DataFrame | None) -> list[dict]:
    if t1 is None or t1.empty:
        return []
    paper = PAPER["table1"]
    equal = total = distance = 0
    t1 = t1.assign(paper_level=paper_levels(t1))
    for r in t1[t1.statistic == "n (%)"].itertuples():
        ref = paper["categorical"].get(r.variable, {}).get(r.paper_level)
        if ref is None:
            continue
        for ours, theirs in ((r.non_op_value, ref[0]), (r.op_value, ref[1])):
            total += 1
            equal += int(ours) == theirs
            distance += abs(int(ours) - theirs)
    rows = [
        _row(
            "Table 1: categorical counts equal to the paper's",
            f"{total} counts",
            f"{equal} of {total}",
            equal == total,
            f"sum of absolute differences {distance}",
        )
    ]
    means = t1[(t1.statistic == "mean (SD)") & t1.variable.isin(list(paper["continuous"]))]
    close = 0
    worst = ("", 0.0)
    for r in means.itertuples():
        ref_non, ref_op, _p = paper["continuous"][r.variable]
        for ours, theirs in ((r.non_op_value, _mean(ref_non)), (r.op_value, _mean(ref_op))):
            rel = abs(ours - theirs) / abs(theirs)
            close += rel <= 0.05
            if rel > worst[1]:
                worst = (r.variable, rel)
    if len(means):
        rows.append(
            _row(
                "Table 1: metal and BMD means within 5% of the paper's",
                f"{2 * len(means)} means",
                f"{close} of {2 * len(means)}",
                close == 2 * len(means),
                f"largest relative difference {worst[1]:.1%} ({worst[0]})",
            )
        )
    return rows


def _reproduction_rows(rep: pd.DataFrame | None) -> list[dict]:
    if rep is None or rep.empty:
        return []
    best = rep.sort_values("rank").iloc[0]
    return [
        _row(
            "Table 2: quartile cut-points within ±0.01 of the paper's",
            "15 cut-points",
            f"{int(best.cutpoints_within_tolerance)} of 15 (best definition)",
            int(best.cutpoints_within_tolerance) == 15,
            f"largest relative difference {best.cutpoint_max_relative_difference:.1%}",
        )
    ]


def _table2_rows(t2: pd.DataFrame | None) -> list[dict]:
    if t2 is None or t2.empty:
        return []
    rows = []
    for weighting in ("unweighted", "design"):
        inside = direction = total = 0
        trend_sig = trend_total = 0
        for r in t2[(t2.weighting == weighting) & t2.term.isin(["Q2", "Q3", "Q4", "trend"])].itertuples():
            ref = PAPER["table2"].get(r.metal, {}).get(r.model, {}).get(r.term)
            if ref is None or not np.isfinite(r.estimate):
                continue
            if r.term == "trend":
                trend_total += 1
                trend_sig += (r.p_value < 0.05) == (ref < 0.05)
                continue
            total += 1
            inside += ref[1] <= r.odds_ratio <= ref[2]
            direction += (r.odds_ratio > 1) == (ref[0] > 1)
        if total:
            rows.append(
                _row(
                    f"Table 2 ({weighting}): ORs inside the paper's 95% CI",
                    f"{total} ORs",
                    f"{inside} of {total}",
                    inside == total,
                    f"direction agrees in {direction} of {total}; p for trend on the same side of 0.05 "
                    f"in {trend_sig} of {trend_total}",
                )
            )
    return rows


def _table3_rows(t3: pd.DataFrame | None) -> list[dict]:
    if t3 is None or t3.empty:
        return []
    rows = []
    for weighting in ("unweighted", "design"):
        direction = total = 0
        for r in t3[(t3.weighting == weighting) & t3.term.isin(["Q2", "Q3", "Q4"])].itertuples():
            ref = PAPER["table3"].get(r.metal, {}).get(r.outcome, {}).get(r.model, {}).get(r.term)
            if ref is None or not np.isfinite(r.estimate):
                continue
            total += 1
            direction += np.sign(r.estimate) == np.sign(ref[0])
        if total:
            rows.append(
                _row(
                    f"Table 3 ({weighting}): β with the paper's sign",
                    f"{total} β",
                    f"{direction} of {total}",
                    direction == total,
                )
            )
    return rows


def _table4_rows(t4: pd.DataFrame | None) -> list[dict]:
    if t4 is None or t4.empty:
        return []
    rows = []
    for weighting in ("unweighted", "design"):
        inside = total = 0
        for r in t4[(t4.weighting == weighting) & (t4.term == "Q4")].itertuples():
            ref = PAPER["table4"]["q4"].get(r.metal, {}).get(r.level)
            if ref is None or ref[2] is None or not np.isfinite(r.odds_ratio):
                continue
            total += 1
            inside += ref[1] <= r.odds_ratio <= ref[2]
        if total:
            rows.append(
                _row(
                    f"Table 4 ({weighting}): Q4 ORs inside the paper's 95% CI",
                    f"{total} ORs (with both CI bounds legible)",
                    f"{inside} of {total}",
                    inside == total,
                )
            )
    return rows


def _wqs_rows(weights: pd.DataFrame | None) -> list[dict]:
    if weights is None or weights.empty:
        return []
    rows = []
    for direction, expected in (("positive", "cadmium"), ("negative", "selenium")):
        part = weights[weights.direction == direction]
        if part.empty:
            continue
        top = part.sort_values("weight", ascending=False).iloc[0]
        rows.append(
            _row(
                f"Figure 2: largest WQS weight, {direction} direction",
                expected,
                f"{top.metal} ({top.weight:.2f})",
                top.metal == expected,
                "the paper names cadmium harmful and selenium protective",
            )
        )
    return rows


def _bkmr_rows(risk: pd.DataFrame | None) -> list[dict]:
    if risk is None or risk.empty:
        return []
    if "chain" in risk:
        risk = risk[risk["chain"].astype(str) == "all"]
    top = risk.sort_values("quantile").iloc[-1]
    low, high = top.est - 1.96 * top.sd, top.est + 1.96 * top.sd
    return [
        _row(
            f"Figure 3: overall risk, all metals at their {top['quantile']:.2f} quantile vs the median",
            "positive (mixture raises OP risk)",
            f"{top.est:+.3f} (95% interval {low:+.3f}, {high:+.3f})",
            bool(low > 0),
        )
    ]
