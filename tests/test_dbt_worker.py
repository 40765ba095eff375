"""The dbt child's shortcuts (nhanes_bone.core.dbt_worker): what it keeps between builds must be
what dbt itself would derive, and what it skips must change nothing dbt checks or scrubs."""

from __future__ import annotations

import json
import os
import time

import pytest
from dbt.contracts.project import Configuration, Project, ProjectFlags
from dbt_common.dataclass_schema import ValidationError, dbtClassMixin
from dbt_common.events import functions
from mashumaro.jsonschema import build_json_schema

from nhanes_bone.core import dbt_worker

CLASSES = (Project, ProjectFlags, Configuration)


@pytest.fixture
def dbt_schemas():
    """dbt's own json_schema, put back after each test (the worker replaces it process-wide)."""
    original = dbtClassMixin.__dict__["json_schema"]
    yield
    dbtClassMixin.json_schema = original


def _derived(cls: type) -> dict:
    """The schema as dbt derives it (dbt_common's dbtClassMixin.json_schema), without its cache."""
    return json.loads(json.dumps(build_json_schema(cls).to_dict()))


def test_kept_json_schemas_are_the_ones_dbt_derives(tmp_path, dbt_schemas):
    save = dbt_worker._keep_json_schemas(str(tmp_path), dbt_worker._installed_key())
    first = {cls: cls.json_schema() for cls in CLASSES}
    save()
    kept = json.loads((tmp_path / "target" / "json_schemas.json").read_text())
    assert kept["key"] == dbt_worker._installed_key() and "dbt_core-" in kept["key"]
    assert {f"{c.__module__}.{c.__qualname__}" for c in CLASSES} <= set(kept["schemas"])
    # a later process reads them back and derives nothing
    written = (tmp_path / "target" / "json_schemas.json").stat().st_mtime_ns
    save_again = dbt_worker._keep_json_schemas(str(tmp_path), dbt_worker._installed_key())
    for cls in CLASSES:
        assert cls.json_schema() == _derived(cls) == json.loads(json.dumps(first[cls]))
    save_again()
    assert (tmp_path / "target" / "json_schemas.json").stat().st_mtime_ns == written


def test_schemas_kept_for_other_versions_are_not_used(tmp_path, dbt_schemas):
    (tmp_path / "target").mkdir()
    name = f"{Project.__module__}.{Project.__qualname__}"
    stale = {"key": "dbt_core-0.0.0.dist-info", "schemas": {name: {"type": "object", "properties": {}}}}
    (tmp_path / "target" / "json_schemas.json").write_text(json.dumps(stale))
    dbt_worker._keep_json_schemas(str(tmp_path), dbt_worker._installed_key())
    assert Project.json_schema() == _derived(Project)


def test_a_bad_project_is_still_rejected_with_the_schemas_read_back(tmp_path, dbt_schemas):
    dbt_worker._keep_json_schemas(str(tmp_path), dbt_worker._installed_key())()
    dbt_worker._keep_json_schemas(str(tmp_path), dbt_worker._installed_key())
    with pytest.raises(ValidationError):
        Project.validate({"name": "nhanes_bone", "version": "1.0", "profile": "x", "config-version": "two"})


def test_secrets_are_still_scrubbed_after_one_scan(monkeypatch):
    monkeypatch.setenv("DBT_ENV_SECRET_TOKEN", "s3cr3t-value")
    monkeypatch.setattr(functions, "env_secrets", functions.env_secrets)  # put back afterwards
    dbt_worker._scan_secrets_once()
    assert functions.env_scrubber("token=s3cr3t-value") == "token=*****"


def test_a_parse_file_this_run_did_not_write_is_not_kept(tmp_path, monkeypatch):
    """dbt writes target/partial_parse.msgpack only when it parsed; one left by a run on another
    warehouse must not become this warehouse's (its next build would parse everything again)."""
    monkeypatch.setenv("WAREHOUSE", str(tmp_path / "w.duckdb"))
    written = tmp_path / "target" / "partial_parse.msgpack"
    written.parent.mkdir()
    written.write_bytes(b"another warehouse's parse")
    earlier = dbt_worker.STARTED - 60
    os.utime(written, (earlier, earlier))
    dbt_worker._keep_parse(str(tmp_path))
    assert not dbt_worker._parse_cache(str(tmp_path)).exists()
    written.write_bytes(b"this run's parse")
    now = time.time()
    os.utime(written, (now, now))
    dbt_worker._keep_parse(str(tmp_path))
    assert dbt_worker._parse_cache(str(tmp_path)).read_bytes() == b"this run's parse"


@pytest.fixture
def jinja_compile():
    """jinja's own Environment.compile, put back after each test (the worker replaces it)."""
    import jinja2

    original = jinja2.Environment.compile
    yield
    jinja2.Environment.compile = original


TEMPLATES = [
    "select {{ 1 + 2 }} as three{% for c in ['a', 'b'] %}, '{{ c }}' as {{ c }}{% endfor %}",
    "{% set xs = [3, 1, 2] %}{{ xs | sort | join(',') }}",
]


def _render(source: str, native: bool = False) -> str:
    from dbt_common.clients.jinja import get_template

    return str(get_template(source, {}, native=native).render({}))


