"""Authentication schemes: Bearer at the Cloud gateway, Basic at the site, PAT on Data Center."""

from __future__ import annotations

import base64
from collections.abc import Generator
from typing import Literal

import httpx

from pipelines.errors import ConfigError

AuthMode = Literal["bearer", "basic", "pat"]
AUTH_MODES: tuple[AuthMode, ...] = ("bearer", "basic", "pat")


class JiraAuth(httpx.Auth):
    """Adds the Authorization header for one scheme and describes it without the secret.

    The token lives only in this object and in the header it builds. `repr()` and `describe()`
    never show it, so the object can appear in logs and tracebacks safely.
    """

    def __init__(self, mode: AuthMode, token: str, email: str | None = None) -> None:
        if not token:
            raise ConfigError("No token given. Set JIRA_TOKEN or pass --token.")
        if mode == "basic" and not email:
            raise ConfigError(
                "Basic auth needs the account e-mail with the API token. "
                "Set JIRA_EMAIL or pass --email, or use --auth bearer for a scoped token."
            )
        self.mode = mode
        self.email = email
        self._token = token

    def __repr__(self) -> str:
        return f"JiraAuth(mode={self.mode!r}, email={self.email!r}, token=<redacted>)"

    @property
    def secrets(self) -> tuple[str, ...]:
        """Strings that must never be printed: the token and the Basic credential."""
        values = [self._token]
        if self.mode == "basic" and self.email:
            values.append(self._basic_credential())
        return tuple(values)

    def describe(self) -> str:
        """Name the scheme for messages, e.g. `Bearer token` or `Basic auth as a@b.c`."""
        if self.mode == "basic":
            return f"Basic auth as {self.email}"
        if self.mode == "pat":
            return "a Personal Access Token sent as Bearer"
        return "a Bearer token"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.mode == "basic":
            request.headers["Authorization"] = f"Basic {self._basic_credential()}"
        else:
            request.headers["Authorization"] = f"Bearer {self._token}"
        yield request

    def _basic_credential(self) -> str:
        raw = f"{self.email}:{self._token}".encode()
        return base64.b64encode(raw).decode("ascii")


def build_auth(mode: str, token: str | None, email: str | None = None) -> JiraAuth:
    """Validate the auth settings and build the scheme.

    Raises:
        ConfigError: the mode is unknown, the token is missing, or Basic lacks the e-mail.
    """
    normalized = (mode or "").strip().lower()
    if normalized not in AUTH_MODES:
        raise ConfigError(
            f"Unknown auth mode `{mode}`. Use `bearer` (scoped or OAuth token at the Cloud "
            "gateway), `basic` (e-mail and classic API token at the site) or `pat` "
            "(Data Center Personal Access Token)."
        )
    return JiraAuth(normalized, token or "", email)  # type: ignore[arg-type]
