"""Bad input: a clear error naming the file and the problem, and the previous warehouse
left byte-identical (ingest builds into a copy and swaps it in only on success)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from helpers import demo_frame, write_xpt
from typer.testing import CliRunner

from ingest.load import ingest
from nhanes_bone.cli import app
from nhanes_bone.core.errors import IngestError
from nhanes_bone.core.warehouse import WarehouseError


@pytest.fixture()
def baseline(tmp_path: Path) -> tuple[Path, Path]:
    """A warehouse holding one good file, and a data folder to add bad files to."""
    data = tmp_path / "data"
    write_xpt(data / "BMX_H.XPT", pd.DataFrame({"SEQN": [73557.0, 73558.0], "BMXBMI": [22.5, 31.0]}), "BMX_H")
    warehouse = tmp_path / "wh" / "nhanes.duckdb"
    ingest(data, warehouse)
    return data, warehouse


def _expect_failure(data: Path, warehouse: Path, *fragments: str) -> None:
    before = warehouse.read_bytes()
    with pytest.raises(IngestError) as caught:
        ingest(data, warehouse)
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, message
    assert warehouse.read_bytes() == before
    assert not list(warehouse.parent.glob("*.building-*")), "the half-built copy must be removed"


def test_truncated_file(baseline):
    data, warehouse = baseline
    good = write_xpt(data / "tmp" / "DEMO_H.XPT", demo_frame(40), "DEMO_H")
    raw = good.read_bytes()
    shutil.rmtree(good.parent)
    (data / "DEMO_H.XPT").write_bytes(raw[: len(raw) - 37])
    _expect_failure(data, warehouse, "DEMO_H.XPT", "truncated")


def test_truncated_on_a_record_boundary_mid_observation(baseline):
    data, warehouse = baseline
    good = write_xpt(data / "tmp" / "DEMO_H.XPT", demo_frame(40), "DEMO_H")
    raw = good.read_bytes()
    shutil.rmtree(good.parent)
    # rows are 9 x 8 = 72 bytes; cutting at a multiple of 80 inside the data leaves a partial row
    obs = raw.find(b"HEADER RECORD*******OBS     HEADER RECORD") + 80
    cut = obs + 80 * 20
    (data / "DEMO_H.XPT").write_bytes(raw[:cut])
    _expect_failure(data, warehouse, "DEMO_H.XPT", "last observation is incomplete")


def test_not_an_xpt_file(baseline):
    data, warehouse = baseline
    (data / "demo_h.xpt").write_text("SEQN,RIAGENDR\n1,2\n")
    _expect_failure(data, warehouse, "demo_h.xpt", "not a SAS transport")


def test_table_name_does_not_match_file_name(baseline):
    data, warehouse = baseline
    write_xpt(data / "DEMO_H.XPT", demo_frame(), "DEMO_J")
    _expect_failure(data, warehouse, "DEMO_H.XPT", "'DEMO_J'", "file name says 'DEMO_H'")


def test_duplicate_seqn(baseline):
    data, warehouse = baseline
    frame = demo_frame()
    frame.loc[3, "SEQN"] = frame.loc[1, "SEQN"]
    write_xpt(data / "DEMO_H.XPT", frame, "DEMO_H")
    _expect_failure(data, warehouse, "DEMO_H.XPT", "duplicate SEQN", "73558")


def test_required_column_missing(baseline):
    data, warehouse = baseline
    write_xpt(data / "DEMO_H.XPT", demo_frame().drop(columns=["RIDAGEYR"]), "DEMO_H")
    _expect_failure(data, warehouse, "DEMO_H.XPT", "RIDAGEYR", "missing")


def test_two_files_for_one_table(baseline):
    data, warehouse = baseline
    write_xpt(data / "a" / "DEMO_H.XPT", demo_frame(), "DEMO_H")
    write_xpt(data / "b" / "demo_h.xpt", demo_frame(), "DEMO_H")
    _expect_failure(data, warehouse, "second file for table DEMO_H")


def test_cli_prints_one_clear_line_and_exits_non_zero(baseline):
    data, warehouse = baseline
    write_xpt(data / "DEMO_H.XPT", demo_frame().drop(columns=["SDMVSTRA"]), "DEMO_H")
    before = warehouse.read_bytes()
    result = CliRunner().invoke(app, ["ingest", "--data-dir", str(data), "--warehouse", str(warehouse)])
    assert result.exit_code == 1
    assert "SDMVSTRA" in result.output and "Traceback" not in result.output
    assert warehouse.read_bytes() == before


def test_missing_data_folder_names_the_remedies(tmp_path):
    result = CliRunner().invoke(
        app, ["ingest", "--data-dir", str(tmp_path / "nope"), "--warehouse", str(tmp_path / "w.duckdb")]
    )
    assert result.exit_code == 1
    assert "data folder not found" in result.output and "synth" in result.output


def test_a_second_writer_is_refused_while_a_build_runs(baseline):
    """The build holding the lock is this test (flock locks of two open files conflict even in
    one process); a lock file left by a dead build, with no lock on it, stops nobody."""
    from nhanes_bone.core.warehouse import writer_lock

    data, warehouse = baseline
    lock = warehouse.with_name(warehouse.name + ".lock")
    before = warehouse.read_bytes()
    write_xpt(data / "DEMO_H.XPT", demo_frame(), "DEMO_H")
    with (
        writer_lock(warehouse),
        pytest.raises(WarehouseError, match=r"another build \(process \d+\) is writing"),
    ):
        ingest(data, warehouse)
    assert warehouse.read_bytes() == before
    lock.write_text("12345")  # what a killed build leaves: a file, no lock
    ingest(data, warehouse)  # goes ahead, and removes it
    assert not lock.exists()


def test_a_column_with_a_sas_date_format_is_still_read_as_a_date(tmp_path):
    """Files are read without pyreadstat's date conversion (NHANES publishes numbers and text),
    but a column that does carry a date format is converted as pyreadstat always did."""
    import datetime

    from ingest.xpt import read_xpt
    from nhanes_bone.core.catalog import load_catalog

    entry = load_catalog()["DEMO_H"]
    plain = write_xpt(tmp_path / "plain" / "DEMO_H.XPT", demo_frame(3), "DEMO_H")
    dated = demo_frame(3).assign(EXAMDATE=[datetime.date(2014, 1, 2 + i) for i in range(3)])
    dated_path = write_xpt(tmp_path / "dated" / "DEMO_H.XPT", dated, "DEMO_H")

    assert read_xpt(plain, entry).frame.equals(demo_frame(3))
    frame = read_xpt(dated_path, entry).frame
    assert list(frame.EXAMDATE) == [datetime.date(2014, 1, 2 + i) for i in range(3)]
    assert frame.drop(columns="EXAMDATE").equals(demo_frame(3))


def _reader_killed(path, entry, sha256=None):
    """A file read as the OOM killer would end it (in the ingest's worker process)."""
    import os
    import signal

    os.kill(os.getpid(), signal.SIGKILL)


def test_a_reader_process_killed_mid_read_is_a_clear_error_and_keeps_the_warehouse(baseline, monkeypatch):
    import ingest.load

    data, warehouse = baseline
    write_xpt(data / "DEMO_H.XPT", demo_frame(4), "DEMO_H")
    monkeypatch.setattr(ingest.load, "read_xpt", _reader_killed)  # the forked workers inherit it
    _expect_failure(data, warehouse, "DEMO_H.XPT", "the process reading this file died")
