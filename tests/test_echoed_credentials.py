"""A server that echoes the request's Authorization header in its body.

Login pages, proxies and debugging gateways sometimes copy the request headers into an error
page. The run fails with a message quoting the body, and that message is printed, written to the
status record and kept in dlt's trace. None of them may carry the credential or a piece of it.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from pipelines.client.errors import redact
from tests.helpers import run_cli

TOKEN = "tk7Q" + "3f9c0a5e1b7d" * 5
EMAIL = "loader@example.com"
BASIC_CREDENTIAL = base64.b64encode(f"{EMAIL}:{TOKEN}".encode()).decode()
# Long enough that finding it in output means part of the credential leaked.
PREFIX_CHARS = 12


def echo_page(status: int, authorization: str) -> tuple[int, str, bytes]:
    """Return the status, content type and body that quote `authorization`."""
    if status == 400:
        message = f"Request header Authorization: {authorization} is not valid here."
        body = json.dumps({"errorMessages": [message], "errors": {}})
        return status, "application/json", body.encode()
    # The credential starts about 55 characters in, so it crosses the 80-character quote.
    filler = "Upstream error; request headers: "
    return status, "text/plain", f"{filler}Authorization: {authorization}".encode()


@pytest.fixture(params=[200, 400, 401])
def echo_server(request: pytest.FixtureRequest) -> Iterator[str]:
    status = request.param

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return None

        def do_GET(self) -> None:  # noqa: N802
            code, content_type, body = echo_page(status, self.headers.get("Authorization", ""))
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def leaked_pieces(text: str) -> list[str]:
    return [
        secret[:PREFIX_CHARS]
        for secret in (TOKEN, BASIC_CREDENTIAL)
        if secret[:PREFIX_CHARS] in text
    ]


@pytest.mark.parametrize("auth", ["bearer", "basic"])
def test_echoed_credential_is_redacted(echo_server: str, auth: str, tmp_path: Path) -> None:
    pdir = tmp_path / "pipelines"
    args = [
        "run",
        "--base-url",
        echo_server,
        "--auth",
        auth,
        "--email",
        EMAIL,
        "--duckdb-path",
        str(tmp_path / "jira.duckdb"),
        "--pipelines-dir",
        str(pdir),
    ]
    result = run_cli(args, env={"JIRA_TOKEN": TOKEN})
    assert result.exit_code == 1, result.output
    assert "Authorization" in result.stderr, "the failure should quote the echoed header"
    assert leaked_pieces(result.output) == []

    status = run_cli(["status", "--pipelines-dir", str(pdir), "--duckdb-path", str(tmp_path / "x")])
    assert "Authorization" in status.output, status.output
    assert leaked_pieces(status.output) == []

    written = [path for path in pdir.rglob("*") if path.is_file()]
    assert written, "the run should record its failure in the pipelines folder"
    for path in written:
        assert leaked_pieces(path.read_bytes().decode("latin-1")) == [], path


@pytest.mark.parametrize(
    ("echo", "expected"),
    [
        (f"Authorization: Bearer {TOKEN}.", "Authorization: Bearer ***."),
        (f"authorization: bearer {TOKEN.lower()}.", "authorization: bearer ***."),
        (f"header cut: {TOKEN[:17]}", "header cut: ***"),
        (f"tail: {TOKEN[-20:]}!", "tail: ***!"),
        (f"twice: {TOKEN}{TOKEN}", "twice: ***"),
        ("no credential in this page", "no credential in this page"),
    ],
    ids=["whole", "lower case", "cut short", "end", "twice", "none"],
)
def test_credential_in_response_text_replaced(echo: str, expected: str) -> None:
    assert redact(echo, [TOKEN, BASIC_CREDENTIAL]) == expected


def test_short_secret_replaced_in_any_case() -> None:
    assert redact("key s3cr3t and S3CR3T", ["s3cr3t"]) == "key *** and ***"


def test_runs_of_twelve_or_more_replaced() -> None:
    for length in range(12, 17):
        for offset in range(len(TOKEN) - length + 1):
            run = TOKEN[offset : offset + length]
            text = f"echo <{run}> end"
            assert redact(text, [TOKEN]) == "echo <***> end", (offset, length)


def test_runs_of_eleven_kept() -> None:
    # Shorter runs occur in ordinary text, so they are kept.
    text = f"echo <{TOKEN[5:16]}> end"
    assert redact(text, [TOKEN]) == text
