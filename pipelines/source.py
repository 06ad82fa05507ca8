"""The dlt source: Jira issues loaded incrementally on `updated`, with their child tables.

Any dlt pipeline can run it with its own destination::

    import dlt
    from pipelines import jira_source

    pipeline = dlt.pipeline("jira", destination="duckdb", dataset_name="jira")
    pipeline.run(jira_source(site_url="https://your-site.atlassian.net", auth="bearer"))

Settings not passed as arguments come from dlt's providers: `SOURCES__JIRA__TOKEN` in the
environment or `token` under `[sources.jira]` in `.dlt/secrets.toml`, and so on.
"""

from __future__ import annotations

import ctypes
import logging
import sys
from collections.abc import Collection, Generator, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from functools import cached_property
from itertools import chain
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.compute as pc
from dlt.common.typing import TSecretStrValue
from dlt.sources import DltResource

from pipelines.batches import NORMALIZE_ISSUES, TableBatch, TableBatches, gather_pages
from pipelines.client.factory import (
    auth_from_settings,
    connection_from_settings,
    open_jira_client,
)
from pipelines.client.search import IssueSearch
from pipelines.client.transport import JiraClient, RetryPolicy
from pipelines.collections.changelog import CHANGELOG_MODES, ChangelogPrefetch
from pipelines.errors import ConfigError, PayloadError
from pipelines.ids import parse_id
from pipelines.interrupts import raise_if_received
from pipelines.limiter import DEFAULT_MAX_IN_FLIGHT
from pipelines.normalize.arrow import arrow_table
from pipelines.normalize.fields import FieldCatalog, select_custom_fields
from pipelines.normalize.issues import NormalizedBatch, normalize_issues
from pipelines.normalize.timestamps import format_utc, parse_instant
from pipelines.observer import RunObserver
from pipelines.parallel import BulkReader, make_reader
from pipelines.progress import ProgressReporter
from pipelines.reader import sort_key
from pipelines.source_collections import (
    PARTIAL_HISTORIES,
    collection_resources,
    reference_resources,
    requeue_partial_histories,
    stored_issue_types,
)
from pipelines.sweep import run_sweep
from pipelines.versions import VersionMap
from pipelines.window import (
    check_cursor_not_future,
    compute_window,
    cursor_after_read,
    filter_spelling,
    parse_start_date,
    to_epoch_ms,
    user_filter,
    where_clause,
)

logger = logging.getLogger("jira_etl.source")

# Issue ids per search and bulk fetch of the catch-up read, at most bulk fetch's 100.
CATCH_UP_CHUNK = 100

# System fields the normalizer reads; custom fields are added from the field catalog.
SYSTEM_FIELDS = [
    "summary",
    "issuetype",
    "project",
    "status",
    "priority",
    "resolution",
    "resolutiondate",
    "assignee",
    "reporter",
    "creator",
    "created",
    "updated",
    "duedate",
    "parent",
    "description",
    "environment",
    "labels",
    "components",
    "fixVersions",
    "versions",
    "issuelinks",
    "timeoriginalestimate",
    "timeestimate",
    "timespent",
    # Embedded comment and worklog pages; complete ones save a request per issue.
    "comment",
    "worklog",
]

# Child tables whose rows are replaced as a whole when their issue is reloaded.
CHILD_TABLES = (
    "issue_labels",
    "issue_components",
    "issue_fix_versions",
    "issue_affected_versions",
    "issue_field_values",
    "issue_links",
    "issue_sprints",
)
# The columns that tell an issue's rows apart in each child table. A load job that ran but
# was not recorded as done (a run killed in between) runs again with the next run, and dlt's
# merge keeps one row per key of the rows the two copies merge. The keys start
# with `issue_id`, the merge key, so DuckDB joins on it.
CHILD_KEYS = {
    "issue_labels": ("issue_id", "label"),
    "issue_components": ("issue_id", "component_id"),
    "issue_fix_versions": ("issue_id", "version_id"),
    "issue_affected_versions": ("issue_id", "version_id"),
    "issue_field_values": ("issue_id", "field_id", "position"),
    "issue_links": ("issue_id", "link_id", "direction"),
    "issue_sprints": ("issue_id", "position"),
}
# A marker row with this column true clears an issue's old rows and is not stored itself.
CLEAR_MARKER = "_jira_clear"
# The parent issue's `updated` on every child row: a newer version replaces an older one.
PARENT_VERSION = "issue_updated_at"
_TIMESTAMP = pa.timestamp("us", tz="UTC")

