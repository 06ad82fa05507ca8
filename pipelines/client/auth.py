"""Authentication schemes: Bearer at the Cloud gateway, Basic at the site, PAT on Data Center.

OAuth 2.0 access tokens are Bearer tokens too: with `--auth oauth` a `TokenProvider` supplies
the token for each request and renews it before it expires.
"""

from __future__ import annotations

import base64
from collections.abc import Generator
from typing import Literal

import httpx

from pipelines.client.oauth import TokenProvider, build_token_provider
from pipelines.errors import ConfigError

AuthMode = Literal["bearer", "basic", "pat"]
AUTH_MODES: tuple[AuthMode, ...] = ("bearer", "basic", "pat")
# What users choose with --auth: `oauth` is a Bearer token obtained from the token endpoint.
AUTH_CHOICES: tuple[str, ...] = (*AUTH_MODES, "oauth")


class JiraAuth(httpx.Auth):
    """Adds the Authorization header for one scheme and describes it without the secret.

    The token lives only in this object and in the header it builds. `repr()` and `describe()`
    never show it, so the object can appear in logs and tracebacks safely. With a `provider`
    the mode is `bearer` and each request gets the provider's current access token; a 401 for
    a token the provider has since replaced is retried once with the new token.
    """

    requires_response_body = True

    def __init__(
        self,
        mode: AuthMode,
        token: str,
        email: str | None = None,
        provider: TokenProvider | None = None,
    ) -> None:
        if provider is not None and mode != "bearer":
            raise ConfigError(f"OAuth access tokens are sent as Bearer, not with `{mode}`.")
        if not token and provider is None:
            raise ConfigError("No token given. Set JIRA_TOKEN or pass --token.")
        if mode == "basic" and not email:
            raise ConfigError(
                "Basic auth needs the account e-mail with the API token. "
                "Set JIRA_EMAIL or pass --email, or use --auth bearer for a scoped token."
            )
        self.mode = mode
        self.email = email
        self.provider = provider
        self._token = token

    def __repr__(self) -> str:
        grant = f", provider={self.provider!r}" if self.provider else ""
        return f"JiraAuth(mode={self.mode!r}, email={self.email!r}, token=<redacted>{grant})"

    @property
    def secrets(self) -> tuple[str, ...]:
        """Strings that must never be printed: the tokens, the client secret, Basic credential."""
        values = [self._token] if self._token else []
        if self.mode == "basic" and self.email:
            values.append(self._basic_credential())
        if self.provider is not None:
            values.extend(self.provider.secrets)
        return tuple(values)

    def describe(self) -> str:
        """Name the scheme for messages, e.g. `Bearer token` or `Basic auth as a@b.c`."""
        if self.provider is not None:
            return self.provider.describe()
        if self.mode == "basic":
            return f"Basic auth as {self.email}"
        if self.mode == "pat":
            return "a Personal Access Token sent as Bearer"
        return "a Bearer token"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.provider is not None:
            token = self.provider.access_token()
            request.headers["Authorization"] = f"Bearer {token}"
            response = yield request
            # A missing scope stays missing with a new token, so only other 401s renew it.
            if response.status_code == 401 and "scope does not match" not in response.text.lower():
                renewed = self.provider.renew(token)
                if renewed != token:
                    request.headers["Authorization"] = f"Bearer {renewed}"
                    yield request
            return
        if self.mode == "basic":
            request.headers["Authorization"] = f"Basic {self._basic_credential()}"
        else:
            request.headers["Authorization"] = f"Bearer {self._token}"
        yield request

    def _basic_credential(self) -> str:
        raw = f"{self.email}:{self._token}".encode()
        return base64.b64encode(raw).decode("ascii")


def build_auth(
    mode: str,
    token: str | None,
    email: str | None = None,
    *,
    client_id: str | None = None,
    client_secret: str | None = None,
    refresh_token: str | None = None,
    refresh_token_file: str | None = None,
    token_url: str | None = None,
    resources_url: str | None = None,
) -> JiraAuth:
    """Validate the auth settings and build the scheme; no request is sent.

    `oauth` obtains access tokens from the token endpoint: with client credentials when no
    refresh token or refresh token file is set, otherwise with the rotating refresh token.

    Raises:
        ConfigError: the mode is unknown, the token is missing, Basic lacks the e-mail, or the
            OAuth settings are incomplete.
    """
    normalized = (mode or "").strip().lower()
    if normalized not in AUTH_CHOICES:
        raise ConfigError(
            f"Unknown auth mode `{mode}`. Use `bearer` (scoped or OAuth token at the Cloud "
            "gateway), `oauth` (client id and secret, or a refresh token, exchanged for access "
            "tokens), `basic` (e-mail and classic API token at the site) or `pat` "
            "(Data Center Personal Access Token)."
        )
    if normalized == "oauth":
        provider = build_token_provider(
            client_id,
            client_secret,
            refresh_token=refresh_token,
            refresh_token_file=refresh_token_file,
            token_url=token_url,
            resources_url=resources_url,
        )
        return JiraAuth("bearer", "", provider=provider)
    if not token and client_id and normalized == "bearer":
        raise ConfigError(
            "No token given, but JIRA_CLIENT_ID is set. Choose --auth oauth (JIRA_AUTH=oauth) "
            "to exchange the client id and secret for access tokens."
        )
    return JiraAuth(normalized, token or "", email)  # type: ignore[arg-type]
