"""The report's performance table: each figure of bench/results.json against issue 19's goal,
read from a file written here with planted figures (nothing is measured)."""

from __future__ import annotations

import json

from analysis.report.benchmarks import benchmark_rows, machine_line
from analysis.report.render import performance_section

RESULTS = {
    "machine": {
        "python_loop_s": 0.0723,
        "blas_cholesky_s": 0.128,
        "numpy_exp_log1p_s": 0.0054,
        "avx512": True,
        "cpus": 2,
        "processor": "Test CPU",
        "python": "3.11.7",
    },
    "wqs": {
        "anchor": "gWQS recorded",
        "wqs_cli_three_runs_s": 2.5,
        "wqs_cli_speedup_vs_gwqs_recorded": 39.9,  # short of 50x
    },
    "qgcomp": {
        "anchor": "R recorded",
        "cli_s": 0.41,
        "cli_vs_r_recorded": 27.7,
        "measured_at": "2026-12-08T01:00:00+00:00",
    },
    "build_vs_floor": {
        "build_seconds": 4.4,
        "floor_seconds": 1.0,
        "ratio": 4.4,
        "pair_ratios": [4.3, 4.4, 5.2],
        "anchor": "the floor, this run",
    },
    "build_scale": {
        "anchor": "the 1x build",
        "rows": [
            {
                "scale": 1.0,
                "xpt_mb": 55,
                "seconds": 5.3,
                "peak_rss_mb": 282,
                "time_vs_linear": 1.0,
                "memory_vs_linear": 1.0,
                "status": "built",
            },
            {
                "scale": 100.0,
                "xpt_mb": 5477,
                "seconds": 130.0,
                "peak_rss_mb": 2830,
                "time_vs_linear": 0.25,
                "memory_vs_linear": 0.1,
                "status": "built",
            },  # over 2 minutes
        ],
    },
    "bkmr": {
        "anchor": "R bkmr recorded",
        "ess_per_second": 6.11,
        "smallest_ess": {"parameter": "lambda", "ess_bulk": 133.5},
        "wall_seconds": 21.8,
        "ess_per_second_vs_r_same_data": 82.5,
        "seeds": [{"seed": 5}, {"seed": 1}, {"seed": 2}],
        "pip_minus_r": {"z1": 0.07, "z2": 0.0, "z3": -0.12},  # one PIP too far from R's
    },
}


def test_each_figure_is_held_to_its_goal():
    rows = benchmark_rows(RESULTS).set_index("measure")
    wqs = rows.loc[rows.index.str.startswith("WQS")].iloc[0]
    assert wqs.met == "NO" and wqs.goal == "≥ 50× gWQS"  # 39.9x
    qgcomp = rows.loc[rows.index.str.startswith("qgcomp")].iloc[0]
    assert qgcomp.met == "yes" and "27.7×" in qgcomp.figure and qgcomp.goal == "≥ 10× R"
    assert qgcomp["measured at (UTC)"] == "2026-12-08 01:00:00" and wqs["measured at (UTC)"] == ""
    build = rows.loc[rows.index.str.startswith("nhanes-bone build")].iloc[0]
    assert build.met == "yes" and "pairs 4.3–5.2×" in build.figure
    scale = rows.loc[rows.index.str.startswith("the twin")]
    assert scale.met.tolist() == ["yes", "NO"]  # 100x in 130 s is over 2 minutes
    bkmr = rows.loc[rows.index.str.startswith("BKMR")].iloc[0]
    assert "82.5×" in bkmr.figure and "median of 3 seeds" in bkmr.figure and "within 0.12" in bkmr.figure
    assert bkmr.met == "NO"  # the ratio is met, the PIPs are not


def test_a_missing_key_leaves_its_rows_out():
    rows = benchmark_rows({"qgcomp": RESULTS["qgcomp"]})
    assert len(rows) == 1 and machine_line({}) == ""
    assert "2 × Test CPU, AVX-512" in machine_line(RESULTS)


def test_the_section_says_what_to_run_when_there_are_no_figures(tmp_path):
    missing = performance_section(tmp_path / "results.json")
    assert missing.missing and "make bench" in missing.missing
    (tmp_path / "bad.json").write_text("{not json")
    bad = performance_section(tmp_path / "bad.json")
    assert bad.missing and "bad.json" in bad.missing
    (tmp_path / "good.json").write_text(json.dumps(RESULTS))
    good = performance_section(tmp_path / "good.json")
    assert good.missing is None and "Test CPU" in good.html and "<table" in good.html
