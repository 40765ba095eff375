"""Fault injection: builds of the SYNTHETIC twin killed with SIGKILL, run twice at once, read
during their swap, starved of disk, and a damaged warehouse — each run as a user would, through
the `nhanes-bone` command in a process of its own.

After every kill the warehouse must be byte-identical to the last good one or be the complete
new one, open read-only, and the next build must succeed with no manual step and leave nothing
beside the warehouse. These tests take minutes, so they carry the `faults` marker, which
`make test` leaves out and `make test-faults` (run by `.ci/run`) selects.
"""

from __future__ import annotations

import hashlib
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from nhanes_bone.core.warehouse import KILL_AT_ENV

pytestmark = pytest.mark.faults

CLI = str(Path(sys.executable).with_name("nhanes-bone"))
SEED = 20261201
TIMED_KILLS = 11  # with the 9 named points: 20 kills
# every named point a build passes, in order (core/warehouse.py, ingest/load.py, ingest/build.py)
NAMED_KILLS = (
    "locked",
    "copied",
    "loaded-1",
    "loaded-9",
    "ingested",
    "transformed",
    "built",
    "checkpointed",
    "replaced",
)


def build_command(data_dir: Path, warehouse: Path, *extra: str) -> list[str]:
    return [CLI, "build", "--data-dir", str(data_dir), "--warehouse", str(warehouse), *extra]


