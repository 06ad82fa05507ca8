"""A token endpoint that echoes the request in its error never puts the client secret on record."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.helpers import run_cli

CLIENT_SECRET = "oauth-client-secret-Zq8sKd93LmNpQrStUv"


class EchoingTokenEndpoint(BaseHTTPRequestHandler):
    """Reject every token request with 401, quoting the body and part of it in upper case."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        description = f"rejected {body}; secret starts {CLIENT_SECRET[:16].upper()}"
        data = json.dumps({"error": "invalid_client", "error_description": description}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def echoing_token_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), EchoingTokenEndpoint)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/oauth/token"
    server.shutdown()
    server.server_close()


def test_echoed_client_secret_is_masked(tmp_path: Path, echoing_token_url: str) -> None:
    pipelines_dir = tmp_path / "pipelines"
    common = ["--duckdb-path", str(tmp_path / "jira.duckdb"), "--pipelines-dir", str(pipelines_dir)]
    args = ["run", "--auth", "oauth", "--token-url", echoing_token_url]
    args += ["--resources-url", echoing_token_url, "--gateway-url", "http://127.0.0.1:9"]
    env = {"JIRA_CLIENT_ID": "client-1", "JIRA_CLIENT_SECRET": CLIENT_SECRET}

    result = run_cli(args + common, env=env)
    status = run_cli(["status", *common], env=env)

    assert result.exit_code == 1, result.stderr
    assert "invalid_client" in result.stderr
    record = (pipelines_dir / "jira_jira.last_run.json").read_text()
    assert "invalid_client" in record
    assert "invalid_client" in status.stdout
    # Every run of 12 characters of the secret counts as a leak, in any letter case.
    pieces = [CLIENT_SECRET[i : i + 12].lower() for i in range(len(CLIENT_SECRET) - 11)]
    for text in (result.stderr, record, status.stdout, status.stderr):
        leaked = [piece for piece in pieces if piece in text.lower()]
        assert leaked == []
