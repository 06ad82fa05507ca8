"""Run the source into a destination: lock, guard the state, load, tidy, summarize."""

from __future__ import annotations

import contextlib
import ctypes
import errno
import fcntl
import hashlib
import logging
import os
import re
import shutil
import signal
import socket
import stat
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import dlt
import numpy as np
import pyarrow as pa
from dlt.common.destination.exceptions import DestinationException
from dlt.common.pipeline import LoadInfo
from dlt.pipeline.exceptions import PipelineStepFailed

from pipelines.collector import collect_between_steps, fewer_collections
from pipelines.destinations.duckdb_catalog import qualify_clashing_catalog
from pipelines.destinations.duckdb_config import (
    CREDENTIALS_VARIABLE,
    check_global_values,
    check_temp_directory,
    configured_setting,
    configured_temp_directory,
    hide_statements,
    setting_key,
)
from pipelines.destinations.duckdb_copy_job import copy_files_by_parameter
from pipelines.destinations.duckdb_file_merge import MISSING_FILES_MESSAGE, merge_from_files
from pipelines.destinations.duckdb_held import held_database
from pipelines.destinations.duckdb_row_groups import attach_with_row_groups
from pipelines.destinations.sql import column_names, id_lists, table_names
from pipelines.errors import ConfigError, JiraEtlError, LockedError
from pipelines.interrupts import raise_if_received
from pipelines.normalize.columns import ISSUE_COLUMNS
from pipelines.normalize.fields import FieldCatalog
from pipelines.observer import RunObserver
from pipelines.source import CHILD_TABLES, ISSUES_PER_LOAD, PARENT_VERSION, jira_source
from pipelines.source_collections import PARTIAL_HISTORIES
from pipelines.status import write_run_record
from pipelines.sweep import MarkResult, SweepResult, doubt_sweep, mark_deleted

logger = logging.getLogger("jira_etl.run")


@dataclass
class RunOptions:
    """Destination and locking settings of a run.

    Attributes:
        pipeline_name: dlt pipeline name; each site or project gets its own, with its own state.
        dataset: destination dataset (a schema in DuckDB and PostgreSQL).
        destination: `duckdb` or any dlt destination name configured the dlt way.
        duckdb_path: the DuckDB file, for the `duckdb` destination.
        pipelines_dir: where dlt keeps local state; dlt's default when None.
        full_refresh: drop the loaded tables and the cursor, then load everything.
        on_locked: `fail` to exit at once when another run holds the lock, `wait` to wait.
        lock_timeout_seconds: the maximum wait with `on_locked="wait"`, in seconds.
    """

    pipeline_name: str = "jira"
    dataset: str = "jira"
    destination: str = "duckdb"
    duckdb_path: str = "jira.duckdb"
    pipelines_dir: str | None = None
    full_refresh: bool = False
    on_locked: str = "fail"
    lock_timeout_seconds: float = 3600.0
    # The DuckDB settings jira-etl chose, or None when they are configured the dlt way.
    # `fit_duckdb_memory` updates their memory_limit before each load.
    duckdb_settings: dict[str, Any] | None = field(default=None, repr=False)


@dataclass
class RunSummary:
    """Figures of one run, for the closing lines and `status`."""

    pipeline_name: str
    dataset: str
    destination: str
    rows: dict[str, int] = field(default_factory=dict)
    issues_read: int = 0
    requests: int = 0
    retries: int = 0
    duration_seconds: float = 0.0
    window_lower: datetime | None = None
    cursor: datetime | None = None
    load_ids: list[str] = field(default_factory=list)
    reader: Any = field(default=None, repr=False)
    issues_new: int = 0
    issues_updated: int = 0
    deleted_marked: int = 0
    deleted_unmarked: int = 0
    deleted_checked: bool = False
    # Why the sweep ran but marked nothing, as a clause. None when it checked or was skipped.
    deleted_unchecked_reason: str | None = None
    # The tables the run did not load in full, with the reason as a clause.
    skipped: dict[str, str] = field(default_factory=dict)
    # Issues read by id because the previous sweep listed them and the tables lacked them.
    caught_up: int = 0
    histories_reread: int = 0
    # Issues the sweep listed that the tables lack; the next run reads them by id.
    not_loaded: int = 0


# The DuckDB settings a user can configure the dlt way, under `destination.duckdb.credentials`.
DUCKDB_SETTING_NAMES = ("global_config", "statements", "local_config")
_SETTING_KINDS: dict[str, type] = {"global_config": dict, "statements": list, "local_config": dict}
# Beside a new DuckDB file, the check of the configured settings opens a file of the same name
# in a folder named with this prefix, the host and the process id, then deletes it.
SETTINGS_FOLDER_PREFIX = ".jira-etl-settings-"

# DuckDB settings for the loads, unless `destination.duckdb.credentials.global_config` is
# configured the dlt way. DuckDB otherwise caches up to 80% of the RAM, and each merge scans
# the whole table, so its memory grew with the dataset. Above memory_limit DuckDB writes
# temporary files to `temp_directory` instead (see `spill_directory`). Measured at 20,000
# issues (docs/benchmark.md): one DuckDB thread and one dlt load job at a time lowered the
# peak by about 110 MiB and made the run about 1 s longer.
DUCKDB_LOAD_SETTINGS = {"threads": 1}
DUCKDB_LOAD_WORKERS = 1
# The memory_limit, in MiB. A load of a part needs memory for each column of the widest
# table. Measured with DuckDB 1.5 (docs/benchmark.md): one script's tables of 150, 300 and
# 600 columns needed 128, 256 and 512 MiB, and the 46 columns of the emulator's `issues` table
# between 40 and 48 MiB at 20,000 rows. The checkpoint after a load job takes memory up to
# about the limit, so a lower limit also lowers the peak. With 54 MiB instead of 70, the load
# peaks of a 200,000-issue run were about 10 MiB lower.
DUCKDB_MEMORY_BASE_MIB = 8
DUCKDB_MEMORY_PER_COLUMN_MIB = 1
DUCKDB_MEMORY_MIN_MIB = 48
# The fitted limit can be too small for a load in one package (`--full-refresh`,
# `--issues-per-load 0`). For a table without a `dedup_sort` column, dlt's merge numbers the
# rows to merge with a window function that keeps every row in memory. A table of 46
# columns with a 250-character text in every ninth column failed at 70 MiB from 40,000 rows
# (DuckDB 1.5). After an out-of-memory failure the load runs again with twice the limit, up
# to DuckDB's own default of 80% of the RAM.
DUCKDB_MEMORY_MAX_SHARE = 0.8


def duckdb_credentials(
    path: Path, only: Collection[str] = DUCKDB_SETTING_NAMES
) -> tuple[Any, dict[str, Any] | None]:
    """Build the DuckDB credentials of `path` with `DUCKDB_LOAD_SETTINGS` unless configured.

    `only` names the settings read from the configuration (`global_config`, `statements`,
    `local_config`); the others are taken as not configured.

    Returns:
        The credentials, and their `global_config` when jira-etl chose it (None when it is
        configured the dlt way).

    Raises:
        ConfigError: a setting configured the dlt way is invalid, or the temp_directory
            exists and is not a folder.
    """
    from dlt.destinations.impl.duckdb.configuration import DuckDbCredentials

    def read(name: str, kind: type) -> Any:
        return configured_setting(name, kind, secret=name == "statements") if name in only else None

    credentials = DuckDbCredentials(str(path.resolve()))
    # Fields set here are no longer read from the configuration, so the configured ones are
    # read first and the ATTACH statement is added to them.
    credentials.statements = read("statements", list)
    credentials.local_config = read("local_config", dict)
    attach_with_row_groups(credentials)
    configured = read("global_config", dict)
    if configured is None:
        settings = {**DUCKDB_LOAD_SETTINGS, "memory_limit": f"{DUCKDB_MEMORY_MIN_MIB}MiB"}
    else:
        check_global_values(configured)
        settings = dict(configured)
    key = setting_key(settings, "temp_directory")
    if key is None:
        key = "temp_directory"
        settings[key] = spill_directory(path)
    check_temp_directory(str(settings[key]))
    credentials.global_config = settings
    return credentials, settings if configured is None else None


def spill_directory(path: Path) -> str:
    """Return the folder for DuckDB's temporary files of the file `path`: `<path>.tmp`.

    jira-etl opens the file through ATTACH from an in-memory database, whose temporary files
    DuckDB writes to `.tmp` in the working directory. Two runs started from one folder shared
    it. The first to finish deleted it, and the other's checkpoint failed on its missing
    files. Where `.tmp` could not be created, every load that spilled failed. For a database
    it opens from a file, DuckDB chooses this folder beside the file.
    """
    return f"{path.resolve()}.tmp"


def duckdb_memory_mib(widest_columns: int) -> int:
    """Return the memory_limit in MiB for loads whose widest table has `widest_columns`."""
    fitted = DUCKDB_MEMORY_BASE_MIB + DUCKDB_MEMORY_PER_COLUMN_MIB * widest_columns
    return max(DUCKDB_MEMORY_MIN_MIB, fitted)


def fit_duckdb_memory(pipeline: dlt.Pipeline, options: RunOptions) -> None:
    """Set DuckDB's memory_limit for the next load from the widest table in the schema.

    A Jira site with hundreds of custom fields has as many columns in `issues`, and a fixed
    limit that suits the default fields made its loads fail. A limit configured the dlt way
    is left alone.
    """
    settings = options.duckdb_settings
    if settings is None:
        return
    schema = pipeline.default_schema
    widest = max((len(table.get("columns", {})) for table in schema.data_tables()), default=0)
    limit = f"{duckdb_memory_mib(widest)}MiB"
    if settings.get("memory_limit") != limit:
        logger.info("DuckDB memory_limit %s for tables of up to %d columns", limit, widest)
        settings["memory_limit"] = limit


def load_within_memory(pipeline: dlt.Pipeline, options: RunOptions) -> Any:
    """Run dlt's load step, again with twice the memory_limit after DuckDB ran out of memory.

    Only a limit that jira-etl fitted is raised, and not beyond `DUCKDB_MEMORY_MAX_SHARE` of
    the RAM. dlt keeps the package pending after the failure, and the next load step finishes
    the jobs that did not complete.
    """
    fit_duckdb_memory(pipeline, options)
    while True:
        try:
            return _load_step(pipeline, options)
        except PipelineStepFailed as exc:
            raised = _raise_memory_limit(options, exc)
            if raised is None:
                raise
            logger.warning(
                "DuckDB ran out of memory during the load, so it runs again with memory_limit %s",
                raised,
            )