# glibc's `mallopt` option number for the size from which blocks are allocated with mmap.
M_MMAP_THRESHOLD = -3

MERGE = {"disposition": "merge", "strategy": "delete-insert"}

# Issues extracted into one load package by `jira-etl run`. Each package is normalized and
# loaded before the next is read, so a destination merge never contains more than this many
# issues, whatever the size of the window. Measured on 2 cores (docs/benchmark.md): with
# 10,000 a load added 100 to 230 MiB to the resident memory. Each load also has a fixed
# cost (schema and state handling, one job per table), so much smaller parts are slower.
ISSUES_PER_LOAD = 10_000


@dlt.source(name="jira", max_table_nesting=0)
def jira_source(
    token: TSecretStrValue | None = None,
    auth: str = "bearer",
    email: str | None = None,
    client_id: str | None = None,
    client_secret: TSecretStrValue | None = None,
    refresh_token: TSecretStrValue | None = None,
    refresh_token_file: str | None = None,
    token_url: str | None = None,
    resources_url: str | None = None,
    base_url: str | None = None,
    site_url: str | None = None,
    cloud_id: str | None = None,
    gateway_url: str | None = None,
    jql: str | None = None,
    lookback_minutes: float = 5.0,
    start_date: str | None = None,
    page_size: int = 100,
    timeout_seconds: float = 60.0,
    max_retries: int = 6,
    min_retry_wait_seconds: float = 1.0,
    max_retry_wait_seconds: float = 300.0,
    tables: list[str] | None = None,
    strategy: str = "parallel",
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT,
    changelog_mode: str | None = None,
    delete_sweep: bool = True,
    custom_fields: list[str] | None = None,
    issues_per_load: int = 0,
    observer: Any = None,
) -> list[DltResource]:
    """Load Jira issues changed since the stored cursor, and their child tables.

    Args:
        token: scoped or OAuth token (`bearer`), API token (`basic`) or PAT (`pat`).
        auth: `bearer` (Cloud gateway), `oauth` (client credentials or a rotating refresh
            token, exchanged for Bearer tokens), `basic` (Cloud site) or `pat` (Data Center).
        email: the account e-mail, for `basic`.
        client_id: OAuth client id, for `oauth`.
        client_secret: OAuth client secret, for `oauth`.
        refresh_token: OAuth (3LO) refresh token that seeds `refresh_token_file`.
        refresh_token_file: where the newest rotated refresh token is kept (mode 0600).
        token_url: the OAuth token endpoint, `https://auth.atlassian.com/oauth/token` unless set.
        resources_url: the OAuth accessible-resources endpoint, for finding the cloud id.
        base_url: the API root that `/rest/api/...` is appended to; wins over the others.
        site_url: the Cloud site or Data Center server; used to discover the cloud id.
        cloud_id: the site's cloud id, for the gateway.
        gateway_url: the gateway root, `https://api.atlassian.com` unless proxied.
        jql: the user's filter, e.g. `project in (ABC, DEF)`; combined with the window.
        lookback_minutes: overlap subtracted from the stored cursor on the next run.
        start_date: lower bound of the first run, `YYYY-MM-DD` or an ISO instant.
        page_size: issues per search page; Jira may return fewer.
        timeout_seconds: timeout of one HTTP request.
        max_retries: attempts per request on 429, 5xx and connection faults.
        min_retry_wait_seconds: shortest wait between attempts, even after `Retry-After: 0`.
        max_retry_wait_seconds: longest `Retry-After` honoured before the run fails.
        tables: collection and reference tables to load (`issue_changelog`, `users`, ...);
            None loads all of them. `issues` and its child tables always load.
        delete_sweep: after reading the window, list every id the filter matches so that
            `jira-etl run` can mark loaded issues that left as deleted (see `pipelines.sweep`).
        strategy: `parallel` (id-only search, then bulk fetches in parallel) or `sequential`
            (one full-field search, page after page: the baseline).
        max_in_flight: requests in flight at most with the parallel strategy (1 to 8).
        changelog_mode: how `issue_changelog` reads histories: `bulk` (Cloud's changelog bulk
            fetch, beside the issue fetches with the parallel strategy; on Data Center, the
            histories embedded in the searches that fetch the issues) or `per_issue` (each
            issue's changelog endpoint, one after another). None: `per_issue` with the
            sequential strategy, the baseline, and `bulk` with the parallel one.
        custom_fields: the custom fields to load, by id (`customfield_10016`) or name
            (`Story Points`); None loads every custom field. A run whose selection differs
            from the one the stored data was loaded with stops and asks for a full refresh.
        issues_per_load: end the extraction after about this many issues, so that a large
            read is loaded in parts of bounded size. The `RunObserver` then keeps the read
            open for the next part. Only a caller that loads the parts one after another may
            set it, as `jira-etl run` does with `ISSUES_PER_LOAD`. 0 (the default) reads the
            whole window into one load, which is what a single `pipeline.run` expects.
        observer: a `RunObserver` that collects counters for the run summary and keeps the
            open read between the loads of one run.
    """
    run_observer: RunObserver = observer or RunObserver()
    settings: dict[str, Any] = {
        "token": token,
        "auth": auth,
        "email": email,
        "client_id": client_id,
        "client_secret": client_secret,
        "refresh_token": refresh_token,
        "refresh_token_file": refresh_token_file,
        "token_url": token_url,
        "resources_url": resources_url,
        "base_url": base_url,
        "site_url": site_url,
        "cloud_id": cloud_id,
        "gateway_url": gateway_url,
        "timeout_seconds": timeout_seconds,
        "retry": RetryPolicy(
            max_attempts=max(1, int(max_retries)),
            min_wait=float(min_retry_wait_seconds),
            max_retry_after=float(max_retry_wait_seconds),
        ),
    }
    lookback = timedelta(minutes=float(lookback_minutes))
    start = parse_start_date(start_date)
    user_filter(jql)  # rejects unbalanced JQL before anything is requested
    _prefer_depth_first_extract()
    _return_large_buffers_to_os()
    if changelog_mode is None:
        changelog_mode = "per_issue" if strategy == "sequential" else "bulk"
    if changelog_mode not in CHANGELOG_MODES:
        raise ValueError(
            f"Invalid changelog mode `{changelog_mode}`: expected `bulk` or `per_issue`."
        )
    prefetch_changelogs = tables is None or "issue_changelog" in tables
    if run_observer.issue_read is not None:
        # A later load of the same run keeps its auth (OAuth tokens rotate), its resolved
        # connection and its request counters.
        settings.update(run_observer.issue_read.shared_settings())
    # Fail on bad settings when the source is built, before the destination is touched;
    # this resolves the connection, discovering the cloud id when needed.
    auth_from_settings(settings)
    connection_from_settings(settings)

    read_options = ReadOptions(
        jql=jql,
        lookback=lookback,
        start=start,
        strategy=strategy,
        page_size=page_size,
        max_in_flight=max_in_flight,
        prefetch_changelogs=prefetch_changelogs,
        changelog_mode=changelog_mode,
        delete_sweep=delete_sweep,
        custom_fields=tuple(custom_fields) if custom_fields is not None else None,
    )
    # A run whose read is already open continues it: this source is one more load of it.
    continuing = run_observer.issue_read is not None

    batch_tables = TableBatches()

    @dlt.resource(name="jira_issue_batches", selected=False)
    def issue_batches() -> Iterator[TableBatch]:
        state = dlt.current.source_state()
        read = run_observer.issue_read
        if read is None:
            options = read_options
            if "issue_changelog" not in batch_tables.selected():
                # A caller deselected the table, so its histories are not fetched either.
                options = replace(read_options, prefetch_changelogs=False)
            read = IssueRead(settings, state, options, run_observer)
            run_observer.issue_read = read
        read.start_load(issues_per_load)
        try:
            for batch in batch_tables.combine(read.batches):
                if batch is None:
                    # This load ends here; the next one continues the same read. The cursor
                    # stays where it was until the whole window is loaded.
                    read.save_columns(state)
                    run_observer.more_to_load = True
                    return
                yield batch
            run_observer.more_to_load = False
            read.finish(state)
        except BaseException:
            # A failed or abandoned extraction ends the read; no later part continues it.
            run_observer.more_to_load = False
            read.close()
            raise

    resources: list[DltResource] = [issue_batches, *issue_resources(issue_batches, batch_tables)]
    settings["lookback_minutes"] = lookback_minutes
    settings["tables"] = list(tables) if tables is not None else None
    settings["changelog_mode"] = changelog_mode
    settings["custom_fields"] = list(custom_fields) if custom_fields is not None else None
    settings["_skipped"] = run_observer.skipped
    collections = collection_resources(issue_batches, settings, batch_tables)
    if continuing:
        # Reference tables and the worklog feed load once, with the run's first load.
        return resources + [r for r in collections if r.name != "worklog_changes"]
    resources += collections
    resources += reference_resources(settings)
    return resources


