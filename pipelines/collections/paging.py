"""Offset paging shared by the collection endpoints."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pipelines.client.transport import JiraClient
from pipelines.errors import PaginationError, PayloadError

# A bound on pages per listing, so a server that never ends a listing cannot loop forever.
MAX_PAGES = 100_000


def offset_pages(
    client: JiraClient,
    path: str,
    items_key: str | None,
    *,
    params: dict[str, Any] | None = None,
    page_size: int = 100,
) -> Iterator[list[Any]]:
    """Yield the items of each page of an offset-paged GET endpoint.

    `startAt` advances by the number of items returned, since Jira may return fewer than
    `maxResults`. Paging ends on an empty page, on `isLast: true`, or once `startAt` reaches
    `total`.

    Args:
        client: the client of the run.
        path: the endpoint path, relative to the API root.
        items_key: the list's key in the page (`values`, `comments`, ...); None when the
            response is a bare list, as `/users/search` returns.
        params: extra query parameters.
        page_size: the `maxResults` requested.

    Raises:
        PayloadError: a page has no list under `items_key`.
        PaginationError: the listing did not end within `MAX_PAGES` pages.
    """
    start_at = 0
    for _ in range(MAX_PAGES):
        page = client.get(path, {**(params or {}), "startAt": start_at, "maxResults": page_size})
        items = page if items_key is None else (page or {}).get(items_key)
        if not isinstance(items, list):
            raise PayloadError(
                f"{path} returned a page without a `{items_key or 'list'}` of items "
                f"(got {type(page).__name__}). The endpoint may have changed; check the URL."
            )
        yield items
        start_at += len(items)
        if not items or (isinstance(page, dict) and page.get("isLast") is True):
            return
        total = page.get("total") if isinstance(page, dict) else None
        if isinstance(total, int) and start_at >= total:
            return
    raise PaginationError(f"{path} did not end after {MAX_PAGES} pages.")
