"""The errors jira-etl raises, translated once at the HTTP boundary.

    JiraEtlError                 any failure the CLI reports as one message, exit status 1
    ├── ConfigError              missing or invalid settings (.env, options, dlt config)
    ├── JiraHttpError            an HTTP exchange with Jira failed
    │   ├── RetryableError       429, 5xx or a connection fault; raised after the last retry
    │   └── FatalHttpError       an answer that retrying cannot change
    │       ├── AuthError        401: credentials rejected or scope missing
    │       ├── NotFoundError    404: wrong cloud id, site or endpoint
    │       ├── RemovedEndpoint  410: Atlassian removed the endpoint
    │       └── BadRequestError  400: invalid JQL or parameters, with Jira's own message
    ├── PaginationError          a page token repeated or paging did not make progress
    ├── PayloadError             a response or an issue that cannot be parsed
    └── LockedError              another run of the same pipeline holds the lock

Messages never contain credentials: URLs are cleaned before they reach an error.
"""

from __future__ import annotations


class JiraEtlError(Exception):
    """Base class of every failure reported to the user as one message."""


class ConfigError(JiraEtlError):
    """A setting is missing or invalid."""


class JiraHttpError(JiraEtlError):
    """An HTTP exchange with Jira failed.

    Attributes:
        status: the HTTP status, or None when no response arrived.
        url: the request URL without credentials or query secrets.
    """

    def __init__(self, message: str, *, status: int | None = None, url: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.url = url


class RetryableError(JiraHttpError):
    """A 429, a 5xx or a connection fault that persisted through every retry.

    Attributes:
        retry_after: the wait in seconds that Jira asked for (`Retry-After`) when it was
            longer than the run allows; None otherwise.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        url: str = "",
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, status=status, url=url)
        self.retry_after = retry_after


class FatalHttpError(JiraHttpError):
    """A response that retrying cannot change."""


class AuthError(FatalHttpError):
    """Jira rejected the credentials, or the token lacks a scope."""


class NotFoundError(FatalHttpError):
    """The site, the cloud id or the endpoint was not found."""


class RemovedEndpoint(FatalHttpError):
    """The endpoint answered 410 Gone."""


class BadRequestError(FatalHttpError):
    """Jira rejected the request, usually the JQL, with its own message."""


class PaginationError(JiraEtlError):
    """Paging did not make progress: a token repeated or a page went backwards."""


class PayloadError(JiraEtlError):
    """A response body or an issue in it cannot be parsed.

    Attributes:
        issue_key: the key (or id) of the issue that carried the value, when known.
    """

    def __init__(self, message: str, *, issue_key: str | None = None) -> None:
        super().__init__(message)
        self.issue_key = issue_key


class LockedError(JiraEtlError):
    """Another run of the same pipeline holds the lock."""
