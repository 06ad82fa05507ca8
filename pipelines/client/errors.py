"""Translate failed responses into messages that say what failed, on which value, what to do."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import httpx

from pipelines import json_text
from pipelines.client.urls import host_of
from pipelines.errors import (
    AuthError,
    BadRequestError,
    FatalHttpError,
    JiraHttpError,
    NotFoundError,
    RemovedEndpoint,
)

if TYPE_CHECKING:
    from pipelines.client.connection import Connection


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace each secret in `text`, and each long run of its characters, with `***`.

    Proxies and login pages sometimes echo the request headers in their body, so any text taken
    from a response passes through here before it is shortened or put in a message. Letters
    match in either case, because some echo headers in lower case, and runs match because
    some cut long values short. Every run of at least `SECRET_RUN` characters of a secret is
    replaced.
    """
    lowered = text.translate(_ASCII_LOWER)
    spans: list[tuple[int, int]] = []
    for secret in secrets:
        if secret:
            spans.extend(_secret_spans(lowered, secret.translate(_ASCII_LOWER)))
    if not spans:
        return text
    # Spans that overlap or touch become one `***`.
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    parts: list[str] = []
    position = 0
    for start, end in merged:
        parts.extend((text[position:start], "***"))
        position = end
    parts.append(text[position:])
    return "".join(parts)


# Characters of a secret that count as a leak when they appear together in a response.
SECRET_RUN = 12
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _secret_spans(text: str, secret: str) -> list[tuple[int, int]]:
    """Return the spans of `text` that contain `secret`, or a run of its characters.

    Each window of `SECRET_RUN` characters of the secret is looked for, at every offset, so the
    windows found in a run cover the whole run.
    """
    if len(secret) <= SECRET_RUN:
        return [(start, start + len(secret)) for start in _occurrences(text, secret)]
    windows = {
        secret[offset : offset + SECRET_RUN] for offset in range(len(secret) - SECRET_RUN + 1)
    }
    return [
        (start, start + SECRET_RUN) for window in windows for start in _occurrences(text, window)
    ]


def _occurrences(text: str, part: str) -> list[int]:
    """Return the start of each occurrence of `part` in `text`."""
    found = []
    start = text.find(part)
    while start != -1:
        found.append(start)
        start = text.find(part, start + 1)
    return found


def jira_messages(response: httpx.Response, secrets: Iterable[str] = ()) -> list[str]:
    """Extract Jira's own messages from an error body: JSON `errorMessages`/`errors`, or text.

    Every message has `secrets` replaced with `***`.
    """
    secrets = tuple(secrets)
    text = redact(response.text.strip(), secrets)
    try:
        body = json_text.loads(text) if text else None
    except ValueError:
        body = None
    messages: list[str] = []
    if isinstance(body, dict):
        for message in body.get("errorMessages") or []:
            messages.append(_message_text(message))
        errors = body.get("errors")
        if isinstance(errors, dict):
            messages.extend(f"{key}: {_message_text(value)}" for key, value in errors.items())
        if not messages and body.get("message"):
            messages.append(_message_text(body["message"]))
    elif text and not text.lstrip().startswith("<"):
        messages.append(text[:200])
    elif text:
        messages.append("(an HTML error page)")
    # A JSON string may spell a secret with escapes, so the decoded messages are redacted too.
    return [redact(message, secrets) for message in messages]


def _message_text(value: Any) -> str:
    # Jira sends strings; any other value is shown as JSON text, which works at any depth.
    return value if isinstance(value, str) else json_text.json_text(value, separators=(", ", ": "))


def translate_error(
    response: httpx.Response | None,
    shown_url: str,
    connection: Connection,
    *,
    fault: str = "",
    answered_before: bool = False,
) -> JiraHttpError:
    """Build the most specific error for a failed exchange with Jira.

    `answered_before` is True when another request succeeded at the same API root, so a 404
    there is about the path, not the cloud id or the URL.
    """
    host = host_of(connection.api_root)
    if response is None:
        return FatalHttpError(
            f"TLS handshake with {host} failed ({fault}). Check the URL's scheme and host, "
            "and that the server's certificate is trusted (SSL_CERT_FILE points to a CA bundle).",
            url=shown_url,
        )
    status = response.status_code
    messages = jira_messages(response, connection.auth.secrets)
    detail = ""
    if messages:
        jira_text = "; ".join(messages)
        # Advice follows the message for some statuses, so the message must end a sentence.
        # Jira's text may lack a full stop, as the 410 for the removed search ends with a URL.
        if not jira_text.endswith((".", "!", "?")):
            jira_text += "."
        detail = f" Jira's message: {jira_text}"

    if status == 401:
        return AuthError(_unauthorized(connection, messages) + detail, status=status, url=shown_url)
    if status == 403:
        return AuthError(
            _forbidden(host, shown_url, messages) + detail, status=status, url=shown_url
        )
    if status == 404:
        return NotFoundError(
            _not_found(connection, shown_url, answered_before) + detail,
            status=status,
            url=shown_url,
        )
    if status == 410:
        if connection.flavor == "dc":
            advice = (
                "--auth pat reads Jira Data Center, but this is a Jira Cloud site, which removed "
                "the Data Center search. Use --auth bearer with a scoped token, or --auth basic "
                "with --email and an API token."
            )
        else:
            advice = (
                "Upgrade jira-etl; Jira Cloud search now goes through /rest/api/3/search/jql, "
                "and --auth pat selects the Data Center search."
            )
        return RemovedEndpoint(
            f"410 from {host}: the endpoint {shown_url} was removed by Atlassian.{detail} "
            + advice,
            status=status,
            url=shown_url,
        )
    if status == 400:
        return BadRequestError(
            f"400 from {host}: Jira rejected the request to {shown_url}.{detail} "
            "If this names your JQL, fix --jql / JIRA_JQL and try it in Jira's issue search.",
            status=status,
            url=shown_url,
        )
    return FatalHttpError(f"HTTP {status} from {shown_url}.{detail}", status=status, url=shown_url)


