"""Every comment of an issue: the embedded page when it is whole, else the comment endpoint."""

from __future__ import annotations

from typing import Any

from pipelines.client.transport import JiraClient
from pipelines.collections.paging import whole_listing
from pipelines.errors import NotFoundError

PAGE_SIZE = 1000


def embedded_items(raw_issue: dict[str, Any] | None, field: str, items_key: str) -> list | None:
    """Return the items of an embedded comment or worklog page when the page is whole.

    A page is whole when it starts at 0 and its `total` is not larger than its item count.
    None means the page is missing (the field was not requested) or capped, so the
    collection must be read from its own endpoint.
    """
    fields = raw_issue.get("fields") if isinstance(raw_issue, dict) else None
    page = fields.get(field) if isinstance(fields, dict) else None
    if not isinstance(page, dict):
        return None
    items = page.get(items_key)
    total = page.get("total")
    if not isinstance(items, list) or not isinstance(total, int):
        return None
    if page.get("startAt", 0) != 0 or total > len(items):
        return None
    return items


def read_comments(
    client: JiraClient, issue_id: int, raw_issue: dict[str, Any] | None = None
) -> list[dict[str, Any]] | None:
    """Return every comment of an issue, or None when the issue was not found.

    Args:
        client: the client of the run.
        issue_id: the issue to read.
        raw_issue: the issue as the search returned it; its embedded page is used when whole.
    """
    embedded = embedded_items(raw_issue, "comment", "comments")
    if embedded is not None:
        return embedded
    path = client.connection.api_path(f"issue/{issue_id}/comment")
    params = {"orderBy": "created"}
    try:
        return whole_listing(client, path, "comments", params=params, page_size=PAGE_SIZE)
    except NotFoundError:
        return None
