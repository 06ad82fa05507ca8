"""HTTP serving, routing and authentication of the emulator.

Cloud serves the site root and the gateway prefix `/ex/jira/{cloudId}` on one port: the site
accepts Basic `email:classic_token`, the gateway accepts scoped tokens (Bearer or Basic). Data
Center serves `/rest/api/2` at the root and accepts only Bearer personal access tokens.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from pipelines.emulator import reference as ref
from pipelines.emulator import search
from pipelines.emulator.collections import route_collections
from pipelines.emulator.control import handle_control
from pipelines.emulator.encoding import compact_json
from pipelines.emulator.faults import Firing, fault_body
from pipelines.emulator.render import View
from pipelines.emulator.search import REMOVED, ApiError, Call

if TYPE_CHECKING:
    from pipelines.emulator import Emulator

logger = logging.getLogger(__name__)

SITE_401 = "Client must be authenticated to access this resource."
SCOPE_401 = {"code": 401, "message": "Unauthorized; scope does not match"}
TOKEN_401 = {"code": 401, "message": "Unauthorized"}
USER_SCOPE = "read:jira-user"
WORK_SCOPE = "read:jira-work"
BOARD_SCOPE = "read:board-scope:jira-software"
SPRINT_SCOPE = "read:sprint:jira-software"
ALL_SCOPES = frozenset({WORK_SCOPE, USER_SCOPE, BOARD_SCOPE, SPRINT_SCOPE, "read:project:jira"})


class Reply(Exception):
    """A finished response raised from deep inside routing."""

    def __init__(self, status: int, body: Any, content_type: str = "application/json") -> None:
        super().__init__(status)
        self.status = status
        self.body = body
        self.content_type = content_type


def required_scopes(path: str) -> frozenset[str]:
    """Return the scopes a gateway token needs for `path` (sprints need the board scope too)."""
    if re.match(r"/rest/api/\d/(myself|user|users)(/|$)", path):
        return frozenset({USER_SCOPE})
    if path.startswith("/rest/agile/"):
        if "/sprint" in path:
            return frozenset({BOARD_SCOPE, SPRINT_SCOPE})
        return frozenset({BOARD_SCOPE})
    return frozenset({WORK_SCOPE})


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle's algorithm the second one waits for
    # the client's delayed ACK, about 40 ms per keep-alive request.
    disable_nagle_algorithm = True
    server: EmulatorHTTPServer

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        logger.debug("emulator: " + format, *args)

    def do_GET(self) -> None:  # noqa: N802
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._handle("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        emu = self.server.emulator
        split = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw_body = self.rfile.read(length) if length else b""
        scheme = (self.headers.get("Authorization") or "").split(" ", 1)[0].lower() or None
        headers: dict[str, str] = {}
        control = split.path.startswith("/_emulator/")
        try:
            if emu.rate_limiter is not None and not control:
                allowed, headers = emu.rate_limiter.check()
                if not allowed:
                    content_type, body = fault_body(429, html=False)
                    self._send(429, body, content_type, headers)
                    emu.record(method, split.path, split.query, raw_body, 429, scheme)
                    return
            if emu.latency_ms and not control:
                time.sleep(emu.latency_ms / 1000)
            firing = None if control else emu.faults.take(split.path)
            if firing is not None and self._fail(firing, headers):
                emu.record(method, split.path, split.query, raw_body, firing.status or 0, scheme)
                return
            status, payload, content_type = self._route(method, split.path, split.query, raw_body)
        except Reply as reply:
            status, payload, content_type = reply.status, reply.body, reply.content_type
        except ApiError as error:
            status, payload, content_type = error.status, error.body, "application/json"
        except Exception:
            logger.exception("emulator: request %s %s failed", method, split.path)
            status, content_type = 500, "application/json"
            payload = {"errorMessages": ["Internal server error."], "errors": {}}
        if isinstance(payload, str | bytes):
            body = payload.encode() if isinstance(payload, str) else payload
        else:
            body = compact_json(payload).encode()
        if content_type == "application/json":
            content_type = "application/json;charset=UTF-8"
        self._send(status, body, content_type, headers)
        emu.record(method, split.path, split.query, raw_body, status, scheme)

    def _fail(self, firing: Firing, headers: dict[str, str]) -> bool:
        """Apply a fault: wait, then drop the connection or send the error; False if neither."""
        if firing.delay_seconds:
            time.sleep(firing.delay_seconds)
        if firing.drop:
            # Close the connection without a status line, like a proxy dropping the request.
            self.close_connection = True
            return True
        if firing.status is None:
            return False
        content_type, body = fault_body(firing.status, firing.html)
        fault_headers = dict(headers)
        if firing.retry_after is not None:
            fault_headers["Retry-After"] = str(int(firing.retry_after))
        if firing.status == 429:
            fault_headers.setdefault("X-RateLimit-Limit", "100")
            fault_headers["X-RateLimit-Remaining"] = "0"
            fault_headers["X-RateLimit-NearLimit"] = "true"
            fault_headers["RateLimit-Reason"] = "jira-quota-tenant-based"
        self._send(firing.status, body, content_type, fault_headers)
        return True

    def _send(self, status: int, body: bytes, content_type: str, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def _route(self, method: str, path: str, query: str, raw_body: bytes) -> tuple[int, Any, str]:
        emu = self.server.emulator
        body = _json_body(raw_body)
        if path.startswith("/_emulator/"):
            status, payload = handle_control(emu, method, path, body)
            return status, payload, "application/json"
        gateway = False
        if emu.flavor == "cloud" and path.startswith("/ex/jira/"):
            parts = path.split("/", 4)
            if len(parts) < 4 or parts[3] != emu.cloud_id:
                raise Reply(404, {"code": 404, "message": "Not Found"})
            gateway = True
            path = "/" + (parts[4] if len(parts) > 4 else "")
        if emu.flavor == "cloud" and not gateway and path == "/_edge/tenant_info":
            return 200, {"cloudId": emu.cloud_id}, "application/json"
        account = self._authenticate(path, gateway)
        match = re.match(r"/rest/api/(\d)(/.*)?$", path)
        if match is None:
            if path.startswith("/rest/agile/1.0/"):
                return (
                    200,
                    route_collections(
                        emu, method, path, _params(query, body), self._view(2, gateway), account
                    ),
                    "application/json",
                )
            raise Reply(404, {"errorMessages": [f"No resource found for {path}."], "errors": {}})
        api = int(match[1])
        rest = (match[2] or "/").rstrip("/")
        if api not in (2, 3) or (emu.flavor == "dc" and api != 2):
            raise Reply(404, {"errorMessages": [f"No resource found for {path}."], "errors": {}})
        call = Call(
            method=method,
            api=api,
            params=_params(query, body),
            view=self._view(api, gateway),
            account_index=account,
        )
        return 200, self._dispatch(method, rest, call), "application/json"

    def _view(self, api: int, gateway: bool) -> View:
        emu = self.server.emulator
        base = emu.site_url + (f"/ex/jira/{emu.cloud_id}" if gateway else "")
        return View(api=api, flavor=emu.flavor, zone=ZoneInfo(emu.time_zone), base_url=base)

    def _dispatch(self, method: str, rest: str, call: Call) -> Any:
        emu = self.server.emulator
        store = emu.store
        if rest == "/myself" and method == "GET":
            return _myself(emu, call)
        if rest == "/field" and method == "GET":
            return search.field_catalog()
        if rest == "/serverInfo" and method == "GET":
            return _server_info(emu, call)
        if rest == "/search/jql" and method in ("GET", "POST") and emu.flavor == "cloud":
            return search.search_jql(store, call)
        if rest == "/search/approximate-count" and method == "POST" and emu.flavor == "cloud":
            return search.approximate_count(store, call)
        if rest == "/search" and method in ("GET", "POST"):
            if emu.flavor == "cloud":
                raise Reply(410, {"errorMessages": [REMOVED], "errors": {}})
            return search.search_dc(store, call)
        if rest == "/issue/bulkfetch" and method == "POST" and emu.flavor == "cloud":
            return search.bulkfetch(store, call)
        issue = re.fullmatch(r"/issue/([^/]+)", rest)
        if issue and method == "GET":
            return search.get_issue(store, call, issue[1])
        return route_collections(emu, method, rest, call.params, call.view, call.account_index)

    def _authenticate(self, path: str, gateway: bool) -> int:
        """Check the credentials for this host; return the caller's user index."""
        emu = self.server.emulator
        header = self.headers.get("Authorization") or ""
        scheme, _, value = header.partition(" ")
        scheme = scheme.lower()
        email, token = "", ""
        if scheme == "basic":
            try:
                email, _, token = base64.b64decode(value.strip()).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                email, token = "", ""
        elif scheme == "bearer":
            token = value.strip()
        if emu.flavor == "dc":
            if scheme == "bearer" and token == emu.pat:
                return 0
            raise Reply(
                401,
                {
                    "errorMessages": [
                        "You are not authenticated. Authentication "
                        "required to perform this operation."
                    ],
                    "errors": {},
                },
            )
        if not gateway:
            if scheme == "basic" and email == emu.email and token == emu.classic_token:
                return 0
            if "/myself" in path:
                raise Reply(
                    401,
                    {
                        "errorMessages": [
                            "You are not authenticated. Authentication "
                            "required to perform this operation."
                        ],
                        "errors": {},
                    },
                )
            raise Reply(401, SITE_401, "text/plain;charset=UTF-8")
        if scheme == "basic" and email != emu.email:
            raise Reply(401, TOKEN_401)
        if token == emu.classic_token:
            raise Reply(401, SCOPE_401)
        scopes = emu.tokens.get(token) if scheme in ("basic", "bearer") else None
        if scopes is None:
            raise Reply(401, TOKEN_401)
        if not required_scopes(path) <= scopes:
            raise Reply(401, SCOPE_401)
        return 0