def _load_step(pipeline: dlt.Pipeline, options: RunOptions) -> Any:
    """Run dlt's load step; into DuckDB, with one database open for all its jobs."""
    if options.destination != "duckdb":
        return pipeline.load()
    database = Path(options.duckdb_path).expanduser()
    after = (
        f" The load finished, and its rows are in the write-ahead log {database}.wal, which "
        "DuckDB applies when it next opens the file."
    )
    with destination_errors("checkpoint the DuckDB file", after=after), held_database():
        return pipeline.load()


# DuckDB reports a failed allocation in a commit or a checkpoint without its "Out of Memory
# Error" prefix.
OUT_OF_MEMORY_MARKERS = ("Out of Memory Error", "could not allocate block", "failed to pin block")


def _raise_memory_limit(options: RunOptions, exc: PipelineStepFailed) -> str | None:
    """Double the fitted memory_limit after an out-of-memory load and return the new limit.

    Returns None when the failure was another one or the limit cannot grow.
    """
    settings = options.duckdb_settings
    if settings is None or exc.step != "load":
        return None
    text = " ".join(str(part) for part in _exception_chain(exc))
    if not any(marker in text for marker in OUT_OF_MEMORY_MARKERS):
        return None
    match = re.fullmatch(r"(\d+)MiB", str(settings.get("memory_limit", "")))
    if match is None:
        return None
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    ceiling_mib = int(ram * DUCKDB_MEMORY_MAX_SHARE) // 2**20
    current = int(match.group(1))
    if current >= ceiling_mib:
        return None
    raised = f"{min(current * 2, ceiling_mib)}MiB"
    settings["memory_limit"] = raised
    return raised


def check_names(options: RunOptions) -> None:
    """Check that the dataset and pipeline names can name a schema and a folder.

    Raises:
        ConfigError: the dataset or pipeline name is not a plain identifier.
    """
    for label, value in (
        ("--dataset", options.dataset),
        ("--pipeline-name", options.pipeline_name),
    ):
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", value or ""):
            raise ConfigError(
                f"Invalid {label} `{value}`: use letters, digits and underscores, starting with a "
                "letter or underscore (it names a schema and a folder)."
            )


def make_pipeline(options: RunOptions) -> dlt.Pipeline:
    """Build the dlt pipeline for `options` without running it.

    Raises:
        ConfigError: the dataset or pipeline name is not a plain identifier.
    """
    check_names(options)
    if options.destination == "duckdb":
        qualify_clashing_catalog()
        path = Path(options.duckdb_path).expanduser()
        check_writable(path)
        # NOTE: dlt 1.31 copies the credentials for each client but shares this dict, so a
        # change made before a load reaches its connections. The 600-column load test fails
        # if a dlt release stops sharing it.
        credentials, options.duckdb_settings = duckdb_credentials(path)
        destination: Any = dlt.destinations.duckdb(credentials=credentials)
        # The merged tables are read from the package's Parquet files, not copied into
        # staging tables first.
        merge_from_files()
        # The other tables are copied with the file's path as a parameter, so a quote in
        # --pipelines-dir does not break the statement.
        copy_files_by_parameter()
        if dlt.config.get("load.workers") is None:
            # One job at a time, so the log between two checkpoints contains one job's rows.
            dlt.config["load.workers"] = DUCKDB_LOAD_WORKERS
    else:
        destination = options.destination
    if dlt.config.get("destination.replace_strategy") is None:
        # The reference tables replace their rows on each run. dlt's default empties them when
        # the load starts, so a load that failed midway left them empty until the next run.
        # Through staging tables they change in the merge's transaction at the end.
        dlt.config["destination.replace_strategy"] = "insert-from-staging"
    if dlt.config.get("load.truncate_staging_dataset") is None:
        # The replaced reference tables, and on other destinations the merged tables, are
        # copied into staging tables first. Emptied after the load, they keep no second copy.
        dlt.config["load.truncate_staging_dataset"] = True
    kwargs: dict[str, Any] = {}
    if options.pipelines_dir:
        # A value from JIRA_PIPELINES_DIR or .env reaches here without the shell's `~`.
        kwargs["pipelines_dir"] = str(Path(options.pipelines_dir).expanduser())
    return dlt.pipeline(
        pipeline_name=options.pipeline_name,
        destination=destination,
        dataset_name=options.dataset,
        **kwargs,
    )


def run(options: RunOptions, source_settings: dict[str, Any]) -> RunSummary:
    """Load Jira into the destination once and return what happened.

    Raises:
        JiraEtlError: the run failed and the cursor did not move. The destination is
            unchanged except for load packages that completed extraction, which the next run
            finishes, and the parts loaded before the failure (`loaded_parts` on the error).
    """
    started = time.monotonic()
    started_at = datetime.now(UTC)
    check_load_workers(options)
    pipeline = make_pipeline(options)
    recorded_file = options.duckdb_path if options.destination == "duckdb" else None
    with pipeline_lock(pipeline, options), dataset_lock(pipeline, options):
        new_file = None
        try:
            # Replaced by the outcome when the run ends, so a killed run shows in `status`.
            write_run_record(
                pipeline.pipelines_dir,
                pipeline.pipeline_name,
                outcome="running",
                started_at=started_at,
                duckdb_path=recorded_file,
            )
            new_file = _new_duckdb_file(options)
            with fewer_collections():
                summary = _run_locked(pipeline, options, source_settings, started)
        except BaseException as exc:
            if isinstance(exc, JiraEtlError) and new_file is not None:
                remove_empty_file(new_file)
            # Every ending replaces the `running` record, so `status` calls a run killed only
            # when its process ended without a word.
            write_run_record(
                pipeline.pipelines_dir,
                pipeline.pipeline_name,
                outcome="failed",
                started_at=started_at,
                error=_failure_text(exc),
                duckdb_path=recorded_file,
            )
            raise
        write_run_record(
            pipeline.pipelines_dir,
            pipeline.pipeline_name,
            outcome="success",
            started_at=started_at,
            summary=summary,
            duckdb_path=recorded_file,
        )
    return summary


def _failure_text(exc: BaseException) -> str:
    """Describe why a run ended without success, for its run record."""
    if isinstance(exc, JiraEtlError):
        return str(exc)
    if isinstance(exc, KeyboardInterrupt):
        return "The run was interrupted by a signal (Ctrl-C, SIGINT or SIGTERM)."
    # Only the type: the text of an unexpected error may quote a request or a response.
    return f"The run stopped on an unexpected {type(exc).__name__}, printed on stderr."


def _new_duckdb_file(options: RunOptions) -> Path | None:
    """Return the DuckDB file of the run when it does not exist yet, else None."""
    if options.destination != "duckdb":
        return None
    path = Path(options.duckdb_path).expanduser().resolve()
    return None if path.exists() else path


def remove_empty_file(path: Path) -> None:
    """Delete the DuckDB file that a failed run created, when it contains no table.

    A run opens the file before it reads Jira, so a run that failed on its first request (a
    wrong token, for example) left a new file without tables behind.
    """
    import duckdb

    if not path.is_file():
        return
    try:
        connection = duckdb.connect(str(path), read_only=True)
        try:
            found = connection.execute("select count(*) from duckdb_tables()").fetchone()
        finally:
            connection.close()
        if found is None or found[0]:
            return
        for leftover in (path, Path(f"{path}.wal")):
            leftover.unlink(missing_ok=True)
        # The folder for DuckDB's temporary files, when the run created it and left it empty.
        with contextlib.suppress(OSError):
            Path(f"{path}.tmp").rmdir()
    except (duckdb.Error, OSError) as exc:
        logger.warning("Could not remove the empty DuckDB file %s of the failed run: %s", path, exc)
        return
    logger.info("Removed the empty DuckDB file %s that the failed run had created", path)


