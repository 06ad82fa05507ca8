"""Read one window fast: an id-only search first, then full issues by id, several requests at once.

The id-only search is cheap (Cloud returns up to 5000 ids a page), and fetching 100 full issues
by id is one request that can run beside others. So the window's ids are listed page by page,
and chunks of 100 ids are fetched on a thread pool while the search goes on. An
`AdaptiveLimiter` bounds the requests in flight and backs off when Jira reports rate-limit
pressure.

The id search is re-evaluated per page like any search, so issues can slide across its page
boundaries; the same boundary recovery as `WindowReader` lists and fetches them afterwards.
The cursor is the largest `updated` the id search showed. Bulk fetch may return a newer
version of an issue edited since, but that edit is past the cursor and the next run reads it.

Data Center fails offsets past 10,000 results, so there the id search runs in slices: each slice
pages up to that offset, and the next one starts again at the last `updated` it reached.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from pipelines.client.search import BULK_FETCH_SIZE, BulkPage, IssueSearch
from pipelines.ids import parse_id
from pipelines.limiter import DEFAULT_MAX_IN_FLIGHT, AdaptiveLimiter
from pipelines.reader import ReadStats, SortKey, WindowReader, sliced_pages, sort_key
from pipelines.window import Window

logger = logging.getLogger("jira_etl.reader")

# Called in a worker thread with each fetched chunk, e.g. to read full change histories. It
# must hold `reader.limiter.slot()` around every request it sends. It may return keys to add to
# issues, by issue id, and the reader adds them when the loader takes the chunk.
ChunkHook = Callable[[list[dict[str, Any]]], dict[int, dict[str, Any]] | None]


@dataclass
class FetchedChunk:
    """The issues of one fetch, as bulk fetch responses on Cloud until the loader takes them.

    Decoded, 100 of the emulator's issues take about five times their 1.1 MB of JSON, and up to
    one chunk per slot waits while the loader works.
    """

    bulk_pages: list[BulkPage] | None
    decoded: list[dict[str, Any]] | None
    extras: dict[int, dict[str, Any]]

    def take(self) -> list[dict[str, Any]]:
        """Return the chunk's issues, decoded, with the hook's keys added."""
        if self.bulk_pages is not None:
            issues = [issue for page in self.bulk_pages for issue in page.issues()]
        else:
            issues = self.decoded or []
        if self.extras:
            for issue in issues:
                issue_id = parse_id(issue.get("id"))
                extra = self.extras.get(issue_id) if issue_id is not None else None
                if extra:
                    issue.update(extra)
        return issues


@dataclass
class BulkReadStats(ReadStats):
    """Counters of one window read: `ReadStats` plus the work of the parallel fetch."""

    id_pages: int = 0
    chunks: int = 0
    # Full issues returned by bulk fetch so far, counted as the worker threads finish.
    fetched: int = 0
    # Ids the search listed that bulk fetch no longer returned (deleted or hidden since).
    vanished: int = 0


class BulkReader(WindowReader):
    """Read every issue of a window with an id-only search and parallel fetches by id.

    Args:
        search: the issue search of one client; its client gets the limiter as a response hook.
        user_jql: the user's filter, combined with the window bound.
        fields: the fields each full issue is fetched with.
        expand: the `expand` value of each fetch, e.g. `renderedFields`.
        page_size: issues yielded per list; bulk fetch serves at most 100.
        max_in_flight: the maximum number of requests in flight, 1 to 8.
        limiter: a limiter to share; one with `max_in_flight` is made when None.
        on_chunk: a hook run on every fetched chunk in its worker thread.
    """

    def __init__(
        self,
        search: IssueSearch,
        *,
        user_jql: str | None,
        fields: list[str],
        expand: str | None = None,
        page_size: int = BULK_FETCH_SIZE,
        max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
        limiter: AdaptiveLimiter | None = None,
        on_chunk: ChunkHook | None = None,
    ) -> None:
        super().__init__(
            search,
            user_jql=user_jql,
            fields=fields,
            expand=expand,
            page_size=max(1, min(page_size, BULK_FETCH_SIZE)),
        )
        self.limiter = limiter or AdaptiveLimiter(max_in_flight)
        self.on_chunk = on_chunk
        self.stats: BulkReadStats = BulkReadStats()
        # Chunks sent or fetched and not yet taken by the consumer. One more than the slots
        # keeps every slot busy while the consumer works on a chunk it took. More only add
        # fetched chunks waiting in memory when the consumer is the slower side.
        self.lookahead = self.limiter.max_in_flight + 1
        # Issues it may still send for fetching before it pauses; None: no limit. Once the
        # budget is spent it yields the chunks in flight, then an empty list, so that a load
        # can start while no fetched issue waits in memory. Set it again to go on.
        self.fetch_budget: int | None = None
        self._previous_last: SortKey | None = None
        self._count_lock = threading.Lock()
        # Set when a read ends early, so that running fetches send no further requests.
        self._stopping = threading.Event()

    def read(self, window: Window) -> Iterator[list[dict[str, Any]]]:
        """Yield lists of full issues for `window`, then any issues recovered at boundaries."""
        self._stopping.clear()
        client = self.search.client
        client.response_hooks.append(self.limiter.observe)
        pool = ThreadPoolExecutor(
            max_workers=self.limiter.max_in_flight, thread_name_prefix="jira-fetch"
        )
        try:
            yield from self._read(window, pool)
        except BaseException as exc:
            # Nothing takes the chunks of a read that stopped early. Queued fetches are
            # cancelled, and running ones make no further attempt and send no changelog or
            # other request after the one in flight. On Ctrl-C the read does not wait for that
            # request either, which on a slow site can take up to --timeout.
            self._stopping.set()
            client.stop_retries()
            interrupted = isinstance(exc, KeyboardInterrupt)
            pool.shutdown(wait=not interrupted, cancel_futures=True)
            if not interrupted:
                client.resume_retries()
            raise
        else:
            pool.shutdown(wait=True)
        finally:
            client.response_hooks.remove(self.limiter.observe)

    def _read(self, window: Window, pool: ThreadPoolExecutor) -> Iterator[list[dict[str, Any]]]:
        queued: deque[int] = deque()
        pending: deque[Future[FetchedChunk]] = deque()
        boundaries: list[tuple[SortKey, SortKey | None]] = []
        pages = self._id_pages(window.lower_ms)
        searching = True
        while searching or queued or pending:
            # Keep the id search one page ahead of the fetches.
            while searching and len(queued) < self.page_size * self.lookahead:
                page = self._next_id_page(pages)
                if page is None:
                    searching = False
                    break
                queued.extend(self._remember_ids(page, boundaries))
            while queued and (len(queued) >= self.page_size or not searching):
                if len(pending) >= self.lookahead or self._paused():
                    break
                chunk = [queued.popleft() for _ in range(min(self.page_size, len(queued)))]
                if self.fetch_budget is not None:
                    self.fetch_budget -= len(chunk)
                pending.append(pool.submit(self._fetch, chunk))
            paused = self._paused()
            if pending and (
                len(pending) >= self.lookahead or not searching or not queued or paused
            ):
                issues = pending.popleft().result().take()
                if issues:
                    yield issues
            elif paused and not pending:
                yield []
                if self._paused():
                    self.fetch_budget = None
        recovered = self._recover(boundaries)
        if recovered:
            yield recovered
        logger.info(
            "Read %d issues with %d id pages and %d bulk fetches (%d vanished, %d recovered)",
            self.stats.issues,
            self.stats.id_pages,
            self.stats.chunks,
            self.stats.vanished,
            self.stats.recovered,
        )

    def _paused(self) -> bool:
        return self.fetch_budget is not None and self.fetch_budget <= 0

    def _next_id_page(self, pages: Iterator[list[dict[str, Any]]]) -> list[dict[str, Any]] | None:
        # The id search counts against the same bound as the fetches.
        with self.limiter.slot():
            return next(pages, None)

    def _id_pages(self, lower_ms: int) -> Iterator[list[dict[str, Any]]]:
        """Yield the pages of the id-only search, in key-ordered slices on Data Center."""
        return sliced_pages(self.search, self.user_jql, lower_ms, self.search.keys, self._slice)

    def _slice(self, jql: str) -> None:
        logger.info("Searching issue ids with JQL: %s", jql)
        self.stats.slices += 1

    def _remember_ids(
        self,
        page: list[dict[str, Any]],
        boundaries: list[tuple[SortKey, SortKey | None]],
    ) -> list[int]:
        """Record a page of the id search and return the ids to fetch."""
        self.stats.id_pages += 1
        keys = [sort_key(issue) for issue in page]
        if self._previous_last is not None:
            boundaries.append((self._previous_last, keys[0] if keys else None))
        if keys:
            self._previous_last = keys[-1]
        fresh = [issue_id for updated, issue_id in keys if self._note(updated, issue_id)]
        self.stats.pages += 1
        return fresh

    def _fetch(self, ids: list[int]) -> FetchedChunk:
        if self._stopping.is_set():
            return FetchedChunk(None, [], {})
        with self.limiter.slot():
            bulk_pages = self.search.fetch_bulk_pages(ids, fields=self.fields, expand=self.expand)
            if bulk_pages is None:
                issues = self.search.fetch_by_ids(ids, fields=self.fields, expand=self.expand)
        if self._stopping.is_set():
            return FetchedChunk(None, [], {})
        if bulk_pages is not None:
            # Decoded here for the counts and the hook, and again when the loader takes them.
            issues = [issue for page in bulk_pages for issue in page.issues()]
        with self._count_lock:
            self.stats.chunks += 1
            self.stats.fetched += len(issues)
            self.stats.vanished += len(ids) - len(issues)
        if len(issues) < len(ids):
            logger.info(
                "%d of %d issues listed by the search were not returned by id; they were "
                "deleted or hidden since",
                len(ids) - len(issues),
                len(ids),
            )
        extras = self.on_chunk(issues) if self.on_chunk is not None else None
        if bulk_pages is not None:
            return FetchedChunk(bulk_pages, None, extras or {})
        return FetchedChunk(None, issues, extras or {})


def make_reader(
    strategy: str,
    search: IssueSearch,
    *,
    user_jql: str | None,
    fields: list[str],
    expand: str | None = None,
    page_size: int = 100,
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
) -> WindowReader:
    """Build the reader of a strategy: `sequential` (`WindowReader`) or `parallel` (`BulkReader`).

    Raises:
        ValueError: an unknown strategy.
    """
    if strategy == "sequential":
        return WindowReader(
            search, user_jql=user_jql, fields=fields, expand=expand, page_size=page_size
        )
    if strategy == "parallel":
        return BulkReader(
            search,
            user_jql=user_jql,
            fields=fields,
            expand=expand,
            page_size=page_size,
            max_in_flight=max_in_flight,
        )
    raise ValueError(f"Invalid strategy `{strategy}`: expected `sequential` or `parallel`.")
