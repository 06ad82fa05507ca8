"""One httpx client per run: connection reuse, timeouts, bounded retries and error translation."""

from __future__ import annotations

import email.utils
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from pipelines import json_text
from pipelines.client.connection import Connection
from pipelines.client.errors import redact, translate_error
from pipelines.client.tls import shared_tls_context
from pipelines.client.urls import clean_url, join_url
from pipelines.errors import JiraEtlError, PayloadError, RetryableError

logger = logging.getLogger("jira_etl.http")

RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
# Characters of a body that is not JSON quoted in the error message.
SNIPPET_CHARS = 80
USER_AGENT = "jira-etl/0.1 (+https://github.com/jira-etl/jira-etl)"

# Called with the status and headers of every response, retried ones included.
ResponseHook = Callable[[int, Mapping[str, str]], None]


@dataclass
class RetryPolicy:
    """How long to keep trying a request that failed with 429, 5xx or a connection fault.

    Attributes:
        max_attempts: attempts in total, the first one included.
        backoff_base: seconds before the second attempt when no `Retry-After` came; doubles each time.
        backoff_cap: the longest computed backoff, in seconds.
        min_wait: the shortest wait, in seconds, even when `Retry-After` is 0.
        max_retry_after: the longest `Retry-After` honoured, in seconds; a longer one fails the run.
    """

    max_attempts: int = 6
    backoff_base: float = 1.0
    backoff_cap: float = 60.0
    min_wait: float = 1.0
    max_retry_after: float = 300.0

    def backoff(self, attempt: int) -> float:
        """Return the wait before retry number `attempt` (1-based), with full jitter."""
        ceiling = min(self.backoff_cap, self.backoff_base * (2 ** (attempt - 1)))
        return max(self.min_wait, random.uniform(ceiling / 2, ceiling))


@dataclass
class RequestStats:
    """Counters shared by every thread that uses one client."""

    requests: int = 0
    retries: int = 0
    waited_seconds: float = 0.0
    by_status: dict[int, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, status: int | None, *, retried: bool = False, waited: float = 0.0) -> None:
        with self.lock:
            self.requests += 1
            if status is not None:
                self.by_status[status] = self.by_status.get(status, 0) + 1
            if retried:
                self.retries += 1
                self.waited_seconds += waited

    def succeeded(self) -> bool:
        """Return True when any request counted here got a 2xx response."""
        with self.lock:
            return any(200 <= status < 300 for status in self.by_status)