def _run_locked(
    pipeline: dlt.Pipeline, options: RunOptions, source_settings: dict[str, Any], started: float
) -> RunSummary:
    check_settings_on_new_file(pipeline, options)
    check_dataset_owner(pipeline, options)
    forget_state_missing_from_destination(pipeline, options)
    source_settings = dict(source_settings)
    if source_settings.get("issues_per_load") is None:
        # A full refresh drops the tables with its first load, so a failure in a later part
        # would leave half a dataset. It loads in one package unless the caller sets a size.
        source_settings["issues_per_load"] = 0 if options.full_refresh else ISSUES_PER_LOAD
    observer = RunObserver()
    source = build_source(source_settings, observer)
    # The ids of the window read so far, sorted; a set would take 70 bytes an issue.
    counted = np.empty(0, dtype=np.int64)
    already_stored = 0
    load_ids: list[str] = []
    # Set once the packages a previous run left pending are loaded, which moves the cursor.
    finished_pending = False
    try:
        # The steps of `pipeline.run`, split so that the issues already stored can be counted
        # between extract and load. A failed extraction commits neither its package nor the
        # cursor. A package that failed in normalize or load stays pending, and the next run
        # finishes it first.
        pipeline.sync_destination()
        if pipeline.has_pending_data:
            logger.info("Finishing the load packages a previous run left pending")
            drop_renormalized_packages(pipeline)
            with step_signals() as received:
                pipeline.normalize()
            stop_if_signalled(
                received, "after it normalized the pending load packages", pending=True
            )
            with destination_errors("remove the state rows of an unfinished load"):
                forget_unrecorded_state_rows(pipeline)
            check_free_space(pipeline, options)
            with step_signals() as received:
                load_within_memory(pipeline, options)
            with destination_errors("remove the child rows of issues read twice"):
                remove_superseded_child_rows(pipeline)
            stop_if_signalled(received, PENDING_LOAD_INTERRUPTED, stated=True)
            finished_pending = True
        refresh = options.full_refresh
        # Issues left for this run to read by id; those past the limit wait for the next run.
        carried: list[int] = []
        if not refresh:
            pending = stored_ids(pipeline, CATCH_UP_KEY)
            observer.catch_up_ids, carried = pending[:MAX_CATCH_UP], pending[MAX_CATCH_UP:]
            with destination_errors("read the deleted issues"):
                observer.deleted_histories = deleted_issue_ids(pipeline, queued_histories(pipeline))
        file_format = loader_file_format(pipeline)
        while True:
            # A large window is loaded in parts (`issues_per_load` of the source): each part
            # is extracted, normalized and loaded before the next is read, so memory does not
            # grow with the window. The cursor is stored with the last part only.
            raise_if_received()
            # The first load of a full refresh drops the tables, so none of its issues stay.
            replaces_tables = refresh
            if refresh:
                pipeline.extract(source, refresh="drop_sources", loader_file_format=file_format)
                refresh = False
            else:
                pipeline.extract(source, loader_file_format=file_format)
            # The issues handed to dlt: an issue the search listed but bulk fetch no longer
            # returned was deleted meanwhile, and is neither new nor updated.
            read = observer.issue_read
            listed = read.handed.ids() if read is not None else counted
            fresh = np.setdiff1d(listed, counted, assume_unique=True)
            # `handed` only grows during a run, so it contains every id counted before.
            counted = listed
            raise_if_received()
            if not replaces_tables:
                with destination_errors("count the issues already stored", pending_load=True):
                    already_stored += count_stored_issues(pipeline, fresh.tolist())
            collect_between_steps()
            return_freed_memory()
            drop_renormalized_packages(pipeline)
            with step_signals() as received:
                pipeline.normalize()
            stop_if_signalled(received, "after it normalized the fetched issues", pending=True)
            check_free_space(pipeline, options)
            with step_signals() as received:
                info = load_within_memory(pipeline, options)
            if isinstance(info, LoadInfo):
                load_ids += list(info.loads_ids)
            if observer.read_again:
                with destination_errors("remove the child rows of issues read twice"):
                    remove_superseded_child_rows(pipeline, observer.read_again)
            if observer.more_to_load:
                stop_if_signalled(received, "while it loaded a part of the window")
            else:
                stop_if_signalled(received, LAST_LOAD_INTERRUPTED, stated=True)
            if not observer.more_to_load:
                break
            logger.info(
                "Loaded %d issues so far; reading the rest of the window", observer.issues_read
            )
            source = build_source(source_settings, observer)
    except PipelineStepFailed as exc:
        error = unwrap_step_failure(exc)
        error.loaded_parts = len(load_ids)  # type: ignore[attr-defined]
        error.full_refresh = options.full_refresh  # type: ignore[attr-defined]
        error.finished_pending = finished_pending  # type: ignore[attr-defined]
        raise error from None
    except JiraEtlError as exc:
        exc.loaded_parts = len(load_ids)  # type: ignore[attr-defined]
        exc.full_refresh = options.full_refresh  # type: ignore[attr-defined]
        exc.finished_pending = finished_pending  # type: ignore[attr-defined]
        raise
    except OSError as exc:
        # dlt's normalize step, failing on a full disk, reads the package it could not write
        # to describe the failure, and raises that error in place of PipelineStepFailed.
        no_space = _no_space_error(exc)
        if no_space is None:
            raise
        error = JiraEtlError(
            f"No space left on the disk of dlt's working files in {pipeline.working_dir} "
            f"({no_space.strerror or no_space}). Free disk space there or choose another "
            "--pipelines-dir."
        )
        error.loaded_parts = len(load_ids)  # type: ignore[attr-defined]
        error.full_refresh = options.full_refresh  # type: ignore[attr-defined]
        error.finished_pending = finished_pending  # type: ignore[attr-defined]
        raise error from None
    finally:
        observer.close()
    sweep = getattr(observer, "sweep", None)
    if sweep is not None:
        doubt_sweep(sweep, counted)
    loaded = " The run loaded every part and stored its cursor"
    marked = None
    if sweep is not None:
        after = f"{loaded}. The next run marks the deleted issues and reports the counts."
        with destination_errors("mark deleted issues", after=after):
            marked = apply_delete_sweep(pipeline, sweep)
        count = len(marked.marked)
        loaded += f", and marked {count} {'issue' if count == 1 else 'issues'} deleted"
    if sweep is not None and marked is not None and sweep.complete and marked.doubt is None:
        store_catch_up_ids(pipeline, marked, carried)
    elif observer.catch_up_ids:
        # This run read the stored issues, and without a complete sweep no others are known.
        pipeline.set_local_state_val(CATCH_UP_KEY, carried)
    tables = source_settings.get("tables")
    refreshed = {
        name
        for name in REFERENCE_NAMES.keys() | {"projects"}
        if (tables is None or name in tables) and name not in observer.skipped
    }
    catalog = observer.issue_read.catalog if observer.issue_read is not None else None
    update_stored_issues(pipeline, refreshed, catalog, after=f"{loaded}.")
    with destination_errors("refresh the keys of moved issues", after=f"{loaded}."):
        refresh_moved_keys(pipeline)
    with destination_errors("count the rows", after=f"{loaded}."):
        rows = rows_loaded(pipeline)
    summary = RunSummary(
        pipeline_name=options.pipeline_name,
        dataset=options.dataset,
        destination=options.destination,
        issues_read=observer.issues_read,
        requests=observer.requests,
        retries=observer.retries,
        duration_seconds=time.monotonic() - started,
        window_lower=observer.window_lower,
        cursor=observer.cursor,
        load_ids=load_ids,
        reader=observer.reader,
    )
    summary.issues_updated = already_stored
    summary.issues_new = len(counted) - already_stored
    if sweep is not None and marked is not None:
        summary.deleted_unchecked_reason = sweep.error if not sweep.complete else marked.doubt
        summary.deleted_checked = summary.deleted_unchecked_reason is None
        summary.deleted_marked = len(marked.marked)
        summary.deleted_unmarked = len(marked.unmarked)
    summary.rows = rows
    note_partial_histories(pipeline, observer, source_settings)
    summary.skipped = dict(observer.skipped)
    summary.caught_up = observer.caught_up
    summary.histories_reread = observer.histories_reread
    if marked is not None:
        summary.not_loaded = len(marked.unloaded)
    return summary


# The outcome of a run interrupted during its last load, which dlt let finish.
LAST_LOAD_INTERRUPTED = (
    "The run was interrupted during its last load, which finished: the tables hold every "
    "issue the run read, and the stored cursor moved with them. The check for deleted issues "
    "and the update of moved issues' keys in other rows did not run; the next run makes both."
)
# The outcome of a run interrupted while it loaded the packages a previous run left pending.
PENDING_LOAD_INTERRUPTED = (
    "The run was interrupted while it loaded the load packages a previous run had left "
    "pending. They were loaded in full, and the stored cursor moved with them; this run "
    "read nothing new."
)


@dataclass
class StepSignal:
    """The signal that arrived during a dlt step run within `step_signals`, or 0."""

    code: int = 0


@contextlib.contextmanager
def step_signals() -> Iterator[StepSignal]:
    """Intercept SIGINT and SIGTERM during a dlt step, and report the one that arrived.

    dlt intercepts these signals during its normalize and load steps and acts on them only
    between rounds of jobs. With one job at a time, a signal that arrived during the last
    round was dropped when the step ended, and an interrupted run went on to exit 0.
    Intercepted here, around dlt's own interception, the signal outlasts the step, and the
    caller stops the run once the step's work is stored. A second signal still stops the
    process at once.
    """
    from dlt.common.runtime import signals

    received = StepSignal()
    with signals.intercepted_signals():
        yield received
        if signals.was_signal_received():
            received.code = int(
                getattr(signals.exception_for_signal(), "signal_code", signal.SIGINT)
            )


def stop_if_signalled(
    received: StepSignal, when: str, *, pending: bool = False, stated: bool = False
) -> None:
    """Raise the interrupted error of a run whose dlt step ended after a signal arrived.

    Args:
        received: the signal that arrived during the step.
        when: what the run had done; with `stated`, the whole message.
        pending: a load package waits for the next run.
        stated: `when` states what was loaded and where the cursor is.
    """
    if not received.code:
        return
    text = when if stated else f"The run was interrupted by signal {received.code} {when}."
    error = JiraEtlError(text)
    error.interrupted = True  # type: ignore[attr-defined]
    error.pending_load = pending  # type: ignore[attr-defined]
    error.outcome_stated = stated  # type: ignore[attr-defined]
    raise error


# The local state key of the issues the next run reads by id (see `store_catch_up_ids`).
CATCH_UP_KEY = "issues_to_read"
# The local state key of the projects the last complete sweep found hidden from the account.
HIDDEN_KEY = "hidden_projects"
# Issues read by id in one run at most; the rest wait in the local state for later runs.
MAX_CATCH_UP = 5000


def store_catch_up_ids(pipeline: dlt.Pipeline, marked: MarkResult, carried: list[int]) -> None:
    """Keep the ids of issues the sweep listed and the tables lack, for the next run to read.

    The window search returns issues updated since the cursor. So an issue that only now
    matches the filter, with an older `updated`, would never be loaded: one in a project the
    account was just allowed to browse, or one a JQL function matches now. Issues listed again
    after they were marked deleted are read again too, since they may have changed while
    outside the filter, and so are the issues of projects the previous sweep found hidden
    from the account. The ids go to dlt's local state of the pipeline, which the
    destination does not store. When that folder is lost, the next sweep lists them again.
    Each run reads at most `MAX_CATCH_UP` of them, and `carried` are those it left.
    """
    again = np.array(marked.unmarked + marked.returned + carried, dtype=np.int64)
    ids = np.union1d(marked.unloaded, again)
    # Issues of these projects are kept as they are while hidden, and read again once listed.
    pipeline.set_local_state_val(HIDDEN_KEY, sorted(marked.hidden_projects))
    if len(marked.unloaded):
        logger.warning(
            "%d issue(s) match the filter but are not in the tables, because their `updated` "
            "is older than the cursor (for example, a project the account may browse only "
            "now). The next run reads up to %d of them by id.",
            len(marked.unloaded),
            MAX_CATCH_UP,
        )
    pipeline.set_local_state_val(CATCH_UP_KEY, [int(i) for i in ids])


def queued_histories(pipeline: dlt.Pipeline) -> list[int]:
    """Return the queue of issues whose histories came back in part, as the last load stored it."""
    sources = pipeline.state.get("sources") or {}
    queued = (sources.get(pipeline.default_schema_name) or {}).get(PARTIAL_HISTORIES) or []
    return [int(i) for i in queued]


