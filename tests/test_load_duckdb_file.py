"""How a run uses the DuckDB file: no staging copy left, a small log, clear lock failures."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import dlt
import duckdb
import psycopg2
import pyarrow as pa
import pytest
from dlt.destinations.exceptions import DatabaseTransientException
from dlt.destinations.impl.duckdb.configuration import DuckDbConnectionPool
from dlt.destinations.impl.duckdb.sql_client import DuckDbSqlClient
from dlt.pipeline.exceptions import PipelineStepFailed

from pipelines import runner
from pipelines.destinations import duckdb_held
from pipelines.emulator import Emulator
from pipelines.errors import ConfigError, JiraEtlError
from pipelines.runner import RunOptions, run
from tests.helpers import emulator_run_args, query, run_cli, snapshot

START = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)
ISSUES = 250
PART = 100
# Opens a DuckDB file for writing, then waits to be killed.
HOLD_FILE = (
    "import sys, time, duckdb; c = duckdb.connect(sys.argv[1]); print('holding', flush=True); "
    "time.sleep(120)"
)
WAL_ISSUES = 3000
POSTGRES_DSN = "postgresql://postgres:trust-auth-ignores-this@127.0.0.1:5432/test"
# The database is checkpointed between load jobs, so the log contains at most what one job
# wrote.
WAL_LIMIT_MIB = 2


def hold_file(database: Path) -> subprocess.Popen[str]:
    """Start a program that opens `database` for writing, and return it once the file is open."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD_FILE, str(database)], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "holding"
    return process


def hold_file_at_load(
    monkeypatch: pytest.MonkeyPatch, database: Path, number: int
) -> tuple[list[subprocess.Popen[str]], Any]:
    """Make another program open `database` as the `number`th load step of this test starts.

    Returns the list that receives the holding process, and dlt's own load step.
    """
    holder: list[subprocess.Popen[str]] = []
    original_load = dlt.Pipeline.load
    loads = [0]

    def load_while_held(pipeline: dlt.Pipeline, *args: Any, **kwargs: Any) -> Any:
        loads[0] += 1
        if loads[0] == number:
            holder.append(hold_file(database))
        return original_load(pipeline, *args, **kwargs)

    monkeypatch.setattr(dlt.Pipeline, "load", load_while_held)
    return holder, original_load


def assert_one_row_per_issue(database: Path, truth: dict[int, str]) -> None:
    """Check that `issues` has one row per issue of `truth`, under its key."""
    assert dict(query(database, "select id, key from issues")) == truth
    assert query(database, "select count(*) - count(distinct id) from issues") == [(0,)]


def file_options(tmp_path: Path, name: str) -> tuple[Path, RunOptions]:
    """Return a DuckDB file named after `name` and the run options that load into it."""
    database = tmp_path / f"{name}.duckdb"
    options = RunOptions(
        pipeline_name=name, duckdb_path=str(database), pipelines_dir=str(tmp_path / "p")
    )
    return database, options


def settings(emu: Emulator) -> dict[str, Any]:
    return {
        "auth": "bearer",
        "token": emu.scoped_token,
        "site_url": emu.site_url,
        "gateway_url": emu.gateway_url,
        "issues_per_load": PART,
    }


def test_no_staging_rows_are_left_after_a_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    options = RunOptions(
        pipeline_name="staging",
        duckdb_path=str(tmp_path / "staging.duckdb"),
        pipelines_dir=str(tmp_path / "p"),
    )
    with Emulator(issues=ISSUES, seed=5, start=START) as emu:
        run(options, settings(emu))
    with duckdb.connect(str(tmp_path / "staging.duckdb"), read_only=True) as conn:
        staging = [
            row[0]
            for row in conn.execute(
                "select table_name from information_schema.tables "
                "where table_schema = 'jira_staging' and table_name not like '\\_dlt%' escape '\\'"
            ).fetchall()
        ]
        # The merged tables are read from the package's files and get no staging table.
        # The replaced reference tables go through staging tables, emptied after the load.
        assert not {"issues", "issue_labels", "issue_changelog"} & set(staging)
        assert "statuses" in staging
        counts = {
            table: conn.execute(f'select count(*) from jira_staging."{table}"').fetchone()[0]
            for table in staging
        }
        assert set(counts.values()) == {0}, counts
        assert conn.execute("select count(*) from jira.issues").fetchone()[0] == ISSUES


def test_several_load_workers_rejected(tmp_path: Path) -> None:
    database = tmp_path / "workers.duckdb"
    with Emulator(issues=20, seed=5, start=START) as emu:
        args = emulator_run_args(emu, database, tmp_path / "p")
        result = run_cli(args, env={"JIRA_TOKEN": emu.scoped_token, "LOAD__WORKERS": "2"})
        # Rejected before the run reads anything from Jira.
        assert emu.requests == []
    assert result.exit_code == 2, result.output
    assert "Invalid LOAD__WORKERS `2`" in result.output
    assert "set it to 1" in result.output
    assert "Traceback" not in result.output
    assert not database.exists()


def test_pipelines_dir_from_environment_expands_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    with Emulator(issues=20, seed=5, start=START) as emu:
        args = emulator_run_args(emu, tmp_path / "home.duckdb", tmp_path / "unused")
        # The environment variable alone names the folder, as a scheduler would set it.
        args = args[: args.index("--pipelines-dir")]
        env = {"JIRA_TOKEN": emu.scoped_token, "JIRA_PIPELINES_DIR": "~/pl", "HOME": str(home)}
        result = run_cli(args, env=env, cwd=tmp_path)
    assert result.exit_code == 0, result.output
    assert (home / "pl" / "jira_jira").is_dir()
    assert not (tmp_path / "~").exists()


# A temporary table larger than the memory_limit, so DuckDB writes it to its temporary files.
SPILL_STATEMENT = (
    "CREATE OR REPLACE TEMP TABLE spill_probe AS "
    "SELECT repeat('x', 200) || range AS s FROM range(400000)"
)


