"""Serve recorded Jira payloads byte for byte: a search page and a field catalog.

`jira-etl emulator --replay PAGE.json` responds to every search (Cloud `/search/jql`, Data Center
`/search`) with the recorded page, `issue/bulkfetch` with the recorded issues it names, and
`/field` with a catalog recorded beside it or inferred from the custom field keys the issues
carry (typed `any`, so their values load as JSON text). Any credentials are accepted.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

NOT_RECORDED = b'{"errorMessages":["This endpoint was not recorded."],"errors":{}}'


def page_from_file(path: Path) -> dict[str, Any]:
    """Read a recorded search page, a bare issue list, an issue, or a webhook body as a page."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, list):
        issues = data
    elif isinstance(data, dict) and isinstance(data.get("issues"), list):
        issues = data["issues"]
    elif isinstance(data, dict) and isinstance(data.get("issue"), dict):
        issues = [data["issue"]]
    else:
        issues = [data]
    return {"issues": issues, "isLast": True, "startAt": 0, "total": len(issues)}


def inferred_fields(issues: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """List a catalog entry for every custom field key the issues carry."""
    keys = sorted(
        {k for i in issues for k in (i.get("fields") or {}) if k.startswith("customfield_")}
    )
    return [
        {
            "id": key,
            "key": key,
            "name": key,
            "custom": True,
            "schema": {"type": "any", "custom": "recorded", "customId": int(key.split("_")[1])},
        }
        for key in keys
        if key.split("_")[1].isdigit()
    ]


class ReplayServer:
    """A threaded HTTP server on 127.0.0.1 that replays one recorded page."""

    def __init__(
        self, page: dict[str, Any], fields: list[dict[str, Any]] | None = None, port: int = 0
    ) -> None:
        self.issues: list[dict[str, Any]] = page.get("issues", [])
        self.page_body = json.dumps(page).encode()
        self.fields_body = json.dumps(
            fields if fields is not None else inferred_fields(self.issues)
        ).encode()
        self.server = ThreadingHTTPServer(("127.0.0.1", port), _handler(self))
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> ReplayServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> ReplayServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _handler(replay: ReplayServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def answer(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            if path.endswith("/field"):
                self.answer(200, replay.fields_body)
            elif path.endswith("/search/jql") or path.endswith("/api/2/search"):
                self.answer(200, replay.page_body)
            else:
                self.answer(404, NOT_RECORDED)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b"{}"
            try:
                body = json.loads(raw or b"{}")
            except ValueError:
                body = {}
            path = self.path.split("?")[0]
            if path.endswith("/search/jql") or path.endswith("/api/2/search"):
                self.answer(200, replay.page_body)
            elif path.endswith("/issue/bulkfetch"):
                requested = {str(i) for i in body.get("issueIdsOrKeys", [])}
                issues = [i for i in replay.issues if str(i.get("id")) in requested]
                self.answer(200, json.dumps({"issues": issues, "issueErrors": []}).encode())
            else:
                self.answer(404, NOT_RECORDED)

    return Handler