def issue_resources(issue_batches: DltResource, batch_tables: TableBatches) -> list[DltResource]:
    """Build the transformers of `issues`, its child tables and `sprints` on the driver."""
    resources = [
        batch_tables.transformer(
            issue_batches,
            _table_rows("issues"),
            "issues",
            primary_key="id",
            write_disposition=MERGE,
            columns={"updated_at": {"dedup_sort": "desc"}},
        )
    ]
    for table in CHILD_TABLES:
        resources.append(
            batch_tables.transformer(
                issue_batches,
                _child_rows(table),
                table,
                primary_key=CHILD_KEYS[table],
                merge_key="issue_id",
                write_disposition=MERGE,
                # Of two rows with one key, the merge keeps the one of the newer issue version,
                # which the removal of superseded rows after the load keeps too.
                columns={
                    CLEAR_MARKER: {"data_type": "bool", "hard_delete": True},
                    PARENT_VERSION: {"dedup_sort": "desc"},
                },
            )
        )
    resources.append(
        batch_tables.transformer(
            issue_batches,
            _table_rows("sprints"),
            "sprints",
            primary_key="id",
            write_disposition=MERGE,
        )
    )
    return resources


@dataclass(frozen=True)
class ReadOptions:
    """Settings of `jira_source` that decide how `IssueRead` reads the window."""

    jql: str | None
    lookback: timedelta
    start: datetime | None
    strategy: str
    page_size: int
    max_in_flight: int
    prefetch_changelogs: bool
    changelog_mode: str
    delete_sweep: bool
    custom_fields: tuple[str, ...] | None = None