@pytest.mark.parametrize("configured", [False, True], ids=["default", "configured"])
def test_spill_files_stay_beside_the_database(tmp_path: Path, configured: bool) -> None:
    # A scheduler starts the run in a folder where `.tmp` is a file, so DuckDB cannot create
    # its temporary folder there. It must write them beside the database file instead.
    workdir = tmp_path / "work"
    workdir.mkdir()
    (workdir / ".tmp").write_text("not a folder")
    database = tmp_path / "spill.duckdb"
    spill_folder = Path(f"{database}.tmp")
    spilled = threading.Event()
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            try:
                if any(spill_folder.iterdir()):
                    spilled.set()
            except FileNotFoundError:
                pass
            time.sleep(0.002)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    with Emulator(issues=ISSUES, seed=5, start=START) as emu:
        env = {
            "JIRA_TOKEN": emu.scoped_token,
            "DESTINATION__DUCKDB__CREDENTIALS__STATEMENTS": json.dumps([SPILL_STATEMENT]),
        }
        if configured:
            settings = {"memory_limit": "64MiB", "threads": 1}
            env["DESTINATION__DUCKDB__CREDENTIALS__GLOBAL_CONFIG"] = json.dumps(settings)
        result = run_cli(emulator_run_args(emu, database, tmp_path / "p"), env=env, cwd=workdir)
    stop.set()
    watcher.join()
    assert result.exit_code == 0, result.output
    assert spilled.is_set(), "DuckDB wrote no temporary file beside the database"
    assert not spill_folder.exists()
    assert (workdir / ".tmp").read_text() == "not a folder"
    assert sorted(path.name for path in workdir.iterdir()) == [".tmp"]
    assert query(database, "select count(*) from issues") == [(ISSUES,)]


@pytest.mark.parametrize(
    ("variable", "value", "shown"),
    [
        ("GLOBAL_CONFIG", "{memory_limit: 1GB}", "`{memory_limit: 1GB}`"),
        ("GLOBAL_CONFIG", "", "(empty)"),
        ("LOCAL_CONFIG", '["search_path"]', '`["search_path"]`'),
        ("STATEMENTS", "SET s3_secret_access_key = 'hidden'", None),
    ],
    ids=["invalid-json", "empty", "list-for-object", "statements"],
)
def test_invalid_duckdb_setting_fails_clearly(
    tmp_path: Path, variable: str, value: str, shown: str | None
) -> None:
    database = tmp_path / "settings.duckdb"
    name = f"DESTINATION__DUCKDB__CREDENTIALS__{variable}"
    with Emulator(issues=5, seed=5, start=START) as emu:
        env = {"JIRA_TOKEN": emu.scoped_token, name: value}
        result = run_cli(emulator_run_args(emu, database, tmp_path / "p"), env=env)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert f"Invalid DuckDB setting {name} " in result.stderr
    if shown is None:
        # Statements are secrets, because they can create DuckDB secrets.
        assert "hidden" not in result.output
    else:
        assert shown in result.stderr
    assert not database.exists()


@pytest.mark.parametrize(
    ("settings", "reason"),
    [
        ({"memory_limit": "lots"}, "Memory must have a number"),
        ({"memory_limit": "1GB", "threads": "x"}, "Could not convert string 'x' to INT64"),
    ],
    ids=["memory", "threads"],
)
def test_rejected_duckdb_setting_stops_before_reading(
    tmp_path: Path, settings: dict[str, Any], reason: str
) -> None:
    database = tmp_path / "values.duckdb"
    variable = "DESTINATION__DUCKDB__CREDENTIALS__GLOBAL_CONFIG"
    with Emulator(issues=5, seed=5, start=START) as emu:
        env = {"JIRA_TOKEN": emu.scoped_token, variable: json.dumps(settings)}
        result = run_cli(emulator_run_args(emu, database, tmp_path / "p"), env=env)
        requests = list(emu.requests)
    assert result.exit_code == 2, result.output
    assert f"Invalid DuckDB setting in {variable}: " in result.stderr
    assert reason in result.stderr
    assert "Traceback" not in result.output
    assert requests == []
    assert not database.exists()


def test_rejected_duckdb_statement_names_the_setting(tmp_path: Path) -> None:
    database = tmp_path / "statements.duckdb"
    variable = "DESTINATION__DUCKDB__CREDENTIALS__STATEMENTS"
    with Emulator(issues=5, seed=5, start=START) as emu:
        args = emulator_run_args(emu, database, tmp_path / "p")
        first = run_cli(args, env={"JIRA_TOKEN": emu.scoped_token})
        assert first.exit_code == 0, first.output
        before = snapshot(database)
        sent = len(emu.requests)
        env = {"JIRA_TOKEN": emu.scoped_token, variable: json.dumps(["SET nosuch = 2"])}
        result = run_cli(args, env=env)
        requests = emu.requests[sent:]
    assert result.exit_code == 2, result.output
    assert 'unrecognized configuration parameter "nosuch"' in result.stderr
    assert f"Check the DuckDB settings in {variable}" in result.stderr
    assert "close it" not in result.output
    assert requests == []
    assert snapshot(database) == before


