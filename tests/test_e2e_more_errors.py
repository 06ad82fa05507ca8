"""More bad input: a token without the work scope, a TLS failure, reporting on PostgreSQL."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from pipelines.emulator import Emulator
from tests.helpers import run_cli

START = dt.datetime(2026, 10, 5, 6, 0, 1, tzinfo=dt.UTC)
POSTGRES_DSN = "postgresql://postgres:trust-auth-ignores-this@127.0.0.1:5432/test"


@pytest.fixture
def emu():
    with Emulator(issues=40, seed=14, start=START) as server:
        yield server


def base(emu: Emulator, tmp_path: Path) -> list[str]:
    return [
        "run",
        "--site-url",
        emu.site_url,
        "--gateway-url",
        emu.gateway_url,
        "--duckdb-path",
        str(tmp_path / "jira.duckdb"),
        "--pipelines-dir",
        str(tmp_path / "p"),
        "--max-retries",
        "1",
    ]


def test_token_without_work_scope_names_the_scope(emu: Emulator, tmp_path: Path) -> None:
    token = "scoped-user-only-" + uuid.uuid4().hex
    emu.add_token(token, {"read:jira-user"})
    result = run_cli(base(emu, tmp_path), env={"JIRA_TOKEN": token})
    assert result.exit_code == 1, result.output
    assert "lacks a scope" in result.stderr
    assert "read:jira-work" in result.stderr
    assert token not in result.output


def test_tls_failure_is_not_retried_and_explained(emu: Emulator, tmp_path: Path) -> None:
    # The emulator speaks plain HTTP, so a TLS handshake with it fails like a broken proxy.
    https_url = emu.site_url.replace("http://", "https://")
    args = [
        "run",
        "--auth",
        "basic",
        "--email",
        emu.email,
        "--base-url",
        https_url,
        "--duckdb-path",
        str(tmp_path / "jira.duckdb"),
        "--pipelines-dir",
        str(tmp_path / "p"),
    ]
    result = run_cli(args, env={"JIRA_TOKEN": emu.classic_token})
    assert result.exit_code == 1, result.output
    assert "TLS handshake with 127.0.0.1" in result.stderr
    assert "retry" not in result.stderr.lower()


def test_reporting_views_run_on_loaded_postgres(emu: Emulator, tmp_path: Path) -> None:
    schema = f"jira_report_{uuid.uuid4().hex[:8]}"
    env = {"JIRA_TOKEN": emu.scoped_token, "DESTINATION__POSTGRES__CREDENTIALS": POSTGRES_DSN}
    try:
        loaded = run_cli(
            [*base(emu, tmp_path), "--destination", "postgres", "--dataset", schema], env=env
        )
        assert loaded.exit_code == 0, loaded.output
        applied = run_cli(
            [
                "sql",
                "apply",
                "--destination",
                "postgres",
                "--postgres-dsn",
                POSTGRES_DSN,
                "--dataset",
                schema,
            ]
        )
        assert applied.exit_code == 0, applied.output
        report = run_cli(
            [
                "report",
                "--destination",
                "postgres",
                "--postgres-dsn",
                POSTGRES_DSN,
                "--dataset",
                schema,
                "--html",
                str(tmp_path / "report.html"),
            ]
        )
        assert report.exit_code == 0, report.output
        assert "Cycle and lead time" in report.stdout
        assert (tmp_path / "report.html").stat().st_size > 10_000
        with psycopg2.connect(POSTGRES_DSN) as connection, connection.cursor() as cursor:
            cursor.execute(f'select count(*) from "{schema}".issue_enhanced')
            live = [t for t in emu.truth()]
            assert cursor.fetchone()[0] == len(live)
    finally:
        with psycopg2.connect(POSTGRES_DSN) as connection, connection.cursor() as cursor:
            cursor.execute(f'drop schema if exists "{schema}" cascade')
            cursor.execute(f'drop schema if exists "{schema}_staging" cascade')


def test_expired_access_token_fails_clearly(emu: Emulator, tmp_path: Path) -> None:
    import time

    import httpx

    from pipelines.emulator_oauth import OAuthEmulator

    # Long enough for the first run on a busy machine; the second waits for it to pass.
    lifetime = 20.0
    with OAuthEmulator(emu, expires_in=lifetime) as oauth:
        client_id, secret = oauth.add_client()
        granted = httpx.post(
            oauth.token_url,
            json={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
            },
        )
        assert granted.status_code == 200, granted.text
        granted_at = time.monotonic()
        access_token = granted.json()["access_token"]
        fresh = run_cli(base(emu, tmp_path), env={"JIRA_TOKEN": access_token})
        assert fresh.exit_code == 0, fresh.output
        assert time.monotonic() - granted_at < lifetime, "the first run outlived the token"
        time.sleep(max(0.0, lifetime + 0.5 - (time.monotonic() - granted_at)))
        expired = run_cli(base(emu, tmp_path), env={"JIRA_TOKEN": access_token})
    assert expired.exit_code == 1, expired.output
    assert "401" in expired.stderr
    assert "current OAuth access token" in expired.stderr
    assert access_token not in expired.output


def test_postgres_dsn_without_password_says_so(emu: Emulator, tmp_path: Path) -> None:
    dataset = f"jira_nopw_{uuid.uuid4().hex[:8]}"
    result = run_cli(
        [*base(emu, tmp_path), "--destination", "postgres", "--dataset", dataset],
        env={
            "JIRA_TOKEN": emu.scoped_token,
            "DESTINATION__POSTGRES__CREDENTIALS": "postgresql://postgres@127.0.0.1:5432/test",
        },
    )
    assert result.exit_code == 2, result.output
    assert "DESTINATION__POSTGRES__CREDENTIALS has no password" in result.stderr
    assert "give any, e.g. user:unused@host" in result.stderr
    with psycopg2.connect(POSTGRES_DSN) as connection, connection.cursor() as cursor:
        cursor.execute(
            "select count(*) from information_schema.schemata where schema_name = %s", (dataset,)
        )
        assert cursor.fetchone() == (0,)


def test_unreachable_postgres_error_omits_duckdb(emu: Emulator, tmp_path: Path) -> None:
    # Nothing listens on port 1 of the loopback address, so the connection is refused.
    result = run_cli(
        [*base(emu, tmp_path), "--destination", "postgres", "--dataset", "jira_unreachable"],
        env={
            "JIRA_TOKEN": emu.scoped_token,
            "DESTINATION__POSTGRES__CREDENTIALS": "postgresql://postgres:unused@127.0.0.1:1/test",
        },
    )
    assert result.exit_code == 1, result.output
    assert "Connection refused" in result.stderr
    assert "DuckDB" not in result.stderr
    assert not any(request["path"].endswith("/search/jql") for request in emu.requests)


def test_missing_endpoint_not_blamed_on_cloud_id(emu: Emulator, tmp_path: Path) -> None:
    emu.add_fault(r"/rest/api/3/priority$", 404, times=None)
    result = run_cli(base(emu, tmp_path), env={"JIRA_TOKEN": emu.scoped_token})
    assert result.exit_code == 1, result.output
    assert "404 from" in result.stderr
    assert "where other requests to the same API root succeeded" in result.stderr
    assert "--skip-tables" in result.stderr
    assert "does not know cloud id" not in result.stderr


def test_missing_search_advises_no_skipped_table(emu: Emulator, tmp_path: Path) -> None:
    emu.add_fault(r"/search/jql$", 404, times=None)
    result = run_cli(base(emu, tmp_path), env={"JIRA_TOKEN": emu.scoped_token})
    assert result.exit_code == 1, result.output
    assert "where other requests to the same API root succeeded" in result.stderr
    assert "Look for a newer jira-etl." in result.stderr
    assert "--skip-tables" not in result.stderr


def test_first_request_404_blames_path(emu: Emulator, tmp_path: Path) -> None:
    # The field catalog is the first request at the API root.
    emu.add_fault(r"/rest/api/3/field$", 404, times=None)
    result = run_cli(base(emu, tmp_path), env={"JIRA_TOKEN": emu.scoped_token})
    assert result.exit_code == 1, result.output
    assert "/rest/api/3/field, where other requests to the same API root succeeded" in (
        result.stderr
    )
    assert "does not know cloud id" not in result.stderr
    paths = [request["path"] for request in emu.requests]
    assert paths[-1].endswith("/rest/api/3/serverInfo")


def test_wrong_cloud_id_still_named(emu: Emulator, tmp_path: Path) -> None:
    wrong = "0b5e7a0c-1111-4222-8333-944455556666"
    args = ["run", "--cloud-id", wrong, "--gateway-url", emu.gateway_url]
    args += base(emu, tmp_path)[5:]
    result = run_cli(args, env={"JIRA_TOKEN": emu.scoped_token})
    assert result.exit_code != 0, result.output
    assert f"does not know cloud id `{wrong}`" in result.stderr


@contextlib.contextmanager
def silent_server() -> Iterator[tuple[str, threading.Event]]:
    """Serve on 127.0.0.1 a server that accepts connections and never responds.

    Yields its URL and an event set once it has accepted a connection.
    """
    silent = socket.create_server(("127.0.0.1", 0))
    accepted: list[socket.socket] = []
    connected = threading.Event()
    stop = threading.Event()

    def accept() -> None:
        silent.settimeout(0.2)
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                accepted.append(silent.accept()[0])
                connected.set()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{silent.getsockname()[1]}", connected
    finally:
        stop.set()
        thread.join()
        for connection in accepted:
            connection.close()
        silent.close()


def start_interruptible(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start `args` with the default SIGINT action, as a shell starts a command.

    A test runner's worker may ignore SIGINT, and a child would inherit that.
    """
    return subprocess.Popen(
        args,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # noqa: PLW1509
    )


