"""The ``nhanes-bone`` command: one sub-command per job.

Every command prints a clear one-line error (no traceback) for problems with the
input — the file or table, and what was expected — and exits non-zero.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from nhanes_bone import settings

app = typer.Typer(
    help="NHANES bone-health warehouse: ingest XPT files into DuckDB, build it with dbt, "
    "check it, analyse it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True)

DataDirOpt = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="Folder searched (with subfolders) for NHANES .xpt files [env NHANES_DATA_DIR; default data/raw].",
    ),
]
WarehouseOpt = Annotated[
    Path | None,
    typer.Option(
        "--warehouse", help="DuckDB warehouse file [env WAREHOUSE; default warehouse/nhanes.duckdb]."
    ),
]


@contextlib.contextmanager
def clear_errors() -> Iterator[None]:
    """Turn the project's known error types into one red line and exit code 1."""
    from ingest.errors import IngestError
    from ingest.fetch import FetchError
    from nhanes_bone.dbt import DbtError
    from nhanes_bone.duck import WarehouseError

    try:
        yield
    except (IngestError, WarehouseError, DbtError, FetchError, ValueError) as exc:
        err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        raise typer.Exit(1) from None


def _ingest_progress() -> Progress:
    return Progress(
        TextColumn("[bold]ingest[/] {task.description:<10}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


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


@app.command()
def ingest(
    data_dir: DataDirOpt = None,
    warehouse: WarehouseOpt = None,
    force: Annotated[bool, typer.Option(help="Reload files even when their sha256 is unchanged.")] = False,
) -> None:
    """Load every catalogued NHANES .xpt file under the data folder into the raw schema."""
    with clear_errors():
        run_ingest(settings.data_dir(data_dir), settings.warehouse_path(warehouse), force)


@app.command()
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


@app.command()
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


def read_csv_option(path: Path):
    """A CSV named on the command line, or one clear error."""
    import pandas as pd

    if not path.exists():
        raise ValueError(f"{path}: no such CSV file")
    return pd.read_csv(path)


def _parse_vars(values: list[str] | None) -> dict:
    parsed = {}
    for item in values or []:
        key, sep, raw = item.partition("=")
        if not sep:
            raise ValueError(f"--var expects NAME=VALUE, got {item!r}")
        try:
            parsed[key] = json.loads(raw)
        except json.JSONDecodeError:
            parsed[key] = raw
    return parsed


VarOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--var",
        help="A dbt var as NAME=VALUE (JSON values allowed), e.g. --var spine_reference=looker_1998; repeatable.",
    ),
]


def _warn_outside_plausibility_limits(work: Path) -> None:
    """Name the participants whose values lie outside the plausibility limits: kept, not refused."""
    from nhanes_bone.duck import connect_read_only

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


@app.command()
def transform(warehouse: WarehouseOpt = None, var: VarOpt = None) -> None:
    """Run `dbt build` (models, seeds, tests) on the warehouse, swapped in only on success."""
    from ingest.build import dbt_build
    from nhanes_bone.duck import atomic_rebuild

    path = settings.warehouse_path(warehouse)
    with clear_errors():
        if not path.exists():
            raise ValueError(f"{path}: no warehouse to transform; run `nhanes-bone ingest` first")
        with atomic_rebuild(path) as work:
            _say_vars(dbt_build(work, _parse_vars(var)), _parse_vars(var))
            _warn_outside_plausibility_limits(work)


@app.command()
def build(data_dir: DataDirOpt = None, warehouse: WarehouseOpt = None, var: VarOpt = None) -> None:
    """Ingest, then `dbt build`, as one step: the warehouse is replaced only if both succeed."""
    from ingest.build import build_warehouse

    path = settings.warehouse_path(warehouse)
    folder = settings.data_dir(data_dir)
    with clear_errors():
        used = build_warehouse(
            folder,
            path,
            _parse_vars(var),
            ingest_step=lambda work: run_ingest(folder, path, force=False, build_into=work),
            after=_warn_outside_plausibility_limits,
        )
    _say_vars(used, _parse_vars(var))
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


@app.command()
def docs(warehouse: WarehouseOpt = None) -> None:
    """Generate the dbt docs site (lineage, columns and their NHANES provenance)."""
    from nhanes_bone.dbt import run_dbt

    with clear_errors():
        run_dbt(["docs", "generate"], settings.warehouse_path(warehouse))
    console.print(f"docs in {settings.DBT_PROJECT_DIR / 'target'}; serve with `make docs-serve`")