@pytest.mark.parametrize(
    ("variable", "value", "reason"),
    [
        ("STATEMENTS", ["SET nosuch = 2"], 'unrecognized configuration parameter "nosuch"'),
        # Each run opens the file more than once, and the statement fails at the second.
        ("STATEMENTS", ["CREATE TABLE main.once AS SELECT 1 AS x"], '"once" already exists'),
        ("LOCAL_CONFIG", {"nosuch": 2}, 'unrecognized configuration parameter "nosuch"'),
        # An extension's setting is unknown until the extension loads, so only opening the
        # file with it shows that DuckDB rejects it.
        ("GLOBAL_CONFIG", {"s3_nosuch": "x"}, "s3_nosuch"),
    ],
)
def test_rejected_setting_on_new_file_reads_nothing(
    tmp_path: Path, variable: str, value: Any, reason: str
) -> None:
    database = tmp_path / "new.duckdb"
    pipelines_dir = tmp_path / "p"
    name = f"DESTINATION__DUCKDB__CREDENTIALS__{variable}"
    with Emulator(issues=5, seed=5, start=START) as emu:
        args = emulator_run_args(emu, database, pipelines_dir)
        result = run_cli(args, env={"JIRA_TOKEN": emu.scoped_token, name: json.dumps(value)})
        searches = [r for r in emu.requests if "/search" in r["path"] or "bulkfetch" in r["path"]]
    assert result.exit_code == 2, result.output
    assert reason in result.stderr
    assert f"Check the DuckDB settings in {name}" in result.stderr
    assert searches == []
    # Nothing is left behind: no database file, and no load package for a later run to finish.
    assert sorted(path.name for path in tmp_path.iterdir() if path != pipelines_dir) == []
    packages = [
        package
        for pattern in ("*/normalize/extracted/*", "*/load/new/*", "*/load/normalized/*")
        for package in pipelines_dir.glob(pattern)
    ]
    assert packages == []


def test_interrupted_statement_blames_no_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DuckDB turns Ctrl-C during a configured statement into this error.
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS__STATEMENTS", '["SET threads = 1"]')
    _, options = file_options(tmp_path, "interrupted")
    pipeline = runner.make_pipeline(options)
    error = runner.destination_open_error(pipeline, RuntimeError("Query interrupted"))
    assert not isinstance(error, ConfigError)
    assert "The run was interrupted" in str(error)
    assert "Check the DuckDB settings" not in str(error)


@pytest.mark.parametrize("where", ["folder", "file"])
def test_question_mark_in_path_reads_nothing(tmp_path: Path, where: str) -> None:
    folder = tmp_path / ("a?b" if where == "folder" else "plain")
    folder.mkdir()
    database = folder / ("jira.duckdb" if where == "folder" else "ji?ra.duckdb")
    with Emulator(issues=5, seed=5, start=START) as emu:
        args = emulator_run_args(emu, database, tmp_path / "p")
        result = run_cli(args, env={"JIRA_TOKEN": emu.scoped_token})
        searches = [r for r in emu.requests if "/search" in r["path"] or "bulkfetch" in r["path"]]
    assert result.exit_code == 2, result.output
    assert f"Invalid --duckdb-path `{database}`" in result.stderr
    assert "Choose a path without `?`" in result.stderr
    assert searches == []
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize(
    "statement",
    [
        # A missing comma: DuckDB copies the whole statement into its message.
        "CREATE SECRET s1 (TYPE s3, KEY_ID 'canary-key-5e1d' SECRET 'canary-secret-5e1d')",
        # DuckDB names the string it could not convert in the message itself.
        "SELECT 'canary-secret-5e1d'::INTEGER",
        # DuckDB quotes the value read from these literals, not the literal as written.
        "SELECT $$canary-secret-5e1d$$::INTEGER",
        "SELECT $k$canary-secret-5e1d$k$::INTEGER",
        "SELECT 'canary''s canary-secret-5e1d'::INTEGER",
        "SELECT E'canary-secret-\\x35e1d'::INTEGER",
    ],
)
def test_rejected_statement_keeps_its_secret(tmp_path: Path, statement: str) -> None:
    pipelines_dir = tmp_path / "p"
    name = "DESTINATION__DUCKDB__CREDENTIALS__STATEMENTS"

    with Emulator(issues=5, seed=5, start=START) as emu:
        args = emulator_run_args(emu, tmp_path / "new.duckdb", pipelines_dir)
        result = run_cli(args, env={"JIRA_TOKEN": emu.scoped_token, name: json.dumps([statement])})

    assert result.exit_code == 2, result.output
    assert f"Check the DuckDB settings in {name}" in result.stderr
    assert "canary-secret-5e1d" not in result.output
    assert "canary-key-5e1d" not in result.output
    # `jira-etl status` shows the error stored in the run record.
    stored = "".join(path.read_text() for path in pipelines_dir.rglob("*.json"))
    assert "canary-secret-5e1d" not in stored
    assert "canary-key-5e1d" not in stored


def test_invalid_file_not_blamed_on_settings(tmp_path: Path) -> None:
    database = tmp_path / "other.duckdb"
    database.write_text("not a database")
    name = "DESTINATION__DUCKDB__CREDENTIALS__GLOBAL_CONFIG"

    with Emulator(issues=5, seed=5, start=START) as emu:
        args = emulator_run_args(emu, database, tmp_path / "p")
        result = run_cli(args, env={"JIRA_TOKEN": emu.scoped_token, name: '{"threads": 1}'})
        searches = [r for r in emu.requests if "/search" in r["path"] or "bulkfetch" in r["path"]]

    assert result.exit_code == 1, result.output
    assert "not a valid DuckDB database file" in result.stderr
    assert "Check the DuckDB settings" not in result.stderr
    assert searches == []
    assert database.read_text() == "not a database"


def test_rejected_setting_on_linked_new_file(tmp_path: Path) -> None:
    # The link exists but its target does not, so the run would create the target.
    target = tmp_path / "files" / "target.duckdb"
    target.parent.mkdir()
    link = tmp_path / "link.duckdb"
    link.symlink_to(target)
    pipelines_dir = tmp_path / "p"
    name = "DESTINATION__DUCKDB__CREDENTIALS__STATEMENTS"

    with Emulator(issues=5, seed=5, start=START) as emu:
        args = emulator_run_args(emu, link, pipelines_dir)
        rejected = run_cli(
            args, env={"JIRA_TOKEN": emu.scoped_token, name: json.dumps(["SET nosuch = 2"])}
        )
        searches = [r for r in emu.requests if "/search" in r["path"] or "bulkfetch" in r["path"]]
        packages = [
            package
            for pattern in ("*/normalize/extracted/*", "*/load/new/*", "*/load/normalized/*")
            for package in pipelines_dir.glob(pattern)
        ]
        left_behind = list(target.parent.iterdir())

        accepted = run_cli(
            args, env={"JIRA_TOKEN": emu.scoped_token, name: json.dumps(["SET threads = 1"])}
        )

    assert rejected.exit_code == 2, rejected.output
    assert f"Check the DuckDB settings in {name}" in rejected.stderr
    assert searches == []
    assert packages == []
    assert left_behind == []

    # A valid setting loads through the link, which stays a link.
    assert accepted.exit_code == 0, accepted.output
    assert link.is_symlink()
    assert query(target, "select count(*) from issues") == [(5,)]


