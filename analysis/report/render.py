"""`nhanes-bone report`: one self-contained HTML page from what the warehouse already holds.

Nothing is refitted: the page is built from the marts, the ``analysis`` and ``dq`` schemas
and ``marts.data_sources`` (read-only), with the paper's published values beside ours from the
data files in ``analysis/paper/``. Sections whose inputs do not exist yet say so, and
which command would produce them.
"""

from __future__ import annotations

import html
import json
import time
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path

import jinja2
import numpy as np
import pandas as pd

from analysis.report import figures
from analysis.report.benchmarks import benchmark_rows, machine_line
from analysis.studies.peng2025.reproduce import GRID
from analysis.studies.peng2025.scorecard import paper_levels, scorecard
from nhanes_bone.core.errors import InputError
from nhanes_bone.core.settings import BENCH_RESULTS, EXPECTATIONS_DIR, PAPERS_DIR
from nhanes_bone.core.warehouse import connect_read_only

HERE = Path(__file__).resolve().parent  # the templates beside this module
PAPER = json.loads((PAPERS_DIR / "peng2025.json").read_text())
IMOS = json.loads((PAPERS_DIR / "imos2025.json").read_text())
PACKAGES = [
    "nhanes-bone",
    "duckdb",
    "dbt-core",
    "dbt-duckdb",
    "great-expectations",
    "pandas",
    "numpy",
    "scipy",
    "statsmodels",
    "pyreadstat",
    "matplotlib",
]


@dataclass
class Section:
    id: str
    title: str
    html: str = ""
    images: list[str] = field(default_factory=list)
    missing: str | None = None


def _read(con, sql: str) -> pd.DataFrame | None:
    try:
        return con.execute(sql).df()
    except Exception:  # a schema or table that does not exist yet is a missing section, not an error
        return None


def _fmt(value, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return ""
    if isinstance(value, (int, np.integer)):
        return f"{value:,}"
    if isinstance(value, (float, np.floating)):
        return f"{value:.{digits}f}"
    return html.escape(str(value))


def _table(frame: pd.DataFrame, digits: int = 3) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_fmt(v, digits)}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return f'<table class="result"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _or_text(or_, lo, hi) -> str:
    if or_ is None or not np.isfinite(or_):
        return ""
    if lo is None or hi is None or not (np.isfinite(lo) and np.isfinite(hi)):
        return f"{or_:.3f}"
    return f"{or_:.3f} ({lo:.3f}, {hi:.3f})"


def table1_section(t1: pd.DataFrame) -> pd.DataFrame:
    paper = PAPER["table1"]
    rows = []
    for r in t1.assign(paper_level=paper_levels(t1)).itertuples():
        ref_non = ref_op = ref_p = None
        if r.variable == "Participants":
            ref_non, ref_op = paper["participants"]["non_op"], paper["participants"]["op"]
        elif r.variable in paper["categorical"] and r.paper_level in paper["categorical"][r.variable]:
            ref_non, ref_op, ref_p = paper["categorical"][r.variable][r.paper_level]
        elif r.variable in paper["continuous"] and r.statistic == "mean (SD)":  # the paper's are means
            ref_non, ref_op, ref_p = paper["continuous"][r.variable]
        rows.append(
            {
                "variable": r.variable,
                "level": r.level,
                "statistic": r.statistic,
                "no OP (ours)": r.non_op,
                "OP (ours)": r.op,
                "p (ours)": r.p_value,
                "no OP (paper)": ref_non,
                "OP (paper)": ref_op,
                "p (paper)": ref_p,
                "difference no OP / OP": (
                    f"{int(r.non_op_value) - ref_non:+d} / {int(r.op_value) - ref_op:+d}"
                    if isinstance(ref_non, int) and r.statistic in ("n", "n (%)")
                    else ""
                ),
            }
        )
    return pd.DataFrame(rows)


