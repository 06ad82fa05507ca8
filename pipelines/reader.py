"""Read one incremental window completely, even while Jira re-evaluates the search per page.

Jira runs the query again for every page. An issue edited between two page requests moves to
the end of an `ORDER BY updated` result, and a deleted one leaves a hole, so the issue that sat
just after a page boundary can slide onto the page already read and be skipped.

Such an issue X was after page k when page k was read and before page k+1 when page k+1 was
read. Unless X itself changed (then it moved to the end and is read there, or in the next
run), its sort key lies between the last issue of page k and the first issue of page k+1.
After the pass, one cheap id-only search per group of boundaries lists the issues in those
ranges, and any id not read yet is fetched by id. The cursor is the largest `updated` the
search itself showed, never the clock, so the next run's overlap starts from read data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pipelines.client.search import IssueSearch
from pipelines.errors import PaginationError, PayloadError
from pipelines.ids import parse_id
from pipelines.json_text import quote_value
from pipelines.normalize.timestamps import parse_instant
from pipelines.versions import MAX_ISSUE_ID, VersionMap
from pipelines.window import ORDER_CLAUSE, Window, to_epoch_ms, where_clause

logger = logging.getLogger("jira_etl.reader")

# Boundary ranges checked by one id-only search; keeps the JQL short.
RANGES_PER_CHECK = 25
SortKey = tuple[datetime, int]


@dataclass
class ReadStats:
    """What one window read did, for the run summary."""

    pages: int = 0
    # Searches of the window: more than one where offsets are limited (see `sliced_pages`).
    slices: int = 0
    issues: int = 0
    boundary_checks: int = 0
    recovered: int = 0
    max_updated: datetime | None = None
    # The `updated` of the version of each issue yielded so far.
    seen: VersionMap = field(default_factory=VersionMap)


def sort_key(issue: dict[str, Any]) -> SortKey:
    """Return the `(updated, id)` key an `ORDER BY updated ASC, id ASC` search sorts by.

    Raises:
        PayloadError: the issue has no id or no parseable `fields.updated`.
    """
    key = quote_value(issue.get("key") or issue.get("id") or "?")
    fields = issue.get("fields")
    if not isinstance(fields, dict):
        raise PayloadError(
            f"Issue {key} came back without `fields`. The search asked for fields; a proxy or "
            "an API change may have stripped them.",
            issue_key=key,
        )
    raw_updated = fields.get("updated")
    try:
        if not isinstance(raw_updated, str):
            raise ValueError("not a string")
        updated = parse_instant(raw_updated)
    except ValueError:
        raise PayloadError(
            f"Issue {key} has an invalid `updated` value `{quote_value(raw_updated)}`: expected an "
            "instant like 2024-01-02T03:04:05.678-0800. The cursor cannot advance past it.",
            issue_key=key,
        ) from None
    issue_id = parse_id(issue.get("id"))
    if issue_id is None:
        raise PayloadError(
            f"Issue {key} has no numeric `id` (got `{quote_value(issue.get('id'), 40)}`).",
            issue_key=key,
        )
    if not 0 < issue_id <= MAX_ISSUE_ID:
        raise PayloadError(
            f"Issue {key} has the invalid id {str(issue_id)[:40]}: expected 1 to "
            f"{MAX_ISSUE_ID}, as Jira issue ids are positive 64-bit integers. A proxy or an "
            "API change may have altered the payload.",
            issue_key=key,
        )
    return updated, issue_id


class WindowReader:
    """Read every issue of a window, page by page, and recover issues skipped at boundaries."""

    def __init__(
        self,
        search: IssueSearch,
        *,
        user_jql: str | None,
        fields: list[str],
        expand: str | None = None,
        page_size: int = 100,
    ) -> None:
        self.search = search
        self.user_jql = user_jql
        self.fields = fields
        self.expand = expand
        self.page_size = page_size
        self.stats = ReadStats()

    def read(self, window: Window) -> Iterator[list[dict[str, Any]]]:
        """Yield pages of full issues for `window`, then any issues recovered at boundaries."""
        boundaries: list[tuple[SortKey, SortKey | None]] = []
        previous_last: SortKey | None = None
        for issues in sliced_pages(
            self.search, self.user_jql, window.lower_ms, self._full_pages, self._start_slice
        ):
            self.stats.pages += 1
            keys = [sort_key(issue) for issue in issues]
            if previous_last is not None:
                boundaries.append((previous_last, keys[0] if keys else None))
            if keys:
                previous_last = keys[-1]
            fresh = self._remember(issues, keys)
            if fresh:
                yield fresh
            logger.info(
                "Page %d: %d issues (%d in total so far)",
                self.stats.pages,
                len(issues),
                self.stats.issues,
            )
        recovered = self._recover(boundaries)
        if recovered:
            yield recovered

    def _full_pages(self, jql: str) -> Iterator[list[dict[str, Any]]]:
        return self.search.pages(
            jql, fields=self.fields, expand=self.expand, page_size=self.page_size
        )

    def _start_slice(self, jql: str) -> None:
        logger.info("Searching issues with JQL: %s", jql)
        self.stats.slices += 1

    def _remember(self, issues: list[dict[str, Any]], keys: list[SortKey]) -> list[dict[str, Any]]:
        return [
            issue
            for issue, (updated, issue_id) in zip(issues, keys, strict=True)
            if self._note(updated, issue_id)
        ]

    def _note(self, updated: datetime, issue_id: int) -> bool:
        """Record one listed issue; return whether it is new or newer than the version read.

        An issue edited during the search shows up again, later in the order. Its newer
        version is read too and replaces the first one when loaded.
        """
        if self.stats.max_updated is None or updated > self.stats.max_updated:
            self.stats.max_updated = updated
        known = self.stats.seen.get(issue_id)
        if known is not None and updated <= known:
            return False
        if known is None:
            self.stats.issues += 1
        self.stats.seen[issue_id] = updated
        return True

    def _recover(self, boundaries: list[tuple[SortKey, SortKey | None]]) -> list[dict[str, Any]]:
        """Fetch the issues of the boundary ranges that were missed or read at an older version.

        An issue edited after it was read moves to a later place in the order, and can slide
        back across a page boundary before the search reaches that place.
        """
        # Ids to fetch in the order found. A dict keeps each id once.
        missing: dict[int, None] = {}
        for start in range(0, len(boundaries), RANGES_PER_CHECK):
            group = boundaries[start : start + RANGES_PER_CHECK]
            ranges = []
            for low, high in group:
                clause = f"updated >= {to_epoch_ms(low[0])}"
                if high is not None:
                    clause += f" AND updated <= {to_epoch_ms(high[0])}"
                ranges.append(f"({clause})")
            jql = f"{where_clause(self.user_jql, '(' + ' OR '.join(ranges) + ')')} {ORDER_CLAUSE}"
            self.stats.boundary_checks += 1
            for page in self.search.keys(jql):
                for issue in page:
                    updated, issue_id = sort_key(issue)
                    known = self.stats.seen.get(issue_id)
                    if known is None or updated > known:
                        missing[issue_id] = None
        if not missing:
            return []
        logger.warning(
            "%d issue(s) slid across a page boundary while the search ran, unread or at an "
            "older version; fetching them by id",
            len(missing),
        )
        issues = self.search.fetch_by_ids(list(missing), fields=self.fields, expand=self.expand)
        keys = [sort_key(issue) for issue in issues]
        fresh = []
        for issue, (updated, issue_id) in zip(issues, keys, strict=True):
            known = self.stats.seen.get(issue_id)
            if known is not None and updated <= known:
                continue
            if known is None:
                self.stats.issues += 1
            self.stats.seen[issue_id] = updated
            self.stats.recovered += 1
            fresh.append(issue)
        return fresh


def sliced_pages(
    search: IssueSearch,
    user_jql: str | None,
    lower_ms: int,
    read_pages: Callable[[str], Iterator[list[dict[str, Any]]]],
    on_slice: Callable[[str], None],
) -> Iterator[list[dict[str, Any]]]:
    """Yield the pages of a window's search, in `updated` slices where offsets are limited.

    Data Center rejects a search read past `search.offset_limit` results. So when a slice
    reaches that offset, the next slice starts again at the last `updated` it read. The issues
    at exactly that instant are listed again, and the readers skip those already read.

    Args:
        search: the issue search; its `offset_limit` sets the slice size.
        user_jql: the user's filter, combined with each slice's bound.
        lower_ms: the window's lower bound, in epoch milliseconds.
        read_pages: pages through one JQL search, e.g. `IssueSearch.keys`.
        on_slice: called with the JQL of each slice before it is read.

    Raises:
        PaginationError: more than `offset_limit` issues share one `updated` instant.
    """
    bound = f"updated >= {lower_ms}"
    while True:
        jql = f"{where_clause(user_jql, bound)} {ORDER_CLAUSE}"
        on_slice(jql)
        limit = search.offset_limit
        read = 0
        last: SortKey | None = None
        for page in read_pages(jql):
            read += len(page)
            yield page
            # Read after the caller has checked the page, so a bad issue is named in page order.
            if page and limit is not None:
                last = sort_key(page[-1])
            if limit is not None and read >= limit:
                break
        if limit is None or read < limit or last is None:
            return
        next_ms = to_epoch_ms(last[0])
        if f"updated >= {next_ms}" == bound:
            # TODO: slice by id within one `updated` millisecond if this ever happens.
            raise PaginationError(
                f"More than {limit} issues share the `updated` instant "
                f"{last[0].isoformat()}, so the search cannot be sliced past offset "
                f"{limit}. Narrow the JQL, e.g. by project, and run again."
            )
        bound = f"updated >= {next_ms}"