class JiraClient:
    """Send requests to one Jira deployment and return parsed JSON.

    Every call is retried on 429, 5xx and connection faults within `retry`; any other error
    status is translated once, here, into the most specific `pipelines.errors` class.
    """

    def __init__(
        self,
        connection: Connection,
        *,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        max_connections: int = 16,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
        stats: RequestStats | None = None,
    ) -> None:
        self.connection = connection
        self.retry = retry or RetryPolicy()
        # Clients of one run share their counters, so the summary counts every request.
        self.stats = stats if stats is not None else RequestStats()
        # Observers of every response, e.g. a concurrency limiter reading rate-limit headers.
        self.response_hooks: list[ResponseHook] = []
        self._sleep = sleep
        self._stopped = threading.Event()
        self._http = httpx.Client(
            auth=connection.auth,
            timeout=httpx.Timeout(timeout, connect=min(timeout, 15.0)),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            follow_redirects=False,
            transport=transport,
            verify=shared_tls_context(),
        )

    def __enter__(self) -> JiraClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def get(self, path: str, params: dict[str, Any] | None = None) -> Any:
        """GET `path` (relative to the API root) and return the decoded JSON body."""
        return self.request("GET", path, params=params)

    def post(self, path: str, body: dict[str, Any], *, decode: bool = True) -> Any:
        """POST a JSON body to `path` and return the decoded JSON body, or a `JsonBody`."""
        return self.request("POST", path, json_body=body, decode=decode)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: dict[str, Any] | None = None,
        decode: bool = True,
    ) -> Any:
        """Send one request with retries and return its decoded JSON body.

        With `decode` False it returns the body as a `JsonBody`, which decodes on request.

        Raises:
            RetryableError: the last attempt still failed with 429, 5xx or a connection fault.
            FatalHttpError: a status that retrying cannot change (subclass names the cause).
            PayloadError: a 2xx body that is not JSON.
        """
        url = join_url(self.connection.api_root, path)
        shown = clean_url(url)
        waits: list[float] = []
        attempt = 0
        while True:
            attempt += 1
            started = time.monotonic()
            try:
                response = self._http.request(method, url, params=params, json=json_body)
            except httpx.TransportError as exc:
                fault = f"{exc.__class__.__name__}"
                if _is_tls_failure(exc):
                    # NOTE: a TLS failure does not heal by itself, so it is not retried.
                    raise translate_error(None, shown, self.connection, fault=fault) from None
                wait = self._next_wait(attempt, None, shown, fault, waits)
                self.stats.record(None, retried=True, waited=wait)
                continue

            elapsed = time.monotonic() - started
            status = response.status_code
            logger.info("%s %s -> %s (%.0f ms)", method, shown, status, elapsed * 1000)
            for hook in self.response_hooks:
                hook(status, response.headers)
            if status in RETRYABLE_STATUSES:
                wait = self._next_wait(attempt, response, shown, f"HTTP {status}", waits)
                self.stats.record(status, retried=True, waited=wait)
                continue
            self.stats.record(status)
            if status >= 400:
                answered = self.stats.succeeded() or (status == 404 and self._root_answers(path))
                raise translate_error(response, shown, self.connection, answered_before=answered)
            body = JsonBody(
                response.content,
                status,
                response.headers.get("Content-Type", "unknown content type"),
                shown,
                self.connection.auth.secrets,
            )
            return body.decode() if decode else body

    def _root_answers(self, failed_path: str) -> bool:
        """Return True when the API root serves Jira's `serverInfo`, after a 404 elsewhere.

        A 404 on a run's first request at the API root comes from a wrong cloud id or URL, or
        from an endpoint this Jira does not offer. One request to `serverInfo`, without
        retries, separates the two. Only a JSON object with Jira's `baseUrl` counts, so a
        web server that returns a page for every path does not.
        """
        probe = self.connection.api_path("serverInfo")
        if failed_path == probe:
            return False
        url = join_url(self.connection.api_root, probe)
        try:
            response = self._http.get(url)
        except httpx.HTTPError:
            return False
        self.stats.record(response.status_code)
        logger.info("GET %s -> %s (after a 404)", clean_url(url), response.status_code)
        if not 200 <= response.status_code < 300:
            return False
        try:
            info = response.json()
        except ValueError:
            return False
        return isinstance(info, dict) and "baseUrl" in info

    def pause(self, attempt: int) -> None:
        """Sleep the backoff before retry `attempt` (1-based) of an item a response named failed."""
        wait = self.retry.backoff(attempt)
        self.stats.record(None, retried=True, waited=wait)
        self._wait(wait, "Jira")

    def _next_wait(
        self,
        attempt: int,
        response: httpx.Response | None,
        shown: str,
        fault: str,
        waits: list[float],
    ) -> float:
        """Sleep before the next attempt, or raise when the attempts or the wait run out."""
        self._check_stopping(shown)
        retry_after = _retry_after_seconds(response) if response is not None else None
        if retry_after is not None and retry_after > self.retry.max_retry_after:
            raise RetryableError(
                f"{fault} from {shown}: Jira asked to wait {retry_after:.0f} s (Retry-After), "
                f"longer than the {self.retry.max_retry_after:.0f} s allowed. Run again later or "
                "raise --max-retry-wait.",
                status=response.status_code if response is not None else None,
                url=shown,
                retry_after=retry_after,
            )
        if attempt >= self.retry.max_attempts:
            tried = ", ".join(f"{w:.1f}" for w in waits) or "none"
            attempts = "1 attempt" if attempt == 1 else f"{attempt} attempts"
            if response is None and fault == "ReadTimeout":
                seconds = self._http.timeout.read
                raise RetryableError(
                    f"{shown} did not respond within the {seconds:g} s timeout ({fault}) after "
                    f"{attempts} (waits in seconds: {tried}). Raise --timeout when Jira is slow "
                    "for this request, or check the network or proxy between this machine and "
                    "Jira.",
                    url=shown,
                )
            if response is None:
                raise RetryableError(
                    f"Could not connect to {shown} ({fault}) after {attempts} (waits in "
                    f"seconds: {tried}). Check the URL, the host name and the network or proxy "
                    "between this machine and Jira.",
                    url=shown,
                )
            raise RetryableError(
                f"{fault} from {shown} after {attempts} (waits in seconds: {tried}). "
                "Jira is rate-limiting or unavailable; the next run resumes from the last "
                "loaded cursor. Raise --max-retries to keep trying longer.",
                status=response.status_code if response is not None else None,
                url=shown,
            )
        if retry_after is not None:
            wait = max(self.retry.min_wait, retry_after)
        else:
            wait = self.retry.backoff(attempt)
        waits.append(wait)
        logger.warning(
            "%s from %s; retry %d of %d in %.1f s",
            fault,
            shown,
            attempt,
            self.retry.max_attempts - 1,
            wait,
        )
        self._wait(wait, shown)
        return wait

    def stop_retries(self) -> None:
        """Make no further attempt of this client's requests, until `resume_retries`."""
        self._stopped.set()

    def resume_retries(self) -> None:
        """Retry this client's requests again after `stop_retries`."""
        self._stopped.clear()

    def _check_stopping(self, shown: str) -> None:
        if self._stopped.is_set():
            raise JiraEtlError(f"Stopped the requests to {shown}: their results are not needed.")

    def _wait(self, seconds: float, shown: str) -> None:
        """Sleep `seconds` before a retry, and end the sleep when the retries are stopped."""
        if self._sleep is time.sleep:
            self._stopped.wait(seconds)
        else:
            self._sleep(seconds)
        self._check_stopping(shown)


