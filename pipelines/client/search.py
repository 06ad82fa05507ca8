"""Issue search on Cloud (`/search/jql`, token pages) and Data Center (`/search`, offsets)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pipelines.client.connection import Connection
from pipelines.client.transport import JiraClient, JsonBody
from pipelines.errors import PaginationError, PayloadError, RetryableError

logger = logging.getLogger("jira_etl.search")

# Cloud serves id-only searches in pages of up to 5000, full issues in pages of about 100.
MAX_KEYS_PAGE = 5000
BULK_FETCH_SIZE = 100
# Data Center rejects a search whose `startAt + maxResults` goes past this many results, so the
# readers slice deeper windows by `updated` (see `reader.sliced_pages`).
# NOTE: not confirmed on a real server is whether it checks the offset alone or the offset
# plus the page size. Requests within both rules pass either way.
DC_MAX_OFFSET = 10_000


class IssueSearch:
    """Page through the issues a JQL query matches, on Cloud or Data Center."""

    def __init__(self, client: JiraClient) -> None:
        self.client = client
        self.connection: Connection = client.connection
        # The deepest result an offset-paged search can read; None where paging has no limit.
        self.offset_limit: int | None = DC_MAX_OFFSET if self.connection.flavor == "dc" else None

    def pages(
        self,
        jql: str,
        *,
        fields: list[str],
        expand: str | None = None,
        page_size: int = 100,
    ) -> Iterator[list[dict[str, Any]]]:
        """Yield the issues of each page, in the order Jira returns them.

        Cloud follows `nextPageToken` until it is absent or `isLast` is true and never reads a
        total. Data Center advances `startAt` by the number of issues returned, since the server
        may return fewer than requested, and requests no result past `offset_limit`.

        Raises:
            PaginationError: a token repeated, or a page came back without its issues list.
        """
        if self.connection.flavor == "dc":
            yield from self._offset_pages(jql, fields, expand, page_size)
        else:
            yield from self._token_pages(jql, fields, expand, page_size)

    def _token_pages(
        self, jql: str, fields: list[str] | None, expand: str | None, page_size: int
    ) -> Iterator[list[dict[str, Any]]]:
        path = self.connection.api_path("search/jql")
        seen_tokens: set[str] = set()
        token: str | None = None
        page_number = 0
        while True:
            body: dict[str, Any] = {"jql": jql, "maxResults": page_size}
            if fields is not None:
                # Without `fields`, Cloud returns ids only.
                body["fields"] = fields
            if expand:
                body["expand"] = expand
            if token:
                body["nextPageToken"] = token
            page = self.client.post(path, body)
            page_number += 1
            issues = _issues_of(page, path, page_number)
            yield issues
            token = page.get("nextPageToken")
            if page.get("isLast") is True or not token:
                return
            if token in seen_tokens:
                raise PaginationError(
                    f"Jira returned page token `{token[:24]}...` twice for the search "
                    f"`{jql}` (page {page_number}). Paging would loop, so the run stops before "
                    "saving anything. Retry later; if it persists, report it to Atlassian."
                )
            seen_tokens.add(token)
            # NOTE: an empty page with a new token is legal but would page forever if Jira
            # kept issuing tokens; a bound on the page count keeps the loop finite.
            if not issues and page_number > 10_000:
                raise PaginationError(f"Search `{jql}` returned over 10,000 empty pages.")

    def _offset_pages(
        self, jql: str, fields: list[str], expand: str | None, page_size: int
    ) -> Iterator[list[dict[str, Any]]]:
        path = self.connection.api_path("search")
        start_at = 0
        page_number = 0
        while True:
            size = page_size
            if self.offset_limit is not None and start_at < self.offset_limit:
                # The server may return fewer issues than requested, so a full-size request
                # near the limit would reach past it and be rejected.
                size = min(page_size, self.offset_limit - start_at)
            body: dict[str, Any] = {
                "jql": jql,
                "startAt": start_at,
                "maxResults": size,
                "fields": fields,
            }
            if expand:
                body["expand"] = expand
            try:
                page = self.client.post(path, body)
            except RetryableError as error:
                raise _with_changelog_advice(error, expand) from None
            page_number += 1
            issues = _issues_of(page, path, page_number)
            yield issues
            total = page.get("total")
            start_at += len(issues)
            if not issues or (isinstance(total, int) and start_at >= total):
                return

    def keys(self, jql: str, *, page_size: int = MAX_KEYS_PAGE) -> Iterator[list[dict[str, Any]]]:
        """Yield pages of issues carrying only `id`, `key` and `updated`: cheap, large pages."""
        size = page_size if self.connection.flavor == "cloud" else min(page_size, 1000)
        yield from self.pages(jql, fields=["updated"], page_size=size)

    def ids(self, jql: str, *, page_size: int = MAX_KEYS_PAGE) -> Iterator[list[dict[str, Any]]]:
        """Yield pages of issues carrying `id`, and as few other values as the API allows.

        Cloud returns only ids when the request names no fields. Data Center's search always
        returns the key and the named fields, so there it pages as `keys` does.
        """
        if self.connection.flavor == "cloud":
            yield from self._token_pages(jql, None, None, page_size)
        else:
            yield from self.keys(jql, page_size=page_size)

    def fetch_by_ids(
        self, ids: list[int], *, fields: list[str], expand: str | None = None
    ) -> list[dict[str, Any]]:
        """Fetch full issues by id: Cloud's bulk fetch, or an `id in (...)` search on Data Center."""
        bulk_pages = self.fetch_bulk_pages(ids, fields=fields, expand=expand)
        if bulk_pages is not None:
            return [issue for page in bulk_pages for issue in page.issues()]
        found: list[dict[str, Any]] = []
        for start in range(0, len(ids), BULK_FETCH_SIZE):
            chunk = ids[start : start + BULK_FETCH_SIZE]
            jql = f"id in ({', '.join(str(i) for i in chunk)}) ORDER BY id ASC"
            for issues in self._offset_pages(jql, fields, expand, len(chunk)):
                found.extend(issues)
        return found

    def fetch_bulk_pages(
        self, ids: list[int], *, fields: list[str], expand: str | None = None
    ) -> list[BulkPage] | None:
        """Fetch full issues by id with Cloud's bulk fetch, and keep the bodies undecoded.

        Bulk fetch leaves out issues that are gone or hidden, and lists in `issueErrors` those
        it could not return because of a retriable error or the size of the response. Those are
        requested again one at a time, within the client's `--max-retries` attempts.

        Returns None on Data Center, which has no bulk fetch.

        Raises:
            RetryableError: an issue stayed in `issueErrors` through every attempt.
        """
        if self.connection.flavor != "cloud":
            return None
        path = self.connection.api_path("issue/bulkfetch")
        pages: list[BulkPage] = []
        failed: dict[str, str] = {}
        for start in range(0, len(ids), BULK_FETCH_SIZE):
            page = self._bulk_page(path, ids[start : start + BULK_FETCH_SIZE], fields, expand)
            pages.append(page)
            failed.update(page.errors())
        for id_or_key, message in failed.items():
            pages.append(self._fetch_one_again(path, id_or_key, message, fields, expand))
        return pages

    def _bulk_page(
        self, path: str, ids: list[int] | list[str], fields: list[str], expand: str | None
    ) -> BulkPage:
        body: dict[str, Any] = {"issueIdsOrKeys": [str(i) for i in ids], "fields": fields}
        if expand:
            body["expand"] = [part for part in expand.split(",") if part]
        return BulkPage(path, self.client.post(path, body, decode=False))

    def _fetch_one_again(
        self, path: str, id_or_key: str, message: str, fields: list[str], expand: str | None
    ) -> BulkPage:
        """Request an issue that bulk fetch listed in `issueErrors` until it comes back."""
        attempts = self.client.retry.max_attempts
        for attempt in range(1, attempts):
            logger.warning(
                "Bulk fetch could not return issue %s (%s), retry %d of %d",
                id_or_key,
                message,
                attempt,
                attempts - 1,
            )
            self.client.pause(attempt)
            page = self._bulk_page(path, [id_or_key], fields, expand)
            errors = page.errors()
            if id_or_key not in errors:
                return page
            message = errors[id_or_key]
        raise RetryableError(
            f"{path} listed issue {id_or_key} in `issueErrors` in each of {attempts} requests. "
            f"Jira's message: {message.rstrip('.')}. The issue changed in this window, so the "
            "run stops instead of loading without it. Run again later, or raise --max-retries.",
            url=path,
        )


