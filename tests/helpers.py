"""Run the real CLI in a subprocess and read what it loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import duckdb
import httpx
import psycopg2

from pipelines.destinations.duckdb_catalog import quote_identifier
from tests.cli_process import run_forked

REPO_ROOT = Path(__file__).resolve().parent.parent
# The local PostgreSQL server takes any password (trust authentication).
POSTGRES_DSN = "postgresql://postgres:trust-auth-ignores-this@127.0.0.1:5432/test"


@contextmanager
def postgres_schema(prefix: str) -> Iterator[str]:
    """Yield a new schema name, then drop that schema and its staging schema."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    try:
        yield name
    finally:
        with psycopg2.connect(POSTGRES_DSN) as connection, connection.cursor() as cursor:
            cursor.execute(f'drop schema if exists "{name}" cascade')
            cursor.execute(f'drop schema if exists "{name}_staging" cascade')


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr


def emulator_run_args(emu: Any, duckdb_path: Path, pipelines_dir: Path, *extra: str) -> list[str]:
    """Build the arguments of `jira-etl run` against an emulator's site and gateway."""
    return site_run_args(emu.site_url, emu.gateway_url, duckdb_path, pipelines_dir, *extra)


def site_run_args(
    site_url: str, gateway_url: str, duckdb_path: Path, pipelines_dir: Path, *extra: str
) -> list[str]:
    """Build the arguments of `jira-etl run` against a site and gateway, such as a proxy's."""
    return [
        "run",
        "--site-url",
        site_url,
        "--gateway-url",
        gateway_url,
        "--duckdb-path",
        str(duckdb_path),
        "--pipelines-dir",
        str(pipelines_dir),
        *extra,
    ]


def start_run_process(
    args: list[str], env: dict[str, str], stderr_file: Path
) -> subprocess.Popen[bytes]:
    """Start `jira-etl` with `args` in a new interpreter, its errors written to `stderr_file`.

    Its environment is this process's without the `JIRA_*` variables, updated with `env`.
    """
    child_env = {k: v for k, v in os.environ.items() if not k.startswith("JIRA_")}
    child_env |= env | {"RUNTIME__DLTHUB_TELEMETRY": "false"}
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", *args],
        env=child_env,
        stdout=subprocess.DEVNULL,
        stderr=stderr_file.open("wb"),
    )


def run_cli(
    args: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 180,
) -> CliResult:
    """Run `jira-etl ARGS` as a user would, with a clean JIRA_* environment."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("JIRA_", "SOURCES__"))}
    base["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    base["JIRA_MIN_RETRY_WAIT"] = "0.05"
    base.update(env or {})
    completed = run_forked(args, base, str(cwd or REPO_ROOT), timeout)
    return CliResult(completed.returncode, completed.stdout, completed.stderr)


def query(path: Path, sql: str, dataset: str = "jira") -> list[tuple[Any, ...]]:
    """Run `sql` on the DuckDB file with `dataset` as the default schema."""
    connection = duckdb.connect(str(path), read_only=True)
    try:
        catalog = connection.execute("select current_database()").fetchone()[0]
        connection.execute(f"use {quote_identifier(catalog)}.{quote_identifier(dataset)}")
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def snapshot(path: Path, dataset: str = "jira") -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table in the dataset, sorted, for before/after comparisons."""
    connection = duckdb.connect(str(path), read_only=True)
    try:
        tables = [
            row[0]
            for row in connection.execute(
                "select table_name from information_schema.tables where table_schema = ?",
                [dataset],
            ).fetchall()
        ]
        result = {}
        for table in tables:
            catalog = connection.execute("select current_database()").fetchone()[0]
            rows = connection.execute(f'select * from "{catalog}"."{dataset}"."{table}"').fetchall()
            result[table] = sorted(rows, key=repr)
        return result
    finally:
        connection.close()


def send_body(
    handler: BaseHTTPRequestHandler,
    status: int,
    body: bytes,
    content_type: str = "application/json",
) -> None:
    """Send a whole response from a test server's request handler."""
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)


def send_json(handler: BaseHTTPRequestHandler, status: int, payload: Any) -> None:
    """Send `payload` as a JSON response from a test server's request handler."""
    send_body(handler, status, json.dumps(payload).encode())


class RewritingProxy:
    """Forward every request to `upstream` from a server on 127.0.0.1, changing responses.

    Subclasses override `rewrite`, which returns the body to send back for each response, and
    `request_path` and `request_body` to change a request before it is forwarded.
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_GET(self) -> None:  # noqa: N802
                self.forward("GET")

            def do_POST(self) -> None:  # noqa: N802
                self.forward("POST")

            def forward(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = proxy.request_body(self.path, self.rfile.read(length) if length else None)
                skipped = ("host", "content-length")
                headers = {k: v for k, v in self.headers.items() if k.lower() not in skipped}
                answer = httpx.request(
                    method,
                    proxy.upstream + proxy.request_path(self.path),
                    content=body,
                    headers=headers,
                )
                content = proxy.rewrite(self.path, body, answer)
                try:
                    self.send_response(proxy.status(self.path, body, answer))
                    self.send_header("Content-Type", answer.headers.get("content-type", ""))
                    self.send_header("Content-Length", str(len(content)))
                    self.end_headers()
                    self.wfile.write(content)
                except (BrokenPipeError, ConnectionResetError):
                    # The client gave up on the request, as a run that stops does.
                    return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def request_path(self, path: str) -> str:
        """Return the path, with its query, to request from `upstream` for `path`."""
        return path

    def request_body(self, path: str, body: bytes | None) -> bytes | None:
        """Return the body to send to `upstream` for a request of `path` with `body`."""
        return body

    def rewrite(self, path: str, body: bytes | None, answer: httpx.Response) -> bytes:
        """Return the body to send back for `answer`, the response to a request of `path`."""
        return answer.content

    def status(self, path: str, body: bytes | None, answer: httpx.Response) -> int:
        """Return the status to send back for `answer`, the response to a request of `path`."""
        return answer.status_code

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def oauth_client_auth(oauth: Any) -> Any:
    """Return the auth of a new client of an `OAuthEmulator`, with its token and resources URLs."""
    from pipelines.client.auth import build_auth

    client_id, secret = oauth.add_client()
    return build_auth(
        "oauth",
        None,
        client_id=client_id,
        client_secret=secret,
        token_url=oauth.token_url,
        resources_url=oauth.resources_url,
    )


def history_rows(emu: Any) -> set[tuple[int, int, int]]:
    """The emulator's `issue_changelog` keys: (issue id, history id, item position) per item."""
    with emu.store.lock:
        return {
            (record.id, int(history["id"]), position)
            for record in emu.store.records.values()
            for history in emu.store.histories(record)
            for position in range(len(history["items"]))
        }