def _retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


@dataclass(frozen=True)
class JsonBody:
    """A 2xx response body as bytes, with what its decoding errors name.

    A bulk fetch of 100 of the emulator's issues is about 1.1 MB of JSON and about five times
    that once decoded, so bodies that wait for the loader are kept as bytes.
    """

    content: bytes
    status: int
    content_type: str
    # The request URL without user info or secret query values (`clean_url`).
    url: str
    # Credentials sent with the request, replaced with `***` in the quoted body of an error.
    secrets: tuple[str, ...] = field(default=(), repr=False, compare=False)

    def decode(self) -> Any:
        """Decode the body; None for an empty body or status 204.

        Raises:
            PayloadError: the body is not JSON, or nests deeper than `json_text.MAX_DEPTH`.
        """
        if self.status == 204 or not self.content:
            return None
        try:
            return json_text.loads(self.content)
        except json_text.JsonDepthError as error:
            raise _depth_failure(error, self.url) from None
        except ValueError:
            # A UTF-8 character takes at most 4 bytes, so this head contains the quoted characters
            # and the whole of any secret that starts among them, which redact then replaces.
            longest = max((len(secret) for secret in self.secrets), default=0)
            head = self.content[: 4 * SNIPPET_CHARS + longest].decode("utf-8", "replace")
            snippet = redact(head, self.secrets)[:SNIPPET_CHARS].replace("\n", " ")
            raise PayloadError(
                f"{self.url} returned {self.status} with a body that is not JSON "
                f"({self.content_type}): `{snippet}`. A proxy or login page may be in the way; "
                "check the URL."
            ) from None


def _depth_failure(error: json_text.JsonDepthError, url: str) -> PayloadError:
    """Name the issue, the field and the path of a body nested too deep to decode."""
    if error.depth > json_text.MAX_DEPTH:
        limit = f"more than the {json_text.MAX_DEPTH:,} levels jira-etl decodes"
    else:
        limit = "more than Python's JSON decoder reads in a body with NaN or Infinity"
    value = f"field `{error.field}`" if error.field is not None else "a value"
    if error.issue_key is not None:
        subject = f"Issue `{error.issue_key}`: {value}"
        # A changed --jql stops incremental runs until a full refresh, so leaving the issue out
        # takes a full refresh, and so does taking it back in.
        clause = f"key != {error.issue_key}"
        advice = (
            "Reduce the nesting of that value in Jira. To load the other issues meanwhile, add "
            f"`{clause}` to --jql (joined to your filter with AND) and run once with "
            "--full-refresh, because a run with a changed --jql stops until a full refresh. "
            f"Keep that --jql on later runs. Once the value is fixed, remove `{clause}` and run "
            "once more with --full-refresh."
        )
    else:
        subject = value[0].upper() + value[1:]
        advice = "Reduce the nesting of that value in Jira."
    return PayloadError(
        f"{subject} nests too deep to decode: the response of {url} reaches {error.depth:,} "
        f"levels at `{json_text.format_path(error.path)}`, {limit}. {advice}",
        issue_key=error.issue_key,
    )


def _is_tls_failure(exc: httpx.TransportError) -> bool:
    import ssl

    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLError):
            return True
        cause = cause.__cause__ or cause.__context__
    return "SSL" in str(exc) or "CERTIFICATE" in str(exc).upper()