class IssueRead:
    """One run's read of its window, shared by the loads the run is split into.

    It opens the client, reads the field catalog and the stored cursor, and starts the reader
    when built, inside the first load's extraction. `batches` then yields normalized batches
    across loads; `finish` stores the cursor once the window is read; `close` ends it early.
    """

    def __init__(
        self,
        settings: dict[str, Any],
        state: Any,
        options: ReadOptions,
        observer: RunObserver,
    ) -> None:
        self.options = options
        self.observer = observer
        self.settings = settings
        self.stored_cursor: str | None = state.get("issues_cursor")
        # The stored cursor never passes this instant (see `cursor_after_read`).
        self.read_started = datetime.now(UTC)

        self._opened = open_client(settings)
        client = self._opened.__enter__()
        try:
            observer.client = client
            self.client = client
            self.catalog, self.custom_field_ids = load_field_catalog(
                client, state.get("field_columns"), options.custom_fields, stored_issue_types()
            )
            check_fields_unchanged(
                state, self.custom_field_ids, self.stored_cursor, set(self.catalog.specs)
            )
            if options.prefetch_changelogs:
                # Issues whose histories came back in part are read again after the window,
                # and deleted ones leave the queue.
                stored = [int(i) for i in state.get(PARTIAL_HISTORIES) or []]
                queue = [i for i in stored if i not in observer.deleted_histories]
                if queue != stored:
                    state[PARTIAL_HISTORIES] = queue
                observer.reread_histories = queue[:MAX_HISTORIES_REREAD]
            self.cursor = parse_instant(self.stored_cursor) if self.stored_cursor else None
            check_cursor_not_future(self.stored_cursor, self.read_started + options.lookback)
            stored_start = state.get("start_date")
            # The start date, given now or stored by an earlier run, bounds the sweep and the
            # catch-up read, so that issues before it are neither listed nor read.
            self.start = options.start or (parse_instant(stored_start) if stored_start else None)
            self.window = compute_window(
                self.cursor, lookback=options.lookback, start_date=options.start
            )
            observer.window_lower = self.window.lower
            observer.previous_cursor = self.cursor
            self.reader = make_reader(
                options.strategy,
                IssueSearch(client),
                user_jql=options.jql,
                fields=search_fields(self.catalog),
                page_size=options.page_size,
                max_in_flight=options.max_in_flight,
            )
            # Data Center has no changelog bulk fetch. There the searches that fetch the issues
            # embed their histories, which spares a request for each issue whose embedded list
            # is whole. Histories embedded in a response that did not request them are ignored.
            self.embedded_changelogs = (
                options.prefetch_changelogs
                and client.connection.flavor == "dc"
                and options.changelog_mode == "bulk"
            )
            if self.embedded_changelogs:
                self.reader.expand = "changelog"
            if options.prefetch_changelogs and isinstance(self.reader, BulkReader):
                self.reader.on_chunk = ChangelogPrefetch(
                    client,
                    self.reader.limiter,
                    options.changelog_mode,
                    embedded=self.embedded_changelogs,
                )
            observer.reader = self.reader
        except BaseException:
            self._opened.__exit__(None, None, None)
            raise

        self.flavor = "datacenter" if client.connection.flavor == "dc" else "cloud"
        self.checked = False
        # The version of each issue handed to dlt in this run. Bulk fetches return the current
        # version, so an issue listed twice can arrive twice unchanged. A second identical copy
        # would double its child rows in the same load.
        self.handed = VersionMap()
        self.budget: int | None = None
        self.issues_this_load = 0
        self.batches = self._batches(state)

    def start_load(self, issues: int) -> None:
        """Let the next load take about `issues` issues; 0 or less: the rest of the window."""
        self.budget = issues if issues > 0 else None
        self.issues_this_load = 0
        if isinstance(self.reader, BulkReader):
            self.reader.fetch_budget = self.budget

    def _checked_pages(self, state: Any) -> Iterator[list[dict[str, Any]]]:
        """Yield pages of issues not yet handed to dlt; an empty page ends the current load."""
        for page in chain(self.reader.read(self.window), self._catch_up_pages()):
            if not page:
                # The parallel reader spent its fetch budget and has nothing in flight.
                yield []
                continue
            if not self.checked:
                # The filter check waits for the first page, so invalid JQL is reported as
                # Jira's own error. Nothing is committed before the extract step ends.
                check_filter_unchanged(state, self.options.jql)
                self.checked = True
            fresh = []
            for issue in page:
                updated, issue_id = sort_key(issue)
                known = self.handed.get(issue_id)
                if known is not None:
                    if updated <= known:
                        continue
                    self.observer.read_again.add(issue_id)
                self.handed[issue_id] = updated
                fresh.append(issue)
            self.issues_this_load += len(page)
            if fresh:
                yield fresh
            sequential = not isinstance(self.reader, BulkReader)
            if sequential and self.budget and self.issues_this_load >= self.budget:
                yield []

    def _catch_up_pages(self) -> Iterator[list[dict[str, Any]]]:
        """Yield the issues that the last sweep listed and the tables lacked, read by id.

        Their `updated` is older than the window, so the window search does not return them:
        an issue of a project the account was only now allowed to browse, or one that a JQL
        function matches now. Each chunk is searched through the filter again, so an issue
        that left it meanwhile is not read. The cursor does not move for them. Issues whose
        histories an earlier run got only in part are read again here too.
        """
        caught_up = set(self.observer.catch_up_ids)
        # Issues whose histories came back in part before are read again the same way.
        again = [i for i in self.observer.reread_histories if i not in caught_up]
        reread = set(again)
        ids = self.observer.catch_up_ids + again
        if not ids:
            return
        search = IssueSearch(self.client)
        for start in range(0, len(ids), CATCH_UP_CHUNK):
            clause = f"id in ({', '.join(str(i) for i in ids[start : start + CATCH_UP_CHUNK])})"
            if self.start is not None:
                clause += f" AND updated >= {to_epoch_ms(self.start)}"
            jql = f"{where_clause(self.options.jql, clause)} ORDER BY id ASC"
            listed = [parse_id(issue.get("id")) for page in search.ids(jql) for issue in page]
            found = [issue_id for issue_id in listed if issue_id is not None]
            chunk = ids[start : start + CATCH_UP_CHUNK]
            listed_ids = set(found)
            requeue_partial_histories([i for i in chunk if i in reread and i not in listed_ids])
            if not found:
                continue
            issues = search.fetch_by_ids(
                found, fields=self.reader.fields, expand=self.reader.expand
            )
            # Issues the window read already are skipped, so they are not counted here.
            ids_read = [parse_id(issue.get("id")) for issue in issues]
            fresh = [i for i in ids_read if i is not None and self.handed.get(i) is None]
            self.observer.caught_up += sum(1 for issue_id in fresh if issue_id in caught_up)
            self.observer.histories_reread += sum(1 for issue_id in fresh if issue_id in reread)
            yield issues

    def _batches(self, state: Any) -> Generator[IssueBatch | None, None, None]:
        """Yield normalized batches of `NORMALIZE_ISSUES` issues, and None where a load ends."""
        with ProgressReporter(self.client, self.reader):
            for issues in gather_pages(self._checked_pages(state), NORMALIZE_ISSUES):
                raise_if_received()
                yield None if issues is None else self._normalize(issues)

    def _normalize(self, batch_issues: list[dict[str, Any]]) -> IssueBatch:
        # Child rows carry their issue's version, so two versions of one issue in one batch
        # would share it. The later copy is the newer one and stays.
        latest = {int(issue["id"]): issue for issue in batch_issues}
        issues = list(latest.values())
        normalized = normalize_issues(issues, self.catalog, flavor=self.flavor)
        self.observer.issues_read += len(issues)
        return IssueBatch(normalized, self.catalog, issues, self.embedded_changelogs)

    def shared_settings(self) -> dict[str, Any]:
        """Return the auth, connection and request counters that later loads of the run reuse."""
        return {k: v for k, v in self.settings.items() if k in ("_auth", "_connection", "_stats")}

    def save_columns(self, state: Any) -> None:
        """Store the column names and the filter, which later runs keep."""
        state["field_columns"] = self.catalog.column_names()
        state["jql"] = user_filter(self.options.jql)
        state["custom_fields"] = self.custom_field_ids

    def finish(self, state: Any) -> None:
        """Store the cursor reached and list the ids for the delete sweep; then close."""
        try:
            if not self.checked:
                check_filter_unchanged(state, self.options.jql)
            self.save_columns(state)
            if self.start is not None:
                state["start_date"] = format_utc(self.start)
            reached = self.reader.stats.max_updated
            cursor = cursor_after_read(self.cursor, reached, self.read_started)
            # Edits made during a long read are later than its start but not than now. Less
            # than the lookback past now is taken as clock skew between here and Jira.
            now = datetime.now(UTC)
            if reached is not None and reached > now + self.options.lookback:
                logger.warning(
                    "An issue has `updated` %s, later than the time now (%s). The cursor stops "
                    "at %s, the start of this run, so that edits made meanwhile are read next time",
                    format_utc(reached),
                    format_utc(now),
                    format_utc(cursor) if cursor else "none",
                )
            if cursor is not None and cursor != self.cursor:
                state["issues_cursor"] = format_utc(cursor)
            self.observer.cursor = (
                parse_instant(state["issues_cursor"]) if state.get("issues_cursor") else None
            )
            if self.options.delete_sweep:
                # After the read: an issue created during the read is listed or not loaded,
                # never loaded and then missing from the list.
                self.observer.sweep = run_sweep(self.client, self.options.jql, self.start)
        finally:
            self.close()

    def close(self) -> None:
        """Stop the reader and close the client; safe to call more than once."""
        self.batches.close()
        self._opened.__exit__(None, None, None)


