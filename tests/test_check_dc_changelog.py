"""`jira-etl check` on a Data Center server without the per-issue changelog endpoint."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from pipelines.cli import cli
from pipelines.commands import register_commands
from pipelines.emulator import Emulator

register_commands(cli)


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator(issues=5, flavor="dc") as running:
        yield running


@pytest.fixture
def server_without_changelog(emu: Emulator) -> Iterator[str]:
    """Serve the emulator from 127.0.0.1 with 404 for every `/issue/{id}/changelog` request."""
    upstream = emu.site_url

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return None

        def do_GET(self) -> None:  # noqa: N802
            self.forward("GET")

        def do_POST(self) -> None:  # noqa: N802
            self.forward("POST")

        def forward(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            if self.path.split("?")[0].endswith("/changelog"):
                status, content, kind = 404, b'{"errorMessages":["Not found."]}', "application/json"
            else:
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                answer = httpx.request(method, upstream + self.path, content=body, headers=headers)
                status, content = answer.status_code, answer.content
                kind = answer.headers.get("content-type", "")
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_check_changelog_falls_back(emu: Emulator, server_without_changelog: str) -> None:
    result = CliRunner().invoke(
        cli,
        ["check", "--auth", "pat", "--site-url", server_without_changelog],
        env={"JIRA_TOKEN": emu.pat, "RUNTIME__DLTHUB_TELEMETRY": "false"},
        catch_exceptions=False,
    )
    assert "[fail]" not in result.output
    assert "?expand=changelog answered" in result.output
    assert "All checks passed." in result.output
    assert result.exit_code == 0
