"""Run every data-quality suite as one GX checkpoint, then record the results.

GX's SQL datasource is broken on DuckDB (CONVENTIONS.md), so each target is read once
through a read-only DuckDB connection into a snapshot file, and GX validates the
snapshots through its pandas datasource. The warehouse is closed before validation
starts, so dq holds no lock while GX works and runs beside other readers. The results
go into ``dq.results`` by the same copy-and-swap as every other write.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from expectations.profile import Profile, choose_profile
from expectations.suites import Target, all_targets
from nhanes_bone.core.settings import EXPECTATIONS_DIR
from nhanes_bone.core.warehouse import atomic_rebuild, connect_read_only, connect_writer

CONTEXT_ROOT = EXPECTATIONS_DIR  # the GX file-context root is this folder
SNAPSHOTS = CONTEXT_ROOT / "uncommitted" / "snapshots"
DATA_DOCS = CONTEXT_ROOT / "uncommitted" / "data_docs" / "local_site" / "index.html"
DATASOURCE = "warehouse_snapshots"
CHECKPOINT = "warehouse"


@dataclass
class Outcome:
    suite: str
    severity: str
    target: str
    expectation: str
    column: str | None
    success: bool
    observed: str
    expected: str = ""
    off_by: float | None = None  # how far a numeric observation lies outside what was expected


@dataclass
class DqReport:
    run_at: datetime
    profile: Profile
    outcomes: list[Outcome]

    def failures(self, severity: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.severity == severity and not o.success]

    def by_suite(self) -> pd.DataFrame:
        frame = pd.DataFrame([o.__dict__ for o in self.outcomes])
        return (
            frame.groupby(["suite", "severity"], sort=False)
            .agg(expectations=("success", "size"), failed=("success", lambda s: int((~s).sum())))
            .reset_index()
        )


def snapshot(warehouse: Path) -> tuple[Profile, list[Target], Path]:
    """Choose the profile and snapshot every target, through one read-only connection."""
    con = connect_read_only(warehouse)
    try:
        profile = choose_profile(con)
        raw_tables = {
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'raw'"
            ).fetchall()
        }
        targets = all_targets(profile, raw_tables)
        shutil.rmtree(SNAPSHOTS, ignore_errors=True)
        SNAPSHOTS.mkdir(parents=True)
        for target in targets:
            # pickle keeps pandas dtypes exactly and needs no Parquet engine (pyarrow is not in the stack)
            con.execute(target.sql).df().to_pickle(SNAPSHOTS / f"{target.name}.pkl")
    finally:
        con.close()
    return profile, targets, SNAPSHOTS


def _context():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    import great_expectations as gx

    context = gx.get_context(mode="file", context_root_dir=str(CONTEXT_ROOT))
    context.variables.progress_bars = {"globally": False}
    return context


def validate(targets: list[Target], snapshots: Path):
    """One checkpoint over every suite; returns GX's CheckpointResult."""
    import great_expectations as gx

    # suites, validation definitions and the checkpoint are regenerated from suites.py on every
    # run; left over from an interrupted run they can disagree with great_expectations.yml
    for generated in ("expectations", "validation_definitions", "checkpoints"):
        shutil.rmtree(CONTEXT_ROOT / generated, ignore_errors=True)
    context = _context()
    for name in [c.name for c in context.checkpoints.all()]:
        context.checkpoints.delete(name)
    for vd in list(context.validation_definitions.all()):
        context.validation_definitions.delete(vd.name)
    if DATASOURCE in context.data_sources.all():
        context.data_sources.delete(DATASOURCE)
    source = context.data_sources.add_pandas(DATASOURCE)
    definitions = []
    for target in targets:
        asset = source.add_pickle_asset(target.name, filepath_or_buffer=snapshots / f"{target.name}.pkl")
        batch = asset.add_batch_definition_whole_dataframe("snapshot")
        for severity in ("critical", "warning"):
            expectations = getattr(target, severity)
            if not expectations:
                continue
            suite = gx.ExpectationSuite(name=f"{target.name}.{severity}", meta={"severity": severity})
            for expectation in expectations:
                suite.add_expectation(expectation)
            suite = context.suites.add_or_update(suite)
            definitions.append(
                context.validation_definitions.add(
                    gx.ValidationDefinition(name=suite.name, data=batch, suite=suite)
                )
            )
    checkpoint = context.checkpoints.add(
        gx.Checkpoint(
            name=CHECKPOINT,
            validation_definitions=definitions,
            result_format={"result_format": "SUMMARY"},
        )
    )
    result = checkpoint.run()
    # once for the whole run (GX's UpdateDataDocsAction would rebuild the site per suite), and
    # only this run's pages: without resource_identifiers GX re-renders every validation result
    # the store has ever kept, so each scheduled run would take longer than the one before
    # (1,400 stored results took 100 s here; this run's 81 take a few)
    context.build_data_docs(resource_identifiers=list(result.run_results))
    return result