def _prefer_depth_first_extract() -> None:
    """Make dlt finish each batch in every table before it requests the next batch.

    In its default `round_robin` mode dlt takes the next batch while the earlier ones still
    wait to reach some of the 15 tables fed from `jira_issue_batches`, so up to 20 batches
    (tens of MB each) stay in memory. `fifo` keeps one. A value the user configured for
    `extract.next_item_mode` is kept.
    """
    if dlt.config.get("extract.next_item_mode") is None:
        dlt.config["extract.next_item_mode"] = "fifo"


def _return_large_buffers_to_os() -> None:
    """Give response bodies and other large buffers back to the OS as soon as they are freed.

    glibc raises its mmap threshold each time a large block is freed, up to 32 MiB. The 1 MB
    response bodies decoded by the fetch threads then end up in per-thread heaps, which stay
    fragmented and made the resident memory grow with the number of issues read. A fixed
    128 KiB threshold keeps such blocks out of those heaps. Other C libraries are left alone.
    """
    # NOTE: this sets an allocator option of the whole process; it belongs at the entry point.
    if sys.platform != "linux":
        return
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):
        return
    mallopt(M_MMAP_THRESHOLD, 128 * 1024)


# Maximum number of issues with partial histories that one run reads again by id.
MAX_HISTORIES_REREAD = 5000