def test_only_rejected_setting_is_named(tmp_path: Path) -> None:
    accepted = "DESTINATION__DUCKDB__CREDENTIALS__GLOBAL_CONFIG"
    rejected = "DESTINATION__DUCKDB__CREDENTIALS__STATEMENTS"
    env = {accepted: '{"threads": 1}', rejected: json.dumps(["SET nosuch = 2"])}

    with Emulator(issues=5, seed=5, start=START) as emu:
        args = emulator_run_args(emu, tmp_path / "new.duckdb", tmp_path / "p")
        result = run_cli(args, env={"JIRA_TOKEN": emu.scoped_token, **env})
        searches = [r for r in emu.requests if "/search" in r["path"] or "bulkfetch" in r["path"]]

    assert result.exit_code == 2, result.output
    assert f"Check the DuckDB settings in {rejected}, or unset" in result.stderr
    assert accepted not in result.stderr
    assert searches == []
    assert sorted(path.name for path in tmp_path.iterdir()) == ["p"]


def test_secrets_file_setting_named_by_key(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / ".dlt").mkdir(parents=True)
    (project / ".dlt" / "secrets.toml").write_text(
        '[destination.duckdb.credentials]\nstatements = ["SET nosuch = 2"]\n'
    )

    with Emulator(issues=5, seed=5, start=START) as emu:
        args = emulator_run_args(emu, tmp_path / "new.duckdb", tmp_path / "p")
        result = run_cli(args, env={"JIRA_TOKEN": emu.scoped_token}, cwd=project)

    assert result.exit_code == 2, result.output
    assert 'unrecognized configuration parameter "nosuch"' in result.stderr
    assert (
        "Check the DuckDB settings in `statements` of [destination.duckdb.credentials] in "
        ".dlt/secrets.toml" in result.stderr
    )
    assert "DESTINATION__DUCKDB__CREDENTIALS__STATEMENTS" not in result.stderr


def test_killed_check_folder_is_deleted(tmp_path: Path) -> None:
    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait()
    killed = tmp_path / f"{runner.settings_folder_prefix(ended.pid)}k1"
    running = tmp_path / f"{runner.settings_folder_prefix(os.getpid())}r1"
    elsewhere = tmp_path / f".jira-etl-settings-other_host_0123456789ab-{ended.pid}-e1"
    folders = [killed, running, elsewhere]
    if os.getuid() == 0:
        # Another user's folder stays, even when its process has ended.
        others = tmp_path / f"{runner.settings_folder_prefix(ended.pid)}o1"
        folders.append(others)
    for folder in folders:
        folder.mkdir()
        (folder / "new.duckdb").write_text("left by the check")
    if os.getuid() == 0:
        os.chown(others, 12345, 12345)

    with Emulator(issues=5, seed=5, start=START) as emu:
        args = emulator_run_args(emu, tmp_path / "new.duckdb", tmp_path / "p")
        result = run_cli(args, env={"JIRA_TOKEN": emu.scoped_token})

    assert result.exit_code == 0, result.output
    assert not killed.exists()
    for folder in folders[1:]:
        assert (folder / "new.duckdb").read_text() == "left by the check"
    assert query(tmp_path / "new.duckdb", "select count(*) from issues") == [(5,)]


def test_check_folder_names_host_and_process() -> None:
    prefix = runner.settings_folder_prefix(4321)
    host = re.sub(r"[^A-Za-z0-9]", "_", socket.gethostname())[:40]

    assert prefix.startswith(f".jira-etl-settings-{host}_")
    assert prefix.endswith("-4321-")
    assert runner.settings_folder_prefix(4321) == prefix


@pytest.mark.parametrize("kind", ["file", "broken link", "configured file"])
def test_temp_directory_that_is_no_folder_stops_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    # DuckDB would fail only at its first spill, late in a load; the run stops before it.
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    database, options = file_options(tmp_path, "blocked")
    folder = Path(f"{database}.tmp")
    if kind == "broken link":
        folder.symlink_to(tmp_path / "missing")
    else:
        folder = tmp_path / "spill" if kind == "configured file" else folder
        folder.write_text("not a folder")
    if kind == "configured file":
        settings = {"memory_limit": "64MiB", "temp_directory": str(folder)}
        monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS__GLOBAL_CONFIG", json.dumps(settings))
    with pytest.raises(ConfigError) as failed:
        runner.make_pipeline(options)
    assert f"temp_directory `{folder}`" in str(failed.value)
    assert not database.exists()