def test_read_timeout_names_timeout(tmp_path: Path) -> None:
    with silent_server() as (site, _):
        args = ["run", "--auth", "pat", "--site-url", site, "--timeout", "1"]
        args += ["--max-retries", "2", "--duckdb-path", str(tmp_path / "jira.duckdb")]
        args += ["--pipelines-dir", str(tmp_path / "p")]
        result = run_cli(args, env={"JIRA_TOKEN": "not-a-real-pat-token"})
    assert result.exit_code == 1, result.output
    assert "did not respond within the 1 s timeout (ReadTimeout) after 2 attempts" in result.stderr
    assert "Raise --timeout" in result.stderr
    assert "Could not connect" not in result.stderr


def test_ctrl_c_during_check_exits_130() -> None:
    with silent_server() as (site, connected):
        env = {k: v for k, v in os.environ.items() if not k.startswith("JIRA_")}
        env |= {"JIRA_TOKEN": "not-a-real-pat-token", "RUNTIME__DLTHUB_TELEMETRY": "false"}
        args = [sys.executable, "-m", "pipelines.cli", "check", "--auth", "pat"]
        args += ["--site-url", site, "--timeout", "60"]
        process = start_interruptible(args, env)
        # The first request waits for a response that never comes.
        assert connected.wait(60), "the check never connected"
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    message = stderr.decode()
    assert process.returncode == 130, message
    assert message.startswith("Error: Interrupted.")
    assert "Aborted" not in message


