"""`jira-etl check`: walk the connection chain and say what works and what to fix."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pipelines.client.auth import build_auth
from pipelines.client.connection import resolve_connection
from pipelines.client.transport import JiraClient, RetryPolicy
from pipelines.errors import JiraEtlError
from pipelines.window import where_clause

Echo = Callable[[str], None]


def run_checks(settings: dict[str, Any], echo: Echo) -> bool:
    """Check auth, routing, account, fields and search; return whether all passed.

    Raises:
        ConfigError: the settings cannot even describe a connection.
    """
    auth = build_auth(
        settings.get("auth") or "bearer", settings.get("token"), settings.get("email")
    )
    connection = resolve_connection(
        auth,
        base_url=settings.get("base_url"),
        site_url=settings.get("site_url"),
        cloud_id=settings.get("cloud_id"),
        gateway_url=settings.get("gateway_url"),
    )
    echo(f"API root: {connection.api_root} ({connection.host_kind}, {connection.flavor})")
    echo(f"Auth: {auth.describe()}")
    if connection.cloud_id:
        echo(f"Cloud id: {connection.cloud_id} (from {connection.cloud_id_source})")
    retry = RetryPolicy(max_attempts=int(settings.get("max_retries") or 3), min_wait=0.5)
    ok = True
    with JiraClient(
        connection, timeout=float(settings.get("timeout_seconds") or 30), retry=retry
    ) as client:
        try:
            me = client.get(connection.api_path("myself"))
            who = me.get("accountId") or me.get("key") or me.get("name")
            echo(
                f"[ok]   account: {me.get('displayName')} ({who}), profile time zone "
                f"{me.get('timeZone')}"
            )
        except JiraEtlError as exc:
            ok = False
            echo(f"[fail] account (/myself): {exc}")
        try:
            fields = client.get(connection.api_path("field"))
            custom = sum(1 for f in fields if f.get("custom"))
            echo(f"[ok]   fields: {len(fields)} visible, {custom} custom")
        except JiraEtlError as exc:
            ok = False
            echo(f"[fail] fields (/field): {exc}")
        jql = where_clause(settings.get("jql"), "updated >= 0")
        try:
            if connection.flavor == "dc":
                page = client.post(
                    connection.api_path("search"), {"jql": jql, "maxResults": 1, "fields": ["id"]}
                )
                echo(f"[ok]   search: `{jql}` matches {page.get('total')} issues")
            else:
                client.post(
                    connection.api_path("search/jql"),
                    {"jql": jql, "maxResults": 1, "fields": ["id"]},
                )
                count = client.post(connection.api_path("search/approximate-count"), {"jql": jql})
                echo(f"[ok]   search: `{jql}` matches about {count.get('count')} issues")
        except JiraEtlError as exc:
            ok = False
            echo(f"[fail] search: {exc}")
    echo("All checks passed." if ok else "Some checks failed; see the messages above.")
    return ok
