"""OAuth 2.0 access tokens for the Cloud gateway: client credentials and rotating refresh tokens.

Service accounts with an OAuth 2.0 credential use the client credentials grant; OAuth 2.0 (3LO)
apps use a refresh token. Either way Atlassian's token endpoint returns an access token that
expires (after 3600 s on Atlassian Cloud) and is sent as Bearer at
`https://api.atlassian.com/ex/jira/{cloudId}`. `TokenProvider` obtains the first token, renews it
shortly before it expires, and stores each rotated refresh token in a 0600 file before the new
access token is used.
"""

from __future__ import annotations

import contextlib
import logging
import os
import stat
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

import httpx

from pipelines import json_text
from pipelines.client.errors import redact
from pipelines.client.tls import shared_tls_context
from pipelines.client.urls import clean_url, host_of
from pipelines.errors import AuthError, ConfigError, PayloadError, RetryableError
from pipelines.logs import register_secret

if TYPE_CHECKING:
    from pipelines.client.auth import JiraAuth
    from pipelines.client.connection import Connection

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no fcntl
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger("jira_etl.oauth")

DEFAULT_TOKEN_URL = "https://auth.atlassian.com/oauth/token"
DEFAULT_RESOURCES_URL = "https://api.atlassian.com/oauth/token/accessible-resources"
# Renew this many seconds before expiry, or a fifth of the lifetime when that is shorter.
RENEW_LEEWAY_SECONDS = 60.0
TOKEN_ATTEMPTS = 3

Grant = Literal["client_credentials", "refresh_token"]


@dataclass(frozen=True)
class OAuthSettings:
    """Settings of the OAuth 2.0 grant; `refresh_token` selects the 3LO refresh grant.

    Attributes:
        client_id: the service account credential's or the app's client id.
        client_secret: the matching client secret.
        refresh_token: the 3LO refresh token; read only while `refresh_token_file` is missing.
        refresh_token_file: where each rotated refresh token is stored (mode 0600).
        token_url: the token endpoint, `https://auth.atlassian.com/oauth/token` by default.
        resources_url: the accessible-resources endpoint that lists the token's sites.
    """

    client_id: str
    client_secret: str
    refresh_token: str | None = None
    refresh_token_file: str | None = None
    token_url: str = DEFAULT_TOKEN_URL
    resources_url: str = DEFAULT_RESOURCES_URL

    def __repr__(self) -> str:
        return (
            f"OAuthSettings(client_id={self.client_id!r}, client_secret=<redacted>, "
            f"refresh_token_file={self.refresh_token_file!r}, token_url={self.token_url!r})"
        )

    @property
    def grant(self) -> Grant:
        if self.refresh_token or self.refresh_token_file:
            return "refresh_token"
        return "client_credentials"


@dataclass(frozen=True)
class AccessToken:
    """An access token and the monotonic-clock instant it expires at."""

    value: str = ""
    expires_at: float = 0.0
    renew_at: float = 0.0

    def __repr__(self) -> str:
        return f"AccessToken(<redacted>, expires_at={self.expires_at:.1f})"


