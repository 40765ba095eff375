"""Study commands: analyze, reproduce, report."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from nhanes_bone.cli.common import STUDIES_PANEL, WarehouseOpt, app, clear_errors, console, err, progress_bar
from nhanes_bone.core import settings


@app.command(rich_help_panel=STUDIES_PANEL)
def analyze(
    warehouse: WarehouseOpt = None,
    reports: Annotated[Path, typer.Option(help="Folder of report runs.")] = Path("reports"),
    run: Annotated[
        str | None, typer.Option(help="Run name (default: the warehouse file's stem, e.g. demo).")
    ] = None,
    sensitivity: Annotated[
        bool,
        typer.Option(help="Also the sensitivity table: the models re-run once per OPEN choice (~10 s each)."),
    ] = False,
    bkmr_iter: Annotated[
        int, typer.Option(help="BKMR iterations per chain for Figure 3 (0: no BKMR; 10,000 takes minutes).")
    ] = 10000,
    bkmr_chains: Annotated[int, typer.Option(help="BKMR chains (parallel processes).")] = 2,
    imputations: Annotated[
        int, typer.Option(help="m, the imputed datasets of the multiple-imputation sensitivity analysis.")
    ] = 20,
    wqs_rh: Annotated[
        int,
        typer.Option(
            "--wqs-rh",
            help="Repeated-holdout WQS: splits (0: none). Demo default 10 of 10 bootstraps; gWQS users run 100 of 100.",
        ),
    ] = 10,
    wqs_rh_bootstraps: Annotated[int, typer.Option(help="Bootstraps per repeated-holdout split.")] = 10,
) -> None:
    """Fit Tables 1-4 of Peng et al. (unweighted and design-based), WQS, BKMR and study 2 from the marts."""
    from analysis.pipeline import analyze as do_analyze

    with (
        clear_errors(),
        console.status("fitting Tables 1-4, WQS, BKMR and study 2 (unweighted and design-based)"),
    ):
        result = do_analyze(
            settings.warehouse_path(warehouse),
            reports,
            run,
            with_sensitivity=sensitivity,
            bkmr_iterations=bkmr_iter,
            bkmr_chains=bkmr_chains,
            imputations=imputations,
            wqs_holdout_repeats=wqs_rh,
            wqs_holdout_bootstraps=wqs_rh_bootstraps,
        )
    t2 = result.tables["table2"]
    focus = t2[(t2.model == "model_3") & (t2.term == "Q4") & t2.metal.isin(["cadmium", "selenium"])]
    for row in focus.itertuples():
        console.print(
            f"{row.weighting:<10} {row.metal:<9} Q4 vs Q1 (model 3): OR {row.odds_ratio:.2f} "
            f"({row.or_ci_low:.2f}-{row.or_ci_high:.2f}), p = {row.p_value:.3f}"
        )
    sens = result.tables["sensitivity_analyses"]
    if "q4_or" in sens:
        moved = sens[(sens.weighting == "unweighted") & (sens.metal == "cadmium") & sens.q4_or.notna()]
        console.print(
            "cadmium Q4 vs Q1 across the sensitivity analyses (unweighted): "
            + ", ".join(f"{r.analysis} {r.q4_or:.2f}" for r in moved.itertuples())
        )
    if "bkmr_pips" in result.tables:
        pips = ", ".join(f"{r.metal} {r.PIP:.2f}" for r in result.tables["bkmr_pips"].itertuples())
        console.print(f"BKMR PIPs: {pips}")
        for w in result.tables["bkmr_warnings"].warning:
            err.print(f"[yellow]BKMR warning:[/] {escape(w)}", highlight=False, soft_wrap=True)
    banner = "[bold yellow]SYNTHETIC data: not findings.[/] " if result.synthetic else ""
    console.print(
        f"{banner}Tables 1-4 written to {result.folder} (CSV, HTML) and the warehouse's analysis schema "
        f"in {result.seconds:.1f} s"
    )


@app.command(rich_help_panel=STUDIES_PANEL)
def reproduce(
    warehouse: WarehouseOpt = None,
    reports: Annotated[Path, typer.Option(help="Folder of report runs.")] = Path("reports"),
    run: Annotated[str | None, typer.Option(help="Run name (default: the warehouse file's stem).")] = None,
    top: Annotated[int, typer.Option(help="How many of the best definitions to print.")] = 10,
) -> None:
    """Score the declared grid of cohort definitions against Peng et al. (n, OP, Table 1, cut-points)."""
    from analysis.report.outputs import label, write_csv, write_warehouse
    from analysis.studies.peng2025.reproduce import dbt_vars, grid_size, reproduction_tables
    from ingest.build import holds_synthetic_data

    path = settings.warehouse_path(warehouse)
    with clear_errors():
        with progress_bar("reproduce") as bar:
            task = bar.add_task(f"{grid_size():,} definitions", total=None)
            tables = reproduction_tables(
                path, lambda done, total: bar.update(task, completed=done, total=total)
            )
        synthetic = holds_synthetic_data(path)
        tables = {name: label(frame, synthetic) for name, frame in tables.items()}
        write_csv(tables, reports / (run or path.stem) / "tables")
        write_warehouse(tables, path)
    import shlex

    ranked = tables["reproduction"]
    first = dbt_vars(ranked.iloc[0])
    shown = Table(title=f"{len(ranked):,} cohort definitions against Peng et al. (905 / 161), best first")
    for col in (
        "rank",
        "n",
        "OP",
        "Table 1 distance",
        "cut-points ±0.01",
        "definition (rows 2+: what differs)",
    ):
        shown.add_column(col, overflow="fold")
    for i, row in enumerate(ranked.head(top).itertuples(index=False)):
        own = dbt_vars(row._asdict())
        differs = own if i == 0 else {k: v for k, v in own.items() if first.get(k) != v}
        shown.add_row(
            str(row.rank),
            str(row.n),
            str(row.n_osteoporosis),
            f"{row.table1_distance:.0f}",
            f"{row.cutpoints_within_tolerance}/15",
            ", ".join(f"{k}={json.dumps(v)}" for k, v in differs.items()),
        )
    console.print(shown)
    console.print(
        "the best as vars: nhanes-bone build "
        + " ".join(f"--var {shlex.quote(f'{k}={json.dumps(v)}')}" for k, v in first.items()),
        highlight=False,
        soft_wrap=True,
    )
    banner = "[bold yellow]SYNTHETIC data: not findings.[/] " if synthetic else ""
    console.print(f"{banner}written to analysis.reproduction and {reports / (run or path.stem) / 'tables'}")


@app.command(rich_help_panel=STUDIES_PANEL)
def report(
    warehouse: WarehouseOpt = None,
    reports: Annotated[Path, typer.Option(help="Folder of report runs.")] = Path("reports"),
    run: Annotated[str | None, typer.Option(help="Run name (default: the warehouse file's stem).")] = None,
) -> None:
    """Render reports/<run>/report.html (self-contained) from what the warehouse holds; refits nothing."""
    from analysis.report.render import build_report

    with clear_errors():
        out = build_report(settings.warehouse_path(warehouse), reports, run)
    console.print(f"report: {out} (figures in {out.parent / 'figures'})")
