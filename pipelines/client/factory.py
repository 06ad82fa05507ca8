"""Open clients for one run from the source settings, sharing one auth and one connection."""

from __future__ import annotations

import threading
from typing import Any

from pipelines.client.auth import JiraAuth, build_auth
from pipelines.client.connection import Connection
from pipelines.client.oauth import resolve_oauth_connection
from pipelines.client.transport import JiraClient, RequestStats

_LOCK = threading.Lock()


def auth_from_settings(settings: dict[str, Any]) -> JiraAuth:
    """Build the auth scheme once per settings dict; OAuth token providers are shared."""
    with _LOCK:
        auth = settings.get("_auth")
        if auth is None:
            auth = build_auth(
                settings["auth"],
                settings.get("token"),
                settings.get("email"),
                client_id=settings.get("client_id"),
                client_secret=settings.get("client_secret"),
                refresh_token=settings.get("refresh_token"),
                refresh_token_file=settings.get("refresh_token_file"),
                token_url=settings.get("token_url"),
                resources_url=settings.get("resources_url"),
            )
            settings["_auth"] = auth
        return auth


def connection_from_settings(settings: dict[str, Any]) -> Connection:
    """Resolve where requests go once per run (cloud id discovery happens here)."""
    auth = auth_from_settings(settings)
    with _LOCK:
        connection = settings.get("_connection")
        if connection is None:
            connection = resolve_oauth_connection(
                auth,
                base_url=settings.get("base_url"),
                site_url=settings.get("site_url"),
                cloud_id=settings.get("cloud_id"),
                gateway_url=settings.get("gateway_url"),
            )
            settings["_connection"] = connection
        return connection


def open_jira_client(settings: dict[str, Any]) -> JiraClient:
    """Open a `JiraClient` with the run's timeout and retry policy."""
    connection = connection_from_settings(settings)
    with _LOCK:
        stats = settings.setdefault("_stats", RequestStats())
    return JiraClient(
        connection,
        timeout=settings.get("timeout_seconds", 60.0),
        retry=settings.get("retry"),
        stats=stats,
    )