def outcomes(result) -> list[Outcome]:
    rows = []
    for validation in result.run_results.values():
        suite = validation.suite_name
        target, _, severity = suite.rpartition(".")
        for r in validation.results:
            config = r.expectation_config
            observed = r.result.get("observed_value")
            values = r.result.get("partial_unexpected_list") or []
            if observed is None and "unexpected_count" in r.result:
                shown = ", ".join(str(v) for v in values[:3])
                observed = f"{r.result['unexpected_count']} unexpected" + (f": {shown}" if shown else "")
            if r.exception_info and r.exception_info.get("raised_exception"):
                observed = f"error: {r.exception_info.get('exception_message')}"
            expected, off_by = _expected(config.kwargs, r.result.get("observed_value"), values)
            rows.append(
                Outcome(
                    suite=suite,
                    severity=severity,
                    target=target,
                    expectation=config.type,
                    column=config.kwargs.get("column"),
                    success=bool(r.success),
                    observed=json.dumps(observed, default=str)[:500],
                    expected=expected,
                    off_by=None if r.success else off_by,
                )
            )
    return rows


def _expected(kwargs: dict, observed, unexpected: list) -> tuple[str, float | None]:
    """What the expectation asked for, in words, and how far a single numeric observation
    (a row count, a sum, the one value of a one-row table) lies outside it."""
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if "value" in kwargs:
        low = high = kwargs["value"]
    if low is None and high is None:
        return (f"in {kwargs['value_set']}" if "value_set" in kwargs else ""), None

    def shown(v) -> str:
        return f"{v:.10g}" if isinstance(v, float) else str(v)

    text = f"= {shown(low)}" if low == high else f"between {shown(low)} and {shown(high)}"
    number = (
        observed if isinstance(observed, (int, float)) else (unexpected[0] if len(unexpected) == 1 else None)
    )
    if not isinstance(number, (int, float)):
        return text, None
    if low is not None and number < low:
        return text, float(number - low)
    if high is not None and number > high:
        return text, float(number - high)
    return text, 0.0


def record(warehouse: Path, report: DqReport) -> None:
    """Append the results to ``dq.results`` (copy, write, swap: readers are never blocked)."""
    frame = pd.DataFrame([o.__dict__ for o in report.outcomes])
    frame.insert(0, "run_at", report.run_at)
    frame.insert(1, "profile", report.profile.name)
    with atomic_rebuild(warehouse) as work:
        con = connect_writer(work)
        try:
            db = con.execute("select current_database()").fetchone()[0]
            table = f'"{db}".dq.results'  # qualified: a file named dq.duckdb is a catalog named dq
            con.execute(f'create schema if not exists "{db}".dq')
            con.register("incoming", frame)
            con.execute(f"create table if not exists {table} as select * from incoming limit 0")
            # a dq.results written before these columns existed gets them
            con.execute(f"alter table {table} add column if not exists expected varchar")
            con.execute(f"alter table {table} add column if not exists off_by double")
            con.execute(f"insert into {table} by name select * from incoming")
            con.execute("checkpoint")
        finally:
            con.close()


def run(warehouse: Path, *, write_results: bool = True) -> DqReport:
    run_at = datetime.now(UTC)
    profile, targets, snapshots = snapshot(warehouse)
    result = validate(targets, snapshots)
    report = DqReport(run_at=run_at, profile=profile, outcomes=outcomes(result))
    if write_results:
        record(warehouse, report)
    return report