@dataclass(frozen=True)
class BulkPage:
    """The undecoded response of one bulk fetch, and the API path that its errors name."""

    path: str
    body: JsonBody

    def issues(self) -> list[dict[str, Any]]:
        """Decode the page and return its issues.

        Raises:
            PayloadError: the body is not JSON or has no `issues` list.
        """
        return _issues_of(self.body.decode(), self.path, 1)

    def errors(self) -> dict[str, str]:
        """Return the issues listed in `issueErrors`, by id, with Jira's message.

        Jira documents each entry as `{"id": ..., "errorMessage": ...}`; entries with
        `issueIdOrKey` and `errorMessages` are read too. A body whose only `issueErrors` is an
        empty list is not decoded, because the loader decodes each page later anyway.

        Raises:
            PayloadError: the body is not JSON, has no `issues` list, `issueErrors` is not a
                list of objects, or an entry names no issue.
        """
        content = self.body.content
        listed_keys = content.count(b'"issueErrors"')
        if listed_keys == 0 or (listed_keys == 1 and _NO_ISSUE_ERRORS.search(content)):
            return {}
        page = self.body.decode()
        _issues_of(page, self.path, 1)  # raises for a body without an issues list
        listed = page.get("issueErrors") or []
        if not isinstance(listed, list) or not all(isinstance(e, dict) for e in listed):
            raise PayloadError(f"{self.path} returned an `issueErrors` value that is not a list.")
        errors: dict[str, str] = {}
        for entry in listed:
            issue = entry.get("id", entry.get("issueIdOrKey"))
            if not isinstance(issue, str | int) or isinstance(issue, bool) or issue == "":
                raise PayloadError(
                    f"{self.path} listed an entry without an issue id in `issueErrors`, so the "
                    "issue it could not return is unknown and the run stops. Run again later."
                )
            message = entry.get("errorMessage")
            messages = entry.get("errorMessages")
            if not isinstance(message, str) and isinstance(messages, list):
                message = "; ".join(str(m) for m in messages)
            errors[str(issue)] = message if isinstance(message, str) and message else "no message"
        return errors