def _forbidden(host: str, shown_url: str, messages: list[str]) -> str:
    if any("scope" in message.lower() for message in messages):
        return (
            f"403 from {host} for {shown_url}: the token lacks a scope this call needs. Create a "
            "token with the scope that Jira's message names, because the scopes of a token "
            "cannot be changed. For an OAuth app, add the scope and authorize the app again."
        )
    return (
        f"403 from {host} for {shown_url}: the account lacks permission for this resource. "
        "Ask a Jira admin for Browse Projects permission, or narrow --jql."
    )


# Host name endings of Jira Cloud sites, which reject Data Center Personal Access Tokens.
CLOUD_SITE_SUFFIXES = (".atlassian.net", ".jira.com")


def _unauthorized(connection: Connection, messages: list[str]) -> str:
    host = host_of(connection.api_root)
    tried = connection.auth.describe()
    # The gateway's 401 for a missing scope names the scope, also when a --base-url reaches the
    # gateway through a proxy, so the message decides here and not the URL.
    scope_hint = any("scope" in m.lower() for m in messages)
    if scope_hint and (connection.host_kind == "gateway" or connection.auth.mode == "bearer"):
        return (
            f"401 from {host}: the token sent as {tried} lacks a scope this call needs, or "
            "it is a classic API token, which has no scopes. Give the service account or "
            "app the read:jira-work and read:jira-user scopes (and the agile read scopes for "
            "sprints); a classic API token needs --auth basic with --email at the site URL."
        )
    if connection.host_kind == "gateway":
        return (
            f"401 from {host} with {tried}: the token was rejected at the gateway (cloud id "
            f"`{connection.cloud_id}`). Check that it is a scoped service-account token or a "
            "current OAuth access token; a classic API token needs --auth basic with --email "
            "at the site URL."
        )
    if connection.host_kind == "site":
        if connection.auth.mode == "bearer":
            return (
                f"401 from {host} with {tried}: scoped and service-account tokens work only "
                "through the gateway https://api.atlassian.com/ex/jira/{cloudId}. Drop "
                "--base-url and set --site-url (the cloud id is discovered) or --cloud-id."
            )
        return (
            f"401 from {host} with {tried}: the e-mail and API token were rejected. Check both; "
            "a scoped or service-account token needs --auth bearer through the gateway instead."
        )
    if host.lower().endswith(CLOUD_SITE_SUFFIXES):
        return (
            f"401 from {host} with {tried}: {host} is a Jira Cloud site, and --auth pat reads "
            "Jira Data Center. Use --auth bearer with a scoped token, or --auth basic with "
            "--email and an API token."
        )
    return (
        f"401 from {host} with {tried}: the Personal Access Token was rejected. Check that it "
        "is current and belongs to this server; Data Center does not accept Cloud API tokens."
    )


# Paths that every run reads issues through, so that no table can be left out instead.
_ISSUE_PATHS = ("/search", "/issue/bulkfetch", "/field")


def _not_found(connection: Connection, shown_url: str, answered_before: bool) -> str:
    host = host_of(connection.api_root)
    if answered_before:
        way_out = "Look for a newer jira-etl"
        if not any(part in shown_url for part in _ISSUE_PATHS):
            way_out += ", or leave out the table that reads it with --skip-tables"
        return (
            f"404 from {host} for {shown_url}, where other requests to the same API root "
            "succeeded: "
            f"this Jira does not offer that endpoint, or no longer does. {way_out}."
        )
    if connection.host_kind == "gateway":
        return (
            f"404 from {host} for {shown_url}: the gateway does not know cloud id "
            f"`{connection.cloud_id}`. It may be the organization id (from admin.atlassian.com/o/...) "
            "rather than the site's cloud id; read the right one from "
            "https://your-site.atlassian.net/_edge/tenant_info."
        )
    advice = (
        f"404 from {host} for {shown_url}: the URL does not lead to a Jira REST API. Check "
        "--base-url / --site-url; it should be the site or server root, without /rest/api."
    )
    if connection.auth.mode == "bearer" and "/rest/api/3/" in shown_url:
        # Data Center serves /rest/api/2 only, and its tokens go with --auth pat.
        advice += " For a Jira Data Center server and its Personal Access Token, use --auth pat."
    return advice
