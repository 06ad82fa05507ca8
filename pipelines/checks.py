"""`jira-etl check`: walk the connection chain and report what works and what to fix.

The chain: host and scheme, the credential and how it is obtained, the cloud id and where it
came from, the account and its profile time zone, then one small request to every endpoint
family a run reads (fields, search, changelog, comments, worklogs, users, agile). A 401 that
names a scope is collected, and the missing scopes are listed at the end with the fix for the
kind of credential in use.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipelines.client.auth import JiraAuth
from pipelines.client.connection import Connection
from pipelines.client.factory import auth_from_settings
from pipelines.client.oauth import resolve_oauth_connection
from pipelines.client.transport import JiraClient, RetryPolicy
from pipelines.client.urls import host_of
from pipelines.errors import AuthError, JiraEtlError, NotFoundError
from pipelines.window import where_clause

Echo = Callable[[str], None]

WORK_SCOPE = "read:jira-work"
USER_SCOPE = "read:jira-user"
BOARD_SCOPE = "read:board-scope:jira-software"
SPRINT_SCOPE = "read:sprint:jira-software"
SOURCE_NAMES = {
    "given": "given with --cloud-id / JIRA_CLOUD_ID or in --base-url",
    "tenant_info": "read from the site's /_edge/tenant_info",
    "accessible-resources": "read from the OAuth token's accessible resources",
}


class StopChecks(Exception):
    """The credentials or the address failed in a way every later check would repeat."""


@dataclass
class Findings:
    """Findings of the checks: whether all passed and which scopes were missing."""

    gateway: bool = False
    ok: bool = True
    answered: int = 0
    missing: dict[str, list[str]] = field(default_factory=dict)


def build_check_auth(settings: dict[str, Any]) -> JiraAuth:
    """Build the auth scheme from the source settings, OAuth settings included."""
    return auth_from_settings({**settings, "auth": settings.get("auth") or "bearer"})


def run_checks(settings: dict[str, Any], echo: Echo) -> bool:
    """Check auth, routing, account and every endpoint family; return whether all passed.

    Raises:
        ConfigError: the settings cannot even describe a connection.
    """
    auth = build_check_auth(settings)
    echo(f"Auth: {auth.describe()}")
    try:
        connection = resolve_oauth_connection(
            auth,
            base_url=settings.get("base_url"),
            site_url=settings.get("site_url"),
            cloud_id=settings.get("cloud_id"),
            gateway_url=settings.get("gateway_url"),
        )
    except AuthError as exc:
        echo(f"[fail] token: {exc}")
        echo("Some checks failed; see the messages above.")
        return False
    describe_route(connection, echo)
    retry = RetryPolicy(max_attempts=int(settings.get("max_retries") or 3), min_wait=0.5)
    timeout = float(settings.get("timeout_seconds") or 30)
    findings = Findings(gateway=connection.host_kind == "gateway")
    with JiraClient(connection, timeout=timeout, retry=retry) as client:
        try:
            probe_endpoints(client, settings.get("jql"), findings, echo)
        except StopChecks:
            findings.ok = False
    report_scopes(connection, findings, echo)
    echo("All checks passed." if findings.ok else "Some checks failed; see the messages above.")
    return findings.ok


def describe_route(connection: Connection, echo: Echo) -> None:
    """Print the host, the scheme, the kind of host and the cloud id with its origin."""
    root = connection.api_root
    scheme = root.split("://", 1)[0]
    host = host_of(root)
    kinds = {
        "gateway": "the Atlassian API gateway, for scoped and OAuth tokens",
        "site": "the Cloud site, for e-mail and classic API token",
        "server": "a Data Center server",
    }
    echo(
        f"Host: {host} over {scheme} ({kinds[connection.host_kind]}), REST API v"
        f"{connection.api_version}"
    )
    echo(f"API root: {root}")
    if scheme == "http" and not host.startswith(("127.0.0.1", "localhost", "[::1]")):
        echo(
            f"[warn] {host} is reached over http, which sends the credentials unencrypted. "
            "Use https."
        )
    if connection.cloud_id:
        source = SOURCE_NAMES.get(connection.cloud_id_source or "", connection.cloud_id_source)
        echo(f"Cloud id: {connection.cloud_id} ({source})")


def probe_endpoints(client: JiraClient, jql: str | None, findings: Findings, echo: Echo) -> None:
    """Send one small request per endpoint family and print one line for each."""
    c = client.connection
    me = _probe(
        client,
        "account",
        lambda: client.get(c.api_path("myself")),
        USER_SCOPE,
        "the account check",
        findings,
        echo,
        first=True,
    )
    if me is not None:
        who = me.get("accountId") or me.get("key") or me.get("name")
        zone = me.get("timeZone")
        echo(
            f"[ok]   account: {me.get('displayName')} ({who}), profile time zone {zone}. "
            "JQL dates without a zone are read in this zone; jira-etl's window uses epoch "
            "milliseconds, so the zone does not shift it."
        )
    fields = _probe(
        client,
        "fields",
        lambda: client.get(c.api_path("field")),
        WORK_SCOPE,
        "the custom field columns",
        findings,
        echo,
    )
    if isinstance(fields, list):
        custom = sum(1 for f in fields if isinstance(f, dict) and f.get("custom"))
        echo(f"[ok]   fields: {len(fields)} visible, {custom} custom")

    bounded = where_clause(jql, "updated >= 0")
    issue = _probe(
        client,
        "search",
        lambda: _search_one(client, bounded),
        WORK_SCOPE,
        "the issues table",
        findings,
        echo,
    )
    if issue is None:
        return
    if not issue.get("id"):
        echo(
            f"[warn] search: `{bounded}` matches no issue, so the per-issue endpoints "
            "(changelog, comments, worklogs) were not checked."
        )
    else:
        echo(f"[ok]   search: `{bounded}` matches issue {issue.get('key') or issue['id']}")
        issue_path = f"issue/{issue['id']}"
        for name, call, tables in (
            ("changelog", _changelog_call(client, issue_path), "the changelog table"),
            ("comments", _page_call(client, f"{issue_path}/comment"), "the comments table"),
            ("worklogs", _page_call(client, f"{issue_path}/worklog"), "the worklogs table"),
        ):
            answered = _probe(client, name, call, WORK_SCOPE, tables, findings, echo)
            if answered is not None:
                echo(f"[ok]   {name}: {answered} answered")

    users_path = c.api_path("users/search" if c.flavor == "cloud" else "user/search")
    users_params = {"maxResults": 1} if c.flavor == "cloud" else {"username": ".", "maxResults": 1}
    if (
        _probe(
            client,
            "users",
            lambda: client.get(users_path, users_params),
            USER_SCOPE,
            "user look-ups",
            findings,
            echo,
        )
        is not None
    ):
        echo(f"[ok]   users: {users_path} answered")
    _probe_agile(client, findings, echo)


def _page_call(client: JiraClient, path: str) -> Callable[[], str]:
    """Return a probe that requests one item of a listing and returns the path it read."""

    def call() -> str:
        client.get(client.connection.api_path(path), {"maxResults": 1})
        return f"/{path}"

    return call


def _changelog_call(client: JiraClient, issue_path: str) -> Callable[[], str]:
    """Return a probe of the changelog that falls back as a run does.

    Where Jira does not serve `/issue/{id}/changelog`, as on some Data Center servers, a run
    reads the histories with `GET /issue/{id}?expand=changelog`, so the probe tries that too.
    """

    def call() -> str:
        try:
            return _page_call(client, f"{issue_path}/changelog")()
        except NotFoundError:
            path = client.connection.api_path(issue_path)
            client.get(path, {"expand": "changelog", "fields": "updated"})
            return f"/{issue_path}?expand=changelog"

    return call


def _probe_agile(client: JiraClient, findings: Findings, echo: Echo) -> None:
    try:
        boards = client.get("/rest/agile/1.0/board", {"maxResults": 1})
    except NotFoundError:
        echo(
            "[warn] agile: /rest/agile/1.0/board answered 404. Jira Software may not be on "
            "this site; the sprint tables stay empty."
        )
        return
    except AuthError as exc:
        _failed("agile boards", exc, BOARD_SCOPE, "the sprint tables", findings, echo)
        return
    except JiraEtlError as exc:
        findings.ok = False
        echo(f"[fail] agile boards: {exc}")
        return
    findings.answered += 1
    values = boards.get("values") if isinstance(boards, dict) else None
    echo("[ok]   agile boards: /rest/agile/1.0/board answered")
    if not values:
        echo("[warn] agile sprints: no board is visible, so sprints were not checked.")
        return
    board = values[0].get("id")
    path = f"/rest/agile/1.0/board/{board}/sprint"
    if (
        _probe(
            client,
            "agile sprints",
            lambda: client.get(path, {"maxResults": 1}),
            SPRINT_SCOPE,
            "the sprint tables",
            findings,
            echo,
        )
        is not None
    ):
        echo(f"[ok]   agile sprints: {path} answered")


def _search_one(client: JiraClient, jql: str) -> dict[str, Any]:
    c = client.connection
    body = {"jql": jql, "maxResults": 1, "fields": ["id", "key"]}
    page = client.post(c.api_path("search" if c.flavor == "dc" else "search/jql"), body)
    issues = page.get("issues") if isinstance(page, dict) else None
    return issues[0] if issues else {}


def _probe(
    client: JiraClient,
    name: str,
    call: Callable[[], Any],
    scope: str,
    tables: str,
    findings: Findings,
    echo: Echo,
    *,
    first: bool = False,
) -> Any:
    """Run one probe; return its body, or None after printing why it failed."""
    try:
        result = call()
    except AuthError as exc:
        _failed(name, exc, scope, tables, findings, echo)
        return None
    except NotFoundError as exc:
        findings.ok = False
        echo(f"[fail] {name}: {exc}")
        if first:
            echo("       Skipped the other checks: fix the address first.")
            raise StopChecks from None
        return None
    except JiraEtlError as exc:
        findings.ok = False
        echo(f"[fail] {name}: {exc}")
        return None
    findings.answered += 1
    return result


def _failed(
    name: str, exc: AuthError, scope: str, tables: str, findings: Findings, echo: Echo
) -> None:
    findings.ok = False
    # Only the gateway checks scopes, and it returns `Unauthorized; scope does not match`.
    if findings.gateway and exc.status == 401 and "scope does not match" in str(exc).lower():
        findings.missing.setdefault(scope, []).append(name)
        echo(f"[fail] {name}: 401, the token lacks the scope `{scope}` (needed for {tables}).")
        return
    echo(f"[fail] {name}: {exc}")
    if exc.status == 401:
        echo("       Skipped the other checks: fix the credentials first.")
        raise StopChecks from None


def report_scopes(connection: Connection, findings: Findings, echo: Echo) -> None:
    """List the missing scopes with the fix for this kind of credential."""
    if not findings.missing:
        return
    scopes = ", ".join(f"`{scope}`" for scope in sorted(findings.missing))
    if findings.answered == 0:
        echo(
            "Every endpoint answered 401 `scope does not match`: the token carries none of the "
            "scopes jira-etl needs. A classic API token sent as Bearer gets exactly this "
            "answer at the gateway. Use it with --auth basic, JIRA_EMAIL and the site URL "
            "(JIRA_BASE_URL=https://your-site.atlassian.net), or create a scoped token with "
            f"{scopes}."
        )
        return
    provider = connection.auth.provider
    if provider is None:
        fix = (
            "The scopes of an API token cannot be changed: create a new scoped token for the "
            "service account (admin.atlassian.com, Directory, Service accounts) that includes "
            "them, and set JIRA_TOKEN to it."
        )
    elif provider.grant == "client_credentials":
        fix = (
            "Edit the service account's OAuth 2.0 credential (admin.atlassian.com, Directory, "
            "Service accounts) to include them; the next access token carries them."
        )
    else:
        fix = (
            "Add them to the app's permissions in developer.atlassian.com/console/myapps, "
            "authorize the app again, and put the new refresh token in JIRA_REFRESH_TOKEN_FILE."
        )
    echo(f"Missing scopes: {scopes}. {fix}")
