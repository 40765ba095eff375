"""A whole build: ingest the XPT files, then one `dbt build`, in one private copy of the
warehouse that replaces it only when both succeeded.

The vars: the project's defaults (dbt_project.yml: the definition that comes closest to
Peng et al. on real NHANES, found by `nhanes-bone reproduce`), except for a warehouse that
holds the synthetic twin. The twin's TRUTH.json is computed under the paper's literal
reading (``ingest.synth.definition.DEFINITION``), and it lacks some of what the real default
needs (measured blood pressure), so a synthetic warehouse is built with that definition.
Vars given by the user win over both. `marts.build_settings` records what was used.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from nhanes_bone.core.dbt import DbtSession, run_dbt
from nhanes_bone.core.warehouse import atomic_rebuild, connect_read_only, fault_point


def holds_synthetic_data(warehouse: Path) -> bool:
    con = connect_read_only(warehouse)
    try:
        return bool(
            con.execute("select coalesce(bool_or(is_synthetic), false) from raw._files").fetchone()[0]
        )
    finally:
        con.close()


def base_vars(warehouse: Path) -> dict:
    """The vars a build of this warehouse starts from (before the user's own)."""
    from ingest.synth.definition import DEFINITION

    return dict(DEFINITION) if warehouse.exists() and holds_synthetic_data(warehouse) else {}


def expected_base_vars(data_dir: Path, work: Path) -> dict:
    """``base_vars`` as it will be after the ingest, guessed before it (for dbt's head start): the
    twin's definition if the warehouse being built already holds synthetic data or ``data_dir``
    carries the twin's marker. A wrong guess costs only the head start: the vars are read again
    from the ingested warehouse."""
    from ingest.discover import SYNTHETIC_MARKER
    from ingest.synth.definition import DEFINITION

    marked = any(data_dir.rglob(SYNTHETIC_MARKER)) if data_dir.is_dir() else False
    return dict(DEFINITION) if marked else base_vars(work)


# A warehouse build runs the models and the data tests; dbt's unit tests check the SQL's logic on
# fixed inputs, so they belong to the test suite (`make test` runs them through
# tests/test_dbt_unit_tests.py and the twin's build), not to every build — dbt's own advice.
# In the build they cost 1.2 s of 7.
BUILD = ("build", "--exclude-resource-type", "unit_test")


def dbt_build(work: Path, dbt_vars: dict | None = None, args: tuple[str, ...] = BUILD) -> dict:
    """`dbt build` on a warehouse being built, with its base vars and the user's; returns the vars."""
    used = _vars_for(work, dbt_vars)
    run_dbt(list(args), work, used or None)
    return used


def _vars_for(work: Path, dbt_vars: dict | None) -> dict:
    return {**base_vars(work), **(dbt_vars or {})}


def build_warehouse(
    data_dir: Path,
    warehouse: Path,
    dbt_vars: dict | None = None,
    ingest_step: Callable[[Path], object] | None = None,
    after: Callable[[Path], None] | None = None,
    dbt_args: tuple[str, ...] = BUILD,
    *,
    fresh: bool = False,
    wait: bool = False,
) -> dict:
    """Ingest ``data_dir`` and dbt-build into ``warehouse`` atomically; returns the vars used.

    ``ingest_step(work)`` replaces the plain ingest (the CLI's shows progress); ``after(work)``
    runs on the finished copy before it is swapped in. ``fresh``: build from the raw files
    alone, not from a copy of the warehouse (which may be damaged); ``wait``: wait for another
    build of the same warehouse to finish instead of stopping.
    """
    with atomic_rebuild(warehouse, fresh=fresh, wait=wait) as work:
        # dbt is imported and the project parsed in its own process while the files load; it
        # starts before the ingest's own imports (pandas, pyreadstat: a third of a second)
        expected = {**expected_base_vars(data_dir, work), **(dbt_vars or {})}
        with DbtSession(work, prepare=expected) as dbt:
            if ingest_step is None:
                from ingest.load import ingest

                ingest(data_dir, warehouse, build_into=work)
            else:
                ingest_step(work)
            fault_point("ingested")
            used = _vars_for(work, dbt_vars)
            dbt.run(list(dbt_args), used or None)
        fault_point("transformed")
        if after is not None:
            after(work)
    return used
