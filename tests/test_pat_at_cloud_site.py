"""A Data Center Personal Access Token run pointed at a Jira Cloud site.

Cloud serves the field list at `/rest/api/2/field` but returns 410 for the Data Center search
`/rest/api/2/search`, which it removed. The message must name the cause (the wrong `--auth`),
not ask for an upgrade of jira-etl.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from pipelines.client.auth import JiraAuth
from pipelines.client.connection import resolve_connection
from pipelines.client.errors import translate_error
from tests.helpers import run_cli, send_json

REMOVED = "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API."


@pytest.fixture
def cloud_site() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return None

        def reply(self, status: int, payload: Any) -> None:
            send_json(self, status, payload)

        def do_GET(self) -> None:  # noqa: N802
            if self.path.startswith("/rest/api/2/field"):
                self.reply(200, [])
            else:
                self.reply(410, {"errorMessages": [REMOVED], "errors": {}})

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            self.reply(410, {"errorMessages": [REMOVED], "errors": {}})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_pat_at_cloud_names_auth(cloud_site: str, tmp_path: Path) -> None:
    args = [
        "run",
        "--site-url",
        cloud_site,
        "--auth",
        "pat",
        "--duckdb-path",
        str(tmp_path / "jira.duckdb"),
        "--pipelines-dir",
        str(tmp_path / "pipelines"),
    ]
    result = run_cli(args, env={"JIRA_TOKEN": "pat-for-cloud-test"})
    assert result.exit_code == 1, result.output
    assert result.stderr.count("Error:") == 1, result.stderr
    assert "410" in result.stderr
    assert "/rest/api/2/search" in result.stderr
    assert "this is a Jira Cloud site" in result.stderr
    assert "--auth bearer" in result.stderr
    assert "Upgrade jira-etl" not in result.stderr


def test_pat_rejected_at_cloud_host_names_auth() -> None:
    auth = JiraAuth("pat", token="pat-token-value")
    connection = resolve_connection(auth, site_url="https://acme.atlassian.net")
    url = "https://acme.atlassian.net/rest/api/2/myself"
    response = httpx.Response(
        401,
        json={"errorMessages": ["Client must be authenticated to access this resource."]},
        request=httpx.Request("GET", url),
    )

    message = str(translate_error(response, url, connection))

    assert "acme.atlassian.net is a Jira Cloud site" in message
    assert "Use --auth bearer" in message
    assert "Data Center does not accept Cloud API tokens" not in message