@dataclass
class IssueBatch:
    """One page of normalized issues with the catalog that typed its columns."""

    normalized: NormalizedBatch
    catalog: FieldCatalog
    raw: list[dict[str, Any]]
    # True when the searches requested `expand=changelog`, so that the histories embedded in
    # `raw` may be the whole history (see `embedded_histories`).
    embedded_changelogs: bool = False

    @property
    def tables(self) -> dict[str, list[dict[str, Any]]]:
        return self.normalized.tables

    @property
    def complete(self) -> dict[str, set[int]]:
        return self.normalized.complete

    @cached_property
    def versions(self) -> dict[int, datetime]:
        """The `updated_at` of each issue in the batch, by issue id."""
        return {row["id"]: row["updated_at"] for row in self.tables.get("issues", [])}

    @cached_property
    def version_arrays(self) -> tuple[pa.Array, pa.Array]:
        """The issue ids of `versions` and their `updated_at`, as two aligned Arrow arrays.

        Every child table looks its rows' versions up here, so the datetimes are converted to
        Arrow once per batch instead of once per child row.
        """
        versions = self.versions
        return (
            pa.array(list(versions), pa.int64()),
            pa.array(list(versions.values()), _TIMESTAMP),
        )


def _key_not_null(table: pa.Table, *columns: str) -> pa.Table:
    """Mark the key columns non-nullable, as dlt marks primary and merge keys."""
    schema = table.schema
    for column in columns:
        index = schema.get_field_index(column)
        schema = schema.set(index, schema.field(index).with_nullable(False))
        if table.column(index).null_count:
            raise ValueError(f"Invalid key column `{column}`: it contains nulls.")
    # The data stays as it is, so the columns take the new schema without a cast.
    return pa.Table.from_arrays(table.columns, schema=schema)


