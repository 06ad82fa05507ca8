"""The advice of a 401 or 403 error: a missing scope needs a new token, a missing permission a
Jira admin, and a scoped token at a site needs the gateway."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_cli, send_body

SCOPE_MESSAGE = "The token does not have the required scope: read:jira-work"
PERMISSION_MESSAGE = "You do not have permission to view this resource."


def serve_forbidden(message: str) -> ThreadingHTTPServer:
    """Start a server on 127.0.0.1 that responds to every request with 403 and `message`."""
    return serve_error(403, {"errorMessages": [message], "errors": {}})


def serve_error(status: int, payload: dict[str, Any]) -> ThreadingHTTPServer:
    """Start a server on 127.0.0.1 that responds to every request with `status` and `payload`."""
    body = json.dumps(payload).encode()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return None

        def do_GET(self) -> None:  # noqa: N802
            send_body(self, status, body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def forbidden() -> Iterator[dict[str, str]]:
    servers = {
        "scope": serve_forbidden(SCOPE_MESSAGE),
        "permission": serve_forbidden(PERMISSION_MESSAGE),
    }
    try:
        yield {name: f"http://127.0.0.1:{s.server_address[1]}" for name, s in servers.items()}
    finally:
        for server in servers.values():
            server.shutdown()
            server.server_close()


def run_against(url: str, tmp_path: Path) -> str:
    args = [
        "run",
        "--base-url",
        url,
        "--duckdb-path",
        str(tmp_path / "jira.duckdb"),
        "--pipelines-dir",
        str(tmp_path / "pipelines"),
    ]
    result = run_cli(args, env={"JIRA_TOKEN": "token-for-error-tests"})
    assert result.exit_code == 1, result.output
    assert result.stderr.count("Error:") == 1, result.stderr
    return result.stderr


def test_scope_403_advises_new_token(forbidden: dict[str, str], tmp_path: Path) -> None:
    stderr = run_against(forbidden["scope"], tmp_path)
    assert "403" in stderr
    assert "lacks a scope" in stderr
    assert SCOPE_MESSAGE in stderr
    assert "Browse Projects" not in stderr


def test_permission_403_advises_jira_admin(forbidden: dict[str, str], tmp_path: Path) -> None:
    stderr = run_against(forbidden["permission"], tmp_path)
    assert "403" in stderr
    assert "Browse Projects" in stderr
    assert PERMISSION_MESSAGE in stderr
    assert "scope" not in stderr


# The bodies of a 401 from the gateway for a missing scope and from a site for a scoped token.
GATEWAY_SCOPE_401 = {"code": 401, "message": "Unauthorized; scope does not match"}
SITE_401 = {"errorMessages": ["Client must be authenticated to access this resource."]}


@pytest.mark.parametrize(
    ("payload", "advice", "other_advice"),
    [
        (GATEWAY_SCOPE_401, "lacks a scope", "through the gateway"),
        (SITE_401, "through the gateway", "lacks a scope"),
    ],
    ids=["scope", "site"],
)
def test_bearer_401_at_base_url_advice(
    payload: dict[str, Any], advice: str, other_advice: str, tmp_path: Path
) -> None:
    # A --base-url without /ex/jira/, such as a proxy in front of the gateway.
    server = serve_error(401, payload)
    try:
        stderr = run_against(f"http://127.0.0.1:{server.server_address[1]}", tmp_path)
    finally:
        server.shutdown()
        server.server_close()
    assert "401" in stderr
    assert advice in stderr
    assert other_advice not in stderr
