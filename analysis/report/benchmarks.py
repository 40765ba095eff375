"""The report appendix's performance table, from what `make bench` wrote to bench/results.json.

The figures are the machine's, not the warehouse's: they say how fast this code ran where the
benchmarks last ran (with that machine's yardstick), each against its anchor and the goal of
issue 19. Nothing is measured here; a figure the file lacks is left out, not guessed.
"""

from __future__ import annotations

import pandas as pd

# issue 19's goals, the one place they are written (the benchmarks print them from here):
# (at least | at most, the ratio)
GOALS = {"wqs": ("≥", 50.0), "qgcomp": ("≥", 10.0), "build": ("≤", 5.0), "bkmr": ("≥", 50.0)}
PIP_TOLERANCE = 0.1  # BKMR's PIPs within this of R's
SCALE_GOAL = {"scale": 100.0, "seconds": 120.0, "peak_rss_mb": 4096.0}


def _met(kind: str, ratio: float) -> bool:
    side, goal = GOALS[kind]
    return ratio >= goal if side == "≥" else ratio <= goal


def goal_text(kind: str, unit: str) -> str:
    """The goal as the benchmarks print it and the report shows it: "≥ 50× gWQS"."""
    side, goal = GOALS[kind]
    return f"{side} {goal:g}× {unit}"


def machine_line(results: dict) -> str:
    """The machine of the run, with its yardstick (empty when the file has none)."""
    m = results.get("machine")
    if not m:
        return ""
    return (
        f"{m.get('cpus', '?')} × {m.get('processor') or 'unknown processor'}"
        f"{', AVX-512' if m.get('avx512') else ''}, Python {m.get('python', '?')}; yardstick: Python loop "
        f"{m['python_loop_s']:.3f} s, ten 905×905 Choleskys {m['blas_cholesky_s']:.3f} s, exp and log1p of "
        f"10⁶ doubles {m['numpy_exp_log1p_s']:.3f} s"
    )


def benchmark_rows(results: dict) -> pd.DataFrame:
    """One row per figure: what was measured, the figure, its anchor, the goal, whether it is met
    and when it was measured (figures of different `make bench` runs can sit side by side)."""
    rows: list[dict] = []

    def add(key: str, measure: str, figure: str, anchor: str, goal: str, met: bool | None) -> None:
        rows.append(
            {
                "measure": measure,
                "figure": figure,
                "anchor": anchor,
                "goal": goal,
                "met": "—" if met is None else ("yes" if met else "NO"),
                "measured at (UTC)": str(results[key].get("measured_at", ""))
                .replace("T", " ")
                .removesuffix("+00:00"),
            }
        )

    for key, measure, seconds, ratio_key, unit in (
        (
            "wqs",
            "WQS: three nhanes-bone wqs runs (b = 100, n = 905), start-up included",
            "wqs_cli_three_runs_s",
            "wqs_cli_speedup_vs_gwqs_recorded",
            "gWQS",
        ),
        (
            "qgcomp",
            "qgcomp: nhanes-bone qgcomp --bootstrap 200, start-up included",
            "cli_s",
            "cli_vs_r_recorded",
            "R",
        ),
    ):
        if f := results.get(key):
            ratio = f[ratio_key]
            add(
                key,
                measure,
                f"{f[seconds]:.2f} s = {ratio:.1f}×",
                f["anchor"],
                goal_text(key, unit),
                _met(key, ratio),
            )
    if b := results.get("build_vs_floor"):
        pairs = b.get("pair_ratios") or [b["ratio"]]
        add(
            "build_vs_floor",
            "nhanes-bone build --fresh on the genuine files, against reading every file with pyreadstat",
            f"{b['ratio']:.1f}× (build {b['build_seconds']:.1f} s, floor {b['floor_seconds']:.2f} s; "
            f"pairs {min(pairs):.1f}–{max(pairs):.1f}×)",
            b["anchor"],
            goal_text("build", "the floor"),
            _met("build", b["ratio"]),
        )
    if s := results.get("build_scale"):
        for row in s["rows"]:
            linear = row["time_vs_linear"] <= 1.0 and row["memory_vs_linear"] <= 1.0
            big = row["scale"] >= SCALE_GOAL["scale"]
            within = (
                row["seconds"] <= SCALE_GOAL["seconds"] and row["peak_rss_mb"] <= SCALE_GOAL["peak_rss_mb"]
            )
            add(
                "build_scale",
                f"the twin at {row['scale']:g}× NHANES ({row['xpt_mb']:,.0f} MB of XPT): build",
                f"{row['seconds']:.1f} s, peak RSS {row['peak_rss_mb']:,.0f} MB; time {row['time_vs_linear']:.2f}× "
                f"and memory {row['memory_vs_linear']:.2f}× of linear ({row['status']})",
                s["anchor"],
                "no worse than linear"
                + (
                    f"; ≤ {SCALE_GOAL['seconds'] / 60:g} min and ≤ {SCALE_GOAL['peak_rss_mb'] / 1024:g} GB"
                    if big
                    else ""
                ),
                row["status"] == "built" and linear and (within or not big),
            )
    for key, label in (
        ("bkmr", "BKMR: smallest bulk ESS per second (λ, β)"),
        ("bkmr_no_interweave", "BKMR with --no-interweave (for comparison)"),
        ("bkmr_no_adapt", "BKMR with --no-adapt (for comparison)"),
    ):
        if not (k := results.get(key)):
            continue
        ratio = k.get("ess_per_second_vs_r_same_data", k.get("ess_per_second_vs_r_recorded"))
        seeds = k.get("seeds") or []
        gaps = k.get("pip_minus_r") or {}
        worst = max((abs(v) for v in gaps.values()), default=None)
        figure = (
            f"{k['ess_per_second']:.2f} ESS/s ({k['smallest_ess']['ess_bulk']:.0f} of "
            f"{k['smallest_ess']['parameter']} in {k['wall_seconds']:.1f} s)"
            + (f" = {ratio:.1f}×" if ratio is not None else "")
            + (f", the median of {len(seeds)} seeds" if len(seeds) > 1 else "")
            + (f"; PIPs within {worst:.2f} of R's" if worst is not None else "")
        )
        main = key == "bkmr"
        add(
            key,
            label,
            figure,
            k["anchor"],
            goal_text("bkmr", f"R, PIPs within {PIP_TOLERANCE:g}") if main else "—",
            None
            if not main or ratio is None
            else _met("bkmr", ratio) and (worst is None or worst <= PIP_TOLERANCE),
        )
    return pd.DataFrame(rows, columns=["measure", "figure", "anchor", "goal", "met", "measured at (UTC)"])