# The functions below build one table from one `IssueBatch`. `TableBatches` runs them.


def _table_rows(table: str) -> Any:
    def rows(batch: IssueBatch) -> pa.Table | None:
        found = batch.tables.get(table) or []
        if not found:
            return None
        return _key_not_null(arrow_table(table, found, batch.catalog), "id")

    rows.__name__ = table
    return rows


# Key columns of the child tables that hold text; the others hold numbers.
_TEXT_KEY_COLUMNS = frozenset({"label", "field_id", "direction"})


def _marker_row(table: str, issue_id: int) -> dict[str, Any]:
    """Return the row that clears an issue's rows in `table`.

    Primary keys cannot be null, so the marker's key columns hold an empty text or the negated
    issue id, which no stored row has. dlt never stores the marker itself.
    """
    row: dict[str, Any] = {"issue_id": issue_id}
    for column in CHILD_KEYS[table][1:]:
        row[column] = "" if column in _TEXT_KEY_COLUMNS else -issue_id
    return row


def _child_rows(table: str) -> Any:
    def rows(batch: IssueBatch) -> pa.Table | None:
        found = batch.tables.get(table) or []
        with_rows = {row["issue_id"] for row in found}
        markers = [
            _marker_row(table, issue_id)
            for issue_id in sorted(batch.complete.get(table, set()) - with_rows)
        ]
        if not found and not markers:
            return None
        arrow = arrow_table(
            table, found + markers, batch.catalog, issues=batch.tables.get("issues", ())
        )
        # Each row takes the `updated_at` of its issue from the batch. A row whose issue is not
        # in the batch gets a null version.
        version_ids, version_times = batch.version_arrays
        positions = pc.index_in(arrow.column("issue_id"), value_set=version_ids)
        arrow = arrow.append_column(
            pa.field(PARENT_VERSION, _TIMESTAMP), version_times.take(positions)
        )
        arrow = arrow.append_column(
            pa.field(CLEAR_MARKER, pa.bool_()),
            pa.array([False] * len(found) + [True] * len(markers), pa.bool_()),
        )
        return _key_not_null(arrow, *CHILD_KEYS[table])

    rows.__name__ = table
    return rows