def note_partial_histories(
    pipeline: dlt.Pipeline, observer: RunObserver, settings: dict[str, Any]
) -> None:
    """Name `issue_changelog` as not loaded in full while issues wait to have it read again.

    A run reads a queued issue again only when the filter matches it, its project is visible
    and its turn has come, so issues can stay queued through runs that find no partial
    histories themselves.
    """
    tables = settings.get("tables")
    if (tables is not None and "issue_changelog" not in tables) or (
        "issue_changelog" in observer.skipped
    ):
        return
    queued = queued_histories(pipeline)
    if queued:
        observer.skipped["issue_changelog"] = (
            f"{len(queued)} issues whose histories came back in part in an earlier run were "
            "not read whole again (the filter no longer matches them, their project is "
            "hidden, or they wait their turn), so they keep their stored rows"
        )


def stored_ids(pipeline: dlt.Pipeline, key: str) -> list[int]:
    """Return the ids that the previous run's sweep stored under `key` in the local state."""
    try:
        stored = pipeline.get_local_state_val(key)
    except KeyError:
        return []
    return [int(i) for i in stored or []]


# DuckDB writes a load's rows to the tables and its write-ahead log, and the replaced tables to
# staging tables as well, so a load needs up to about this many times the size of its files.
# NOTE: an estimate from loads of the emulator's data, not a bound; it only stops loads that
# would very likely fill the disk.
SPACE_FACTOR = 3
SPACE_MARGIN_BYTES = 8 * 1024 * 1024


def check_load_workers(options: RunOptions) -> None:
    """Stop a DuckDB run configured to run several load jobs at a time.

    Two jobs at a time made the load step about a third faster, but in one of two
    200,000-issue loads DuckDB 1.5 then failed a checkpoint with "Corrupted in-memory column"
    and invalidated the database (docs/benchmark.md).

    Raises:
        ConfigError: `load.workers` is configured and is not 1.
    """
    workers: Any = dlt.config.get("load.workers")
    if options.destination != "duckdb" or workers is None:
        return
    if str(workers).strip() == str(DUCKDB_LOAD_WORKERS):
        return
    raise ConfigError(
        f"Invalid LOAD__WORKERS `{workers}` (load.workers of dlt's configuration): jira-etl "
        "loads a DuckDB file with one load job at a time, because DuckDB failed its "
        "checkpoint with two. Remove the setting or set it to 1."
    )


def check_free_space(pipeline: dlt.Pipeline, options: RunOptions) -> None:
    """Stop before loading when the DuckDB file's disk clearly lacks room for the pending loads.

    A load that fills the disk fails in the middle, after some tables took their rows. Checking
    first leaves every table as it was; the package stays pending for the next run.

    Raises:
        JiraEtlError: the free space is below the estimate; marked as a pending load.
    """
    if options.destination != "duckdb":
        return
    package_bytes = 0
    for load_id in pipeline.list_normalized_load_packages():
        folder = Path(pipeline.get_load_package_info(load_id).package_path)
        package_bytes += sum(f.stat().st_size for f in folder.rglob("*") if f.is_file())
    if not package_bytes:
        return
    target = Path(options.duckdb_path).expanduser().resolve().parent
    free = shutil.disk_usage(target).free
    needed = package_bytes * SPACE_FACTOR + SPACE_MARGIN_BYTES
    if free < needed:
        error = JiraEtlError(
            f"Not enough free space to load into {options.duckdb_path}: the load needs about "
            f"{needed / 2**20:.0f} MiB (an estimate) and {target} has {free / 2**20:.0f} MiB "
            "free. Free disk space or choose another --duckdb-path; this load changed no table."
        )
        error.pending_load = True  # type: ignore[attr-defined]
        raise error


@contextlib.contextmanager
def destination_errors(
    action: str, *, pending_load: bool = False, after: str = ""
) -> Iterator[None]:
    """Turn a failure of the runner's own destination queries into one `JiraEtlError`.

    Another program that opens the DuckDB file between two loads makes the next query fail,
    as does a database server that went away. `after` replaces the usual account of what was
    loaded when it is given.
    """
    try:
        yield
    except JiraEtlError:
        raise
    except Exception as exc:
        interrupted = _stopped_by_signal(exc)
        # The database drivers raise their own errors where dlt does not wrap them, and DuckDB
        # raises a RuntimeError for a statement that a signal stopped. dlt's failed steps go
        # on to the step's own report.
        caught: tuple[type[BaseException], ...] = (DestinationException, *_driver_errors())
        if interrupted:
            caught += (RuntimeError,)
        if not isinstance(exc, caught):
            raise
        reason = _reason(exc)
        if interrupted:
            advice = "Ctrl-C, SIGINT or SIGTERM stopped the query, so nothing needs fixing."
        else:
            advice = _advice(
                reason,
                "If another program holds the DuckDB file open, close it. If the database "
                "server is unreachable, check it.",
            )
        error = JiraEtlError(
            f"Could not {action} in the destination: {reason} {advice} Then run again.{after}"
        )
        error.interrupted = interrupted  # type: ignore[attr-defined]
        error.pending_load = pending_load  # type: ignore[attr-defined]
        error.outcome_stated = bool(after)  # type: ignore[attr-defined]
        raise error from None


def _stopped_by_signal(exc: BaseException) -> bool:
    """Return True when a signal's interrupt stopped the statement that raised `exc`.

    DuckDB stops a statement with "Query interrupted". When the signal handler raised inside
    the statement, DuckDB 1.5 raises a RuntimeError, not one of its own errors, caused by the
    handler's KeyboardInterrupt.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, KeyboardInterrupt) or "Query interrupted" in str(current):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _reason(exc: BaseException) -> str:
    """Return an exception's text on one line, at most 500 characters, ending with a period.

    dlt wraps a failed connection in advice about credentials, and only the database's own
    text after it is kept. Lines of a multi-line driver message become sentences. DuckDB's
    copy of a failed statement and the strings of the configured statements are left out.
    """
    text = hide_statements(str(exc))
    dlt_prefix_end = "The actual reason given is:"
    if dlt_prefix_end in text:
        text = text.split(dlt_prefix_end, 1)[1]
    lines = [" ".join(line.split()) for line in text.splitlines()]
    lines = [line for line in lines if line]
    # A line ends a sentence only when the next starts with a capital, because psycopg2 also
    # wraps one sentence over two lines.
    for index in range(len(lines) - 1):
        if lines[index + 1][0].isupper() and not lines[index].endswith((".", ":", "!", "?")):
            lines[index] += "."
    text = " ".join(lines)
    if len(text) > 500:
        text = text[:497] + "..."
    return text if text.endswith((".", "!", "?")) else text + "."


def count_stored_issues(pipeline: dlt.Pipeline, issue_ids: Collection[int]) -> int:
    """Count how many of `issue_ids` the destination's `issues` table already holds."""
    if not issue_ids:
        return 0
    found = 0
    with pipeline.sql_client() as client:
        if "issues" not in {name.lower() for name in table_names(client)}:
            return 0
        table = client.make_qualified_table_name("issues")
        for listed in id_lists(issue_ids):
            rows = client.execute_sql(f"select count(*) from {table} where id in ({listed})")
            found += int(rows[0][0]) if rows else 0
    return found


def deleted_issue_ids(pipeline: dlt.Pipeline, issue_ids: Collection[int]) -> set[int]:
    """Return the ids of `issue_ids` that the destination's `issues` table marks deleted."""
    if not issue_ids:
        return set()
    deleted: set[int] = set()
    with pipeline.sql_client() as client:
        if "issues" not in {name.lower() for name in table_names(client)}:
            return set()
        table = client.make_qualified_table_name("issues")
        for listed in id_lists(issue_ids):
            rows = client.execute_sql(
                f"select id from {table} where is_deleted and id in ({listed})"
            )
            deleted.update(int(row[0]) for row in rows or [])
    return deleted


def build_source(settings: dict[str, Any], observer: RunObserver) -> Any:
    """Call the dlt source with the settings given; the others come from dlt's providers."""
    given = {key: value for key, value in settings.items() if value is not None}
    try:
        return jira_source(observer=observer, **given)
    except JiraEtlError:
        raise
    except Exception as exc:  # dlt wraps missing config in its own exception types
        cause = unwrap(exc)
        if isinstance(cause, JiraEtlError):
            raise cause from None
        if "ConfigFieldMissing" in type(exc).__name__:
            raise ConfigError(
                "No token given. Set JIRA_TOKEN (or pass --token), or put `token` under "
                "[sources.jira] in .dlt/secrets.toml."
            ) from None
        raise


def unwrap(exc: BaseException) -> BaseException:
    """Return the innermost jira-etl error in an exception chain, else `exc` itself."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, JiraEtlError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return exc


def _missing_password_hint() -> str:
    """Say so when the PostgreSQL connection string in the environment has no password.

    dlt's PostgreSQL credentials require a password even where the server does not check one.
    """
    dsn = os.environ.get("DESTINATION__POSTGRES__CREDENTIALS", "")
    if not dsn.startswith(("postgres://", "postgresql://")):
        return ""
    try:
        password = urllib.parse.urlsplit(dsn).password
    except ValueError:
        return ""
    if password:
        return ""
    return (
        ". The connection string in DESTINATION__POSTGRES__CREDENTIALS has no password, which "
        "dlt requires even when the server does not check it; give any, e.g. user:unused@host."
    )


def destination_not_configured(text: str) -> ConfigError:
    """Describe dlt's missing destination setting `text` and how to set it."""
    text = text.rstrip(".")
    return ConfigError(
        f"The destination is not configured: {text}{_missing_password_hint() or '.'} Set it the "
        "dlt way, e.g. DESTINATION__POSTGRES__CREDENTIALS=postgresql://user:password@host:"
        "5432/db, or in .dlt/secrets.toml."
    )


