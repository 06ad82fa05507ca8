"""Offset paging shared by the collection endpoints."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from pipelines.client.transport import JiraClient
from pipelines.errors import PaginationError, PayloadError, RetryableError

logger = logging.getLogger("jira_etl.collections")

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
        items = _page_items(page, path, items_key)
        yield items
        start_at += len(items)
        if not items or (isinstance(page, dict) and page.get("isLast") is True):
            return
        total = page.get("total") if isinstance(page, dict) else None
        if isinstance(total, int) and start_at >= total:
            return
    raise PaginationError(f"{path} did not end after {MAX_PAGES} pages.")


# Readings of a listing that changed while it was read, before the run stops.
LISTING_ATTEMPTS = 3


def whole_listing(
    client: JiraClient,
    path: str,
    items_key: str,
    *,
    params: dict[str, Any] | None = None,
    page_size: int = 100,
) -> list[dict[str, Any]]:
    """Return every item of an issue's offset-paged listing, read while it does not change.

    Jira runs the listing again for each page, so an item deleted before the offset of the
    next page shifts the rest: one item is skipped and the deleted one was already read. Each
    page after the first therefore starts one item early, and the listing is read again from
    the start when that item is not the last one read. Items added at the end of the listing
    shift nothing.

    Raises:
        RetryableError: the listing changed in each of `LISTING_ATTEMPTS` readings.
        PayloadError, PaginationError: as `offset_pages`.
    """
    for attempt in range(1, LISTING_ATTEMPTS + 1):
        items = _overlapping_listing(client, path, items_key, params, page_size)
        if items is not None:
            return items
        logger.info(
            "%s changed while it was read, reading it again (%d of %d)",
            path,
            attempt,
            LISTING_ATTEMPTS,
        )
    raise RetryableError(
        f"{path} changed while it was read, in each of {LISTING_ATTEMPTS} readings, so its "
        "items could not be read whole. Run again later.",
        url=path,
    )


def _overlapping_listing(
    client: JiraClient,
    path: str,
    items_key: str,
    params: dict[str, Any] | None,
    page_size: int,
) -> list[dict[str, Any]] | None:
    """Read a listing with pages that overlap by one item; None when the overlap differs.

    Jira may return fewer items than `maxResults`, down to one when the items are large. A
    page that contains only the overlapping item while `isLast` or `total` shows more remain is
    followed by a page that starts right after the items read. The item before that page is
    then requested again, and it must not have changed either.
    """
    items: list[Any] = []
    overlap = False
    # The number of items read before a page without an overlap, checked after that page.
    check_before: int | None = None
    for _ in range(MAX_PAGES):
        start_at = len(items) - 1 if overlap else len(items)
        page = client.get(path, {**(params or {}), "startAt": start_at, "maxResults": page_size})
        found = _page_items(page, path, items_key)
        if overlap:
            if not found or _item_id(found[0]) != _item_id(items[-1]):
                return None
            found = found[1:]
        items.extend(found)
        if check_before is not None:
            if not _item_unchanged(client, path, items_key, params, items, check_before - 1):
                return None
            check_before = None
        total = page.get("total")
        more = page.get("isLast") is False or (isinstance(total, int) and len(items) < total)
        if not found and overlap and more:
            overlap = False
            check_before = len(items)
            continue
        if (
            not found
            or page.get("isLast") is True
            or (isinstance(total, int) and len(items) >= total)
        ):
            return items
        overlap = True
    raise PaginationError(f"{path} did not end after {MAX_PAGES} pages.")


def _item_unchanged(
    client: JiraClient,
    path: str,
    items_key: str,
    params: dict[str, Any] | None,
    items: list[Any],
    position: int,
) -> bool:
    """Return True when the listing still has `items[position]` at that position."""
    page = client.get(path, {**(params or {}), "startAt": position, "maxResults": 1})
    found = _page_items(page, path, items_key)
    return bool(found) and _item_id(found[0]) == _item_id(items[position])


def _item_id(item: Any) -> Any:
    """Return an item's `id`, or the item itself when it is not an object."""
    return item.get("id") if isinstance(item, dict) else item


def _page_items(page: Any, path: str, items_key: str | None) -> list[Any]:
    """Return the list of items of a page: `page[items_key]`, or the page itself when None.

    Raises:
        PayloadError: the page has no such list.
    """
    items = page
    if items_key is not None:
        items = page.get(items_key) if isinstance(page, dict) else None
    if not isinstance(items, list):
        raise PayloadError(
            f"{path} returned a page without a `{items_key or 'list'}` of items "
            f"(got {type(page).__name__}). The endpoint may have changed; check the URL."
        )
    return items