class open_client:  # noqa: N801  (used as a context manager, like open())
    """Open one `JiraClient` for the run and close it afterwards."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self.client: JiraClient | None = None

    def __enter__(self) -> JiraClient:
        self.client = open_jira_client(self.settings)
        return self.client

    def __exit__(self, *exc_info: object) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None


def check_filter_unchanged(state: Any, jql: str | None) -> None:
    """Stop when the filter differs from the one the stored data was loaded with.

    Incremental runs read only issues updated since the cursor, so a wider filter would miss
    older issues it now matches, and the delete sweep would mark issues a narrower filter
    leaves out as deleted. A first run that failed after loading some parts stored its filter
    but no cursor, and its rows are checked the same way. A full refresh starts without the
    stored filter.

    Raises:
        ConfigError: data was loaded with a stored filter that is not the current one.
    """
    if "jql" not in state:
        return
    previous, current = state["jql"], user_filter(jql)
    if filter_spelling(previous) != filter_spelling(current):
        raise ConfigError(
            f"The JQL filter changed from `{previous or '(none)'}` to `{current or '(none)'}` "
            "since the data in this dataset was loaded. Run once with --full-refresh to reload "
            "it with the new filter, or load into another --dataset."
        )


def check_fields_unchanged(
    state: Any,
    custom_field_ids: list[str] | None,
    stored_cursor: str | None,
    listed_ids: Collection[str] = (),
) -> None:
    """Stop when the custom fields differ from the ones the stored data was loaded with.

    Incremental runs read only issues updated since the cursor, so a field added to the
    selection would stay empty on every older issue, and a removed one would keep its old
    values there. A run that failed after loading some parts stored its selection but no
    cursor, and its columns stay too. Data loaded before the option existed counts as loaded
    with every field. A selected field that `/field` no longer lists (`listed_ids`) may leave
    the selection, because the run empties its stored values anyway.

    Raises:
        ConfigError: data was loaded with a stored selection that is not the current one.
    """
    if not stored_cursor and "custom_fields" not in state:
        return
    previous = state.get("custom_fields")
    if previous == custom_field_ids:
        return
    if previous is not None and custom_field_ids is not None:
        still_listed = [field_id for field_id in previous if field_id in listed_ids]
        if still_listed == custom_field_ids:
            return

    def described(ids: list[str] | None) -> str:
        return "every custom field" if ids is None else ", ".join(ids) or "none"

    raise ConfigError(
        f"The custom fields changed from {described(previous)} to "
        f"{described(custom_field_ids)} since the data in this dataset was loaded. Run once "
        "with --full-refresh to reload it with the new --custom-fields, or load into another "
        "--dataset."
    )


def load_field_catalog(
    client: JiraClient,
    previous: dict[str, str] | None,
    requested: Sequence[str] | None = None,
    stored_types: dict[str, str | None] | None = None,
) -> tuple[FieldCatalog, list[str] | None]:
    """Read `/field` and name a column for every loaded field, keeping last run's names.

    Returns:
        The catalog, and the ids of the custom fields `requested` names (None: all of them).

    Raises:
        PayloadError: `/field` did not return a list.
        ConfigError: an entry of `requested` names no custom field, or several.
    """
    fields = client.get(client.connection.api_path("field"))
    if not isinstance(fields, list):
        raise PayloadError(
            f"{client.connection.api_path('field')} returned a {type(fields).__name__}, "
            "expected a list of fields."
        )
    selected = select_custom_fields(fields, requested)
    catalog = FieldCatalog.from_fields(
        fields, previous=previous, selected=selected, stored_types=stored_types
    )
    return catalog, selected


def search_fields(catalog: FieldCatalog) -> list[str]:
    """List the fields a search requests: the system fields read plus every loaded custom field."""
    custom = [spec.field_id for spec in (*catalog.single, *catalog.multi, *catalog.sprint)]
    return SYSTEM_FIELDS + [f for f in custom if f not in SYSTEM_FIELDS]


def cursor_of(state: dict[str, Any]) -> datetime | None:
    stored = state.get("issues_cursor")
    return parse_instant(stored) if stored else None