def test_kept_templates_render_as_freshly_compiled_ones(tmp_path, jinja_compile):
    expected = [_render(t) for t in TEMPLATES] + [_render(TEMPLATES[1], native=True)]
    save = dbt_worker._keep_compiled_templates(str(tmp_path), dbt_worker._installed_key())
    first = [_render(t) for t in TEMPLATES] + [_render(TEMPLATES[1], native=True)]
    save()
    kept = tmp_path / "target" / "jinja_templates.marshal"
    written = kept.stat().st_mtime_ns
    again = dbt_worker._keep_compiled_templates(str(tmp_path), dbt_worker._installed_key())
    import jinja2

    compile_source = jinja2.Environment._compile
    calls = []
    jinja2.Environment._compile = lambda self, source, filename: (
        calls.append(1) or compile_source(self, source, filename)
    )
    try:
        second = [_render(t) for t in TEMPLATES] + [_render(TEMPLATES[1], native=True)]
    finally:
        jinja2.Environment._compile = compile_source
    again()
    assert first == second == expected == ["select 3 as three, 'a' as a, 'b' as b", "1,2,3", "1,2,3"]
    assert calls == []  # all three came from the file: none compiled again
    assert kept.stat().st_mtime_ns == written  # and nothing new, so nothing rewritten


def test_templates_kept_for_other_versions_are_not_used(tmp_path, jinja_compile):
    import marshal

    (tmp_path / "target").mkdir()
    stale = {"key": "jinja2-0.0", "codes": {}}
    (tmp_path / "target" / "jinja_templates.marshal").write_bytes(marshal.dumps(stale))
    save = dbt_worker._keep_compiled_templates(str(tmp_path), dbt_worker._installed_key())
    assert _render(TEMPLATES[1]) == "1,2,3"
    save()
    kept = marshal.loads((tmp_path / "target" / "jinja_templates.marshal").read_bytes())
    assert kept["key"] != "jinja2-0.0" and len(kept["codes"]) == 1  # this run's template only


def _event_manager(tmp_path, file_level):
    """An EventManager as dbt sets one up for a build: the console at info, dbt.log at
    ``file_level``, and dbt's own behaviour-change callback."""
    from dbt.tracking import track_behavior_change_warn
    from dbt_common.events.base_types import EventLevel
    from dbt_common.events.event_manager import EventManager
    from dbt_common.events.logger import LineFormat, LoggerConfig

    manager = EventManager()
    console = tmp_path / "console.txt"
    stream = console.open("w")
    manager.add_logger(LoggerConfig(name="console", level=EventLevel.INFO, output_stream=stream))
    manager.add_logger(
        LoggerConfig(
            name="file",
            level=EventLevel(file_level),
            line_format=LineFormat.DebugText,
            output_file_name=str(tmp_path / "dbt.log"),
        )
    )
    manager.add_callback(track_behavior_change_warn)
    return manager, stream


def _fire_three(manager) -> None:
    from dbt_common.events.base_types import EventLevel
    from dbt_common.events.types import Note, SystemExecutingCmd

    manager.fire_event(SystemExecutingCmd(cmd=["debug-only", "line"]))
    manager.fire_event(Note(msg="an info line"))
    manager.fire_event(Note(msg="a warning line"), level=EventLevel.WARN)
    manager.flush()


@pytest.mark.parametrize("file_level", ["info", "debug"])
def test_events_below_every_logger_are_dropped_before_any_work(tmp_path, monkeypatch, file_level):
    from dbt_common.events import event_manager

    built: list[str] = []
    original = event_manager.msg_from_base_event

    def counted(event, level=None):  # type: ignore[no-untyped-def]
        built.append(type(event).__name__)
        return original(event, level=level)

    monkeypatch.setattr(event_manager, "msg_from_base_event", counted)
    monkeypatch.setattr(event_manager.EventManager, "fire_event", event_manager.EventManager.fire_event)
    dbt_worker._skip_unwritten_events()
    manager, stream = _event_manager(tmp_path, file_level)
    _fire_three(manager)
    stream.close()
    log = (tmp_path / "dbt.log").read_text()
    console = (tmp_path / "console.txt").read_text()
    assert "an info line" in log and "a warning line" in log
    assert "an info line" in console and "a warning line" in console and "debug-only" not in console
    if file_level == "info":
        assert "debug-only" not in log
        assert built == ["Note", "Note"]  # the debug event never became a message
    else:
        assert "debug-only" in log  # DBT_LOG_LEVEL_FILE=debug still writes every debug line
        assert built == ["SystemExecutingCmd", "Note", "Note"]


def test_a_callers_callback_still_sees_every_event(tmp_path, monkeypatch):
    from dbt_common.events import event_manager

    monkeypatch.setattr(event_manager.EventManager, "fire_event", event_manager.EventManager.fire_event)
    dbt_worker._skip_unwritten_events()
    manager, stream = _event_manager(tmp_path, "info")
    seen: list[str] = []
    manager.add_callback(lambda msg: seen.append(msg.info.name))
    _fire_three(manager)
    stream.close()
    assert seen == ["SystemExecutingCmd", "Note", "Note"]