def test_configured_temp_directory_in_any_case(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DuckDB reads setting names without regard to case.
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    folder = tmp_path / "chosen"
    settings = {"TEMP_DIRECTORY": str(folder), "memory_limit": "64MiB"}
    monkeypatch.setenv("DESTINATION__DUCKDB__CREDENTIALS__GLOBAL_CONFIG", json.dumps(settings))
    _, options = file_options(tmp_path, "any_case")
    pipeline = runner.make_pipeline(options)
    with pipeline.sql_client() as client:
        rows = client.execute_sql("select current_setting('temp_directory')")
    assert rows == [(str(folder),)]


def test_full_configured_temp_directory_is_named(tmp_path: Path) -> None:
    disk = tmp_path / "small"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)])
    assert mounted.returncode == 0, "mounting a small tmpfs needs root"
    try:
        (disk / "filler").write_bytes(b"x" * (1024 * 1024 - 8192))
        spill_folder = disk / "spill"
        settings = {"memory_limit": "64MiB", "threads": 1, "temp_directory": str(spill_folder)}
        database = tmp_path / "spill.duckdb"
        with Emulator(issues=5, seed=5, start=START) as emu:
            env = {
                "JIRA_TOKEN": emu.scoped_token,
                "DESTINATION__DUCKDB__CREDENTIALS__STATEMENTS": json.dumps([SPILL_STATEMENT]),
                "DESTINATION__DUCKDB__CREDENTIALS__GLOBAL_CONFIG": json.dumps(settings),
            }
            result = run_cli(emulator_run_args(emu, database, tmp_path / "p"), env=env)
    finally:
        subprocess.run(["umount", str(disk)])
    assert result.exit_code == 1, result.output
    assert "failed to offload data block" in result.stderr
    assert f"temp_directory `{spill_folder}`" in result.stderr
    assert "--duckdb-path" not in result.stderr


def test_configured_connection_settings_still_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # DuckDB rejects a second connection to an open database with other connect settings,
    # and dlt connects with `custom_user_agent` when it is configured.
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    monkeypatch.setenv(
        "DESTINATION__DUCKDB__CREDENTIALS__GLOBAL_CONFIG",
        '{"custom_user_agent": "jira-etl-test", "memory_limit": "128MB", "threads": 1}',
    )
    options = RunOptions(
        pipeline_name="agent",
        duckdb_path=str(tmp_path / "agent.duckdb"),
        pipelines_dir=str(tmp_path / "p"),
    )
    with Emulator(issues=ISSUES, seed=5, start=START) as emu:
        summary = run(options, settings(emu))
    assert summary.issues_read == ISSUES
    assert query(tmp_path / "agent.duckdb", "select count(*) from issues") == [(ISSUES,)]
    # The file that checked the settings before the read is gone with its folder.
    assert sorted(path.name for path in tmp_path.iterdir()) == ["agent.duckdb", "p"]


def test_write_ahead_log_stays_small_during_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A log holding a whole part until the end of the load would need that much more disk.
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    database = tmp_path / "wal.duckdb"
    wal = Path(f"{database}.wal")
    sizes: list[int] = []
    original_borrow = DuckDbConnectionPool.borrow_conn

    def borrow(self: Any, *args: Any, **kwargs: Any) -> Any:
        # Measured once the borrow is done: the checkpoint of the jobs before runs in it.
        connection = original_borrow(self, *args, **kwargs)
        sizes.append(wal.stat().st_size if wal.exists() else 0)
        return connection

    monkeypatch.setattr(DuckDbConnectionPool, "borrow_conn", borrow)
    options = RunOptions(
        pipeline_name="wal",
        duckdb_path=str(database),
        pipelines_dir=str(tmp_path / "p"),
    )
    with Emulator(issues=WAL_ISSUES, seed=5, start=START) as emu:
        run(options, settings(emu) | {"issues_per_load": 0})
    loaded_mib = database.stat().st_size / 2**20
    assert loaded_mib > 4 * WAL_LIMIT_MIB
    assert max(sizes) / 2**20 < WAL_LIMIT_MIB, sizes
    assert not wal.exists() or wal.stat().st_size == 0