def _json_body(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise Reply(
            400,
            {
                "errorMessages": [
                    "Unexpected character in the request body: the body must be JSON."
                ],
                "errors": {},
            },
        ) from None


def _params(query: str, body: Any) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for key, values in parse_qs(query, keep_blank_values=True).items():
        params[key] = values[0] if len(values) == 1 else values
    if isinstance(body, dict):
        params.update(body)
    return params


def _myself(emu: Emulator, call: Call) -> dict[str, Any]:
    user = ref.ME
    if emu.flavor == "dc":
        return {
            "self": call.view.url(f"user?username={user.name}"),
            "key": user.name,
            "name": user.name,
            "emailAddress": emu.email,
            "displayName": user.display_name,
            "active": True,
            "timeZone": emu.time_zone,
            "locale": "en_US",
        }
    return {
        "self": call.view.url(f"user?accountId={user.account_id}"),
        "accountId": user.account_id,
        "accountType": "atlassian",
        "emailAddress": emu.email,
        "displayName": user.display_name,
        "active": True,
        "timeZone": emu.time_zone,
        "locale": "en_US",
    }


def _server_info(emu: Emulator, call: Call) -> dict[str, Any]:
    if emu.flavor == "dc":
        return {
            "baseUrl": emu.site_url,
            "version": "9.12.2",
            "versionNumbers": [9, 12, 2],
            "deploymentType": "DataCenter",
            "buildNumber": 9120002,
            "serverTitle": "Jira (emulator)",
        }
    return {
        "baseUrl": emu.site_url,
        "version": "1001.0.0-SNAPSHOT",
        "versionNumbers": [1001, 0, 0],
        "deploymentType": "Cloud",
        "buildNumber": 100254,
        "serverTitle": "Jira",
    }


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, emulator: Emulator, port: int) -> None:
        self.emulator = emulator
        super().__init__(("127.0.0.1", port), Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that disconnects mid-answer (a killed loader) is normal here, not a bug.
        error = sys.exc_info()[1]
        if isinstance(error, ConnectionError | BrokenPipeError):
            return
        super().handle_error(request, client_address)
