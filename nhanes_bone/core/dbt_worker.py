"""The dbt child process: dbt imported and the project parsed while the build's ingest runs.

A build's dbt cost is ~1.8 s of fixed start-up (importing dbt ≈ 1.0 s, parsing the project
≈ 0.7 s) before its first node, and none of it needs the warehouse. So the build starts this
process first, with the vars it expects to use, and it imports dbt and parses the project
(dbt's programmatic API, ``dbtRunner``) on the second core while the ingest loads the files.
It then waits for one line on stdin — the JSON ``{"args": [...], "vars": {...} | null}`` —
and runs that command on the parsed manifest if the vars are the ones it parsed with
(otherwise dbt parses again, as the plain ``dbt`` command would). End of input before the
line means the build stopped: it exits without running anything.

Run as ``python -m nhanes_bone.core.dbt_worker PROJECT_DIR [PREPARED_VARS_JSON]``, with the
warehouse in $WAREHOUSE, as the dbt command would be. Exit codes are dbt's own: 0 success,
1 a model or test failed, 2 dbt could not run. Only the standard library and dbt are
imported here: it is a separate program, not a layer of the package.

dbt reparses the whole project (≈ 2.5 s instead of ≈ 0.3 s) whenever the profile differs from
the last parse's, and the profile holds the warehouse's path: two warehouses built in turn (the
twin and the real files, as the tests and the benchmarks do) would each throw away the other's
parse. So each warehouse keeps its own copy of dbt's partial-parse file, under
``target/partial_parse/``, read back with dbt's ``--partial-parse-file-path`` (the newest
``PARSE_CACHE_SIZE`` are kept).
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

PARSE_CACHE_SIZE = 8
STARTED = time.time()


def _common(project_dir: str, dbt_vars: dict | None) -> list[str]:
    flags = ["--project-dir", project_dir, "--profiles-dir", project_dir]
    cached = _parse_cache(project_dir)
    if cached.exists():
        flags += ["--partial-parse-file-path", str(cached)]
    return flags + (["--vars", json.dumps(dbt_vars)] if dbt_vars else [])


def _parse_cache(project_dir: str) -> Path:
    """This warehouse's copy of dbt's partial-parse file (see the module's docstring)."""
    key = hashlib.sha256(os.environ.get("WAREHOUSE", "").encode()).hexdigest()[:16]
    return Path(project_dir) / "target" / "partial_parse" / f"{key}.msgpack"


def _write_whole(path: Path, data: bytes) -> None:
    """Write ``path`` so that a reader (another build's dbt) sees the old file or the new one,
    never part of one: a file of this process's own, renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    partial.write_bytes(data)
    os.replace(partial, path)


def _keep_parse(project_dir: str) -> None:
    """Copy the parse dbt just wrote (always to target/partial_parse.msgpack) to this warehouse's
    cache, atomically, and drop the oldest copies. A failure here costs only the next head start."""
    written = Path(project_dir) / "target" / "partial_parse.msgpack"
    cached = _parse_cache(project_dir)
    try:
        if written.stat().st_mtime < STARTED:
            return  # dbt found nothing to parse and wrote nothing: what is there is another run's
        _write_whole(cached, written.read_bytes())
        copies = sorted(cached.parent.glob("*.msgpack"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in copies[PARSE_CACHE_SIZE:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass


def _scan_secrets_once() -> None:
    """dbt scrubs every log line of the values of DBT_ENV_SECRET_* variables, scanning the whole
    environment for them each time (≈ 2,500 scans a build, 0.1-0.2 s of its nodes' time). This
    process's environment does not change while dbt runs, so it is scanned once."""
    from dbt_common.events import functions

    secrets = functions.env_secrets()
    functions.env_secrets = lambda: secrets


def _skip_unwritten_events() -> None:
    """dbt turns every event into a protobuf message and then a formatted log line, and only
    then lets Python's logging drop it for its level: a build fires thousands of debug events
    that neither the console (info) nor dbt.log (info, see core/dbt.py) writes. An event below
    every logger's level is dropped before that work, unless a caller registered callbacks of
    its own (they see every event) or a print event is involved (dbt writes those as errors).
    DBT_LOG_LEVEL_FILE=debug gives a logger at debug, and then nothing is skipped."""
    from dbt.tracking import track_behavior_change_warn
    from dbt_common.events.base_types import BaseEvent, EventLevel
    from dbt_common.events.event_manager import EventManager
    from dbt_common.events.logger import PRINT_EVENT_NAMES, _log_level_map

    fire = EventManager.fire_event

    def fire_event(
        self: EventManager,
        e: BaseEvent,
        level: EventLevel | None = None,
        node: Any = None,
        force_warn_or_error_handling: bool = False,
    ) -> None:
        if (
            not force_warn_or_error_handling
            and self.loggers
            and all(callback is track_behavior_change_warn for callback in self.callbacks)
            and type(e).__name__ not in PRINT_EVENT_NAMES
            and _log_level_map[level or e.level_tag()] < min(_log_level_map[lg.level] for lg in self.loggers)
        ):
            return
        fire(self, e, level=level, node=node, force_warn_or_error_handling=force_warn_or_error_handling)

    EventManager.fire_event = fire_event  # type: ignore[method-assign]


def _installed_key() -> str | None:
    """What the kept JSON schemas and templates are derived from: the installed dbt-core,
    dbt-common, dbt-duckdb and mashumaro (their dist-info folders' names carry the versions) and
    Python. None when they cannot be found, and then nothing is kept."""
    import dbt

    site = Path(dbt.__path__[0]).parent
    names = sorted(
        path.name
        for pattern in (
            "dbt_core-*.dist-info",
            "dbt_common-*.dist-info",
            "dbt_duckdb-*.dist-info",
            "mashumaro-*.dist-info",
        )
        for path in site.glob(pattern)
    )
    return None if len(names) != 4 else "|".join([*names, sys.version])


def _keep_json_schemas(project_dir: str, key: str | None) -> Callable[[], None]:
    """dbt checks dbt_project.yml, profiles.yml and the selectors against JSON schemas that
    mashumaro derives from dbt's dataclasses: ≈ 0.3 s of every parse, on the build's critical
    path, derived again in every process. They depend only on the installed code (``key``, from
    ``_installed_key``), so they are kept in target/json_schemas.json and read back; a class not
    in the file is derived as dbt derives it. The checks themselves still run. Returns the function that saves
    what was derived here (nothing to do when all came from the file)."""
    from dbt_common.dataclass_schema import dbtClassMixin

    path = Path(project_dir) / "target" / "json_schemas.json"
    if key is None:
        return lambda: None
    try:
        kept = json.loads(path.read_text())
        schemas: dict = kept["schemas"] if kept.get("key") == key else {}
    except (OSError, ValueError, KeyError, TypeError):
        schemas = {}
    derived: dict = {}
    derive = dbtClassMixin.__dict__["json_schema"].__func__  # dbt's own: an lru_cache over build_json_schema

    def json_schema(cls: type) -> dict:
        name = f"{cls.__module__}.{cls.__qualname__}"
        if name not in schemas:
            schemas[name] = derived[name] = derive(cls)
        return schemas[name]

    dbtClassMixin.json_schema = classmethod(json_schema)  # type: ignore[method-assign, assignment]

    def save() -> None:
        if not derived:
            return
        try:
            _write_whole(path, json.dumps({"key": key, "schemas": schemas}).encode())
            derived.clear()
        except (OSError, TypeError, ValueError):
            pass  # a failure here costs only the next parse's 0.3 s

    return save


def _keep_compiled_templates(project_dir: str, installed: str | None) -> Callable[[], None]:
    """dbt compiles every node's SQL and many macros with jinja in every process — ≈ 250
    templates a build, ≈ 0.35 s of its nodes' time — though the sources rarely change. Jinja
    turns a source into a Python code object that depends only on the source, the environment's
    class and extensions and the jinja and Python versions; jinja's own bytecode caches keep
    exactly that for templates that come from a loader, and dbt's come from strings. So the code
    objects are kept in target/jinja_templates.marshal (keyed by those versions and dbt's, like
    ``__pycache__``) and read back; a source not there is compiled as jinja compiles it.
    Returns the function that saves this run's templates when it compiled any (the file then
    holds only what this run used)."""
    import importlib.util
    import marshal

    import jinja2
    from dbt_common.clients import jinja as dbt_jinja

    if installed is None or dbt_jinja.MACRO_DEBUGGING:  # debugging writes each template's source out
        return lambda: None
    key = f"{installed}|jinja2-{jinja2.__version__}|{importlib.util.MAGIC_NUMBER.hex()}"
    path = Path(project_dir) / "target" / "jinja_templates.marshal"
    try:
        kept = marshal.loads(path.read_bytes())
        codes: dict = kept["codes"] if kept.get("key") == key else {}
    except (OSError, ValueError, EOFError, TypeError, KeyError, AttributeError):
        codes = {}
    used: dict = {}
    compiled: list[bytes] = []
    compile_source = jinja2.Environment.compile

    def compile(self, source, name=None, filename=None, raw=False, defer_init=False):
        if not isinstance(source, str) or name is not None or filename is not None or raw or defer_init:
            return compile_source(self, source, name, filename, raw, defer_init)
        setting = (type(self).__module__, type(self).__qualname__, sorted(self.extensions), self.is_async)
        digest = hashlib.sha256(repr(setting).encode() + b"\0" + source.encode()).digest()
        code = codes.get(digest)
        if code is None:
            code = codes[digest] = compile_source(self, source)
            compiled.append(digest)
        used[digest] = code
        return code

    jinja2.Environment.compile = compile  # type: ignore[method-assign]

    def save() -> None:
        if not compiled:
            return
        try:
            _write_whole(path, marshal.dumps({"key": key, "codes": used}))
            compiled.clear()
        except (OSError, ValueError):
            pass  # a failure here costs only the next build's compilation

    return save


def main(argv: list[str]) -> int:
    from dbt.cli.main import dbtRunner
    from dbt.contracts.graph.manifest import Manifest

    _scan_secrets_once()
    _skip_unwritten_events()
    installed = _installed_key()
    save_schemas = _keep_json_schemas(argv[0], installed)
    save_templates = _keep_compiled_templates(argv[0], installed)
    project_dir = argv[0]
    prepared_vars = json.loads(argv[1]) if len(argv) > 1 else None
    manifest: Manifest | None = None
    if prepared_vars is not None:
        # --quiet: nothing is printed unless parsing fails, and a failure is printed again (with
        # its node) by the real command below, which then parses for itself
        parsed = dbtRunner().invoke(["parse", "--quiet", *_common(project_dir, prepared_vars or None)])
        manifest = parsed.result if parsed.success and isinstance(parsed.result, Manifest) else None
        if manifest is not None:
            _keep_parse(project_dir)
        save_schemas()
    line = sys.stdin.readline()
    if not line:
        return 0  # the build stopped before dbt's turn
    request = json.loads(line)
    args, dbt_vars = request["args"], request.get("vars")
    runner = dbtRunner(manifest=manifest if (dbt_vars or {}) == (prepared_vars or {}) else None)
    result = runner.invoke([*args, *_common(project_dir, dbt_vars)])
    if runner.manifest is None:
        _keep_parse(project_dir)  # this command parsed for itself
    save_schemas()
    save_templates()
    if result.success:
        return 0
    return 2 if result.exception is not None else 1


def _close_warehouse() -> bool:
    """Close dbt-duckdb's DuckDB instance, which checkpoints the warehouse's write-ahead log into
    the file, and say whether the log is gone. dbt leaves that instance open for the
    interpreter's teardown to close; skipping the teardown must not skip the checkpoint."""
    try:
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager

        env = DuckDBConnectionManager._ENV
        if env is not None:
            env.close()
            DuckDBConnectionManager._ENV = None
    except Exception:  # noqa: BLE001 - any failure falls back to the ordinary exit
        return False
    warehouse = os.environ.get("WAREHOUSE", "")
    return not warehouse or not os.path.exists(warehouse + ".wal")


def _exit(code: int) -> None:
    """Exit without the interpreter's teardown of dbt's modules (≈ 0.5 s), once the warehouse is
    closed and checkpointed and the exit handlers have run (the logs' flush, and multiprocessing's
    release of the locks dbt made, which would otherwise be reported as leaked); if the warehouse
    could not be shown closed, exit the ordinary way, which closes it."""
    if not _close_warehouse():
        sys.exit(code)
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    _exit(main(sys.argv[1:]))