def test_load_step_opens_database_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    database, options = file_options(tmp_path, "once")
    opened_in_load: list[int] = []
    borrowed_in_load: list[int] = []
    original_borrow = DuckDbConnectionPool.borrow_conn

    def borrow(self: Any, *args: Any, **kwargs: Any) -> Any:
        if duckdb_held._open_pools is not None:
            borrowed_in_load.append(1)
            if self._conn is None:
                opened_in_load.append(1)
        return original_borrow(self, *args, **kwargs)

    monkeypatch.setattr(DuckDbConnectionPool, "borrow_conn", borrow)
    with Emulator(issues=ISSUES, seed=5, start=START) as emu:
        summary = run(options, settings(emu))
        truth = {t["id"]: t["key"] for t in emu.truth()}
    parts = -(-ISSUES // PART)
    assert len(summary.load_ids) == parts
    # Each part's load step opens the file once for all its jobs.
    assert len(opened_in_load) == parts
    assert len(borrowed_in_load) > 3 * parts
    assert_one_row_per_issue(database, truth)


def test_file_locked_between_parts_fails_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    database = tmp_path / "locked.duckdb"
    options = RunOptions(
        pipeline_name="locked",
        duckdb_path=str(database),
        pipelines_dir=str(tmp_path / "p"),
    )
    holder: list[subprocess.Popen[str]] = []
    original_count = runner.count_stored_issues
    calls = [0]

    def count_after_lock(*args: Any, **kwargs: Any) -> int:
        calls[0] += 1
        if calls[0] == 2:
            # Another program opens the file for writing after the first part is loaded.
            holder.append(hold_file(database))
        return original_count(*args, **kwargs)

    monkeypatch.setattr(runner, "count_stored_issues", count_after_lock)
    try:
        with Emulator(issues=ISSUES, seed=5, start=START) as emu:
            with pytest.raises(JiraEtlError) as failed:
                run(options, settings(emu))
            assert holder, "the second part was never counted"
            holder[0].kill()
            holder[0].wait()
            message = str(failed.value)
            assert "Could not count the issues already stored" in message
            assert "close it" in message
            assert getattr(failed.value, "pending_load", False)
            monkeypatch.setattr(runner, "count_stored_issues", original_count)
            run(options, settings(emu))
            truth = {int(issue["id"]): issue["key"] for issue in emu.truth()}
    finally:
        for process in holder:
            process.kill()
    assert_one_row_per_issue(database, truth)


def test_lock_during_load_fails_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    database, options = file_options(tmp_path, "locked")
    # Another program opens the file for writing as the second part's load starts.
    holder, original_load = hold_file_at_load(monkeypatch, database, 2)
    try:
        with Emulator(issues=ISSUES, seed=5, start=START) as emu:
            with pytest.raises(JiraEtlError) as failed:
                run(options, settings(emu))
            assert holder, "the second part was never loaded"
            holder[0].kill()
            holder[0].wait()
            message = str(failed.value)
            assert message.startswith("The load step failed: IO Error: Could not set lock on file")
            assert f"PID {holder[0].pid}" in message
            assert "close it" in message
            assert "Traceback" not in message
            assert "credentials" not in message
            assert getattr(failed.value, "pending_load", False)
            assert getattr(failed.value, "loaded_parts", 0) == 1
            monkeypatch.setattr(dlt.Pipeline, "load", original_load)
            run(options, settings(emu))
            truth = {int(issue["id"]): issue["key"] for issue in emu.truth()}
    finally:
        for process in holder:
            process.kill()
    assert_one_row_per_issue(database, truth)


def test_status_marks_cursor_of_pending_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # dlt saves the cursor with the extracted package, before the load that makes it true.
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    database, options = file_options(tmp_path, "pending")
    holder, original_load = hold_file_at_load(monkeypatch, database, 1)
    status = ["status", "--duckdb-path", str(database), "--pipeline-name", "pending"]
    status += ["--pipelines-dir", str(tmp_path / "p")]
    try:
        with Emulator(issues=ISSUES, seed=5, start=START) as emu:
            with pytest.raises(JiraEtlError):
                run(options, settings(emu) | {"issues_per_load": 0})
            holder[0].kill()
            holder[0].wait()
            pending = run_cli(status)
            monkeypatch.setattr(dlt.Pipeline, "load", original_load)
            run(options, settings(emu))
            truth = {int(issue["id"]): issue["key"] for issue in emu.truth()}
    finally:
        for process in holder:
            process.kill()
    assert "pending load packages: 1" in pending.stdout, pending.output
    cursor_line = next(line for line in pending.stdout.splitlines() if "cursor:" in line)
    assert cursor_line.endswith("(not loaded yet: the next run loads the pending packages first)")
    assert_one_row_per_issue(database, truth)
    loaded = run_cli(status)
    assert "pending load packages: 0" in loaded.stdout, loaded.output
    assert "not loaded yet" not in loaded.stdout


def test_failed_key_refresh_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    database, options = file_options(tmp_path, "refresh")
    holder: list[subprocess.Popen[str]] = []
    original_refresh = runner.refresh_moved_keys

    def refresh_while_held(*args: Any, **kwargs: Any) -> None:
        holder.append(hold_file(database))
        original_refresh(*args, **kwargs)

    monkeypatch.setattr(runner, "refresh_moved_keys", refresh_while_held)
    try:
        with (
            Emulator(issues=ISSUES, seed=5, start=START) as emu,
            pytest.raises(JiraEtlError) as failed,
        ):
            run(options, settings(emu))
    finally:
        for process in holder:
            process.kill()
    message = str(failed.value)
    assert message.startswith("Could not refresh the keys of moved issues in the destination: ")
    assert "Could not set lock on file" in message
    assert "credentials" not in message
    assert message.endswith(
        "The run loaded every part and stored its cursor, and marked 0 issues deleted."
    )
    assert getattr(failed.value, "outcome_stated", False)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (
            "Connection with `client_type=DuckDbSqlClient` to `dataset_name=jira` failed. Please "
            "check if you configured the credentials at all. The actual reason given is: IO "
            'Error: Could not set lock on file "x.duckdb"',
            'IO Error: Could not set lock on file "x.duckdb".',
        ),
        (
            'connection to server at "127.0.0.1", port 5 failed: Connection refused\n'
            "\tIs the server running on that host?\n",
            'connection to server at "127.0.0.1", port 5 failed: Connection refused. Is the '
            "server running on that host?",
        ),
        (
            "server closed the connection unexpectedly\n\tThis probably means the server "
            "terminated abnormally\n\tbefore or while processing the request.\n",
            "server closed the connection unexpectedly. This probably means the server "
            "terminated abnormally before or while processing the request.",
        ),
    ],
)
def test_reason_keeps_database_text(raw: str, reason: str) -> None:
    assert runner._reason(Exception(raw)) == reason


REFERENCE_TABLES = ("statuses", "issue_types", "priorities", "resolutions", "fields")


def test_reference_tables_survive_failed_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    database, options = file_options(tmp_path, "reference")
    counts = " union all ".join(
        f"select '{name}', count(*) from {name}" for name in REFERENCE_TABLES
    )
    original_load = dlt.Pipeline.load
    original_close = DuckDbSqlClient.close_connection
    original_execute = DuckDbSqlClient.execute_query
    loading = [False]
    closed: list[int] = []
    failed: list[str] = []

    def load_then_fail(pipeline: dlt.Pipeline, *args: Any, **kwargs: Any) -> Any:
        loading[0] = True
        return original_load(pipeline, *args, **kwargs)

    def close_and_count(client: DuckDbSqlClient) -> None:
        original_close(client)
        if loading[0]:
            closed.append(1)

    def execute_unless_failing(client: DuckDbSqlClient, sql: Any, *args: Any, **kwargs: Any) -> Any:
        # Once the load step's first job is done, every statement fails, as on a lost disk.
        if closed:
            failed.append(str(sql))
            raise duckdb.IOException("IO Error: the disk went away")
        return original_execute(client, sql, *args, **kwargs)

    with Emulator(issues=ISSUES, seed=5, start=START) as emu:
        run(options, settings(emu) | {"issues_per_load": 0})
        before = dict(query(database, counts))
        assert all(before.values()), before
        monkeypatch.setattr(dlt.Pipeline, "load", load_then_fail)
        monkeypatch.setattr(DuckDbSqlClient, "close_connection", close_and_count)
        monkeypatch.setattr(DuckDbSqlClient, "execute_query", execute_unless_failing)
        with pytest.raises(JiraEtlError):
            run(options, settings(emu) | {"issues_per_load": 0})
        monkeypatch.undo()
    assert failed, "no statement of the load step failed"
    assert dict(query(database, counts)) == before


