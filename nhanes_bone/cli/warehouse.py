"""Warehouse commands: ingest, fetch, synth, build, transform, docs, dq, query."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from nhanes_bone.cli.common import (
    WAREHOUSE_PANEL,
    DataDirOpt,
    OutputFormat,
    VarOpt,
    WarehouseOpt,
    app,
    clear_errors,
    console,
    err,
    parse_vars,
    progress_bar,
)
from nhanes_bone.core import settings
from nhanes_bone.core.errors import InputError


def _ingest_progress():
    return progress_bar("ingest", width=10)


def _print_ingest_report(report) -> None:
    table = Table(title=f"raw schema of {report.warehouse}", show_lines=False)
    for col in ("table", "status", "rows", "columns", "MB", "synthetic", "sha256 vs catalog", "note"):
        table.add_column(col)
    for r in sorted(report.results, key=lambda r: r.table):
        check = {True: "match", False: "differs", None: "-"}[r.sha256_matches_catalog]
        table.add_row(
            r.table,
            r.status,
            "" if r.rows is None else f"{r.rows:,}",
            "" if r.columns is None else str(r.columns),
            "" if r.size is None else f"{r.size / 1e6:.1f}",
            {True: "yes", False: "no", None: ""}[r.is_synthetic],
            check if r.status == "loaded" and not r.is_synthetic else "",
            r.note,
        )
    console.print(table)
    console.print(
        f"{report.count('loaded')} loaded, {report.count('skipped')} skipped (unchanged), "
        f"{report.count('placeholder')} placeholder(s) for study tables with no file"
        + ("" if report.rebuilt else "; nothing to do, warehouse unchanged")
    )
    for path in report.unknown_files:
        console.print(f"[yellow]not in the catalog, ignored:[/] {path}")


def run_ingest(data_dir: Path, warehouse: Path, force: bool, build_into: Path | None = None):
    from ingest.load import ingest as do_ingest

    with _ingest_progress() as progress:
        task = progress.add_task("", total=None)

        def tick(table: str, done: int, total: int) -> None:
            progress.update(task, description=table, completed=done, total=total)

        report = do_ingest(data_dir, warehouse, force=force, progress=tick, build_into=build_into)
    _print_ingest_report(report)
    return report


@app.command(rich_help_panel=WAREHOUSE_PANEL)
def ingest(
    data_dir: DataDirOpt = None,
    warehouse: WarehouseOpt = None,
    force: Annotated[bool, typer.Option(help="Reload files even when their sha256 is unchanged.")] = False,
) -> None:
    """Load every catalogued NHANES .xpt file under the data folder into the raw schema."""
    with clear_errors():
        run_ingest(settings.data_dir(data_dir), settings.warehouse_path(warehouse), force)


@app.command(rich_help_panel=WAREHOUSE_PANEL)
def fetch(
    data_dir: DataDirOpt = None,
    tables: Annotated[
        str, typer.Option(help="'study' (both studies' files), 'all', or names like DEMO_H,P_PBCD.")
    ] = "study",
    base_url: Annotated[
        str | None,
        typer.Option(help="Another server with CDC's layout (<base>/<year>/DataFiles/<FILE>.xpt)."),
    ] = None,
    retries: Annotated[int, typer.Option(help="Attempts per file.")] = 3,
    timeout: Annotated[float, typer.Option(help="Seconds before a stalled connection is abandoned.")] = 60.0,
) -> None:
    """Download missing catalogued files from CDC into the data folder (cached, checked, atomic)."""
    from ingest.fetch import OfflineError, offline_message, wanted_entries
    from ingest.fetch import fetch as do_fetch

    target = settings.data_dir(data_dir)
    with clear_errors():
        entries = wanted_entries(tables)

        def show(result) -> None:
            style = {"cached": "dim", "downloaded": "green", "failed": "red"}[result.status]
            console.print(f"[{style}]{result.status:<10}[/] {result.table} {result.detail}")

        try:
            results = do_fetch(
                entries, target, base_url=base_url, retries=retries, timeout=timeout, on_result=show
            )
        except OfflineError as exc:
            from ingest.discover import find_files

            present = find_files(target)[0] if target.is_dir() else {}
            missing = [e.table for e in entries if e.table not in present]
            err.print(offline_message(missing, target, str(exc)), highlight=False)
            raise typer.Exit(2) from None
    failed = [r for r in results if r.status == "failed"]
    console.print(
        f"{sum(r.status == 'downloaded' for r in results)} downloaded, "
        f"{sum(r.status == 'cached' for r in results)} already present, {len(failed)} failed"
    )
    if failed:
        raise typer.Exit(1)


@app.command(rich_help_panel=WAREHOUSE_PANEL)
def synth(
    out: Annotated[
        Path, typer.Option(help="Folder to write the synthetic XPT files, SYNTHETIC.json and TRUTH.json.")
    ] = Path("data/synthetic"),
    seed: Annotated[
        int, typer.Option(help="Random seed: the same seed gives byte-identical files.")
    ] = 20250101,
    scale: Annotated[
        float, typer.Option(help="Multiply the number of participants (10 and 100 for performance tests).")
    ] = 1.0,
) -> None:
    """Write the synthetic NHANES twin (SYNTHETIC data with a planted truth)."""
    from ingest.synth import synthesize

    with clear_errors(), console.status(f"generating synthetic NHANES (seed {seed}, scale {scale})"):
        truth = synthesize(out, seed=seed, scale=scale)
    expected = truth["study1_expected"]
    console.print(
        f"[bold yellow]SYNTHETIC[/] twin written to {out}: {len(truth['table_rows'])} files; "
        f"expected cohort {expected['cohort_n']} with {expected['cohort_osteoporosis_n']} osteoporosis "
        f"(TRUTH.json)"
    )


def _warn_outside_plausibility_limits(work: Path) -> None:
    """Name the participants whose values lie outside the plausibility limits: kept, not refused."""
    from nhanes_bone.core.warehouse import connect_read_only

    con = connect_read_only(work)
    try:
        rows = con.execute(
            "select nhanes_variable, cycle, participant_id, value, unit, min_value, max_value, source "
            "from intermediate.int_values_outside_plausibility_limits"
        ).fetchall()
    finally:
        con.close()
    for var, cycle, seqn, value, unit, low, high, source in rows:
        err.print(
            f"[yellow]warning:[/] {var} ({cycle}) of participant SEQN {seqn} is {value:g} {unit}, outside "
            f"the plausibility limits {low:g}-{high:g} ({source}); kept as data. "
            "See intermediate.int_values_outside_plausibility_limits.",
            highlight=False,
            soft_wrap=True,
        )


WaitOpt = Annotated[
    bool,
    typer.Option(
        "--wait", help="If another build is writing this warehouse, wait for it instead of stopping."
    ),
]


@app.command(rich_help_panel=WAREHOUSE_PANEL)
def transform(warehouse: WarehouseOpt = None, var: VarOpt = None, wait: WaitOpt = False) -> None:
    """Run `dbt build` (models, seeds, tests) on the warehouse, swapped in only on success."""
    from ingest.build import dbt_build
    from nhanes_bone.core.warehouse import atomic_rebuild

    path = settings.warehouse_path(warehouse)
    with clear_errors():
        if not path.exists():
            raise InputError(f"{path}: no warehouse to transform; run `nhanes-bone ingest` first")
        with atomic_rebuild(path, wait=wait) as work:
            _say_vars(dbt_build(work, parse_vars(var)), parse_vars(var))
            _warn_outside_plausibility_limits(work)


@app.command(rich_help_panel=WAREHOUSE_PANEL)
def build(
    data_dir: DataDirOpt = None,
    warehouse: WarehouseOpt = None,
    var: VarOpt = None,
    wait: WaitOpt = False,
    fresh: Annotated[
        bool,
        typer.Option(
            "--fresh",
            help="Build from the raw files alone, not from a copy of the current warehouse (to "
            "replace a damaged one; the analysis schema starts empty).",
        ),
    ] = False,
) -> None:
    """Ingest, then `dbt build`, as one step: the warehouse is replaced only if both succeed."""
    from ingest.build import build_warehouse

    path = settings.warehouse_path(warehouse)
    folder = settings.data_dir(data_dir)
    with clear_errors():
        used = build_warehouse(
            folder,
            path,
            parse_vars(var),
            ingest_step=lambda work: run_ingest(folder, path, force=False, build_into=work),
            after=_warn_outside_plausibility_limits,
            fresh=fresh,
            wait=wait,
        )
    _say_vars(used, parse_vars(var))
    console.print(f"[green]warehouse built:[/] {path}")


def _say_vars(used: dict, given: dict) -> None:
    """Say when a build used vars other than the project's defaults and the user's own."""
    implied = {k: v for k, v in used.items() if k not in given}
    if implied:
        console.print(
            "[yellow]SYNTHETIC twin:[/] built with the definition its TRUTH.json was computed under: "
            + ", ".join(f"{k}={json.dumps(v)}" for k, v in implied.items()),
            highlight=False,
            soft_wrap=True,
        )


@app.command(rich_help_panel=WAREHOUSE_PANEL)
def docs(warehouse: WarehouseOpt = None) -> None:
    """Generate the dbt docs site (lineage, columns and their NHANES provenance)."""
    from nhanes_bone.core.dbt import run_dbt

    with clear_errors():
        run_dbt(["docs", "generate"], settings.warehouse_path(warehouse))
    console.print(f"docs in {settings.DBT_PROJECT_DIR / 'target'}; serve with `make docs-serve`")


@app.command(rich_help_panel=WAREHOUSE_PANEL)
def dq(
    warehouse: WarehouseOpt = None,
    record: Annotated[
        bool, typer.Option(help="Append the results to the warehouse's dq.results table.")
    ] = True,
) -> None:
    """Run every data-quality suite (one GX checkpoint); exit 1 on any critical failure."""
    from expectations.profile import ProfileError
    from expectations.runner import DATA_DOCS, run

    path = settings.warehouse_path(warehouse)
    with clear_errors():
        try:
            with console.status("validating (read-only snapshots, Great Expectations)"):
                report = run(path, write_results=record)
        except ProfileError as exc:
            raise InputError(f"{path}: {exc}") from exc
    summary = report.by_suite()
    table = Table(title=f"data quality of {path} — profile: {report.profile.name}")
    for col in ("suite", "expectations", "failed", "result"):
        table.add_column(col)
    for row in summary.itertuples(index=False):
        if row.failed == 0:
            verdict = "[green]pass[/]"
        elif row.severity == "critical":
            verdict = "[bold red]FAIL[/]"
        else:
            verdict = "[yellow]warn[/]"
        table.add_row(row.suite, str(row.expectations), str(row.failed), verdict)
    console.print(table)
    for o in report.outcomes:
        if not o.success:
            style = "red" if o.severity == "critical" else "yellow"
            console.print(
                f"[{style}]{o.severity}[/] {o.suite}: {o.expectation}"
                + (f"({o.column})" if o.column else "")
                + (f" expected {o.expected}," if o.expected else "")
                + f" observed {o.observed}"
                + (f" (off by {o.off_by:+g})" if o.off_by else ""),
                highlight=False,
            )
    critical, warnings = len(report.failures("critical")), len(report.failures("warning"))
    console.print(
        f"{len(report.outcomes)} expectations: {critical} critical failure(s), {warnings} warning(s). "
        f"Data Docs: {DATA_DOCS}" + (" — results appended to dq.results" if record else "")
    )
    if critical:
        raise typer.Exit(1)


@app.command(rich_help_panel=WAREHOUSE_PANEL)
def query(
    sql: Annotated[str | None, typer.Argument(help="SQL to run (the warehouse is opened read-only).")] = None,
    analysis: Annotated[
        str | None, typer.Option(help="Run an example query of dbt_project/analyses by name.")
    ] = None,
    warehouse: WarehouseOpt = None,
    format: Annotated[
        OutputFormat, typer.Option("--format", help="table (DuckDB's box rendering) | csv | json | markdown.")
    ] = OutputFormat.table,
    output: Annotated[
        Path | None, typer.Option(help="Write the result to this file instead of the screen.")
    ] = None,
    csv: Annotated[Path | None, typer.Option(help="Also write the result to this CSV file.")] = None,
) -> None:
    """Run SQL (or an example analysis) on the warehouse, read-only, and print the result."""
    from nhanes_bone.cli.query import analysis_sql, render_result, run_query

    with clear_errors():
        if (sql is None) == (analysis is None):
            raise InputError("give either SQL or --analysis NAME")
        text = analysis_sql(analysis) if analysis else sql
        path = settings.warehouse_path(warehouse)
        shown = render_result(path, text, format.value, max(console.width, 60))
        if csv:
            run_query(path, text).to_csv(csv, index=False)
    if output:
        output.write_text(shown + "\n")
        console.print(f"written to {output}")
    else:
        print(shown)