def run(command: list[str], env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        command, env={**os.environ, **(env or {})}, capture_output=True, text=True, timeout=600, **kwargs
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def beside(warehouse: Path) -> list[str]:
    """Everything in the warehouse's folder other than the warehouse itself."""
    return sorted(p.name for p in warehouse.parent.iterdir() if p != warehouse)


def complete(warehouse: Path) -> bool:
    """A finished build: it opens read-only and its cohort and build settings are there."""
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        cohort = con.execute("select count(*) from marts.metals_op_cohort").fetchone()[0]
        settings = con.execute("select count(*) from marts.build_settings").fetchone()[0]
        return cohort > 0 and settings > 0
    finally:
        con.close()


@pytest.fixture(scope="module")
def twin(tmp_path_factory) -> Path:
    """A quarter-size SYNTHETIC twin: the same files and models, builds a little faster."""
    from ingest.synth import synthesize

    out = tmp_path_factory.mktemp("faults_twin")
    synthesize(out, seed=7, scale=0.25)
    return out


@pytest.fixture(scope="module")
def good(twin: Path, tmp_path_factory) -> tuple[Path, float]:
    """A warehouse of the twin built by the command, and how long that build took."""
    warehouse = tmp_path_factory.mktemp("faults_good") / "twin.duckdb"
    started = time.monotonic()
    done = run(build_command(twin, warehouse))
    assert done.returncode == 0, done.stderr + done.stdout
    return warehouse, time.monotonic() - started


@pytest.fixture
def warehouse(good, tmp_path: Path) -> Path:
    """A private copy of the good warehouse, alone in its folder."""
    copy = tmp_path / "wh" / "twin.duckdb"
    copy.parent.mkdir()
    shutil.copy2(good[0], copy)
    return copy


def attempt(command: list[str], how: str, where: float | str) -> tuple[int, str, float]:
    """One build killed at a named point (it kills itself there) or after ``where`` seconds;
    returns its exit code, its stderr and how long it ran."""
    started = time.monotonic()
    if how == "point":
        done = run(command, env={KILL_AT_ENV: str(where)})
        return done.returncode, done.stderr, time.monotonic() - started
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        process.wait(timeout=float(where))
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
    stderr = process.communicate()[1]
    return process.returncode, stderr, time.monotonic() - started


def test_builds_killed_anywhere_keep_the_warehouse_and_the_next_build_recovers(twin, good, warehouse):
    """SIGKILL at 20 points through ingest, dbt and the swap; the last build runs to the end.

    The timed kills fall at seeded fractions of a build's length; a build that finishes first
    (the machine got faster) shortens the length used from then on and does not count."""
    rng = random.Random(SEED)
    build_seconds = good[1]
    last_good = digest(warehouse)
    outcomes = []
    plan: list[tuple[str, float | str]] = [("point", name) for name in NAMED_KILLS]
    timed = 0
    while plan or (timed < TIMED_KILLS and len(outcomes) < len(NAMED_KILLS) + 3 * TIMED_KILLS):
        how, where = plan.pop(0) if plan else ("after", round(rng.uniform(0.03, 0.92) * build_seconds, 2))
        code, stderr, elapsed = attempt(build_command(twin, warehouse, "--fresh"), how, where)
        assert "another build" not in stderr, f"killed at {how} {where}: a dead build's lock held: {stderr}"
        assert code in (-signal.SIGKILL, 0), f"killed at {how} {where}: exit {code}: {stderr}"
        if how == "after" and code == 0:
            build_seconds = min(build_seconds, elapsed)
        timed += how == "after" and code == -signal.SIGKILL
        now = digest(warehouse)
        assert complete(warehouse), f"killed at {how} {where}: the warehouse does not open whole"
        outcomes.append((how, where, code, "kept" if now == last_good else "new"))
        last_good = now
    # the build after the last kill runs to its end, cleans up, and leaves only the warehouse
    done = run(build_command(twin, warehouse))
    assert done.returncode == 0, done.stderr + done.stdout
    assert complete(warehouse)
    assert beside(warehouse) == []
    assert sum(code == -signal.SIGKILL for _, _, code, _ in outcomes) >= 20, outcomes


def test_a_killed_build_is_cleaned_up_by_the_next_one_which_says_so(twin, warehouse):
    before = digest(warehouse)
    killed = run(build_command(twin, warehouse), env={KILL_AT_ENV: "ingested"})
    assert killed.returncode == -signal.SIGKILL
    left = beside(warehouse)
    assert any(name.startswith("twin.duckdb.building-") for name in left), left
    assert digest(warehouse) == before
    done = run(build_command(twin, warehouse))
    assert done.returncode == 0, done.stderr
    assert "removed" in done.stderr and "unfinished builds left beside twin.duckdb" in done.stderr
    assert beside(warehouse) == []


def test_two_builds_at_once_one_builds_the_other_stops_or_waits(twin, warehouse):
    lock = warehouse.with_name(warehouse.name + ".lock")
    first = subprocess.Popen(
        build_command(twin, warehouse), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 60
    while not (lock.exists() and lock.read_text().strip() == str(first.pid)):
        assert time.monotonic() < deadline and first.poll() is None, "the first build never took the lock"
        time.sleep(0.05)
    second = run(build_command(twin, warehouse))
    waiting = subprocess.Popen(
        build_command(twin, warehouse, "--wait"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert first.wait(timeout=600) == 0, first.stderr.read()
    assert second.returncode == 1
    assert f"another build (process {first.pid}) is writing to this warehouse" in second.stderr
    assert "--wait" in second.stderr
    assert waiting.wait(timeout=600) == 0, waiting.stderr.read()
    assert complete(warehouse) and beside(warehouse) == []


READER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from nhanes_bone.core.warehouse import connect_read_only

    path = Path(sys.argv[1])
    query = "select max(loaded_at)::varchar from raw._files"
    con = connect_read_only(path)
    print(con.execute(query).fetchone()[0], flush=True)
    sys.stdin.readline()  # the build swaps the file in meanwhile
    cohort = con.execute("select count(*) from marts.metals_op_cohort").fetchone()[0]
    print(con.execute(query).fetchone()[0] + "|" + str(cohort), flush=True)
    con.close()
    print(connect_read_only(path).execute(query).fetchone()[0], flush=True)
    """
)


def test_a_reader_open_during_the_swap_finishes_on_the_old_file_and_the_next_sees_the_new(twin, warehouse):
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(warehouse)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    old = reader.stdout.readline().strip()
    assert old, reader.stderr.read()
    done = run(build_command(twin, warehouse, "--fresh"))  # reloads: new loaded_at
    assert done.returncode == 0, done.stderr
    out, errs = reader.communicate("go\n", timeout=60)
    assert reader.returncode == 0, errs
    during, after = out.strip().splitlines()
    seen, cohort = during.split("|")
    assert seen == old and int(cohort) > 0
    assert after != old


def _file_size_limit(limit: int):
    def set_limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes then fail with EFBIG

    return set_limit


def test_a_full_disk_during_a_build_is_a_clear_error_and_keeps_the_warehouse(twin, warehouse):
    """`ulimit -f` stands in for a full disk (no root needed): every write past it fails."""
    before = digest(warehouse)
    done = run(
        build_command(twin, warehouse, "--fresh"),
        preexec_fn=_file_size_limit(4 * 1024 * 1024),
    )
    assert done.returncode == 1, done.stderr + done.stdout
    assert "the disk filled up during the build" in done.stderr
    assert "previous warehouse is kept" in done.stderr
    assert digest(warehouse) == before
    assert beside(warehouse) == []  # (the next build's recovery: the kill test above)


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("mount"), reason="a tmpfs needs root")
def test_a_really_full_disk_is_a_clear_error_too(twin, good, tmp_path):
    small = tmp_path / "small"
    small.mkdir()
    size = good[0].stat().st_size
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size * 3 // 2}", "tmpfs", str(small)])
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        warehouse = small / "twin.duckdb"
        shutil.copy2(good[0], warehouse)
        before = digest(warehouse)
        done = run(build_command(twin, warehouse, "--fresh"))
        assert done.returncode == 1, done.stderr + done.stdout
        assert "the disk filled up during the build" in done.stderr
        assert digest(warehouse) == before
        assert beside(warehouse) == []
    finally:
        subprocess.run(["umount", str(small)])


@pytest.mark.parametrize("damage", ["truncated", "overwritten"])
def test_a_damaged_warehouse_says_how_to_rebuild_from_raw(twin, warehouse, damage):
    data = bytearray(warehouse.read_bytes())
    if damage == "truncated":
        data = data[: len(data) // 3]
    else:
        data[4096:12288] = bytes(random.Random(SEED).randrange(256) for _ in range(8192))
    warehouse.write_bytes(bytes(data))
    query = run([CLI, "query", "--warehouse", str(warehouse), "select count(*) from marts.metals_op_cohort"])
    assert query.returncode == 1
    assert "damaged or truncated" in query.stderr and "nhanes-bone build --fresh" in query.stderr
    stuck = run(build_command(twin, warehouse))
    assert stuck.returncode == 1 and "nhanes-bone build --fresh" in stuck.stderr
    assert beside(warehouse) == []
    if damage == "truncated":  # one rebuild shows the way out (the same for both)
        rebuilt = run(build_command(twin, warehouse, "--fresh"))
        assert rebuilt.returncode == 0, rebuilt.stderr
        assert complete(warehouse) and beside(warehouse) == []


def _processes_naming(text: str) -> list[int]:
    """The pids of live processes whose command line contains ``text`` (from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and text in (entry / "cmdline").read_bytes().decode(errors="replace"):
                found.append(int(entry.name))
        except OSError:  # the process ended while we looked
            continue
    return found


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")
def test_the_generator_killed_mid_write_leaves_no_worker_behind(tmp_path):
    """The twin's files are written by worker processes: killing the generator must end them
    too (they would otherwise wait forever on its queue)."""
    out = tmp_path / "twin_being_written"
    generator = subprocess.Popen(
        [CLI, "synth", "--out", str(out), "--scale", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while not list(out.glob("*.XPT")) and time.monotonic() < deadline and generator.poll() is None:
        time.sleep(0.05)
    assert generator.poll() is None, "the generator finished before it could be killed mid-write"
    assert len(_processes_naming(str(out))) > 1, "no worker processes to check"
    generator.send_signal(signal.SIGKILL)
    generator.wait()
    deadline = time.monotonic() + 10
    while _processes_naming(str(out)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _processes_naming(str(out)) == []


def _children(pid: int) -> list[int]:
    """The live children of ``pid`` (Linux's /proc/<pid>/task/<tid>/children)."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _alive(pid: int) -> bool:
    try:
        return (Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0]) != "Z"
    except OSError:
        return False


@pytest.mark.skipif(sys.platform != "linux", reason="PR_SET_PDEATHSIG is Linux's")
@pytest.mark.parametrize("method", ["wqs", "bkmr"])
def test_a_fit_killed_mid_run_leaves_no_worker_behind(tmp_path, method):
    """WQS's bootstraps (forked workers) and BKMR's chains (spawned workers) run in worker
    processes: killing the command must end them too, or each computes on, holding a core."""
    rng = random.Random(3)
    rows = ["y,a,b,c,x"] + [
        f"{rng.random() < 0.3:d},{rng.lognormvariate(0, 1):.4f},{rng.lognormvariate(0, 1):.4f},"
        f"{rng.lognormvariate(0, 1):.4f},{rng.gauss(0, 1):.4f}"
        for _ in range(400)
    ]
    csv = tmp_path / "fit.csv"
    csv.write_text("\n".join(rows) + "\n")
    common = ["--data", str(csv), "--outcome", "y", "--covariates", "x", "--out", str(tmp_path / "out")]
    args = {
        "wqs": ["--mixture", "a,b,c", "--b", "100000", "--jobs", "2"],
        "bkmr": ["--exposures", "a,b,c", "--family", "binomial", "--iter", "1000000", "--chains", "2"],
    }[method]
    command = subprocess.Popen(
        [CLI, method, *common, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    workers: list[int] = []
    while len(workers) < 2 and time.monotonic() < deadline and command.poll() is None:
        time.sleep(0.2)
        workers = [c for c in _children(command.pid) if _alive(c)]
    assert command.poll() is None, "the command ended before it could be killed mid-fit"
    assert len(workers) >= 2, f"no worker processes to check: {workers}"
    time.sleep(1.0)  # the workers are fitting
    command.send_signal(signal.SIGKILL)
    command.wait()
    deadline = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [w for w in workers if _alive(w)]
    for pid in left:  # a failing run must not leave them computing for the rest of the suite
        os.kill(pid, signal.SIGKILL)
    assert left == []