def numbered_issues(first: int, rows: int) -> Any:
    """A dlt resource of `rows` issues with ids from `first`, merged on `id`."""
    table = pa.table(
        {
            "id": pa.array(range(first, first + rows), pa.int64()),
            "summary": pa.array([f"issue {i}" for i in range(first, first + rows)]),
        }
    )
    return dlt.resource(table, name="issues", primary_key="id", write_disposition="merge")


def test_loads_write_row_groups_of_16384_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `jira.duckdb` with the dataset `jira`: the catalog and the schema share a name.
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    database, options = file_options(tmp_path, "jira")
    pipeline = runner.make_pipeline(options)
    pipeline.run(numbered_issues(0, 40_000))
    # A second load adds rows to a table that already has row groups.
    pipeline.run(numbered_issues(40_000, 20_000))
    groups = query(
        database,
        "select row_group_id, max(count) from pragma_storage_info('jira.jira.issues') "
        "group by row_group_id order by row_group_id",
    )
    sizes = [rows for _, rows in groups]
    assert max(sizes) == 16_384, sizes
    assert sum(sizes) == 60_000
    assert query(database, "select count(distinct id), min(id), max(id) from issues") == [
        (60_000, 0, 59_999)
    ]


@pytest.mark.parametrize(
    "name",
    [
        # DuckDB keeps the catalog name `memory` for itself.
        "memory",
        # A quote and a dot, which the default schema setting would read as syntax.
        'it\'s "q".v2',
    ],
)
def test_file_names_that_need_quoting_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    database = tmp_path / f"{name}.duckdb"
    options = RunOptions(
        pipeline_name="quoted", duckdb_path=str(database), pipelines_dir=str(tmp_path / "p")
    )
    runner.make_pipeline(options).run(numbered_issues(7, 3))
    assert query(database, "select id from issues order by id") == [(7,), (8,), (9,)]


def wide_table(columns: int, rows: int) -> pa.Table:
    """A table shaped like `issues` on a site with many single-valued custom fields."""
    data: dict[str, pa.Array] = {"id": pa.array(range(1, rows + 1), pa.int64())}
    for number in range(columns):
        if number % 3 == 0:
            data[f"text_{number}"] = pa.array(
                [f"option {i % 97} of field {number}" if i % 4 else None for i in range(rows)]
            )
        elif number % 3 == 1:
            data[f"number_{number}"] = pa.array([float(i % 13) for i in range(rows)])
        else:
            data[f"empty_{number}"] = pa.array([None] * rows, pa.string())
    return pa.table(data)


def load_wide(tmp_path: Path, name: str, table: pa.Table, *, fitted: bool) -> Path:
    database, options = file_options(tmp_path, name)
    pipeline = runner.make_pipeline(options)
    merge = {"disposition": "merge", "strategy": "delete-insert"}
    pipeline.extract(dlt.resource(table, name="issues", primary_key="id", write_disposition=merge))
    pipeline.normalize()
    if fitted:
        runner.fit_duckdb_memory(pipeline, options)
    pipeline.load()
    return database


def test_memory_limit_fits_widest_table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    table = wide_table(600, 10_000)
    # Without fitting, the limit that suits the default fields is too small for 600 columns.
    with pytest.raises(PipelineStepFailed) as failed:
        load_wide(tmp_path, "unfitted", table, fitted=False)
    assert "Out of Memory Error" in str(failed.value)
    database = load_wide(tmp_path, "fitted", table, fitted=True)
    assert query(database, "select count(*), count(distinct id) from issues") == [(10_000, 10_000)]
    columns = duckdb.connect(str(database), config={"memory_limit": "1GB"}).execute(
        "select count(*) from information_schema.columns where table_name = 'issues' "
        "and table_schema = 'jira'"
    )
    assert columns.fetchall() == [(601,)]
    # One MiB a column on top of the base.
    assert runner.duckdb_memory_mib(601) == 8 + 601
    assert runner.duckdb_memory_mib(10) == 48


def long_text_issues(rows: int) -> pa.Table:
    """A table of 46 columns with a description-sized text in every ninth column."""
    data: dict[str, pa.Array] = {"id": pa.array(range(rows), pa.int64())}
    for number in range(45):
        if number % 9 == 0:
            data[f"text_{number}"] = pa.array([f"issue {i} description " * 12 for i in range(rows)])
        else:
            data[f"value_{number}"] = pa.array([f"v{i % 50}" for i in range(rows)])
    return pa.table(data)


def one_package(tmp_path: Path, name: str, table: pa.Table) -> tuple[Path, Any, RunOptions]:
    """Extract and normalize `table` as one package in items of 2,000 rows, as the source."""
    database, options = file_options(tmp_path, name)
    pipeline = runner.make_pipeline(options)
    items = (table.slice(start, 2000) for start in range(0, table.num_rows, 2000))
    merge = {"disposition": "merge", "strategy": "delete-insert"}
    pipeline.extract(dlt.resource(items, name="issues", primary_key="id", write_disposition=merge))
    pipeline.normalize()
    return database, pipeline, options


def test_out_of_memory_load_runs_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # dlt's merge keeps every staging row of such a table in memory, so the limit fitted to
    # 46 columns fails for a full refresh of 40,000 issues.
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    table = long_text_issues(40_000)
    fitted, pipeline, options = one_package(tmp_path, "fitted", table)
    runner.fit_duckdb_memory(pipeline, options)
    spill = f"{fitted.resolve()}.tmp"
    assert options.duckdb_settings == {
        "threads": 1,
        "memory_limit": "54MiB",
        "temp_directory": spill,
    }
    with pytest.raises(PipelineStepFailed) as failed:
        pipeline.load()
    assert "Out of Memory Error" in str(failed.value)

    database, pipeline, options = one_package(tmp_path, "raised", table)
    with caplog.at_level("WARNING", logger="jira_etl"):
        runner.load_within_memory(pipeline, options)
    assert options.duckdb_settings is not None
    assert options.duckdb_settings["memory_limit"] in {"108MiB", "216MiB", "432MiB"}
    assert "runs again with memory_limit 108MiB" in caplog.text
    assert query(database, "select count(*), count(distinct id) from issues") == [(40_000, 40_000)]
    assert not pipeline.has_pending_data