def destination_open_error(
    pipeline: dlt.Pipeline, exc: Exception, blamed: Collection[str] | None = None
) -> JiraEtlError:
    """Translate a failure to open the destination's SQL client into a jira-etl error.

    A missing setting, such as the password dlt requires in a PostgreSQL connection string,
    is a usage error. Anything else (a locked file, an unreachable server) fails the run.
    `blamed` names the configured DuckDB settings a rejection is blamed on (default: all).
    """
    if "ConfigFieldMissing" in type(exc).__name__:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return destination_not_configured(first_line)
    reason = _reason(exc)
    opening = f"Could not open the destination of pipeline `{pipeline.pipeline_name}`: {reason}"
    if pipeline.destination is None or pipeline.destination.destination_name != "duckdb":
        return JiraEtlError(opening)
    if "Query interrupted" in reason:
        # DuckDB 1.5 raises this for Ctrl-C during a configured statement, so no setting is wrong.
        return JiraEtlError(f"{opening} The run was interrupted before it read or loaded anything.")
    if "Could not set lock on file" in reason:
        holder = _lock_held_by_run(reason)
        if holder is not None:
            return JiraEtlError(f"{opening} {holder}")
        return JiraEtlError(
            f"{opening} If another program has the DuckDB file open, close it and run again."
        )
    storage_fix = _fix_for(reason, _STORAGE_FAILURES)
    if storage_fix is not None:
        # A full disk or spill folder fails the statements too, whatever they are.
        return JiraEtlError(f"{opening} {_name_spill_folder(storage_fix)}")
    database = getattr(pipeline.destination.config_params.get("credentials"), "database", None)
    if database and str(database) in reason:
        # An error that names the database file is about the file (not a DuckDB database,
        # for example) rather than about the configured settings.
        return JiraEtlError(opening)
    configured = (
        configured_duckdb_variables()
        if blamed is None
        else [duckdb_setting_source(name) for name in blamed]
    )
    if configured:
        # DuckDB applied the configured settings and ran the statements as it opened the file.
        return ConfigError(
            f"{opening} Check the DuckDB settings in {' and '.join(configured)}, or unset them "
            "to use jira-etl's settings."
        )
    return JiraEtlError(opening)


def configured_duckdb_settings() -> list[str]:
    """Return the names, of `DUCKDB_SETTING_NAMES`, of the DuckDB settings configured the dlt way."""
    return [
        name
        for name in DUCKDB_SETTING_NAMES
        if configured_setting(name, _SETTING_KINDS[name], secret=name == "statements")
    ]


def configured_duckdb_variables() -> list[str]:
    """Return the source of each configured DuckDB setting, for messages."""
    return [duckdb_setting_source(name) for name in configured_duckdb_settings()]


def duckdb_setting_source(name: str) -> str:
    """Return the variable that sets DuckDB setting `name`, or else its key in dlt's TOML files.

    dlt reads the statements, which are secrets, from the environment and `secrets.toml`
    only, and the other settings also from `config.toml`.
    """
    variable = f"{CREDENTIALS_VARIABLE}__{name.upper()}"
    if variable in os.environ:
        return variable
    files = ".dlt/secrets.toml" if name == "statements" else ".dlt/config.toml or .dlt/secrets.toml"
    return f"`{name}` of [destination.duckdb.credentials] in {files}"


def unwrap_step_failure(exc: PipelineStepFailed) -> JiraEtlError:
    """Translate dlt's step failure into the jira-etl error that caused it, or describe it."""
    cause = unwrap(exc)
    if isinstance(cause, JiraEtlError):
        return cause
    inner = exc.exception if hasattr(exc, "exception") else exc
    text = str(inner).strip().splitlines()[0] if str(inner).strip() else type(inner).__name__
    if "ConfigFieldMissing" in type(inner).__name__:
        return destination_not_configured(text)
    chain = _exception_chain(exc)
    full_text = " ".join(str(part) for part in chain)
    # dlt keeps a package whose jobs ran out of retries pending, and aborts one whose job failed
    # for good.
    pending = exc.step == "normalize" or (
        exc.step == "load"
        and not any(type(part).__name__ == "LoadPackageAborted" for part in chain)
    )
    for marker, advice in _STORAGE_FAILURES:
        if marker.lower() in full_text.lower():
            reason = _destination_reason(chain) or f"{marker}."
            if advice == _NO_SPACE_FIX and exc.step in ("extract", "normalize"):
                # These steps write only dlt's working files, not the DuckDB file.
                advice = "Free disk space there or choose another --pipelines-dir."
            elif advice == _NO_SPACE_FIX and os.sep not in reason:
                # The load step writes the DuckDB file and dlt's working files, and dlt's
                # errors name no file, so the full disk may be that of either.
                working = getattr(exc.pipeline, "pipelines_dir", "")
                advice = (
                    "Free disk space where --duckdb-path and --pipelines-dir "
                    f"`{working}` are, or choose others."
                )
            advice = _name_spill_folder(advice)
            error = JiraEtlError(
                f"The {exc.step} step failed while writing the destination or dlt's working "
                f"files: {reason} {advice}"
            )
            error.pending_load = pending  # type: ignore[attr-defined]
            return error
    if isinstance(unwrap_os_error(exc), OSError):
        os_error = unwrap_os_error(exc)
        if getattr(os_error, "errno", None) == errno.ENOSPC:
            advice = "Free disk space or choose another --duckdb-path."
        else:
            advice = "Check the files and permissions under --pipelines-dir."
        return JiraEtlError(
            f"The {exc.step} step failed writing files: {os_error}. {advice} The next run "
            "finishes the pending load."
        )
    database_reason = _destination_reason(chain) if exc.step in ("sync", "load") else None
    if database_reason is None:
        code = next((part.signal_code for part in chain if hasattr(part, "signal_code")), None)
        if code is None and any(isinstance(part, KeyboardInterrupt) for part in chain):
            code = signal.SIGINT
        if code is not None:
            text = f"it was interrupted by signal {int(code)}"
        if pending and exc.step == "load":
            # The jobs that ran before the failure are in the tables already.
            text += ". Some tables may already hold part of the load package"
        error = JiraEtlError(f"The {exc.step} step failed: {text}")
        error.pending_load = pending  # type: ignore[attr-defined]
        error.interrupted = code is not None  # type: ignore[attr-defined]
        return error
    reason = database_reason
    if MISSING_FILES_MESSAGE in reason:
        # The package cannot load as it is, and the message gives the steps to start over.
        error = JiraEtlError(f"The load step failed: {reason}")
        error.outcome_stated = True  # type: ignore[attr-defined]
        return error
    advice = _advice(reason, "Check the destination and its settings.")
    if exc.step == "sync":
        # dlt reads the stored state before anything is extracted.
        return JiraEtlError(
            f"Could not read the state stored in the destination: {reason} {advice}"
        )
    error = JiraEtlError(f"The load step failed: {reason} {advice}")
    error.pending_load = pending  # type: ignore[attr-defined]
    return error


def _destination_reason(chain: list[BaseException]) -> str | None:
    """Return the database's own words for a failure in `chain`, on one line, or None.

    dlt reports a load job that ran out of retries with the job's traceback as text, and a
    failed connection with advice about credentials around the database's message. The
    driver's exception, further down the chain, has the database's own text.
    """
    driver_errors = _driver_errors()
    found = [part for part in chain if isinstance(part, driver_errors)] if driver_errors else []
    if not found:
        found = [part for part in chain if isinstance(part, DestinationException)]
    if not found:
        return None
    return _reason(found[-1])


def _driver_errors() -> tuple[type[BaseException], ...]:
    """Return the error classes of the database drivers this process has imported.

    Neither driver is imported here, because a run loads only the driver of its destination.
    """
    drivers = [sys.modules.get(name) for name in ("duckdb", "psycopg2")]
    return tuple(module.Error for module in drivers if module is not None)


def _advice(reason: str, default: str) -> str:
    """Return what to do about the destination failure described by `reason`."""
    holder = _lock_held_by_run(reason)
    if holder is not None:
        return holder
    return _name_spill_folder(_fix_for(reason, _DESTINATION_FAILURES) or default)


# DuckDB names the process that holds a file it cannot lock: "... is held in <program> (PID n)".
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in .*?\(PID (\d+)\)")


def _lock_held_by_run(reason: str) -> str | None:
    """Return advice when the DuckDB file is locked by another jira-etl run, else None.

    DuckDB names the holder's executable, which is Python for a run, so the process's command
    line separates a run from other programs. Only Linux's /proc shows it.
    """
    found = _LOCK_HOLDER.search(reason)
    if found is None:
        return None
    pid = found.group(1)
    try:
        arguments = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return None
    if not any(word.endswith("jira-etl") or word == "pipelines.cli" for word in arguments):
        return None
    return (
        f"Another jira-etl run, process {pid}, is writing to this file. DuckDB lets one process "
        "at a time write to a file, so runs of pipelines that share it cannot overlap. Give each "
        "pipeline its own --duckdb-path, or run them one after the other in one job."
    )


def _fix_for(reason: str, failures: Iterable[tuple[str, str]]) -> str | None:
    """Return the fix of the first failure whose marker `reason` contains, ignoring case."""
    lowered = reason.lower()
    return next((fix for marker, fix in failures if marker.lower() in lowered), None)


_MEMORY_LIMIT_FIX = (
    "DuckDB reached its memory_limit. Raise it, e.g. "
    'DESTINATION__DUCKDB__CREDENTIALS__GLOBAL_CONFIG=\'{"memory_limit": "1GB"}\', or '
    "lower --issues-per-load."
)

_NO_SPACE_FIX = "Free disk space or choose another --duckdb-path."

_SPILL_FIX = (
    "DuckDB could not write temporary files beside the database. Free disk space there or "
    "choose another --duckdb-path."
)


def _name_spill_folder(advice: str) -> str:
    """Return `advice`, naming the configured temp_directory when `advice` is `_SPILL_FIX`.

    `_SPILL_FIX` holds for the folder beside the database, which jira-etl sets unless
    temp_directory is configured the dlt way.
    """
    folder = configured_temp_directory() if advice == _SPILL_FIX else None
    if folder is None:
        return advice
    return (
        f"DuckDB could not write temporary files to the configured temp_directory `{folder}`. "
        "Free disk space there or set another temp_directory in "
        "DESTINATION__DUCKDB__CREDENTIALS__GLOBAL_CONFIG."
    )


_STORAGE_FAILURES = (
    ("No space left on device", _NO_SPACE_FIX),
    ("Disk full", _NO_SPACE_FIX),
    ("Read-only file system", "Choose a writable --duckdb-path or remount the file system."),
    ("Permission denied", "Fix the permissions of --duckdb-path and --pipelines-dir."),
    ("failed to offload data block", _SPILL_FIX),
    *((marker, _MEMORY_LIMIT_FIX) for marker in OUT_OF_MEMORY_MARKERS),
    (
        "Unknown unit for memory",
        "A DuckDB memory setting has no unit; give it as text with one, e.g. "
        '{"memory_limit": "1GB"}.',
    ),
)


# Failures of the database itself and what to do about each, the storage ones first.
_DESTINATION_FAILURES = (
    *_STORAGE_FAILURES,
    (
        "Could not set lock on file",
        "Another program has the DuckDB file open; close it.",
    ),
    *(
        (marker, "Check that the database server runs and accepts connections.")
        for marker in ("could not connect to server", "Connection refused")
    ),
    (
        "server closed the connection",
        "Check that the database server runs and accepts connections.",
    ),
    (
        "tables can have at most 1600 columns",
        "`issues` gets a column for each single-valued custom field, and PostgreSQL allows "
        "1,600 in a table. Load fewer with --custom-fields (the `fields` table lists them), "
        "or load into DuckDB.",
    ),
)


