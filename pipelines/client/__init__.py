"""The HTTP side of jira-etl: authentication, retries, rate limits, error translation, paging."""

from pipelines.client.auth import JiraAuth, build_auth
from pipelines.client.connection import Connection, resolve_connection
from pipelines.client.transport import JiraClient, RetryPolicy

__all__ = [
    "Connection",
    "JiraAuth",
    "JiraClient",
    "RetryPolicy",
    "build_auth",
    "resolve_connection",
]
