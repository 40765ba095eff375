"""The writer lock and the leftovers of dead builds, with real processes and real files (the
whole builds killed at many points are in test_faults.py)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import duckdb
import pytest
from helpers import demo_frame, write_xpt

from nhanes_bone.core.errors import IngestError, WarehouseError
from nhanes_bone.core.warehouse import atomic_rebuild, lock_path, writer_lock

HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from nhanes_bone.core.warehouse import writer_lock

    with writer_lock(Path(sys.argv[1])):
        print("locked", flush=True)
        time.sleep(float(sys.argv[2]))
    """
)


def hold(path, seconds: float) -> subprocess.Popen:
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout.readline().strip() == "locked"
    return process


def test_a_live_holder_stops_a_second_writer_with_its_pid(tmp_path):
    path = tmp_path / "w.duckdb"
    holder = hold(path, 30)
    try:
        with (
            pytest.raises(WarehouseError, match=rf"another build \(process {holder.pid}\).*--wait"),
            writer_lock(path),
        ):
            pass
    finally:
        holder.kill()
        holder.wait()


def test_the_lock_of_a_killed_holder_is_released_by_the_system(tmp_path):
    path = tmp_path / "w.duckdb"
    holder = hold(path, 30)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert lock_path(path).exists()  # what the dead process left: a file, but no lock on it
    with writer_lock(path):
        assert lock_path(path).read_text().strip() == str(os.getpid())
    assert not lock_path(path).exists()


def test_wait_takes_the_lock_when_the_holder_finishes(tmp_path):
    path = tmp_path / "w.duckdb"
    holder = hold(path, 1.0)
    started = time.monotonic()
    with writer_lock(path, wait=True):
        waited = time.monotonic() - started
    assert waited > 0.8  # the holder kept it for 1 s after saying so
    assert holder.wait(timeout=30) == 0


def test_orphans_of_dead_builds_are_removed_and_reported(tmp_path, caplog):
    path = tmp_path / "w.duckdb"
    duckdb.connect(str(path)).close()
    for name in ("w.duckdb.building-999999", "w.duckdb.building-999999.wal", "w.duckdb.building-7"):
        (tmp_path / name).write_bytes(b"x" * 1000)
    (tmp_path / "other.duckdb.building-5").write_bytes(b"not ours")
    with caplog.at_level("WARNING", logger="nhanes_bone"), atomic_rebuild(path) as work:
        duckdb.connect(str(work)).execute("create table t as select 1 as x").close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.duckdb.building-5", "w.duckdb"]
    assert "removed 3 file(s) that unfinished builds left beside w.duckdb" in caplog.text
    assert duckdb.connect(str(path), read_only=True).execute("select x from t").fetchone() == (1,)


def test_an_xpt_replaced_between_discovery_and_load_is_refused(tmp_path):
    """The ingest's progress callback runs just before each file is read: replacing the file
    there is the race of a download or a sync tool finishing mid-ingest."""
    from ingest.load import ingest

    data = tmp_path / "raw"
    data.mkdir()
    write_xpt(data / "DEMO_H.XPT", demo_frame(20), "DEMO_H")
    warehouse = tmp_path / "w.duckdb"

    def replace(table: str, done: int, total: int) -> None:
        if table == "DEMO_H":
            write_xpt(data / "DEMO_H.XPT", demo_frame(25), "DEMO_H")

    with pytest.raises(IngestError, match="DEMO_H.XPT: the file changed while it was being ingested"):
        ingest(data, warehouse, progress=replace)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["raw"]