# `"issueErrors": []` in the compact or spaced JSON that Jira writes.
_NO_ISSUE_ERRORS = re.compile(rb'"issueErrors"\s*:\s*\[\s*\]')


# The name of each decoded JSON type in messages.
_JSON_KINDS = {
    dict: "an object",
    list: "an array",
    str: "a string",
    int: "a number",
    float: "a number",
    bool: "true or false",
    type(None): "null",
}


def _issues_of(page: Any, path: str, page_number: int) -> list[dict[str, Any]]:
    if not isinstance(page, dict) or not isinstance(page.get("issues"), list):
        kind = _JSON_KINDS.get(type(page), "an unknown value")
        keys = ", ".join(sorted(page)[:8]) if isinstance(page, dict) else ""
        raise PayloadError(
            f"Page {page_number} of {path} has no `issues` list (got {kind}"
            f"{' with keys ' + keys if keys else ''}). The endpoint may have changed or a proxy "
            "answered; check the URL."
        )
    return page["issues"]


# Statuses of a server that failed or timed out building a response, not of rate limiting.
_SERVER_FAILURES = frozenset({500, 502, 503, 504})
# Faults of a response that did not arrive whole: no response within the timeout, or a dropped
# connection.
_CUT_OFF = ("(ReadTimeout)", "(RemoteProtocolError)")


def _with_changelog_advice(error: RetryableError, expand: str | None) -> RetryableError:
    """Add advice to a failed search that requested every issue's embedded changelog.

    Issues with thousands of histories make such a page slow to build, so the searches can
    time out where the same search without the histories would not.
    """
    if not expand or "changelog" not in expand.split(",") or error.retry_after is not None:
        # A long Retry-After is the server's own request to wait, which per-issue reads
        # would get as well.
        return error
    text = str(error)
    cut_off = error.status is None and any(fault in text for fault in _CUT_OFF)
    if not cut_off and error.status not in _SERVER_FAILURES:
        return error
    return RetryableError(
        f"{text} The searches that fetch the issues request every issue's changelog "
        "(`expand=changelog`). If the server fails or times out building those pages, run "
        "with --changelog-mode per_issue, which reads each issue's changelog pages instead.",
        status=error.status,
        url=error.url,
    )