def table2_section(t2: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for r in t2[t2.term.isin(["Q2", "Q3", "Q4", "trend"])].itertuples():
        ref = PAPER["table2"].get(r.metal, {}).get(r.model, {}).get(r.term)
        ours = (
            _or_text(r.odds_ratio, getattr(r, "or_ci_low", None), getattr(r, "or_ci_high", None))
            if r.term != "trend"
            else ""
        )
        paper_or = _or_text(*ref[:3]) if isinstance(ref, list) else ""
        rows.append(
            {
                "weighting": r.weighting,
                "metal": r.metal,
                "model": r.model,
                "term": r.term,
                "range": getattr(r, "range", ""),
                "OR (95% CI), ours": ours,
                "p, ours": r.p_value,
                "OR (95% CI), paper": paper_or,
                "p, paper": ref[3] if isinstance(ref, list) else ref,
                "OR difference": (r.odds_ratio - ref[0]) if isinstance(ref, list) else None,
            }
        )
    return pd.DataFrame(rows)


def table3_section(t3: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for r in t3[t3.term.isin(["Q2", "Q3", "Q4", "trend"])].itertuples():
        ref = PAPER["table3"].get(r.metal, {}).get(r.outcome, {}).get(r.model, {}).get(r.term)
        rows.append(
            {
                "weighting": r.weighting,
                "site": r.outcome.replace("_bmd_g_cm2", ""),
                "metal": r.metal,
                "model": r.model,
                "term": r.term,
                "β, ours": r.estimate if r.term != "trend" else None,
                "p, ours": r.p_value,
                "β, paper": ref[0] if isinstance(ref, list) else None,
                "p, paper": ref[1] if isinstance(ref, list) else ref,
                "β difference": (r.estimate - ref[0]) if isinstance(ref, list) else None,
            }
        )
    return pd.DataFrame(rows)


def table4_section(t4: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for r in t4[t4.term.isin(["Q4", "interaction"])].itertuples():
        if r.term == "interaction":
            ref = PAPER["table4"]["interaction"].get(r.metal, {}).get(r.subgroup)
            rows.append(
                {
                    "weighting": r.weighting,
                    "subgroup": r.subgroup,
                    "level": "p for interaction",
                    "metal": r.metal,
                    "Q4 OR (95% CI), ours": "",
                    "p, ours": r.p_value,
                    "Q4 OR (95% CI), paper": "",
                    "p, paper": ref,
                }
            )
            continue
        ref = PAPER["table4"]["q4"].get(r.metal, {}).get(r.level)
        rows.append(
            {
                "weighting": r.weighting,
                "subgroup": r.subgroup,
                "level": r.level,
                "metal": r.metal,
                "Q4 OR (95% CI), ours": _or_text(r.odds_ratio, r.or_ci_low, r.or_ci_high),
                "p, ours": r.p_value,
                "Q4 OR (95% CI), paper": _or_text(*ref[:3]) if ref else "",
                "p, paper": ref[3] if ref else None,
            }
        )
    return pd.DataFrame(rows)


def _sensitivity_sections(t: dict, figs: Path, synthetic: bool) -> list[Section]:
    """The sensitivity analyses of Model 3, the weighted Table 1 with the LOD shares, and WQS
    with repeated holdout (analysis/studies/peng2025/sensitivity.py says what each does)."""
    out = []
    s = Section("sensitivity-analyses", "Sensitivity analyses of Model 3 (beyond the paper)")
    sens = t["sensitivity_analyses"]
    if sens is None:
        s.missing = "no sensitivity analyses in the warehouse (analysis.sensitivity_analyses): run `nhanes-bone analyze`"
    else:
        s.images.append(figures.save(figures.sensitivity_forest(sens), figs, "sensitivity_forest", synthetic))
        shown = [c for c in sens.columns if c not in ("description", "warnings")]
        s.html = (
            "<p>Table 2's Model 3 re-fitted for each metal: Q4 vs Q1 OR, p for trend and the OR per "
            "doubling of the metal, unweighted and design-based. <code>cotinine</code> adds ln serum "
            "cotinine (COT), <code>egfr</code> the CKD-EPI 2021 eGFR from serum creatinine (BIOPRO: "
            "Jaffe in 2013–2014, enzymatic in 2017–2020), <code>untreated</code> leaves out women on a "
            "bone medicine (RXQ_RX) or ever prescribed one (OSQ072), the mercury rows put the values "
            "below the detection limit at LOD/2 or leave them out, and <code>imputed</code> imputes the "
            "covariates (chained equations, pooled by Rubin's rules) on every woman with all metals and "
            "BMD instead of the complete cases. Quartile cut-points stay the cohort's.</p>"
            + "<ul>"
            + "".join(
                f"<li><code>{html.escape(a)}</code>: {html.escape(d)}</li>"
                for a, d in sens[["analysis", "description"]].drop_duplicates().itertuples(index=False)
            )
            + "</ul>"
            + _table(sens[shown])
        )
    out.append(s)

    s = Section("table1-weighted", "Table 1 with the survey weights, and values below the detection limit")
    if t["table1_weighted"] is None:
        s.missing = (
            "no weighted Table 1 in the warehouse (analysis.table1_weighted): run `nhanes-bone analyze`"
        )
    else:
        s.html = (
            "<p>Weighted percentages and means (SE) by osteoporosis status, the cohort a domain of the "
            "full NHANES design; p from the Rao–Scott second-order corrected F test (R's "
            "<code>svychisq</code>) and the design-based t test (<code>svyttest</code>). The paper's "
            "Table 1 is unweighted.</p>"
            + _table(t["table1_weighted"])
            + (
                "<h3>Values below the limit of detection</h3><p>NCHS publishes LOD/√2 in their place.</p>"
                + _table(t["lod_shares"])
                if t["lod_shares"] is not None
                else ""
            )
        )
    out.append(s)

    s = Section("wqs-repeated-holdout", "WQS with repeated holdout (beyond the paper)")
    if t["wqs_holdout_model"] is None or t["wqs_holdout_weights"] is None:
        s.missing = (
            "no repeated-holdout WQS in the warehouse (analysis.wqs_holdout_model): run `nhanes-bone analyze`"
        )
    else:
        s.html = (
            "<p>gWQS's repeated holdout (Tanner et al. 2019): Figure 2's WQS repeated on new random "
            "training/validation splits; the mixture OR is the mean of the validated estimates with "
            "their 2.5th–97.5th percentiles, the weights the means with theirs. The report's run uses "
            "demo settings (see <code>repeats</code> and <code>bootstraps_per_repeat</code>); "
            "<code>nhanes-bone wqs --rh 100</code> runs the full one.</p>"
            + _table(t["wqs_holdout_model"])
            + _table(t["wqs_holdout_weights"])
        )
    out.append(s)
    return out


def _scorecard_html(card: pd.DataFrame) -> str:
    if card.empty:
        return '<p class="missing">Not available: run `nhanes-bone analyze` for the comparison with the paper.</p>'
    shown = card.assign(agrees=card.agrees.map({True: "yes", False: "no", None: ""}))
    return _table(shown)


def reproduction_section(ranked: pd.DataFrame | None, cells: pd.DataFrame | None) -> Section:
    """The declared grid of cohort definitions ranked against the paper, and where the best one
    still disagrees with Table 1."""
    s = Section("reproduction", "Reproduction search: which cohort definition comes closest")
    if ranked is None or cells is None:
        s.missing = "analysis.reproduction is missing: run `nhanes-bone reproduce` (or `nhanes-bone analyze`)"
        return s
    ranked = ranked.sort_values("rank")
    best = ranked.iloc[0]
    choices = [c for c in ranked.columns if c in GRID]
    top = ranked.head(20)[
        ["rank", "n", "n_osteoporosis", "table1_distance", "cutpoints_within_tolerance", *choices]
    ]
    worst = cells.head(10)
    by_variable = (
        cells.assign(absolute=cells.difference.abs())
        .groupby("variable")
        .absolute.sum()
        .sort_values(ascending=False)
    )
    extra_non_op = int(cells[cells.group == "non_op"].groupby("variable").difference.sum().median())
    s.html = (
        f"<p>{len(ranked):,} definitions (every combination of the OPEN choices declared in "
        "<code>analysis/reproduce.py</code>) scored in one pass over <code>marts.metals_op_candidates</code>: "
        f"the best has <b>{int(best.n)}</b> women and <b>{int(best.n_osteoporosis)}</b> with osteoporosis "
        f"(paper {PAPER['cohort']['n']} / {PAPER['cohort']['osteoporosis']}), a Table 1 distance of "
        f"{best.table1_distance:.0f} over {int(best.table1_cells)} counts ({int(best.table1_cells_equal)} equal) and "
        f"{int(best.cutpoints_within_tolerance)} of 15 cut-points within ±0.01. "
        + (
            "The paper's cohort is reached exactly.</p>"
            if best.table1_distance == 0
            else "905 / 161 with every Table 1 count is out of reach of this grid. Under the best definition "
            f"each variable's non-OP counts add up to {extra_non_op:+d} women against the paper's (the whole "
            "difference in cohort size sits in the non-OP group), and the variables that disagree most are "
            + ", ".join(f"{html.escape(v)} ({int(d)})" for v, d in by_variable.head(3).items())
            + ". A difference spread over every variable suggests an exclusion the paper does not state "
            "rather than a coding choice; one concentrated in one variable suggests its coding.</p>"
        )
        + "<h3>The 20 best definitions</h3>"
        + _table(top)
        + "<h3>Table 1 under the best definition: the cells that differ most</h3>"
        + _table(worst)
    )
    return s


BKMR_TABLES = tuple(
    f"bkmr_{name}"
    for name in ("overall_risk", "pips", "univariate", "singvar", "beta", "convergence", "chains", "warnings")
)


def performance_section(results_file: Path) -> Section:
    """The appendix's benchmark figures (``analysis.report.benchmarks``), from ``results_file``."""
    s = Section("performance", "Performance (make bench)")
    if not results_file.exists():
        s.missing = f"no benchmark figures ({results_file}): run `make bench`"
        return s
    try:
        results = json.loads(results_file.read_text())
        rows = benchmark_rows(results)
        machine = machine_line(results)
    except (ValueError, KeyError, TypeError) as exc:
        s.missing = (
            f"{results_file} could not be read as `make bench`'s figures ({exc!r}): run `make bench` again"
        )
        return s
    s.html = (
        "<p>How fast this code ran where <code>make bench</code> last ran, each figure against its anchor "
        "(measured in the same run, or recorded where the anchor cannot run here: R's gWQS, "
        f"qgcomp and bkmr) and the project's goal for it. Machine: {html.escape(machine or 'not recorded')}.</p>"
        + _table(rows)
    )
    return s


def build_report(warehouse: Path, reports: Path, run_name: str | None = None) -> Path:
    start = time.perf_counter()
    run = run_name or warehouse.stem
    folder = reports / run
    figs = folder / "figures"
    con = connect_read_only(warehouse)
    try:
        files = _read(con, "select * from marts.data_sources order by table_name")
        flow = _read(con, "select * from marts.metals_op_inclusion_flow order by step_order")
        cohort = _read(con, "select * from marts.metals_op_cohort")
        settings = _read(con, "select * from marts.build_settings order by var_name")
        t = {
            name: _read(con, f"select * from analysis.{name}")
            for name in (
                "table1",
                "table2",
                "table3",
                "table4",
                "sensitivity",
                "reproduction",
                "reproduction_table1",
                "wqs_weights",
                "study2_regression",
                "study2_hemoglobin_by_status",
                "study2_comparison",
                "sensitivity_analyses",
                "table1_weighted",
                "lod_shares",
                "wqs_holdout_weights",
                "wqs_holdout_model",
                *BKMR_TABLES,
            )
        }
        hb_flow = _read(con, "select * from marts.hb_bmd_inclusion_flow order by step_order")
        dq = _read(con, "select * from dq.results where run_at = (select max(run_at) from dq.results)")
        wqs = t["wqs_weights"]
        wqs_model = _read(con, "select * from analysis.wqs_model")
        qg_model = _read(con, "select * from analysis.qgcomp_model")
        dose = _read(con, "select * from analysis.dose_response")
        curves = _read(con, "select * from analysis.spline_curves")
        mutual = _read(con, "select * from analysis.multipollutant")
        correlations = _read(con, "select * from analysis.metal_correlations")
        qg_weights = _read(con, "select * from analysis.qgcomp_weights")
        draws = _read(con, "select * from analysis.bkmr_draws order by chain, iteration")
    finally:
        con.close()
    if files is None or files.empty:
        raise InputError(
            f"{warehouse}: marts.data_sources is missing or empty; build the warehouse first (`make warehouse`)"
        )
    synthetic = bool(files.is_synthetic.any())
    bkmr = {name.removeprefix("bkmr_"): t[name] for name in BKMR_TABLES} | {"draws": draws}
    sections: list[Section] = []
    card = scorecard({**t, **{f"bkmr_{k}": v for k, v in bkmr.items()}}, flow)
    reproduction = reproduction_section(t["reproduction"], t["reproduction_table1"])

    # data quality (folded away below the results)
    s = Section("data-quality", "Data quality")
    if dq is None or dq.empty:
        s.missing = "no data-quality run recorded (dq.results): run `nhanes-bone dq`"
    else:
        per_suite = (
            dq.groupby(["suite", "severity"], sort=False)
            .agg(expectations=("success", "size"), failed=("success", lambda x: int((~x).sum())))
            .reset_index()
        )
        per_suite["result"] = np.where(
            per_suite.failed == 0, "pass", np.where(per_suite.severity == "critical", "FAIL", "warn")
        )
        docs = EXPECTATIONS_DIR / "uncommitted" / "data_docs" / "local_site" / "index.html"
        s.html = (
            f"<p>Last run {dq.run_at.max()} against profile <b>{html.escape(str(dq.profile.iloc[0]))}</b>: "
            f"{len(dq)} expectations, {int((~dq.success).sum())} failed. "
            f'Great Expectations Data Docs: <a href="{docs.as_uri()}">{docs}</a></p>' + _table(per_suite)
        )
    quality = s

    # inclusion flow
    s = Section("inclusion-flow", "Inclusion flow (Figure 1)")
    if flow is None:
        s.missing = "marts.metals_op_inclusion_flow is missing: run `make warehouse`"
    else:
        s.images.append(
            figures.save(
                figures.flow_diagram(
                    flow, PAPER["cohort"]["n"], PAPER["cohort"]["osteoporosis"], "Study 1: inclusion flow"
                ),
                figs,
                "inclusion_flow",
                synthetic,
            )
        )
        last = flow.iloc[-1]
        s.html = (
            f"<p>Ours: <b>{last.n_remaining:,}</b> women, <b>{last.n_osteoporosis:,}</b> with osteoporosis. "
            f"Peng et al. 2025: <b>{PAPER['cohort']['n']}</b>, <b>{PAPER['cohort']['osteoporosis']}</b> "
            f"(difference {last.n_remaining - PAPER['cohort']['n']:+,} / "
            f"{last.n_osteoporosis - PAPER['cohort']['osteoporosis']:+,}).</p>" + _table(flow)
        )
    sections.append(s)
    sections.append(reproduction)

    for name, title, builder in (
        ("table1", "Table 1: characteristics by osteoporosis status", table1_section),
        ("table2", "Table 2: osteoporosis by metal quartile (logistic)", table2_section),
        ("table3", "Table 3: BMD by metal quartile (linear)", table3_section),
        ("table4", "Table 4: osteoporosis by metal quartile within age and BMI groups", table4_section),
    ):
        s = Section(name, title)
        if t[name] is None:
            s.missing = f"analysis.{name} is missing: run `nhanes-bone analyze`"
        else:
            s.html = f"<p>Paper values: {html.escape(PAPER[name]['where'])}.</p>" + _table(builder(t[name]))
            if name == "table2":
                s.images.append(
                    figures.save(figures.forest(t[name], PAPER["table2"]), figs, "table2_forest", synthetic)
                )
        sections.append(s)

    s = Section("sensitivity", "Sensitivity to the OPEN choices")
    if t["sensitivity"] is None:
        s.missing = "analysis.pipeline is missing: run `nhanes-bone analyze --sensitivity`"
    else:
        m3 = PAPER["table2"]
        s.html = (
            f"<p>The paper: {PAPER['cohort']['n']} women, {PAPER['cohort']['osteoporosis']} with osteoporosis; "
            f"Model 3 Q4 OR cadmium {m3['cadmium']['model_3']['Q4'][0]}, "
            f"selenium {m3['selenium']['model_3']['Q4'][0]}.</p>" + _table(t["sensitivity"])
        )
    sections.append(s)

    s = Section("distributions", "Metals and T-scores by osteoporosis status")
    if cohort is None or len(cohort) < 2:
        s.missing = "the cohort is empty"
    else:
        s.images.append(figures.save(figures.distributions(cohort), figs, "distributions", synthetic))
    sections.append(s)

    s = Section("figure2-wqs", "Figure 2: WQS mixture weights")
    if wqs is None or wqs_model is None:
        s.missing = "no WQS results in the warehouse (analysis.wqs_weights): run `nhanes-bone analyze`"
    else:
        s.images.append(figures.save(figures.wqs_weights(wqs, wqs_model), figs, "figure2_wqs", synthetic))
        s.html = (
            "<p>gWQS 3.x defaults: q = 4, 40% training / 60% validation, b = 100, t²-weighted mean of the "
            "bootstrap weights; Peng et al. report cadmium with the largest positive weight and selenium "
            "protective.</p>" + _table(wqs_model) + _table(wqs)
        )
    sections.append(s)

    s = Section("dose-response", "Dose–response (beyond the paper)")
    if dose is None or curves is None:
        s.missing = (
            "no dose–response results in the warehouse (analysis.dose_response): run `nhanes-bone analyze`"
        )
    else:
        s.images.append(figures.save(figures.spline_curves(curves), figs, "spline_curves", synthetic))
        s.html = (
            "<p>Each metal as ln(metal) in Table 2's Model 3: the OR per IQR and per doubling of the "
            "metal; p for trend also with each quartile's median as the score; restricted cubic "
            "splines with 3 and 4 knots at Harrell's quantiles and the Wald test that the non-linear "
            "terms are 0 (<code>p_nonlinear_rcs3</code>, <code>p_nonlinear_rcs4</code>); unweighted and "
            "design-based. The figure shows the 4-knot curves against a woman at the median.</p>"
            + _table(dose)
        )
    sections.append(s)

    s = Section("multi-pollutant", "The five metals together (beyond the paper)")
    if mutual is None or correlations is None:
        s.missing = (
            "no multi-pollutant results in the warehouse (analysis.multipollutant): run `nhanes-bone analyze`"
        )
    else:
        s.images.append(
            figures.save(figures.correlation_heatmap(correlations), figs, "metal_correlations", synthetic)
        )
        s.html = (
            "<p>All five ln-metals mutually adjusted in one Model 3 (OR per IQR of each), with their "
            "variance inflation factors; the figure gives the Spearman correlations of the ln-metals.</p>"
            + _table(mutual)
        )
    sections.append(s)

    sections += _sensitivity_sections(t, figs, synthetic)

    s = Section("qgcomp", "Quantile g-computation (beyond the paper)")
    if qg_model is None or qg_weights is None:
        s.missing = "no qgcomp results in the warehouse (analysis.qgcomp_model): run `nhanes-bone analyze`"
    else:
        s.images.append(figures.save(figures.qgcomp_weights(qg_weights, qg_model), figs, "qgcomp", synthetic))
        s.html = (
            "<p>Keil et al. 2020's quantile g-computation (R qgcomp's algorithm), the third standard "
            "mixture method, which — unlike WQS — estimates the positive and the negative parts of the "
            "mixture effect together: the five metals in quartiles, the WQS covariates; "
            "<code>noboot</code> is the conditional OR for raising every metal by one quartile, "
            "<code>boot</code> the marginal OR of the same joint intervention (a marginal structural "
            "model over g-computed risks, 200 bootstrap resamples). Peng et al. did not fit it.</p>"
            + _table(qg_model)
            + _table(qg_weights)
        )
    sections.append(s)
    s = Section("figure3-bkmr", "Figure 3: BKMR exposure-response and overall risk")
    if bkmr["overall_risk"] is None or bkmr["univariate"] is None:
        s.missing = (
            "no BKMR results in the warehouse (analysis.bkmr_overall_risk): run `nhanes-bone analyze` "
            "(with --bkmr-iter > 0)"
        )
    else:
        s.images.append(
            figures.save(figures.bkmr_univariate(bkmr["univariate"]), figs, "figure3a_bkmr", synthetic)
        )
        s.images.append(
            figures.save(figures.bkmr_overall(bkmr["overall_risk"]), figs, "figure3b_bkmr", synthetic)
        )
        risk = bkmr["overall_risk"].iloc[0]
        split = "chain" in bkmr["overall_risk"] and (bkmr["overall_risk"]["chain"].astype(str) != "all").any()
        warnings = bkmr["warnings"]
        warning_html = (
            "<p><b>Convergence warnings</b> — read the estimates with care:</p><ul>"
            + "".join(f"<li>{html.escape(w)}</li>" for w in warnings.warning)
            + "</ul>"
            if warnings is not None and len(warnings)
            else "<p>Convergence: no warnings (rank-normalised R̂ ≤ 1.01, bulk and tail ESS ≥ 100 per "
            "chain, chains' PIPs within 0.2; Vehtari et al. 2021).</p>"
        )
        if split:
            warning_html += (
                "<p><b>The chains disagree</b>: the pooled summaries describe neither chain; the "
                "tables list each chain's own rows after the pooled ones (column <code>chain</code>) "
                "and the figures draw each chain.</p>"
            )
        s.html = (
            f"<p>Probit BKMR with component-wise variable selection on the five ln-metals (z-scored), "
            f"adjusted for the WQS covariates; bkmr 0.2.2's priors and sampler; {int(risk.chains)} chains × "
            f"{int(risk.iterations):,} iterations, the first half burn-in; n = {int(risk.n):,}. "
            "Peng et al. report cadmium with the highest PIP and an overall risk rising with the mixture.</p>"
            + warning_html
            + "<h3>Posterior inclusion probabilities</h3>"
            + _table(bkmr["pips"])
            + "<h3>Overall risk (Figure 3B)</h3>"
            + _table(bkmr["overall_risk"])
            + "<h3>Single-metal 75th vs 25th percentile, the others fixed</h3>"
            + _table(bkmr["singvar"])
            + "<h3>Covariates (probit scale)</h3>"
            + _table(bkmr["beta"])
            + "<h3>Chains and convergence</h3>"
            + (_table(bkmr["chains"]) if bkmr["chains"] is not None else "")
            + (_table(bkmr["convergence"]) if bkmr["convergence"] is not None else "")
        )
        if bkmr["draws"] is not None and len(bkmr["draws"]):
            s.images.append(
                figures.save(
                    figures.bkmr_traces(bkmr["draws"], disagree=split), figs, "bkmr_traces", synthetic
                )
            )
    sections.append(s)

    s = Section("study2", "Study 2: hemoglobin and BMD by sex (IMOS design on NHANES)")
    if t["study2_regression"] is None:
        s.missing = "analysis.study2_regression is missing: run `nhanes-bone analyze`"
    else:
        s.images.append(
            figures.save(
                figures.hemoglobin_effects(t["study2_regression"], IMOS), figs, "study2_hemoglobin", synthetic
            )
        )
        narrative = folder / "tables" / "study2_comparison.txt"
        text = narrative.read_text() if narrative.exists() else ""
        s.html = (
            ("<h3>Inclusion flow</h3>" + _table(hb_flow) if hb_flow is not None else "")
            + f"<h3>Comparison with the IMOS paper</h3><p>{html.escape(IMOS['where'])}</p>"
            + "".join(f"<p>{html.escape(line)}</p>" for line in text.splitlines())
            + _table(t["study2_comparison"])
            + "<h3>Mean hemoglobin by osteoporosis status</h3>"
            + _table(t["study2_hemoglobin_by_status"])
            + "<h3>All hemoglobin coefficients</h3>"
            + _table(t["study2_regression"], 4)
        )
    sections.append(s)

    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = version(package)
        except Exception:
            versions[package] = "?"
    template = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=False)
    page = template.get_template("report.html.j2").render(
        synthetic=synthetic,
        files=files.to_dict("records"),
        settings=(settings.to_dict("records") if settings is not None else []),
        built_at=(settings.built_at.max() if settings is not None else None),
        versions=versions,
        sections=sections,
        scorecard=_scorecard_html(card),
        quality=quality,
        performance=performance_section(BENCH_RESULTS),
        warehouse=str(warehouse),
        paper=PAPER["citation"],
        imos=IMOS["citation"],
        seconds=time.perf_counter() - start,
    )
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / "report.html"
    out.write_text(page)
    return out
