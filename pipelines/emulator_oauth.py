"""A stand-in for Atlassian's OAuth token endpoint and accessible-resources, on 127.0.0.1.

    with Emulator() as jira, OAuthEmulator(jira, expires_in=2) as oauth:
        client_id, secret = oauth.add_client()
        # POST {oauth.token_url} {"grant_type": "client_credentials", ...} -> access token

Serves `POST /oauth/token` (grant types `client_credentials` and `refresh_token`, JSON or form
bodies) and `GET /oauth/token/accessible-resources`. Each access token it issues is registered
with the Jira `Emulator` with the client's scopes, and the Jira emulator rejects it with 401 once
it expires. Refresh tokens rotate: a refresh returns a new one and invalidates the old one.
Errors follow the OAuth 2.0 shape `{"error": "...", "error_description": "..."}`.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

if TYPE_CHECKING:
    from pipelines.emulator import Emulator

logger = logging.getLogger(__name__)

DEFAULT_SCOPES = frozenset(
    {
        "read:jira-work",
        "read:jira-user",
        "read:board-scope:jira-software",
        "read:sprint:jira-software",
        "read:project:jira",
    }
)


class ExpiringTokenTable(dict):  # type: ignore[type-arg]
    """The Jira emulator's token table, where an access token past its expiry is unknown.

    Replaces `Emulator.tokens` (a dict of token to scopes) and keeps its entries, so static
    tokens such as `scoped_token` keep working.
    """

    def __init__(self, existing: dict[str, frozenset[str]], clock: Callable[[], float]) -> None:
        super().__init__(existing)
        self.expiry: dict[str, float] = {}
        self._clock = clock

    def expire(self, token: str, at: float) -> None:
        self.expiry[token] = at

    def _live(self, token: object) -> bool:
        at = self.expiry.get(token)  # type: ignore[call-overload]
        return at is None or self._clock() < at

    def get(self, token: Any, default: Any = None) -> Any:
        return super().get(token, default) if self._live(token) else default

    def __getitem__(self, token: Any) -> Any:
        if not self._live(token):
            raise KeyError(token)
        return super().__getitem__(token)

    def __contains__(self, token: object) -> bool:
        return super().__contains__(token) and self._live(token)


@dataclass
class OAuthClient:
    """One registered client: a service account credential or a 3LO app."""

    client_id: str
    client_secret: str
    scopes: frozenset[str]
    revoked: bool = False
    refresh_tokens: set[str] = field(default_factory=set)


@dataclass
class IssuedToken:
    """An access token the emulator issued, with its lifetime on the monotonic clock."""

    value: str
    client_id: str
    grant: str
    issued_at: float
    expires_at: float


class OAuthEmulator:
    """Token endpoint and accessible-resources on 127.0.0.1, issuing tokens a Jira emulator accepts.

    Args:
        jira: the running Jira emulator that should accept the issued access tokens; its
            site becomes the one accessible resource.
        expires_in: lifetime of each access token, in seconds.
        rotate: whether a refresh returns a new refresh token and invalidates the old one.
        port: port on 127.0.0.1; 0 picks a free one.
        clock: the clock that times expiry; `time.monotonic` unless a test drives it.
    """

    def __init__(
        self,
        jira: Emulator | None = None,
        *,
        expires_in: float = 3600.0,
        rotate: bool = True,
        port: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.jira = jira
        self.expires_in = expires_in
        self.rotate = rotate
        self.port = port
        self.clock = clock
        self.clients: dict[str, OAuthClient] = {}
        self.issued: list[IssuedToken] = []
        self.token_requests: list[dict[str, Any]] = []
        self.sites: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        if jira is not None:
            if not isinstance(jira.tokens, ExpiringTokenTable):
                jira.tokens = ExpiringTokenTable(jira.tokens, clock)
            self.sites.append(
                {
                    "id": jira.cloud_id,
                    "url": jira.site_url,
                    "name": "emulated-site",
                    "scopes": sorted(DEFAULT_SCOPES),
                    "avatarUrl": "https://avatar.example.invalid/site.png",
                }
            )

    # lifecycle

    def start(self) -> OAuthEmulator:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _Handler)
        self._server.daemon_threads = True
        self._server.oauth = self  # type: ignore[attr-defined]
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="oauth-emulator",
            daemon=True,
        )
        self._thread.start()
        if self.jira is not None:
            # The Jira emulator's port is known only once it runs.
            for site in self.sites:
                if site["id"] == self.jira.cloud_id:
                    site["url"] = self.jira.site_url
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> OAuthEmulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token_url(self) -> str:
        return f"{self.url}/oauth/token"

    @property
    def resources_url(self) -> str:
        return f"{self.url}/oauth/token/accessible-resources"

    # clients and tokens

    def add_client(self, scopes: set[str] | frozenset[str] = DEFAULT_SCOPES) -> tuple[str, str]:
        """Register a client with these scopes; return its client id and secret."""
        client_id = "client-" + secrets.token_hex(8)
        secret = "secret-" + secrets.token_urlsafe(24)
        with self.lock:
            self.clients[client_id] = OAuthClient(client_id, secret, frozenset(scopes))
        return client_id, secret

    def authorize(self, client_id: str) -> str:
        """Issue a refresh token for `client_id`, as the 3LO consent with offline_access does."""
        token = "refresh-" + secrets.token_urlsafe(24)
        with self.lock:
            self.clients[client_id].refresh_tokens.add(token)
        return token

    def revoke_client(self, client_id: str) -> None:
        """Reject the client's secret from now on, as after revoking the credential."""
        with self.lock:
            self.clients[client_id].revoked = True

    def revoke_refresh_tokens(self, client_id: str) -> None:
        with self.lock:
            self.clients[client_id].refresh_tokens.clear()

    def live_refresh_tokens(self, client_id: str) -> set[str]:
        with self.lock:
            return set(self.clients[client_id].refresh_tokens)

    def grants(self, status: int = 200) -> list[dict[str, Any]]:
        """Return the token requests that ended with `status`, oldest first."""
        with self.lock:
            return [entry for entry in self.token_requests if entry["status"] == status]

    def issue(self, payload: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """Handle one token request body; return the status and the JSON answer."""
        grant = payload.get("grant_type", "")
        client_id = payload.get("client_id", "")
        with self.lock:
            client = self.clients.get(client_id)
            if (
                client is None
                or client.revoked
                or client.client_secret != payload.get("client_secret")
            ):
                return 401, {"error": "access_denied", "error_description": "Unauthorized"}
            answer: dict[str, Any] = {}
            if grant == "refresh_token":
                presented = payload.get("refresh_token", "")
                if presented not in client.refresh_tokens:
                    return 403, {
                        "error": "invalid_grant",
                        "error_description": "Unknown or invalid refresh token.",
                    }
                if self.rotate:
                    client.refresh_tokens.discard(presented)
                    rotated = "refresh-" + secrets.token_urlsafe(24)
                    client.refresh_tokens.add(rotated)
                    answer["refresh_token"] = rotated
                else:
                    answer["refresh_token"] = presented
            elif grant != "client_credentials":
                return 400, {
                    "error": "unsupported_grant_type",
                    "error_description": f"Unsupported grant type: {grant}",
                }
            value = "oauth-" + secrets.token_urlsafe(24)
            now = self.clock()
            self.issued.append(IssuedToken(value, client_id, grant, now, now + self.expires_in))
            if self.jira is not None:
                self.jira.add_token(value, client.scopes)
                tokens = self.jira.tokens
                if isinstance(tokens, ExpiringTokenTable):
                    tokens.expire(value, now + self.expires_in)
        answer.update(
            {
                "access_token": value,
                "expires_in": self.expires_in,
                "token_type": "Bearer",
                "scope": " ".join(sorted(client.scopes)),
            }
        )
        return 200, answer

    def token_scopes(self, token: str) -> frozenset[str] | None:
        """Return the scopes of a live access token, or None when it is unknown or expired."""
        with self.lock:
            for issued in self.issued:
                if issued.value == token and self.clock() < issued.expires_at:
                    return self.clients[issued.client_id].scopes
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        logger.debug("oauth emulator: " + format, *args)

    def do_POST(self) -> None:  # noqa: N802
        oauth: OAuthEmulator = self.server.oauth  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if urlsplit(self.path).path != "/oauth/token":
            self._reply(404, {"error": "not_found"})
            return
        payload = _form_or_json(raw, self.headers.get("Content-Type") or "")
        status, body = oauth.issue(payload)
        with oauth.lock:
            oauth.token_requests.append(
                {
                    "grant_type": payload.get("grant_type"),
                    "client_id": payload.get("client_id"),
                    "status": status,
                    "at": oauth.clock(),
                }
            )
        self._reply(status, body)

    def do_GET(self) -> None:  # noqa: N802
        oauth: OAuthEmulator = self.server.oauth  # type: ignore[attr-defined]
        if urlsplit(self.path).path != "/oauth/token/accessible-resources":
            self._reply(404, {"code": 404, "message": "Not Found"})
            return
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        scopes = oauth.token_scopes(token.strip()) if scheme.lower() == "bearer" else None
        if scopes is None:
            self._reply(401, {"code": 401, "message": "Unauthorized"})
            return
        sites = [dict(site, scopes=sorted(scopes)) for site in oauth.sites]
        self._reply(200, sites)

    def _reply(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def _form_or_json(raw: bytes, content_type: str) -> dict[str, str]:
    text = raw.decode("utf-8", errors="replace")
    if "json" in content_type:
        try:
            body = json.loads(text or "{}")
        except ValueError:
            return {}
        return {str(k): str(v) for k, v in body.items()} if isinstance(body, dict) else {}
    return dict(parse_qsl(text))