@pytest.mark.parametrize("signal_number", [signal.SIGINT, signal.SIGTERM])
def test_signal_during_read_exits_130(tmp_path: Path, signal_number: int) -> None:
    with Emulator(issues=400, seed=3, latency_ms=50) as emu:
        # Every issue fetch hangs, so the run is still reading when the signal arrives.
        emu.add_fault(r"/issue/bulkfetch$", delay_seconds=30, times=None)
        env = {k: v for k, v in os.environ.items() if not k.startswith("JIRA_")}
        env |= {"JIRA_TOKEN": emu.scoped_token, "RUNTIME__DLTHUB_TELEMETRY": "false"}
        args = [sys.executable, "-m", "pipelines.cli", *base(emu, tmp_path)]
        # Each hanging fetch times out after 3 s, and would be tried 6 times in all.
        args += ["--timeout", "3", "--max-retries", "6"]
        process = start_interruptible(args, env)
        deadline = time.monotonic() + 60
        # The emulator logs a request once it responds, and bulk fetches follow the id search.
        while not any(r["path"].endswith("/search/jql") for r in emu.requests):
            assert time.monotonic() < deadline, "the run never searched"
            time.sleep(0.05)
        time.sleep(1)
        process.send_signal(signal_number)
        signalled = time.monotonic()
        _, stderr = process.communicate(timeout=60)
        # The fetches in flight end at their timeout and are not tried again.
        assert time.monotonic() - signalled < 10
    message = stderr.decode()
    assert process.returncode == 130, message
    assert (
        f"Error: The extract step failed: it was interrupted by signal {signal_number}." in message
    )
    assert message.rstrip().splitlines()[-1].startswith("Error:"), message
    assert "jira_etl.progress: Stopped: " in message
    assert "jira_etl.progress: Done: " not in message
    assert "Traceback" not in message


def test_ctrl_c_outside_error_handling_exits_130() -> None:
    from click.testing import CliRunner

    from pipelines.cli import cli

    # A command of the group that is interrupted outside `report_errors`, as the summary of
    # a finished run is printed.
    @cli.command("interrupted-command", hidden=True)
    def interrupted_command() -> None:
        raise KeyboardInterrupt

    try:
        result = CliRunner().invoke(cli, ["interrupted-command"])
    finally:
        cli.commands.pop("interrupted-command")
    assert result.exit_code == 130, result.output
    assert "Error: Interrupted." in result.output
    assert "Aborted" not in result.output
