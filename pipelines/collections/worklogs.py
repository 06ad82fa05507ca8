"""Worklogs: every worklog of an issue, and the site-wide feed of changed and deleted ones.

`GET /worklog/updated?since=<epoch ms>` and `/worklog/deleted` list worklog ids changed since
an instant, 1000 a page, leaving out the last minute; each page carries `until`, where the next
page or the next run starts. `POST /worklog/list` returns the worklogs of up to 1000 ids.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from pipelines.client.transport import JiraClient
from pipelines.collections.comments import embedded_items
from pipelines.collections.paging import MAX_PAGES, whole_listing
from pipelines.errors import NotFoundError, PaginationError, PayloadError
from pipelines.json_text import quote_value

PAGE_SIZE = 1000
LIST_SIZE = 1000


def read_worklogs(
    client: JiraClient, issue_id: int, raw_issue: dict[str, Any] | None = None
) -> list[dict[str, Any]] | None:
    """Return every worklog of an issue, or None when the issue was not found.

    The embedded `worklog` page of `raw_issue` is used when it is whole.
    """
    embedded = embedded_items(raw_issue, "worklog", "worklogs")
    if embedded is not None:
        return embedded
    path = client.connection.api_path(f"issue/{issue_id}/worklog")
    try:
        return whole_listing(client, path, "worklogs", page_size=PAGE_SIZE)
    except NotFoundError:
        return None


@dataclass
class WorklogChanges:
    """Worklog ids changed or deleted since an instant.

    Attributes:
        updated_ids: ids of worklogs created or changed, in feed order.
        deleted_ids: ids of deleted worklogs.
        until: epoch milliseconds the next read starts from.
    """

    updated_ids: list[int] = field(default_factory=list)
    deleted_ids: list[int] = field(default_factory=list)
    until: int = 0


def read_worklog_changes(client: JiraClient, since: int) -> WorklogChanges:
    """Read the ids of worklogs updated and deleted since `since` (epoch milliseconds).

    `until` is the smaller of the two feeds' ends, so neither feed skips a change next time.
    """
    updated, updated_until = _feed(client, "worklog/updated", since)
    deleted, deleted_until = _feed(client, "worklog/deleted", since)
    return WorklogChanges(updated, deleted, min(updated_until, deleted_until))


def list_worklogs(client: JiraClient, ids: list[int]) -> Iterator[dict[str, Any]]:
    """Yield the worklogs of `ids` with `POST /worklog/list`, 1000 ids a request."""
    path = client.connection.api_path("worklog/list")
    for start in range(0, len(ids), LIST_SIZE):
        found = client.post(path, {"ids": ids[start : start + LIST_SIZE]})
        if not isinstance(found, list):
            raise PayloadError(f"{path} returned a {type(found).__name__}, expected a list.")
        yield from found


def _feed(client: JiraClient, endpoint: str, since: int) -> tuple[list[int], int]:
    path = client.connection.api_path(endpoint)
    ids: list[int] = []
    cursor = since
    for _ in range(MAX_PAGES):
        page = client.get(path, {"since": cursor})
        values = page.get("values") if isinstance(page, dict) else None
        if not isinstance(values, list):
            raise PayloadError(f"{path} returned a page without a `values` list.")
        for value in values:
            worklog_id = value.get("worklogId") if isinstance(value, dict) else None
            if not isinstance(worklog_id, int):
                raise PayloadError(
                    f"{path} returned `{quote_value(value)}` without a numeric `worklogId`."
                )
            ids.append(worklog_id)
        until = page.get("until")
        next_cursor = until if isinstance(until, int) else cursor
        if page.get("lastPage", True) is True or not values:
            return ids, max(next_cursor, since)
        if next_cursor <= cursor:
            raise PaginationError(f"{path} did not advance past since={cursor}.")
        cursor = next_cursor
    raise PaginationError(f"{path} did not end after {MAX_PAGES} pages.")