def _exception_chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        inner = getattr(current, "exception", None)
        current = current.__cause__ or current.__context__
        if current is None and isinstance(inner, BaseException) and inner not in chain:
            current = inner
    return chain


def _no_space_error(exc: BaseException) -> OSError | None:
    """Return the out-of-space `OSError` in the chain of `exc`, or None."""
    for part in _exception_chain(exc):
        if isinstance(part, OSError) and part.errno in (errno.ENOSPC, errno.EDQUOT):
            return part
    return None


def unwrap_os_error(exc: BaseException) -> OSError | None:
    current: BaseException | None = exc
    seen: set[int] = set()
    while current is not None and id(current) not in seen:
        if isinstance(current, OSError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


# DuckDB names a file's catalog after the file. These names are also DuckDB's own schemas or
# catalogs, so queries on such a file fail as ambiguous or the file does not open. `main` and
# `temp` work in lower case only: `MAIN.duckdb` loads but views over it fail as ambiguous, and
# `Temp.duckdb` fails in the load.
RESERVED_CATALOG_NAMES = frozenset({"system", "information_schema"})
LOWER_CASE_ONLY_CATALOG_NAMES = frozenset({"main", "temp"})


def check_writable(path: Path) -> None:
    """Fail early, with the path in the message, when the DuckDB file cannot be written.

    Raises:
        ConfigError: the path contains `?`, the file name is one of DuckDB's own catalog
            names, the folder is missing or not a folder, the path is a folder, or a probe
            write fails (read-only file system, permissions).
        JiraEtlError: the disk is full.
    """
    # DuckDB names a database after its file name up to the first dot, and every program that
    # opens the file with DuckDB gets that name.
    # NOTE: jira-etl itself attaches the file under its stem (`jira.prod` for
    # `jira.prod.duckdb`), and that is the name configured statements see.
    name = path.name.split(".")[0]
    if name.lower() in RESERVED_CATALOG_NAMES or (
        name.lower() in LOWER_CASE_ONLY_CATALOG_NAMES and name != name.lower()
    ):
        raise ConfigError(
            f"--duckdb-path `{path}` would name the database `{name}`, which "
            f"is also one of DuckDB's own schema or catalog names, so queries on the file fail. "
            f"Choose another file name, such as jira.duckdb."
        )
    folder = path.parent if str(path.parent) else Path(".")
    if path.is_symlink():
        # DuckDB opens the link's target (see `duckdb_credentials`), which must be reachable.
        try:
            os.stat(path)
        except FileNotFoundError:
            pass  # The target is created, so only its folder has to exist.
        except OSError as exc:
            raise ConfigError(
                f"--duckdb-path `{path}` is a symbolic link that cannot be followed "
                f"({exc.strerror or exc}). Point it at a file, or choose another path."
            ) from None
        folder = path.resolve().parent
    resolved = str(path.resolve())
    if "?" in resolved:
        # Seen with DuckDB 1.5: for `/data/a?b/jira.duckdb` every commit failed on the log
        # `/data/a.wal?b/jira.duckdb`, after the whole window was read.
        raise ConfigError(
            f"Invalid --duckdb-path `{path}` (`{resolved}`): it contains `?`, and DuckDB names "
            "the write-ahead log of such a file by putting `.wal` before the first `?`, so its "
            "commits fail. Choose a path without `?`."
        )
    if not folder.exists():
        raise ConfigError(
            f"The folder `{folder}` of --duckdb-path `{path}` does not exist. Create it or "
            "choose another path."
        )
    if not folder.is_dir():
        raise ConfigError(f"--duckdb-path `{path}` is inside `{folder}`, which is not a folder.")
    if path.is_dir():
        raise ConfigError(
            f"--duckdb-path `{path}` is a folder; give a file name such as jira.duckdb."
        )
    probe = folder / f".{path.name}.jira-etl-probe"
    try:
        if path.exists():
            with open(path, "ab"):
                pass
        try:
            with open(probe, "wb") as handle:
                handle.write(b"probe")
        finally:
            probe.unlink(missing_ok=True)
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise JiraEtlError(
                f"No space left to write --duckdb-path `{path}` ({exc.strerror or exc}). Free "
                "disk space or choose another path."
            ) from None
        raise ConfigError(
            f"--duckdb-path `{path}` is not writable ({exc.strerror or exc}). Choose a writable "
            "path or fix the permissions or the mount."
        ) from None


@contextlib.contextmanager
def pipeline_lock(pipeline: dlt.Pipeline, options: RunOptions) -> Iterator[None]:
    """Hold an exclusive lock on the pipeline so two runs never overlap.

    Raises:
        LockedError: another run holds the lock and `on_locked` is `fail`, or the wait ran out.
    """
    lock_path = Path(pipeline.pipelines_dir) / f"{pipeline.pipeline_name}.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as handle:
        deadline = time.monotonic() + options.lock_timeout_seconds
        announced = False
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if options.on_locked != "wait":
                    raise LockedError(
                        f"Another run of pipeline `{pipeline.pipeline_name}` is in progress "
                        f"(lock {lock_path}). This run exits without loading; use "
                        "--on-locked wait to wait for it instead."
                    ) from None
                if time.monotonic() > deadline:
                    raise LockedError(
                        f"Waited {options.lock_timeout_seconds:.0f} s for the other run of "
                        f"pipeline `{pipeline.pipeline_name}` to finish; giving up."
                    ) from None
                if not announced:
                    logger.warning(
                        "Another run of pipeline %s has the lock %s; waiting",
                        pipeline.pipeline_name,
                        lock_path,
                    )
                    announced = True
                time.sleep(0.5)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# The first key of the PostgreSQL advisory locks that jira-etl takes, one per dataset.
ADVISORY_LOCK_CLASS = "jira-etl"


@contextlib.contextmanager
def dataset_lock(pipeline: dlt.Pipeline, options: RunOptions) -> Iterator[None]:
    """Hold a PostgreSQL advisory lock on the dataset, so two runs never load it at once.

    The lock file of `pipeline_lock` is in the pipelines folder, so runs with different
    folders (a scheduler's and a user's) do not see each other's. Loading one dataset at the
    same time, they both insert the rows of an issue and double them. A DuckDB file is locked
    by DuckDB itself while it is written, and other destinations are not locked.

    Raises:
        LockedError: another run holds the dataset and `on_locked` is `fail`, or the wait ran
            out.
    """
    if options.destination != "postgres":
        yield
        return
    dataset = pipeline.dataset_name
    try:
        client = pipeline.sql_client()
        client.open_connection()
    except Exception as exc:
        # The run's own checks report missing credentials and an unreachable server, with
        # their advice.
        logger.debug("Could not lock dataset %s: %s", dataset, _reason(exc))
        yield
        return

    def locked() -> bool:
        rows = client.execute_sql(
            "select pg_try_advisory_lock(hashtext(%s), hashtext(%s))", ADVISORY_LOCK_CLASS, dataset
        )
        return bool(rows and rows[0][0])

    try:
        deadline = time.monotonic() + options.lock_timeout_seconds
        announced = False
        while not locked():
            holder = client.execute_sql(
                "select pid from pg_locks where locktype = 'advisory' and granted "
                "and classid = hashtext(%s)::oid and objid = hashtext(%s)::oid",
                ADVISORY_LOCK_CLASS,
                dataset,
            )
            session = f" (database session {holder[0][0]})" if holder else ""
            if options.on_locked != "wait":
                raise LockedError(
                    f"Another run is loading dataset `{dataset}` in this PostgreSQL "
                    f"database{session}, from another pipelines folder or machine. This run "
                    "exits without loading; use --on-locked wait to wait for it instead."
                )
            if time.monotonic() > deadline:
                raise LockedError(
                    f"Waited {options.lock_timeout_seconds:.0f} s for the other run loading "
                    f"dataset `{dataset}`{session} to finish; giving up."
                )
            if not announced:
                logger.warning("Another run is loading dataset %s%s; waiting", dataset, session)
                announced = True
            time.sleep(0.5)
        yield
    finally:
        # Closing the session releases the lock.
        client.close_connection()


def check_dataset_owner(pipeline: dlt.Pipeline, options: RunOptions) -> None:
    """Stop when the dataset contains the data of another pipeline.

    Pipelines that share a dataset merge into the same tables. The delete sweep of each marks
    the other's issues deleted where their projects are visible. A full refresh of one
    (`jira-etl demo` runs one) drops the other's rows while that pipeline's cursor stays, so
    its next run loads only recent changes.

    Raises:
        ConfigError: the dataset contains the state of another pipeline.
        JiraEtlError: the destination cannot be opened.
    """
    if options.destination == "duckdb" and not Path(options.duckdb_path).expanduser().exists():
        return
    others = other_pipelines_in_dataset(pipeline)
    if not others:
        return
    names = ", ".join(f"`{name}`" for name in others)
    if options.destination == "duckdb":
        where = f"in `{options.duckdb_path}`"
        fix = f"Choose another --dataset or --duckdb-path, or delete `{options.duckdb_path}`"
    else:
        where = f"in the {options.destination} destination"
        fix = "Choose another --dataset, or drop the dataset"
    raise ConfigError(
        f"Dataset `{options.dataset}` {where} contains the data of pipeline {names}. Pipeline "
        f"`{pipeline.pipeline_name}` would merge into the same tables and mark or drop that "
        f"pipeline's issues. {fix} if its data is no longer needed."
    )


def check_settings_on_new_file(pipeline: dlt.Pipeline, options: RunOptions) -> None:
    """Open a new DuckDB file with the configured settings before Jira is read.

    The checks before the read open an existing file, so DuckDB applies the configured
    settings and statements there. Without this check, a new file would first open in the
    load step, after the window is read, and a setting DuckDB rejects would leave a pending
    load package. Extension settings (`s3_region` of httpfs) are known to DuckDB only once it
    opens a file.

    The file opened has the same name as `--duckdb-path`, so it gets the same catalog name,
    but it lies in a new folder beside it that is deleted afterwards. Another process that
    creates `--duckdb-path` meanwhile keeps its file. When DuckDB rejects the settings and
    more than one is configured, each is tried alone, so the message names the one rejected.

    Raises:
        ConfigError: DuckDB rejected a configured setting or statement.
        JiraEtlError: the file could not be created or opened for another reason.
    """
    if options.destination != "duckdb":
        return
    # dlt opens the resolved path (see `duckdb_credentials`), so a symbolic link to a file
    # that does not exist yet names a new file too.
    path = Path(options.duckdb_path).expanduser().resolve()
    remove_abandoned_settings_folders(path.parent)
    configured = configured_duckdb_settings()
    if path.exists() or not configured:
        return
    failure = _open_new_file(pipeline, options, path, configured)
    if failure is None:
        return
    error = destination_open_error(pipeline, failure)
    if isinstance(error, ConfigError) and len(configured) > 1:
        rejected = [
            name
            for name in configured
            if _open_new_file(pipeline, options, path, [name]) is not None
        ]
        # When only the settings together fail, all of them are named.
        if rejected and len(rejected) < len(configured):
            error = destination_open_error(pipeline, failure, blamed=rejected)
    raise error from None


def _open_new_file(
    pipeline: dlt.Pipeline, options: RunOptions, path: Path, settings: Collection[str]
) -> Exception | None:
    """Open a file named like `path` twice, in a new folder beside it, with `settings` only.

    Returns:
        DuckDB's failure, or None when the file opened.

    Raises:
        JiraEtlError: the folder could not be created.
    """
    from dlt.destinations.impl.duckdb.configuration import DuckDbConnectionPool
    from dlt.destinations.impl.duckdb.sql_client import DuckDbSqlClient

    try:
        folder = Path(tempfile.mkdtemp(prefix=settings_folder_prefix(), dir=path.parent))
    except OSError as exc:
        raise JiraEtlError(
            f"Could not create a folder beside --duckdb-path `{path}` to check the DuckDB "
            f"settings: {exc.strerror or exc}. Choose a writable --duckdb-path."
        ) from None
    try:
        credentials, _ = duckdb_credentials(folder / path.name, settings)
        credentials.conn_pool = DuckDbConnectionPool(credentials)
        capabilities = pipeline.destination.capabilities()  # type: ignore[union-attr]
        client = DuckDbSqlClient(
            options.dataset, f"{options.dataset}_staging", credentials, capabilities
        )
        # DuckDB runs the statements each time a run opens the file, so a statement that can
        # run only once (CREATE TABLE without IF NOT EXISTS) fails at the second opening.
        for _ in range(2):
            with client:
                pass
    except JiraEtlError:
        raise
    except Exception as exc:
        return exc
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return None


def settings_folder_prefix(pid: int | None = None) -> str:
    """Return the name prefix of the settings check's folder for this host and process `pid`.

    The name contains the host, because a folder on a shared file system may belong to a process
    of another machine, which no process id here describes. Containers that share a host name
    have their own process ids, so the host part also covers the process id namespace, and a
    hash of both keeps host names that differ only in punctuation apart.
    """
    hostname = socket.gethostname()
    try:
        namespace = os.readlink("/proc/self/ns/pid")
    except OSError:
        namespace = ""
    digest = hashlib.sha256(f"{hostname}\n{namespace}".encode()).hexdigest()[:12]
    host = f"{re.sub(r'[^A-Za-z0-9]', '_', hostname)[:40]}_{digest}"
    return f"{SETTINGS_FOLDER_PREFIX}{host}-{os.getpid() if pid is None else pid}-"


def remove_abandoned_settings_folders(folder: Path) -> None:
    """Delete the settings check folders in `folder` whose process on this host has ended.

    A run killed during the check (SIGKILL, or SIGTERM before its cleanup) leaves its folder.
    Only folders of the user running jira-etl are deleted.
    """
    own = settings_folder_prefix(pid=0)[: -len("0-")]
    try:
        entries = [entry for entry in folder.iterdir() if entry.name.startswith(own)]
    except OSError:
        return  # `check_writable` reports a folder that cannot be read.
    for entry in entries:
        pid_text = entry.name[len(own) :].split("-", 1)[0]
        if not pid_text.isdigit() or _process_running(int(pid_text)):
            continue
        try:
            details = entry.lstat()
        except OSError:
            continue
        if not stat.S_ISDIR(details.st_mode) or details.st_uid != os.getuid():
            continue
        shutil.rmtree(entry, ignore_errors=True)
        if entry.exists():
            logger.warning(
                "Could not delete %s, which a killed run left when it checked the DuckDB "
                "settings; delete it by hand",
                entry,
            )
        else:
            logger.info(
                "Deleted %s, which a killed run left when it checked the DuckDB settings", entry
            )


def _process_running(pid: int) -> bool:
    """Return whether process `pid` may be running on this host; True when that is unknown."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):
        return True  # another user's process, or a number no process has
    return True


def other_pipelines_in_dataset(pipeline: dlt.Pipeline) -> list[str]:
    """Return the names of the other pipelines whose state the destination dataset stores.

    Raises:
        JiraEtlError: the destination cannot be opened.
    """
    rows = query_state_table(
        pipeline,
        "select distinct pipeline_name from {table} where pipeline_name <> %s order by 1",
        pipeline.pipeline_name,
    )
    return [row[0] for row in rows or []]


def query_state_table(pipeline: dlt.Pipeline, sql: str, *args: Any) -> list[Any] | None:
    """Run `sql` on dlt's state table, named `{table}` in it; None when there is none yet.

    Raises:
        JiraEtlError: the destination cannot be opened (locked file, unreachable server).
        ConfigError: the destination is not configured.
    """
    try:
        client_context = pipeline.sql_client()
        client = client_context.__enter__()
    except Exception as exc:
        raise destination_open_error(pipeline, exc) from None
    try:
        table = client.make_qualified_table_name("_dlt_pipeline_state")
        try:
            rows = client.execute_sql(sql.format(table=table), *args)
        except Exception:  # the dataset or the table does not exist yet
            return None
        return list(rows or [])
    finally:
        client_context.__exit__(None, None, None)  # type: ignore[arg-type]


def forget_state_missing_from_destination(pipeline: dlt.Pipeline, options: RunOptions) -> None:
    """Start over when the local cursor points at data the destination no longer has.

    dlt keeps the cursor both beside the pipeline and in the destination. A deleted or
    replaced DuckDB file would otherwise resume from the old cursor and load only recent
    changes into an empty database.
    """
    local_cursor = (pipeline.state.get("sources", {}).get("jira", {}) or {}).get("issues_cursor")
    if not local_cursor or pipeline.has_pending_data:
        return
    if destination_has_state(pipeline):
        return
    logger.warning(
        "Dataset %s has no state of pipeline %s although the local state has a cursor (%s); "
        "the destination was replaced or emptied, so this run loads everything again",
        options.dataset,
        pipeline.pipeline_name,
        local_cursor,
    )
    pipeline.drop()


def destination_has_state(pipeline: dlt.Pipeline) -> bool:
    """Tell whether the destination stores state of this pipeline.

    Raises:
        JiraEtlError: the destination cannot be opened (locked file, unreachable server); that
            is not the same as having no state, so the local cursor is kept.
    """
    rows = query_state_table(
        pipeline, "select count(*) from {table} where pipeline_name = %s", pipeline.pipeline_name
    )
    return bool(rows and rows[0][0])


def loader_file_format(pipeline: dlt.Pipeline) -> Literal["insert_values"] | None:
    """Choose the load file format: INSERT statements for PostgreSQL, dlt's choice elsewhere.

    dlt loads arrow tables into PostgreSQL as CSV through `COPY ... FORCE_NULL`, which reads an
    empty string as null (dlt 1.31), so an emptied summary or changelog value became null. INSERT
    statements keep the two apart. A format set in dlt's `normalize.loader_file_format` wins.
    """
    if pipeline.destination is None or pipeline.destination.destination_name != "postgres":
        return None
    if dlt.config.get("normalize.loader_file_format"):
        return None
    # NOTE: dlt converts arrow tables to INSERT statements in Python and warns that this is
    # slower than COPY. The cost on large loads is not measured.
    return "insert_values"


def remove_superseded_child_rows(pipeline: dlt.Pipeline, issue_ids: set[int] | None = None) -> None:
    """Delete child rows of an older version of an issue that a newer version replaced.

    An issue edited while a run pages through the search is read twice. Both versions' child
    rows can reach the same load, so only the newest version's rows may stay. `issue_ids`
    limits the check to those issues. None checks every issue, as after finishing a package
    that an earlier run left pending, whose twice-read issues are not known.
    """
    if issue_ids is not None and not issue_ids:
        return
    with pipeline.sql_client() as client:
        existing = {name.lower() for name in table_names(client)}
        for table in CHILD_TABLES:
            if table not in existing:
                continue
            qualified = client.make_qualified_table_name(table)
            # EXISTS, not `< (select max(...))`: PostgreSQL runs a scalar subquery once per
            # row (247 s on 90,000 rows), and an EXISTS as one hash join (0.04 s).
            statement = (
                f"delete from {qualified} where exists (select 1 from {qualified} as newer "
                f"where newer.issue_id = {qualified}.issue_id "
                f"and newer.{PARENT_VERSION} > {qualified}.{PARENT_VERSION})"
            )
            if issue_ids is None:
                client.execute_sql(statement)
                continue
            for listed in id_lists(issue_ids):
                client.execute_sql(f"{statement} and issue_id in ({listed})")


# Columns that name another issue by id and by key, per table.
KEY_REFERENCES = (
    ("issues", "parent_id", "parent_key"),
    ("issue_links", "linked_issue_id", "linked_issue_key"),
)


def update_stored_issues(
    pipeline: dlt.Pipeline, refreshed: Collection[str], catalog: FieldCatalog | None, after: str
) -> None:
    """Bring stored issues up to date with what Jira changed without updating them.

    In one session of the destination: the project keys and names when `refreshed` contains
    `projects`, the names of the other reference tables in `refreshed`, and, with the run's
    `catalog`, the values of removed custom fields. `after` ends an error's message.
    """
    with destination_errors("open the destination", after=after), pipeline.sql_client() as client:
        existing = {name.lower() for name in table_names(client)}
        if "projects" in refreshed:
            with destination_errors("refresh the project keys of issues", after=after):
                refresh_project_keys(client, existing)
        with destination_errors("refresh the names issues carry", after=after):
            refresh_reference_names(client, existing, refreshed)
        if catalog is not None:
            with destination_errors("empty the values of removed custom fields", after=after):
                clear_removed_fields(client, existing, catalog)


def refresh_project_keys(client: Any, existing: Collection[str]) -> None:
    """Give each stored live issue the current key and name of its project.

    Changing a project's key in Jira changes the key of every issue in it, keeping the number,
    and changing its name changes the name the issues carry. Neither updates the issues, so no
    run reads them again. Call this only after a run that loaded `projects`, whose rows then
    hold the current key and name of every project the account can browse.
    """
    # NOTE: that Jira leaves the issues' `updated` as it was is not confirmed on a Jira site.
    # Were the issues updated, the run would read them with the new key and this would change
    # nothing.
    if "issues" not in existing or "projects" not in existing:
        return
    issues = client.make_qualified_table_name("issues")
    projects = client.make_qualified_table_name("projects")
    number = f"substr({issues}.key, length({issues}.project_key) + 1)"
    # A project row without a key or a name comes from a malformed listing, so the issues of
    # that project keep their keys and names.
    client.execute_sql(
        f"update {issues} set key = project.key || {number}, "
        f"project_key = project.key, project_name = project.name "
        f"from {projects} as project where project.id = {issues}.project_id "
        f"and project.key is not null and project.name is not null "
        f"and {issues}.is_deleted is not true "
        f"and substr({issues}.key, 1, length({issues}.project_key) + 1) "
        f"= {issues}.project_key || '-' "
        f"and ({issues}.project_key is distinct from project.key "
        f"or {issues}.project_name is distinct from project.name)"
    )


# Per reference table, the (table, column, id column, reference column) that copy its names.
REFERENCE_NAMES: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "statuses": (
        ("issues", "status", "status_id", "name"),
        ("issues", "status_category", "status_id", "status_category"),
        ("issues", "status_category_name", "status_id", "status_category_name"),
    ),
    "priorities": (("issues", "priority", "priority_id", "name"),),
    "issue_types": (("issues", "issue_type", "issue_type_id", "name"),),
    "resolutions": (("issues", "resolution", "resolution_id", "name"),),
    "components": (("issue_components", "component_name", "component_id", "name"),),
    "versions": (
        ("issue_fix_versions", "version_name", "version_id", "name"),
        ("issue_affected_versions", "version_name", "version_id", "name"),
    ),
}


def refresh_reference_names(
    client: Any, existing: Collection[str], loaded: Collection[str]
) -> None:
    """Give the rows of live issues the current names of their status, priority and the like.

    Renaming a status, a priority, an issue type, a resolution, a component or a version in
    Jira changes the name every issue carries without updating the issues. So no run reads
    them again, and older issues kept the old name beside newer ones with the new. `loaded`
    names the reference tables this run loaded, whose rows hold the current names.
    """
    # NOTE: that Jira leaves the issues' `updated` as it was after a rename is not confirmed on
    # a Jira site. Were the issues updated, the run would read them and this would change
    # nothing.
    if "issues" not in existing:
        return
    issues = client.make_qualified_table_name("issues")
    live = f"select id from {issues} where is_deleted is not true"
    for reference, copies in REFERENCE_NAMES.items():
        if reference not in loaded or reference not in existing:
            continue
        source = client.make_qualified_table_name(reference)
        for table, column, id_column, name_column in copies:
            if table not in existing:
                continue
            target = client.make_qualified_table_name(table)
            owner = "id" if table == "issues" else "issue_id"
            # A reference row without a name comes from a malformed listing, so the issues
            # keep the name they have.
            client.execute_sql(
                f"update {target} set {column} = reference.{name_column} "
                f"from {source} as reference where reference.id = {target}.{id_column} "
                f"and reference.{name_column} is not null "
                f"and {target}.{owner} in ({live}) "
                f"and {target}.{column} is distinct from reference.{name_column}"
            )


def refresh_moved_keys(pipeline: dlt.Pipeline) -> None:
    """Give every stored reference to an issue that issue's current key.

    A moved issue gets a new key and keeps its id. The epic's children and the issues linked
    to it are not edited in Jira, so no run reads them again, and they would keep naming the
    old key. Each reference whose id is a stored live issue takes that issue's key. An issue
    marked deleted keeps the key it had when it left the filter, which may be stale.
    """
    with pipeline.sql_client() as client:
        existing = {name.lower() for name in table_names(client)}
        if "issues" not in existing:
            return
        issues = client.make_qualified_table_name("issues")
        for table, id_column, key_column in KEY_REFERENCES:
            if table not in existing:
                continue
            target = client.make_qualified_table_name(table)
            client.execute_sql(
                f"update {target} set {key_column} = referenced.key from {issues} as referenced "
                f"where referenced.id = {target}.{id_column} "
                "and referenced.is_deleted is not true "
                f"and {target}.{key_column} is distinct from referenced.key"
            )


def clear_removed_fields(client: Any, existing: Collection[str], catalog: FieldCatalog) -> None:
    """Empty the stored values of the custom fields that `/field` no longer lists.

    A field deleted in Jira, or hidden from the account, leaves `/field` and the issue
    payloads, and issues not updated since would keep its last values. Its `issues` column
    stays, emptied, and its `issue_field_values` rows go, as do the `issue_sprints` rows once
    no Sprint field is left. Each run repeats this, so a run that fails here leaves the work
    to the next one.
    """
    # NOTE: a field that becomes visible again gets values only on issues updated after that.
    # The others stay NULL until a run with --full-refresh.
    if "updated" not in catalog:
        # Jira lists its system fields to every account, so a list without `updated` was cut
        # short on its way (a proxy, a recorded catalog), and cannot tell which fields left.
        logger.warning(
            "Kept the values of custom fields missing from /field: its list has no `updated` "
            "field, so it is not the whole catalog."
        )
        return
    if "issue_field_values" in existing:
        values = client.make_qualified_table_name("issue_field_values")
        listed = ", ".join("'" + spec.field_id.replace("'", "''") + "'" for spec in catalog.multi)
        condition = f"field_id not in ({listed})" if listed else "true"
        client.execute_sql(f"delete from {values} where {condition}")
    if "issue_sprints" in existing and not catalog.sprint:
        # The rows do not name their field, so they go only once no Sprint field is left.
        client.execute_sql(f"delete from {client.make_qualified_table_name('issue_sprints')}")
    if "issues" not in existing:
        return
    issues = client.make_qualified_table_name("issues")
    current = {spec.column for spec in catalog.single}
    for column in column_names(client, "issues"):
        # dlt's own columns start with `_`, and its variant columns contain `__`.
        internal = column.startswith("_") or "__" in column
        if internal or column in ISSUE_COLUMNS or column in current:
            continue
        escaped = client.escape_column_name(column)
        client.execute_sql(f"update {issues} set {escaped} = null where {escaped} is not null")


def drop_renormalized_packages(pipeline: dlt.Pipeline) -> None:
    """Remove the extracted copy of a package that dlt already normalized.

    dlt's normalize step renames the normalized package into `load/normalized`, then deletes
    the extracted one. A run killed between the two leaves both, and the next normalize then
    fails to rename its second copy. The normalized package is complete, so the copies go.
    """
    # NOTE: written from the files a killed soak run left (an extracted, a new and a normalized
    # copy of one package); a test rebuilding those files passes with and without this step,
    # so the exact interleaving that makes dlt's rename fail is not reproduced.
    root = Path(pipeline.working_dir)
    done = [root / "load" / "normalized", root / "load" / "loaded"]
    for folder in done:
        if not folder.is_dir():
            continue
        for package in folder.iterdir():
            for leftover in (root / "normalize" / "extracted", root / "load" / "new"):
                copy = leftover / package.name
                if copy.is_dir():
                    logger.warning(
                        "Removing %s: load package %s was already normalized by a run that "
                        "stopped before cleaning up",
                        copy,
                        package.name,
                    )
                    shutil.rmtree(copy)


def forget_unrecorded_state_rows(pipeline: dlt.Pipeline) -> None:
    """Delete the pipeline state rows that a load wrote before it stopped, unrecorded.

    A run killed after the job that stores dlt's pipeline state committed, and before dlt
    recorded the job as done, leaves the row in the destination and the job pending. dlt runs
    the job again, and PostgreSQL, which keeps `_dlt_id` unique there, rejected the second row
    in every later run. The row belongs to a load that has not finished, so dlt does not read
    it as the pipeline's state; the job writes it again.
    """
    packages = pipeline._get_load_storage().normalized_packages
    state_table = pipeline.default_schema.state_table_name
    unrecorded: list[str] = []
    for load_id in packages.list_packages():
        jobs = packages.get_load_package_jobs(load_id)
        pending = set(packages.list_pending_transitions(load_id))
        if any(
            job.table_name == state_table and job.file_name() not in pending
            for folder in ("new_jobs", "started_jobs")
            for job in jobs.get(folder, [])
        ):
            unrecorded.append(load_id)
    if not unrecorded:
        return
    with pipeline.sql_client() as client:
        if state_table not in {name.lower() for name in table_names(client)}:
            return
        table = client.make_qualified_table_name(state_table)
        for load_id in unrecorded:
            client.execute_sql(f"DELETE FROM {table} WHERE _dlt_load_id = %s", load_id)
            logger.info(
                "Removed the state row of unfinished load %s; its job writes it again", load_id
            )


def return_freed_memory() -> None:
    """Hand the heap memory that extraction freed back to the OS before the load.

    Python frees the batches' objects, but glibc and Arrow's allocator keep the emptied pages,
    and the destination's own memory then comes on top of them.
    """
    pa.default_memory_pool().release_unused()
    if sys.platform != "linux":
        return
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        return


def apply_delete_sweep(pipeline: dlt.Pipeline, sweep: SweepResult) -> MarkResult:
    """Mark issues the run's sweep no longer lists as deleted, once the load succeeded."""
    with pipeline.sql_client() as client:
        if "issues" not in {name.lower() for name in table_names(client)}:
            return MarkResult()
        return mark_deleted(client, sweep, datetime.now(UTC), stored_ids(pipeline, HIDDEN_KEY))


def rows_loaded(pipeline: dlt.Pipeline) -> dict[str, int]:
    """Count the rows in each loaded table after this run."""
    counts: dict[str, int] = {}
    with pipeline.sql_client() as client:
        for name in sorted(table_names(client)):
            if name.startswith("_dlt"):
                continue
            qualified = client.make_qualified_table_name(name)
            rows = client.execute_sql(f"select count(*) from {qualified}")
            counts[name] = int(rows[0][0]) if rows else 0
    return counts