class RefreshTokenFile:
    """A file that contains the newest refresh token, written atomically with mode 0600.

    A lock file beside it (`<name>.lock`, held with `flock`) serializes refreshes across
    processes that share the file, so a second process reads the token the first one stored.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).expanduser()

    def check(self) -> None:
        """Fail before any request when the token cannot be stored after a refresh.

        Raises:
            ConfigError: the folder is missing or not writable, or the path is a folder.
        """
        folder = self.path.parent
        if self.path.is_dir():
            raise ConfigError(
                f"--refresh-token-file `{self.path}` is a folder. Give a file path, e.g. "
                "~/.config/jira-etl/refresh-token."
            )
        if not folder.is_dir():
            raise ConfigError(
                f"The folder of --refresh-token-file `{self.path}` does not exist. Create it "
                "(mode 0700) or choose another path."
            )
        if not os.access(folder, os.W_OK):
            raise ConfigError(
                f"The folder of --refresh-token-file `{self.path}` is not writable. Refresh "
                "tokens rotate, so jira-etl must replace the file after every refresh."
            )

    def read(self) -> str | None:
        """Return the stored token, or None when the file is missing or empty."""
        try:
            mode = self.path.stat().st_mode
            text = self.path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ConfigError(
                f"Could not read --refresh-token-file `{self.path}`: {exc.strerror}."
            ) from None
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            logger.warning(
                "%s was readable by other users (mode %o); setting it to 0600",
                self.path,
                stat.S_IMODE(mode),
            )
            os.chmod(self.path, 0o600)
        return text or None

    def write(self, token: str) -> None:
        """Replace the file's content with `token`: temporary file, fsync, then rename."""
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                handle.write(token + "\n")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise
        folder = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold an exclusive lock on `<file>.lock` while the token is read, refreshed and stored."""
        if fcntl is None:
            yield
            return
        lock_path = self.path.with_name(self.path.name + ".lock")
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
            os.close(descriptor)


class TokenProvider:
    """Obtain access tokens from the token endpoint and renew them before they expire.

    `access_token()` is safe to call from many threads: one lock guards the check and the
    renewal, so exactly one token request happens per expiry and no caller gets a token that
    is due for renewal. With the refresh grant, the rotated refresh token is written to
    `refresh_token_file` before the new access token is handed out.
    """

    def __init__(
        self,
        settings: OAuthSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.grant: Grant = settings.grant
        self.token_requests = 0
        self._clock = clock
        self._timeout = timeout
        self._sleep = sleep
        self._lock = threading.Lock()
        self._current = AccessToken()
        self._store = (
            RefreshTokenFile(settings.refresh_token_file) if settings.refresh_token_file else None
        )
        self._refresh_token = settings.refresh_token
        register_secret(settings.client_secret, settings.refresh_token)
        stored = self._store.read() if self._store else None
        if stored:
            # The file contains the newest token in the rotation; the setting only seeds it.
            if settings.refresh_token and stored != settings.refresh_token:
                logger.info(
                    "Using the refresh token stored in %s; JIRA_REFRESH_TOKEN is read only "
                    "while that file is missing",
                    self._store.path if self._store else "",
                )
            self._refresh_token = stored
            register_secret(stored)

    def __repr__(self) -> str:
        return f"TokenProvider(grant={self.grant!r}, client_id={self.settings.client_id!r})"

    def describe(self) -> str:
        """Name the grant for messages, without any secret."""
        if self.grant == "refresh_token":
            return "an OAuth 2.0 (3LO) access token renewed with a refresh token"
        return "an OAuth 2.0 access token from client credentials"

    @property
    def secrets(self) -> tuple[str, ...]:
        """The client secret, the refresh token in use and the current access token."""
        values = [self.settings.client_secret, self._refresh_token or "", self._current.value]
        return tuple(value for value in values if value)

    def access_token(self) -> str:
        """Return a token that is not due for renewal, requesting a new one when needed.

        Raises:
            AuthError: the token endpoint rejected the client or the refresh token.
            RetryableError: the token endpoint kept failing with 429, 5xx or connection faults.
        """
        with self._lock:
            if not self._current.value or self._clock() >= self._current.renew_at:
                self._current = self._request_token()
            return self._current.value

    def renew(self, rejected: str) -> str:
        """Replace `rejected` after Jira rejected it with 401, unless another thread already did.

        Returns:
            The token to retry with.
        """
        with self._lock:
            if self._current.value == rejected:
                logger.info(
                    "Jira rejected the access token before its expiry; requesting a new one"
                )
                self._current = self._request_token()
            return self._current.value

    # token endpoint

    def _request_token(self) -> AccessToken:
        # The lifetime counts from when the request was sent, which is never later than
        # when the server started it.
        sent_at = self._clock()
        if self.grant == "client_credentials":
            body = self._credentials({"grant_type": "client_credentials"})
            return self._parse(self._post(body), sent_at)
        if self._store is None:
            refresh_token = self._refresh_token
            return self._parse(self._post(self._refresh_body(refresh_token)), sent_at)
        with self._store.locked():
            # Another process sharing the file may have rotated the token since it was read.
            stored = self._store.read()
            if stored and stored != self._refresh_token:
                self._refresh_token = stored
                register_secret(stored)
            payload = self._post(self._refresh_body(self._refresh_token))
            rotated = payload.get("refresh_token") if isinstance(payload, dict) else None
            if isinstance(rotated, str) and rotated and rotated != self._refresh_token:
                register_secret(rotated)
                self._store_rotated(rotated)
            return self._parse(payload, sent_at)

    def _store_rotated(self, rotated: str) -> None:
        assert self._store is not None
        try:
            self._store.write(rotated)
        except OSError as exc:
            raise ConfigError(
                f"Could not store the new refresh token in `{self._store.path}`: {exc.strerror}. "
                "The previous refresh token is no longer valid, so authorize the app again and "
                "put the new refresh token in that file."
            ) from None
        self._refresh_token = rotated
        logger.info("Stored the rotated refresh token in %s", self._store.path)

    def _credentials(self, body: dict[str, str]) -> dict[str, str]:
        body["client_id"] = self.settings.client_id
        body["client_secret"] = self.settings.client_secret
        return body

    def _refresh_body(self, refresh_token: str | None) -> dict[str, str]:
        if not refresh_token:
            where = f" `{self._store.path}`" if self._store else ""
            raise ConfigError(
                f"No refresh token found: the file{where} is missing or empty and "
                "JIRA_REFRESH_TOKEN is not set. Authorize the OAuth 2.0 (3LO) app with the "
                "offline_access scope and set JIRA_REFRESH_TOKEN once; jira-etl keeps the "
                "rotated token in JIRA_REFRESH_TOKEN_FILE from then on."
            )
        return self._credentials({"grant_type": "refresh_token", "refresh_token": refresh_token})

    def _post(self, body: dict[str, str]) -> Any:
        url = self.settings.token_url
        shown = clean_url(url)
        for attempt in range(1, TOKEN_ATTEMPTS + 1):
            self.token_requests += 1
            try:
                with httpx.Client(
                    timeout=self._timeout, follow_redirects=False, verify=shared_tls_context()
                ) as http:
                    response = http.post(url, json=body, headers={"Accept": "application/json"})
            except httpx.TransportError as exc:
                fault = exc.__class__.__name__
                logger.warning("Token request to %s failed (%s), attempt %d", shown, fault, attempt)
                if attempt == TOKEN_ATTEMPTS:
                    raise RetryableError(
                        f"Could not reach the token endpoint {shown} ({fault}) after "
                        f"{attempt} attempts. Check --token-url and the network.",
                        url=shown,
                    ) from None
                self._sleep(float(attempt))
                continue
            logger.info("POST %s (%s) -> %s", shown, body["grant_type"], response.status_code)
            if response.status_code == 429 or response.status_code >= 500:
                if attempt == TOKEN_ATTEMPTS:
                    raise RetryableError(
                        f"The token endpoint {shown} responded {response.status_code} after "
                        f"{attempt} attempts. Run again later.",
                        status=response.status_code,
                        url=shown,
                    )
                self._sleep(float(attempt))
                continue
            if response.status_code >= 400:
                raise self._rejection(response, shown)
            try:
                return json_text.loads(response.content)
            except ValueError:
                raise PayloadError(
                    f"The token endpoint {shown} responded {response.status_code} with a body "
                    "that is not JSON. Check --token-url; it should be the OAuth token endpoint."
                ) from None
        raise AssertionError("unreachable")

    def _parse(self, payload: Any, sent_at: float) -> AccessToken:
        shown = clean_url(self.settings.token_url)
        token = payload.get("access_token") if isinstance(payload, dict) else None
        if not isinstance(token, str) or not token:
            raise PayloadError(f"The token endpoint {shown} responded without an access_token.")
        try:
            lifetime = float(payload.get("expires_in") or 3600)
        except (TypeError, ValueError):
            lifetime = 3600.0
        register_secret(token)
        now = sent_at
        leeway = min(RENEW_LEEWAY_SECONDS, lifetime / 5)
        logger.info("Obtained an access token from %s, valid for %.0f s", shown, lifetime)
        return AccessToken(token, now + lifetime, now + lifetime - leeway)

    def _rejection(self, response: httpx.Response, shown: str) -> AuthError:
        try:
            body = json_text.loads(response.content)
        except ValueError:
            body = {}
        code = str(body.get("error") or "") if isinstance(body, dict) else ""
        detail = str(body.get("error_description") or "") if isinstance(body, dict) else ""
        # Some token endpoints echo the request body, which contains the client secret or the
        # refresh token, in their error.
        code = redact(code, self.secrets)
        detail = redact(detail, self.secrets)
        said = ""
        if code:
            said = f" ({code}: {detail})" if detail else f" ({code})"
        status = response.status_code
        client = f"client id `{self.settings.client_id}`"
        if code == "invalid_grant" and self.grant == "refresh_token":
            where = (
                f"`{self._store.path}`" if self._store else "JIRA_REFRESH_TOKEN / --refresh-token"
            )
            message = (
                f"{status} from {host_of(shown)}: the refresh token in {where} was rejected"
                f"{said}. Refresh tokens rotate, so an already used, revoked or long unused "
                "token stops working. Authorize the app again (with the offline_access scope) "
                f"and put the new refresh token in {where}."
            )
        elif self.grant == "refresh_token":
            message = (
                f"{status} from {host_of(shown)}: the token endpoint rejected {client}{said}. "
                "Check JIRA_CLIENT_ID and JIRA_CLIENT_SECRET against the app's settings in "
                "developer.atlassian.com/console/myapps; a rotated secret must be copied again."
            )
        else:
            message = (
                f"{status} from {host_of(shown)}: the token endpoint rejected {client}{said}. "
                "The client secret is wrong, revoked or expired: create a new OAuth 2.0 "
                "credential for the service account (admin.atlassian.com, Directory, Service "
                "accounts) and set JIRA_CLIENT_ID and JIRA_CLIENT_SECRET to it."
            )
        return AuthError(message, status=status, url=shown)


def build_token_provider(
    client_id: str | None,
    client_secret: str | None,
    *,
    refresh_token: str | None = None,
    refresh_token_file: str | None = None,
    token_url: str | None = None,
    resources_url: str | None = None,
) -> TokenProvider:
    """Validate the OAuth settings and build a provider; no request is sent yet.

    Raises:
        ConfigError: the client id or secret is missing, a refresh token comes without a file
            to store its successors in, or that file cannot be written.
    """
    if not client_id or not client_secret:
        missing = "JIRA_CLIENT_ID" if not client_id else "JIRA_CLIENT_SECRET"
        raise ConfigError(
            f"--auth oauth needs a client id and a client secret, and {missing} is not set. "
            "Use the service account's OAuth 2.0 credential, or the 3LO app's settings."
        )
    if refresh_token and not refresh_token_file:
        raise ConfigError(
            "A refresh token needs JIRA_REFRESH_TOKEN_FILE (--refresh-token-file): each refresh "
            "returns a new refresh token and invalidates the old one, so jira-etl must store "
            "the new one where the next run finds it."
        )
    if refresh_token_file:
        store = RefreshTokenFile(refresh_token_file)
        store.check()
        if not refresh_token and not store.read():
            raise ConfigError(
                f"The refresh token file `{store.path}` is missing or empty and "
                "JIRA_REFRESH_TOKEN is not set. Set JIRA_REFRESH_TOKEN once to the token "
                "from the app's authorization; jira-etl keeps its successors in that file."
            )
    settings = OAuthSettings(
        client_id=client_id.strip(),
        client_secret=client_secret.strip(),
        refresh_token=(refresh_token or "").strip() or None,
        refresh_token_file=refresh_token_file,
        token_url=_check_url(token_url, "--token-url / JIRA_TOKEN_URL") or DEFAULT_TOKEN_URL,
        resources_url=_check_url(resources_url, "--resources-url / JIRA_RESOURCES_URL")
        or DEFAULT_RESOURCES_URL,
    )
    return TokenProvider(settings)


def _check_url(url: str | None, option: str) -> str | None:
    if not url:
        return None
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"Invalid URL `{clean_url(url)}` in {option}: expected http(s)://host/path."
        )
    return url


# cloud id from the token's sites


def list_accessible_resources(provider: TokenProvider, *, timeout: float = 30.0) -> list[dict]:
    """Return the sites the OAuth token may access: `[{"id", "url", "name", "scopes"}, ...]`.

    Raises:
        AuthError: the endpoint rejected the access token.
        ConfigError: the endpoint did not return a list.
    """
    url = provider.settings.resources_url
    shown = clean_url(url)
    token = provider.access_token()
    try:
        with httpx.Client(
            timeout=timeout, follow_redirects=False, verify=shared_tls_context()
        ) as http:
            response = http.get(
                url, headers={"Authorization": f"Bearer {token}", "Accept": "application/json"}
            )
    except httpx.TransportError as exc:
        raise ConfigError(
            f"Could not reach {shown} ({exc.__class__.__name__}) to find the cloud id. Give it "
            "with --cloud-id / JIRA_CLOUD_ID, or check --resources-url."
        ) from None
    logger.info("GET %s -> %s", shown, response.status_code)
    if response.status_code == 401:
        raise AuthError(
            f"401 from {host_of(shown)} for {shown}: the new access token was rejected. Check "
            "that --resources-url belongs to the same Atlassian cloud as --token-url.",
            status=401,
            url=shown,
        )
    try:
        sites = json_text.loads(response.content) if response.status_code == 200 else None
    except ValueError:
        sites = None
    if not isinstance(sites, list):
        raise ConfigError(
            f"{shown} returned {response.status_code} without a list of sites. Give the cloud "
            "id with --cloud-id / JIRA_CLOUD_ID."
        )
    return [site for site in sites if isinstance(site, dict) and site.get("id")]


def choose_site(sites: list[dict], site_url: str | None) -> dict:
    """Pick the site named by `site_url`, or the only site when none is named.

    Raises:
        ConfigError: no site, several sites and none named, or the named site is not listed.
    """
    listing = ", ".join(f"{site.get('url')} (cloud id {site.get('id')})" for site in sites)
    if not sites:
        raise ConfigError(
            "The OAuth token has access to no Jira site. Grant the service account or app "
            "access to the site (product access in admin.atlassian.com, or consent in the "
            "3LO authorization) and run again."
        )
    if site_url:
        wanted = _site_host(site_url)
        for site in sites:
            if _site_host(str(site.get("url") or "")) == wanted:
                return site
        raise ConfigError(
            f"The OAuth token has no access to `{clean_url(site_url)}`. It can reach: {listing}. "
            "Set --site-url / JIRA_SITE_URL to one of these, or grant access to that site."
        )
    if len(sites) > 1:
        raise ConfigError(
            f"The OAuth token has access to {len(sites)} sites: {listing}. Name one with "
            "--site-url / JIRA_SITE_URL or --cloud-id / JIRA_CLOUD_ID."
        )
    return sites[0]


def _site_host(url: str) -> str:
    parts = urlsplit(url.strip() if "://" in url else f"https://{url.strip()}")
    host = (parts.hostname or "").lower()
    return f"{host}:{parts.port}" if parts.port else host


def resolve_oauth_connection(
    auth: JiraAuth,
    *,
    base_url: str | None = None,
    site_url: str | None = None,
    cloud_id: str | None = None,
    gateway_url: str | None = None,
) -> Connection:
    """Resolve the connection like `resolve_connection`, but find OAuth cloud ids from the token.

    For an OAuth provider without `base_url` or `cloud_id`, the cloud id comes from the
    accessible-resources endpoint and `cloud_id_source` is `accessible-resources`. Every other
    case is handed to `resolve_connection` unchanged.

    Raises:
        ConfigError: the site cannot be chosen among the token's sites (the message lists them),
            or the site, token or accessible-resources URL is on this machine while the gateway
            URL is the default.
        AuthError: the token endpoint rejected the credentials.
    """
    from pipelines.client.connection import reject_local_url, resolve_connection

    if auth.provider is not None and not base_url and not gateway_url:
        # Checked before the first token request, because an endpoint on this machine issues
        # tokens that the default gateway must not receive.
        if site_url:
            reject_local_url(site_url, "site URL")
        reject_local_url(auth.provider.settings.token_url, "token URL")
        reject_local_url(auth.provider.settings.resources_url, "accessible-resources URL")
    if auth.provider is None or base_url or cloud_id:
        return resolve_connection(
            auth, base_url=base_url, site_url=site_url, cloud_id=cloud_id, gateway_url=gateway_url
        )
    site = choose_site(list_accessible_resources(auth.provider), site_url)
    connection = resolve_connection(auth, cloud_id=str(site["id"]), gateway_url=gateway_url)
    return replace(connection, cloud_id_source="accessible-resources")