@app.command()
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
            raise ValueError(f"{path}: {exc}") from exc
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


@app.command()
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
) -> None:
    """Fit Tables 1-4 of Peng et al. (unweighted and design-based), WQS, BKMR and study 2 from the marts."""
    from analysis.run import analyze as do_analyze

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
        )
    t2 = result.tables["table2"]
    focus = t2[(t2.model == "model_3") & (t2.term == "Q4") & t2.metal.isin(["cadmium", "selenium"])]
    for row in focus.itertuples():
        console.print(
            f"{row.weighting:<10} {row.metal:<9} Q4 vs Q1 (model 3): OR {row.odds_ratio:.2f} "
            f"({row.or_ci_low:.2f}-{row.or_ci_high:.2f}), p = {row.p_value:.3f}"
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


@app.command()
def reproduce(
    warehouse: WarehouseOpt = None,
    reports: Annotated[Path, typer.Option(help="Folder of report runs.")] = Path("reports"),
    run: Annotated[str | None, typer.Option(help="Run name (default: the warehouse file's stem).")] = None,
    top: Annotated[int, typer.Option(help="How many of the best definitions to print.")] = 10,
) -> None:
    """Score the declared grid of cohort definitions against Peng et al. (n, OP, Table 1, cut-points)."""
    from analysis.outputs import label, write_csv, write_warehouse
    from analysis.reproduce import ReproduceError, dbt_vars, grid_size, reproduction_tables
    from ingest.build import holds_synthetic_data

    path = settings.warehouse_path(warehouse)
    with clear_errors():
        try:
            with Progress(
                TextColumn("[bold]reproduce[/] {task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            ) as bar:
                task = bar.add_task(f"{grid_size():,} definitions", total=None)
                tables = reproduction_tables(
                    path, lambda done, total: bar.update(task, completed=done, total=total)
                )
        except ReproduceError as exc:
            raise ValueError(str(exc)) from exc
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


@app.command()
def report(
    warehouse: WarehouseOpt = None,
    reports: Annotated[Path, typer.Option(help="Folder of report runs.")] = Path("reports"),
    run: Annotated[str | None, typer.Option(help="Run name (default: the warehouse file's stem).")] = None,
) -> None:
    """Render reports/<run>/report.html (self-contained) from what the warehouse holds; refits nothing."""
    from analysis.report import build_report

    with clear_errors():
        out = build_report(settings.warehouse_path(warehouse), reports, run)
    console.print(f"report: {out} (figures in {out.parent / 'figures'})")


@app.command()
def svyglm(
    data: Annotated[Path, typer.Option(help="CSV file with the variables, weights, strata and PSUs.")],
    formula: Annotated[str, typer.Option(help='R-style formula, e.g. "y ~ a + b + C(c)".')],
    out: Annotated[Path, typer.Option(help="Where to write the JSON result.")],
    family: Annotated[
        str, typer.Option(help="binomial (quasibinomial under a design) or gaussian.")
    ] = "gaussian",
    weights: Annotated[str | None, typer.Option(help="Sampling-weight column.")] = None,
    strata: Annotated[str | None, typer.Option(help="Stratum column.")] = None,
    psu: Annotated[str | None, typer.Option(help="PSU column (nested within strata).")] = None,
) -> None:
    """Design-based GLM as R's survey::svyglm (Taylor linearisation); the plain GLM without a design."""

    from analysis.survey import svyglm as fit_svyglm

    with clear_errors():
        frame = read_csv_option(data)
        result = fit_svyglm(formula, frame, family, weights, strata, psu)
    table = result.table()
    doc = {
        "formula": formula,
        "family": ("quasibinomial" if result.design_based and family == "binomial" else family),
        "design_based": result.design_based,
        "design": {"weights": weights, "strata": strata, "psu": psu, "nest": True}
        if result.design_based
        else None,
        "n": result.n,
        "df_residual": result.df_residual,
        "p_value_distribution": "t" if result.uses_t() else "normal",
        "coefficients": table.to_dict(orient="records"),
        "vcov": {"terms": result.names, "matrix": result.cov.tolist()},
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2))
    console.print(table.to_string(index=False, float_format=lambda v: f"{v:.6g}"))
    console.print(f"residual df {result.df_residual:g}; written to {out}")


@app.command()
def wqs(
    data: Annotated[Path, typer.Option(help="CSV file.")],
    outcome: Annotated[str, typer.Option(help="Outcome column (0/1 for binomial).")],
    mixture: Annotated[str, typer.Option(help="Mixture columns, comma-separated.")],
    out: Annotated[
        Path, typer.Option(help="Folder for weights.csv, bootstrap.csv, final_model.csv, summary.json.")
    ],
    id_column: Annotated[
        str | None, typer.Option(help="Row identifier, needed with --split/--bootstrap.")
    ] = None,
    covariates: Annotated[
        str, typer.Option(help="Covariate columns, comma-separated (text columns become dummies).")
    ] = "",
    q: Annotated[int, typer.Option(help="Number of quantiles.")] = 4,
    validation: Annotated[float, typer.Option(help="Share of rows held out for the final model.")] = 0.6,
    b: Annotated[int, typer.Option(help="Number of bootstrap fits.")] = 100,
    direction: Annotated[str, typer.Option(help="positive | negative.")] = "positive",
    signal: Annotated[
        str, typer.Option(help="Averaging weight: t2 (gWQS 3.x default) | abst | one | t3 | expt.")
    ] = "t2",
    b_constrained: Annotated[
        bool,
        typer.Option("--b-constrained/--no-b-constrained", help="Constrain the mixture coefficient's sign."),
    ] = False,
    family: Annotated[str, typer.Option(help="binomial | gaussian.")] = "binomial",
    seed: Annotated[int | None, typer.Option(help="Random seed for the split and the bootstraps.")] = None,
    split: Annotated[
        Path | None, typer.Option(help="CSV id,validation (TRUE/FALSE): replay a split.")
    ] = None,
    bootstrap: Annotated[
        Path | None, typer.Option(help="CSV boot,draw,id: replay bootstrap samples.")
    ] = None,
    jobs: Annotated[int | None, typer.Option(help="Worker processes (default: all cores).")] = None,
) -> None:
    """Weighted quantile sum regression on any CSV (gWQS 3.x's algorithm; replayable)."""

    from analysis.wqs import fit_wqs, replay_rows

    with clear_errors():
        frame = read_csv_option(data)
        if (split is not None or bootstrap is not None) and (
            id_column is None or id_column not in frame.columns
        ):
            raise ValueError("--split and --bootstrap need --id-column naming a column of the data")
        validation_rows, bootstrap_rows = replay_rows(
            frame[id_column] if id_column in frame.columns else frame.index.to_series(),
            read_csv_option(split) if split is not None else None,
            read_csv_option(bootstrap) if bootstrap is not None else None,
            names=(str(split), str(bootstrap)),
        )
        result = fit_wqs(
            frame,
            outcome,
            [m.strip() for m in mixture.split(",") if m.strip()],
            [c.strip() for c in covariates.split(",") if c.strip()],
            family=family,
            q=q,
            validation=validation,
            b=b,
            direction=direction,
            signal=signal,
            b_constrained=b_constrained,
            seed=seed,
            validation_rows=validation_rows,
            bootstrap_rows=bootstrap_rows,
            n_jobs=jobs,
        )
    out.mkdir(parents=True, exist_ok=True)
    result.weights.rename("weight").rename_axis("component").reset_index().to_csv(
        out / "weights.csv", index=False
    )
    result.bootstrap.to_csv(out / "bootstrap.csv", index=False)
    result.final.to_csv(out / "final_model.csv", index=False)
    effect = result.mixture_effect
    summary = {
        "direction": direction,
        "family": family,
        "q": q,
        "b": len(result.bootstrap),
        "signal": signal,
        "b_constrained": b_constrained,
        "n_validation": int(result.validation.sum()),
        "weights": result.weights.to_dict(),
        "wqs": {k: float(v) for k, v in effect.items()},
        "bootstraps_with_chosen_sign": int(
            ((result.bootstrap.b1 > 0) if direction == "positive" else (result.bootstrap.b1 < 0)).sum()
        ),
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    console.print(result.weights.round(4).to_string())
    console.print(
        f"wqs: estimate {effect.estimate:.4f} (SE {effect.std_error:.4f}), p = {effect.p_value:.3g}; written to {out}"
    )


@app.command()
def bkmr(
    data: Annotated[Path, typer.Option(help="CSV file.")],
    outcome: Annotated[str, typer.Option(help="Outcome column (0/1 for binomial).")],
    exposures: Annotated[str, typer.Option(help="Exposure columns for h(), comma-separated.")],
    out: Annotated[
        Path,
        typer.Option(
            help="Folder for pips.csv, overall_risk.csv, univariate.csv, singvar.csv, beta.csv, diagnostics.json, trace.png, draws.csv.gz."
        ),
    ],
    covariates: Annotated[
        str,
        typer.Option(
            help="Covariates entering linearly, comma-separated (no intercept: h carries it, as in bkmr)."
        ),
    ] = "",
    family: Annotated[str, typer.Option(help="binomial (probit) | gaussian.")] = "gaussian",
    iter: Annotated[
        int, typer.Option("--iter", help="Iterations per chain (the first half is burn-in).")
    ] = 10000,
    varsel: Annotated[
        bool, typer.Option("--varsel/--no-varsel", help="Component-wise variable selection (PIPs).")
    ] = True,
    chains: Annotated[int, typer.Option(help="Chains, run in parallel processes.")] = 2,
    seed: Annotated[int, typer.Option(help="Seed; chain c uses the stream [seed, c].")] = 1,
    est_h: Annotated[
        bool,
        typer.Option(
            "--est-h/--no-est-h",
            help="Draw y* given a sampled h (bkmr's est.h = TRUE) instead of jointly with h integrated out.",
        ),
    ] = False,
    log: Annotated[bool, typer.Option("--log/--no-log", help="Take ln of the exposures first.")] = False,
    standardize: Annotated[
        bool, typer.Option("--standardize/--no-standardize", help="z-score the exposures (after --log).")
    ] = False,
    method: Annotated[
        str, typer.Option(help="Summaries: approx (bkmr's default) | exact (over thinned draws).")
    ] = "approx",
    thin: Annotated[int, typer.Option(help="Keep every thin-th post-burn-in draw for --method exact.")] = 10,
    jobs: Annotated[
        int | None, typer.Option(help="Worker processes (default: one per chain, up to the cores).")
    ] = None,
) -> None:
    """Bayesian kernel machine regression on any CSV (R bkmr 0.2.2's model, priors and sampler)."""
    from analysis.bkmr import BkmrSettings
    from analysis.bkmr.frame import fit_bkmr
    from analysis.bkmr.outputs import write_fit

    with clear_errors():
        if method not in ("approx", "exact"):
            raise ValueError(f"--method must be approx or exact, not {method!r}")
        settings = BkmrSettings(family=family, iterations=iter, varsel=varsel, est_h=est_h, thin=thin)
        frame = read_csv_option(data)
        fit = fit_bkmr(
            frame,
            outcome,
            [e.strip() for e in exposures.split(",") if e.strip()],
            [c.strip() for c in covariates.split(",") if c.strip()],
            settings,
            chains=chains,
            seed=seed,
            log=log,
            standardize=standardize,
            workers=jobs,
        )
        diagnostics = write_fit(fit, out, method)
    rates = ", ".join(f"{c['iterations_per_second']}" for c in diagnostics["per_chain"])
    console.print(fit.pips().round(3).to_string(index=False))
    console.print(
        f"{len(fit.chains)} chain(s) x {iter} iterations; iterations/s per chain: {rates}; written to {out}"
    )
    for w in diagnostics["warnings"]:
        err.print(f"[yellow]warning:[/] {escape(w)}", highlight=False, soft_wrap=True)


@app.command()
def query(
    sql: Annotated[str | None, typer.Argument(help="SQL to run (the warehouse is opened read-only).")] = None,
    analysis: Annotated[
        str | None, typer.Option(help="Run an example query of dbt_project/analyses by name.")
    ] = None,
    warehouse: WarehouseOpt = None,
    csv: Annotated[Path | None, typer.Option(help="Also write the result to this CSV file.")] = None,
) -> None:
    """Run SQL (or an example analysis) on the warehouse, read-only, and print the result."""
    from nhanes_bone.explore import analysis_sql, run_query

    with clear_errors():
        if (sql is None) == (analysis is None):
            raise ValueError("give either SQL or --analysis NAME")
        text = analysis_sql(analysis) if analysis else sql
        frame = run_query(settings.warehouse_path(warehouse), text)
    table = Table(show_lines=False)
    for col in frame.columns:
        table.add_column(str(col))
    for row in frame.itertuples(index=False):
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)
    if csv:
        frame.to_csv(csv, index=False)


def main() -> None:  # pragma: no cover - console-script entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