@pytest.mark.parametrize(
    ("failure", "fix"),
    [
        ('IO Error: Could not set lock on file "jira.duckdb": Conflicting lock', "close it"),
        (
            "Out of Memory Error: failed to offload data block of size 256.0 KiB "
            "(max_temp_directory_size)",
            "temporary files beside the database",
        ),
        ("IO Error: No space left on device", "Free disk space"),
        (
            'IO Error: Database "jira" has been invalidated because checkpointing failed. '
            "Original error: failed to pin block of size 256.0 KiB (11.4 MiB/11.4 MiB used)",
            "Raise it",
        ),
        ("Failed to commit: could not allocate block of size 256.0 KiB", "Raise it"),
        ("Parser Error: Unknown unit for memory: ''", '{"memory_limit": "1GB"}'),
        (
            'connection to server at "127.0.0.1", port 5499 failed: Connection refused',
            "Check that the database server runs",
        ),
    ],
)
def test_destination_failure_names_its_fix(failure: str, fix: str) -> None:
    with pytest.raises(JiraEtlError) as failed, runner.destination_errors("count the rows"):
        raise DatabaseTransientException(Exception(failure))
    message = str(failed.value)
    assert message.startswith("Could not count the rows in the destination: ")
    assert failure.split(":")[0] in message
    assert fix in message


def test_other_failures_pass_through() -> None:
    with pytest.raises(KeyError), runner.destination_errors("count the rows"):
        raise KeyError("not a destination failure")


def test_postgres_column_limit_advice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    monkeypatch.setenv("DESTINATION__POSTGRES__CREDENTIALS", POSTGRES_DSN)
    dataset = f"wide_{tmp_path.name[-12:].lower()}"
    options = RunOptions(
        pipeline_name=dataset,
        dataset=dataset,
        destination="postgres",
        pipelines_dir=str(tmp_path / "p"),
    )
    pipeline = runner.make_pipeline(options)
    merge = {"disposition": "merge", "strategy": "delete-insert"}
    table = wide_table(1_700, 10)
    pipeline.extract(dlt.resource(table, name="issues", primary_key="id", write_disposition=merge))
    pipeline.normalize()
    try:
        with pytest.raises(PipelineStepFailed) as failed:
            pipeline.load()
    finally:
        with psycopg2.connect(POSTGRES_DSN) as connection, connection.cursor() as cursor:
            cursor.execute(f'drop schema if exists "{dataset}" cascade')
            cursor.execute(f'drop schema if exists "{dataset}_staging" cascade')
    message = str(runner.unwrap_step_failure(failed.value))
    assert message.startswith("The load step failed: ")
    assert "tables can have at most 1600 columns" in message
    assert "Load fewer with --custom-fields" in message


def test_lost_postgres_server_fails_clearly() -> None:
    lost = psycopg2.OperationalError("connection to server at 127.0.0.1, port 5432 failed")
    with pytest.raises(JiraEtlError) as failed, runner.destination_errors("count the rows"):
        raise lost
    message = str(failed.value)
    assert message.startswith("Could not count the rows in the destination: ")
    assert "port 5432 failed" in message
    assert "database server is unreachable" in message


def test_status_and_report_name_held_file(tmp_path: Path) -> None:
    database, pipelines_dir = tmp_path / "held.duckdb", tmp_path / "p"
    with Emulator(issues=5, seed=2) as emu:
        loaded = run_cli(
            emulator_run_args(emu, database, pipelines_dir), env={"JIRA_TOKEN": emu.scoped_token}
        )
    assert loaded.exit_code == 0, loaded.output
    holder = hold_file(database)
    try:
        status = run_cli(
            ["status", "--duckdb-path", str(database), "--pipelines-dir", str(pipelines_dir)]
        )
        report = run_cli(["report", "--duckdb-path", str(database)])
    finally:
        holder.kill()
        holder.wait()
    assert "rows: unavailable (Could not open the destination" in status.stdout
    assert "If another program has the DuckDB file open, close it" in status.stdout
    assert "internet connection" not in status.stdout
    assert report.exit_code == 1, report.output
    assert "Another program has the file open" in report.stderr
    assert report.stderr.startswith("Error: Cannot open DuckDB file"), report.stderr
    assert len(report.stderr.strip().splitlines()) == 1, report.stderr


def test_interrupted_load_says_package_pending(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dlt.common.runtime import signals

    from pipelines.cli import failure_message

    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    options = RunOptions(
        pipeline_name="interrupted",
        dataset="interrupted",
        duckdb_path=str(tmp_path / "jira.duckdb"),
        pipelines_dir=str(tmp_path / "p"),
    )
    pipeline = runner.make_pipeline(options)
    rows = [{"id": 1}, {"id": 2}]
    pipeline.extract(dlt.resource(rows, name="issues", primary_key="id", write_disposition="merge"))
    pipeline.normalize()
    # dlt's own handler of SIGINT sets this flag, and its load step stops on it.
    signals.set_received_signal(2)
    try:
        with pytest.raises(PipelineStepFailed) as failed:
            pipeline.load()
    finally:
        signals._clear_signals()
    message = failure_message(runner.unwrap_step_failure(failed.value))
    assert message.startswith("The load step failed: it was interrupted by signal 2.")
    assert "Some tables may already hold part of the load package" in message
    assert "the next run loads it first" in message
    assert "Nothing was loaded" not in message
    assert pipeline.has_pending_data
