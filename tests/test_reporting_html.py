"""The HTML dashboard: content, offline rendering in headless Chromium, and the CLI path."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from pipelines.reporting.cli import report_command, sql
from pipelines.reporting.html import render_dashboard
from pipelines.reporting.report import AgingIssue, FinishedIssue, ReportData
from tests.test_reporting_dataset import load_dataset

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--enable-logging=stderr",
    "--v=0",
]


def sample_data() -> ReportData:
    """Build 12 weeks of made-up but plausible flow data with fixed values."""
    data = ReportData()
    first_day = date(2024, 1, 1)
    for offset in range(84):
        day = first_day + timedelta(days=offset)
        done = offset // 2
        data.flow.append((day, "done", done))
        data.flow.append((day, "indeterminate", 6 + offset % 5))
        data.flow.append((day, "new", 20 + offset // 4 - offset // 6))
    for index in range(40):
        finished = datetime(2024, 1, 8, tzinfo=UTC) + timedelta(days=index * 1.8)
        cycle = 1.0 + (index * 7) % 13 + (index % 3) * 0.5
        data.finished.append(FinishedIssue(f"PRJ-{index + 1}", finished, cycle, cycle + 3))
    for week_index in range(12):
        week = first_day + timedelta(weeks=week_index)
        data.throughput.append((week, 2 + (week_index * 5) % 6))
        created = 4 + week_index % 3
        resolved = 3 + (week_index * 2) % 4
        previous = data.created_resolved[-1] if data.created_resolved else (week, 0, 0, 0, 0)
        data.created_resolved.append(
            (week, created, resolved, previous[3] + created, previous[4] + resolved)
        )
    for index in range(9):
        data.aging.append(
            AgingIssue(f"PRJ-{100 + index}", "Summary", "In Progress", 25.0 - index * 2.7)
        )
    return data


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG file"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def run_chromium(page: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    chromium = shutil.which("chromium")
    assert chromium, "chromium is not installed: apt-get install -y chromium"
    with tempfile.TemporaryDirectory() as profile:
        return subprocess.run(
            [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *arguments, page.as_uri()],
            capture_output=True,
            text=True,
            timeout=90,
        )


def test_dashboard_is_self_contained() -> None:
    page = render_dashboard(sample_data(), "jira", datetime(2024, 3, 25, tzinfo=UTC))
    assert page.count('<svg class="chart"') == 5
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "@import" not in page
    for title in ("Cumulative flow", "Cycle time", "Weekly throughput", "Aging work"):
        assert title in page
    assert "p85" in page


def test_dashboard_shows_empty_charts() -> None:
    page = render_dashboard(ReportData(), "jira")
    assert page.count('<svg class="chart"') == 5
    assert "No finished issues yet" in page
    assert "Nothing in progress" in page


def test_dashboard_renders_in_chromium(tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    page.write_text(render_dashboard(sample_data(), "jira"), encoding="utf-8")

    dom = run_chromium(page, "--dump-dom")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert 'data-charts="5"' in dom.stdout
    assert re.search(r'<div id="page-errors" hidden="">\s*</div>', dom.stdout), dom.stdout[:2000]
    console_errors = [
        line for line in dom.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line
    ]
    assert console_errors == []

    screenshot = tmp_path / "report.png"
    shot = run_chromium(page, f"--screenshot={screenshot}", "--window-size=1280,2000")
    assert shot.returncode == 0, shot.stderr[-2000:]
    assert png_size(screenshot) == (1280, 2000)
    # A blank page compresses to a few kilobytes; five drawn charts do not.
    assert screenshot.stat().st_size > 60_000


def test_report_command_writes_dashboard(tmp_path: Path) -> None:
    database = tmp_path / "jira.duckdb"
    connection = duckdb.connect(str(database))
    load_dataset(connection, "jira.jira")
    connection.close()
    runner = CliRunner()
    env = {"JIRA_DUCKDB_PATH": str(database), "JIRA_DATASET": "jira"}
    applied = runner.invoke(sql, ["apply", "--as-of", "2024-03-15"], env=env)
    assert applied.exit_code == 0, applied.output
    assert "Created 22 views" in applied.output

    html_path = tmp_path / "report.html"
    result = runner.invoke(report_command, ["--html", str(html_path)], env=env)
    assert result.exit_code == 0, result.output
    assert "PRJ-2  In Progress         9.6  Import" in result.output
    assert "cycle time  4.1  4.1  4.1" in result.output
    page = html_path.read_text(encoding="utf-8")
    assert page.count('<svg class="chart"') == 5
    assert "PRJ-1: 4.1 days" in page


def test_report_without_views_fails(tmp_path: Path) -> None:
    database = tmp_path / "jira.duckdb"
    connection = duckdb.connect(str(database))
    load_dataset(connection, "jira.jira")
    connection.close()
    result = CliRunner().invoke(report_command, ["--duckdb-path", str(database)])
    assert result.exit_code == 1
    assert "run `jira-etl sql apply` first" in result.output


def test_missing_duckdb_file_fails(tmp_path: Path) -> None:
    missing = tmp_path / "absent.duckdb"
    for command, arguments in ((sql, ["apply"]), (report_command, [])):
        result = CliRunner().invoke(command, [*arguments, "--duckdb-path", str(missing)])
        assert result.exit_code == 1
        assert f"DuckDB file `{missing}` not found" in result.output
        assert not missing.exists()


def test_unreachable_postgres_hides_password() -> None:
    dsn = "postgresql://postgres:s3cret@127.0.0.1:1/test"
    result = CliRunner().invoke(sql, ["apply", "--destination", "postgres", "--postgres-dsn", dsn])
    assert result.exit_code == 1
    assert "Cannot connect to PostgreSQL" in result.output
    assert "s3cret" not in result.output


@pytest.mark.parametrize("value", ["category:done", "Done"])
def test_apply_accepts_cycle_options(tmp_path: Path, value: str) -> None:
    database = tmp_path / "jira.duckdb"
    connection = duckdb.connect(str(database))
    load_dataset(connection, "jira.jira")
    connection.close()
    result = CliRunner().invoke(
        sql,
        [
            "apply",
            "--duckdb-path",
            str(database),
            "--cycle-start",
            "In Progress",
            "--cycle-end",
            value,
            "--track-field",
            "status",
            "--track-field",
            "Team",
        ],
    )
    assert result.exit_code == 0, result.output
    connection = duckdb.connect(str(database))
    columns = [
        c[0]
        for c in connection.execute(
            "select column_name from information_schema.columns "
            "where table_name = 'daily_issue_field_history' order by ordinal_position"
        ).fetchall()
    ]
    assert columns == ["date_day", "issue_id", "issue_key", "status", "team"]
