"""Commands beyond `run`: check, emulator, demo; registered on the main group."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import click

from pipelines.cli import (
    connection_options,
    fill_check_settings_from_dlt,
    print_summary,
    register_secret,
    report_errors,
    source_settings_from,
)

logger = logging.getLogger("jira_etl.cli")

EXAMPLE_QUERIES = [
    (
        "Issues per status category",
        "select status_category, count(*) as count_issues from issues group by 1 order by 2 desc",
    ),
    (
        "Most used labels",
        "select label, count(*) as count_issues from issue_labels "
        "group by 1 order by 2 desc limit 5",
    ),
    (
        "Recently resolved",
        "select key, summary, resolved_at from issues where resolved_at is not null "
        "order by resolved_at desc limit 5",
    ),
]


def register_commands(group: click.Group) -> None:
    """Attach every command to the main `jira-etl` group."""
    group.add_command(check)
    group.add_command(emulator)
    group.add_command(demo)
    group.add_command(status)
    try:
        from pipelines.reporting.cli import report_command as report
        from pipelines.reporting.cli import sql
    except ImportError:  # the reporting layer is optional at import time
        return
    group.add_command(sql)
    group.add_command(report)


@click.command()
@connection_options
@click.option("--jql", envvar="JIRA_JQL", help="Your filter, checked with a one-issue search.")
def check(**options: Any) -> None:
    """Verify the connection: host, scheme, cloud id, account, time zone and search."""
    from pipelines.checks import run_checks

    register_secret(
        options.get("token"), options.get("client_secret"), options.get("refresh_token")
    )
    settings = source_settings_from(options)
    fill_check_settings_from_dlt(click.get_current_context(), settings)
    with report_errors():
        ok = run_checks(settings, echo=click.echo)
    if not ok:
        raise SystemExit(1)


# `--help` goes to the emulator's own parser, which lists every option.
@click.command(
    context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    add_help_option=False,
)
@click.pass_context
def emulator(ctx: click.Context) -> None:
    """Serve the bundled Jira emulator on 127.0.0.1 (`jira-etl emulator --help` lists options)."""
    from pipelines.emulator.__main__ import main as emulator_main

    emulator_main(list(ctx.args), prog="jira-etl emulator")


@click.command()
@click.option("--duckdb-path", default="jira.duckdb", show_default=True, help="DuckDB file.")
@click.option("--dataset", default="jira", show_default=True, help="Dataset (schema).")
@click.option("--issues", default=500, show_default=True, help="Issues the emulator generates.")
@click.option("--seed", default=7, show_default=True, help="Seed of the generated data.")
@click.option(
    "--pipelines-dir",
    default=".jira-etl/pipelines",
    show_default=True,
    help="Folder for the demo pipeline's local state.",
)
@click.option("--html", "html_path", default="report.html", show_default=True, help="Report file.")
def demo(
    duckdb_path: str, dataset: str, issues: int, seed: int, pipelines_dir: str, html_path: str
) -> None:
    """Start the emulator, load it into DuckDB, and show what landed."""
    from pipelines.destinations.duckdb_catalog import connect_dataset
    from pipelines.emulator import Emulator
    from pipelines.runner import RunOptions, check_names, run

    options = RunOptions(
        pipeline_name="jira_demo",
        dataset=dataset,
        duckdb_path=duckdb_path,
        pipelines_dir=pipelines_dir,
        full_refresh=True,
    )
    with report_errors():
        # An invalid dataset name stops the demo before the emulator starts.
        check_names(options)
    with Emulator(issues=issues, seed=seed, time_zone="America/Los_Angeles") as emu:
        click.echo(f"Jira emulator (Cloud) serving {issues} issues at {emu.site_url}")
        settings = {
            "auth": "bearer",
            "token": emu.scoped_token,
            "site_url": emu.site_url,
            "gateway_url": emu.gateway_url,
        }
        register_secret(emu.scoped_token)
        with report_errors():
            summary = run(options, settings)
    print_summary(summary)
    click.echo("")
    catalog = Path(duckdb_path).stem
    click.echo(
        f"Example queries follow. To run your own, open {duckdb_path} with DuckDB (the duckdb "
        f"Python package or the DuckDB command-line client) and start with "
        f"`use {catalog}.{dataset};`"
    )
    with connect_dataset(duckdb_path, dataset, read_only=True) as connection:
        for title, query in EXAMPLE_QUERIES:
            sql_text = query
            click.echo(f"\n-- {title}\n{sql_text};")
            for row in connection.sql(sql_text).fetchall():
                click.echo("   " + " | ".join("" if v is None else str(v) for v in row))
    _apply_reporting(duckdb_path, dataset, html_path)


def _apply_reporting(duckdb_path: str, dataset: str, html_path: str) -> None:
    try:
        from pipelines.reporting.demo import apply_and_render
    except ImportError:
        return
    apply_and_render(duckdb_path, dataset, html_path, echo=click.echo)


@click.command()
@click.option("--dataset", envvar="JIRA_DATASET", default="jira", show_default=True)
@click.option("--duckdb-path", envvar="JIRA_DUCKDB_PATH", default="jira.duckdb", show_default=True)
@click.option("--destination", envvar="JIRA_DESTINATION", default="duckdb", show_default=True)
@click.option(
    "--pipeline-name",
    "pipeline_names",
    envvar="JIRA_PIPELINE_NAME",
    multiple=True,
    help="Pipeline to show; repeat for several [default: jira_<dataset>].",
)
@click.option("--pipelines-dir", envvar="JIRA_PIPELINES_DIR", default=None)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object per pipeline.")
def status(
    dataset: str,
    duckdb_path: str,
    destination: str,
    pipeline_names: tuple[str, ...],
    pipelines_dir: str | None,
    as_json: bool,
) -> None:
    """Show the last run, its outcome, the cursor, rows per table and pending loads.

    Exits with status 1 when the last run of any pipeline shown failed or was killed, or when
    a pipeline has neither a run record nor any loaded state, as a misspelled name or folder
    gives.
    """
    import json

    from pipelines.destinations.duckdb_catalog import count_rows_read_only
    from pipelines.runner import RunOptions, destination_open_error, make_pipeline, rows_loaded
    from pipelines.status import pipeline_status, run_did_not_finish

    names = pipeline_names or (f"jira_{dataset}",)
    any_failed = False
    for name in names:
        options = RunOptions(
            pipeline_name=name,
            dataset=dataset,
            destination=destination,
            duckdb_path=duckdb_path,
            pipelines_dir=pipelines_dir,
        )
        with report_errors():
            pipeline = make_pipeline(options)
        info = pipeline_status(pipeline)
        info["rows"] = {}
        if destination == "duckdb" and not Path(duckdb_path).exists():
            # Opening a missing file would create it; status only reads.
            info["rows_error"] = f"no DuckDB file at {duckdb_path}"
        else:
            try:
                if destination == "duckdb":
                    # Read-only, so a BI tool that keeps the file open does not hide the rows.
                    info["rows"] = count_rows_read_only(duckdb_path, dataset)
                else:
                    info["rows"] = rows_loaded(pipeline)
            except Exception as exc:  # an unreachable destination is reported, not raised
                # The same message as a run's, such as the advice for a file another program
                # holds, rather than dlt's advice about credentials and the network.
                info["rows_error"] = str(destination_open_error(pipeline, exc))
        recorded_path = (info.get("record") or {}).get("duckdb_path")
        if (
            destination == "duckdb"
            and recorded_path
            and (Path(recorded_path).resolve() != Path(duckdb_path).resolve())
        ):
            info["note"] = (
                f"the last run recorded for pipeline {name} loaded {recorded_path}, not "
                f"{duckdb_path}; pass --pipeline-name or --pipelines-dir to tell them apart"
            )
        record = info.get("record") or {}
        if run_did_not_finish(record):
            record = info["record"] = {**record, "outcome": "did_not_finish"}
        never_ran = not record and not info["has_state"] and not info["pending_packages"]
        any_failed = (
            any_failed or never_ran or record.get("outcome") in ("failed", "did_not_finish")
        )
        if as_json:
            click.echo(json.dumps(info, default=str))
            continue
        click.echo(f"Pipeline {name} (dataset {info['dataset']})")
        if info.get("note"):
            click.echo(f"  note: {info['note']}")
        last_success = f"(last success: {record.get('last_success_at') or 'never'})"
        if record.get("outcome") == "did_not_finish":
            click.echo(
                f"  last run: did not finish. It started at {record.get('started_at')}, and its "
                f"process {record.get('pid')} ended without recording an outcome, as when it is "
                f"killed (SIGKILL, the out-of-memory killer) {last_success}. The next run "
                "resumes from the stored cursor; check the job's log and memory limit."
            )
        elif record.get("outcome") == "running":
            click.echo(
                f"  last run: running since {record.get('started_at')}, process "
                f"{record.get('pid')} on {record.get('host')} {last_success}"
            )
        elif record:
            click.echo(
                f"  last run: {record.get('outcome')} at {record.get('finished_at')} {last_success}"
            )
        elif never_ran:
            click.echo(
                f"  last run: none recorded, and no state of pipeline {name} in "
                f"{pipeline.pipelines_dir}. Check --dataset, --pipeline-name and --pipelines-dir."
            )
        else:
            # A run that was killed records nothing, though the parts it loaded stay.
            click.echo("  last run: none recorded (a run was interrupted before it ended)")
        cursor = info["cursor"] or "none yet"
        if info["cursor"] and not info["cursor_loaded"]:
            cursor += " (not loaded yet: the next run loads the pending packages first)"
        click.echo(f"  cursor: {cursor}")
        click.echo(f"  pending load packages: {info['pending_packages']}")
        for table, count in sorted(info["rows"].items()):
            click.echo(f"  {table}: {count} rows")
        skipped = (record.get("summary") or {}).get("skipped") or {}
        for table, reason in sorted(skipped.items()):
            click.echo(f"  {table}: not loaded in full by the last run: {reason}")
        not_loaded = (record.get("summary") or {}).get("not_loaded") or 0
        if not_loaded:
            click.echo(
                f"  issues the filter matches that the tables lack: {not_loaded} (the next run "
                "reads them by id)"
            )
        if info.get("rows_error"):
            click.echo(f"  rows: unavailable ({info['rows_error']})")
        last_error = record.get("last_error")
        if last_error:
            click.echo(f"  last error ({last_error.get('at')}): {last_error.get('message')}")
    if any_failed:
        raise SystemExit(1)
