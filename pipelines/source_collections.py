"""dlt resources for the complete collections of each issue and for the reference tables.

`collection_resources` adds transformers on the driver resource `jira_issue_batches`: for
every issue in the run's window they read the complete changelog, comments and worklogs and
replace that issue's stored rows. `reference_resources` returns standalone resources that do
not depend on issues. Both take the settings dict that `jira_source` builds.

Replacement works like the child tables of `issues`: the tables merge on `issue_id` with
`delete-insert`, and an issue whose complete collection is now empty gets one marker row
whose `_jira_clear` column is true, which deletes its old rows and is not stored. An issue
whose collection could not be read completely gets no rows, so its stored rows stay.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from typing import Any

import dlt
import pyarrow as pa
from dlt.sources import DltResource

from pipelines.batches import TableBatches
from pipelines.client.connection import Connection
from pipelines.client.factory import open_jira_client
from pipelines.client.transport import JiraClient
from pipelines.collections import agile, reference
from pipelines.collections.changelog import (
    EMBEDDED,
    PREFETCHED,
    UNREAD,
    embedded_histories,
    read_changelogs,
)
from pipelines.collections.comments import read_comments
from pipelines.collections.worklogs import (
    list_worklogs,
    read_worklog_changes,
    read_worklogs,
)
from pipelines.destinations.sql import id_lists, table_names
from pipelines.errors import AuthError, NotFoundError, PayloadError
from pipelines.ids import parse_id
from pipelines.json_text import quote_value
from pipelines.normalize import collections as rows_of
from pipelines.normalize.arrow import arrow_table
from pipelines.normalize.fields import FieldCatalog, select_custom_fields
from pipelines.normalize.sprints import parse_sprint

logger = logging.getLogger("jira_etl.collections")

COLLECTION_TABLES = ("issue_changelog", "issue_comments", "worklogs")
REFERENCE_TABLES = (
    "users",
    "projects",
    "statuses",
    "priorities",
    "issue_types",
    "resolutions",
    "versions",
    "components",
    "fields",
)
# `sprints` completed from the agile API is selected with this name.
AGILE_SPRINTS = "sprints"

# Same marker column as the child tables of `issues`.
CLEAR_MARKER = "_jira_clear"
MERGE = {"disposition": "merge", "strategy": "delete-insert"}
CLEAR_HINT = {CLEAR_MARKER: {"data_type": "bool", "hard_delete": True}}
# Keys of the collection tables: dlt deletes the stored rows whose primary key or merge key
# matches a loaded row. DuckDB cannot join on an OR of two different keys, so it compared
# every stored row with every loaded one (29 s for 600,000 stored and 30,000 loaded rows,
# against 0.1 s for one key). With `issue_id` in both keys it factors it out and joins on it.
# The worklog feed starts this far before the first run's start, so it overlaps the window.
FIRST_FEED_OVERLAP_MS = 10 * 60_000


class ClientFactory:
    """Open `JiraClient`s for the collection resources, resolving the connection once."""

    def __init__(self, settings: dict[str, Any]) -> None:
        self.settings = settings
        self._connection: Connection | None = None
        # The run's tables not loaded in full, shared with its `RunObserver` when it has one.
        skipped = settings.get("_skipped")
        self.skipped: dict[str, str] = skipped if isinstance(skipped, dict) else {}

    def open(self) -> JiraClient:
        return open_jira_client(self.settings)


def collection_resources(
    issue_batches: DltResource, settings: dict[str, Any], batch_tables: TableBatches
) -> list[DltResource]:
    """Build the transformers that load each changed issue's complete collections.

    Args:
        issue_batches: the driver resource yielding the `TableBatch` items of `batch_tables`.
        settings: the connection settings of `jira_source` (`token`, `auth`, `email`,
            `base_url`, `site_url`, `cloud_id`, `gateway_url`, `timeout_seconds`, `retry`),
            plus optional `tables`, the table names to load (default: all of
            `COLLECTION_TABLES`), and `changelog_mode` (`bulk` unless set, see
            `read_changelogs`).
        batch_tables: builds each table from every `IssueBatch` of the driver.

    Returns:
        Transformers for `issue_changelog`, `issue_comments` and `worklogs`, and the
        standalone `worklog_changes` resource that applies the worklog change feed.
    """
    clients = ClientFactory(settings)
    wanted = _wanted(settings, COLLECTION_TABLES)
    resources: list[DltResource] = []
    if "issue_changelog" in wanted:
        resources.append(
            batch_tables.transformer(
                issue_batches,
                _changelog(clients, settings.get("changelog_mode") or "bulk"),
                "issue_changelog",
                # The primary key drops the second copy when an issue edited during the run
                # is read twice; the merge key replaces the issue's stored history. Both
                # start with `issue_id`, so DuckDB joins on it.
                primary_key=("issue_id", "history_id", "item_position"),
                merge_key="issue_id",
                write_disposition=MERGE,
                columns=CLEAR_HINT,
            )
        )
    if "issue_comments" in wanted:
        resources.append(
            batch_tables.transformer(
                issue_batches,
                _per_issue(clients, "issue_comments", read_comments, rows_of.comment_row),
                "issue_comments",
                primary_key=("issue_id", "id"),
                merge_key="issue_id",
                write_disposition=MERGE,
                columns={**CLEAR_HINT, "updated_at": {"dedup_sort": "desc"}},
            )
        )
    if "worklogs" in wanted:
        worklog_hints: dict[str, Any] = {
            "table_name": "worklogs",
            "primary_key": ("issue_id", "id"),
            "merge_key": "issue_id",
            "write_disposition": MERGE,
            "columns": CLEAR_HINT,
        }
        resources.append(
            batch_tables.transformer(
                issue_batches,
                _per_issue(clients, "worklogs", read_worklogs, _worklog_row),
                "worklogs",
                **worklog_hints,
            )
        )
        lookback_ms = int(float(settings.get("lookback_minutes", 5.0)) * 60_000)
        resources.append(
            dlt.resource(
                _worklog_feed(clients, lookback_ms), name="worklog_changes", **worklog_hints
            )
        )
    return resources  # type: ignore[return-value]


def reference_resources(settings: dict[str, Any]) -> list[DltResource]:
    """Build the standalone resources of the reference tables and the agile sprints.

    Lists that Jira returns whole (`statuses`, `priorities`, `issue_types`, `resolutions`,
    `fields`) replace the table; the others merge on their id, so a project or user that is
    no longer listed keeps its row. `settings` may name the tables to load in `tables`
    (default: all of `REFERENCE_TABLES` and `sprints`).
    """
    clients = ClientFactory(settings)
    wanted = _wanted(settings, (*REFERENCE_TABLES, AGILE_SPRINTS))
    specs: list[tuple[str, Callable[[JiraClient], Iterator[dict[str, Any]]], dict[str, Any]]] = [
        ("users", _users, {"primary_key": "account_id", "write_disposition": MERGE}),
        (
            "projects",
            _mapped(reference.read_projects, rows_of.project_row),
            {"primary_key": "id", "write_disposition": MERGE},
        ),
        ("statuses", _listed("statuses", rows_of.status_row), {"write_disposition": "replace"}),
        (
            "priorities",
            _listed("priorities", lambda v: rows_of.named_row("priorities", v)),
            {"write_disposition": "replace"},
        ),
        (
            "issue_types",
            _listed("issue_types", rows_of.issue_type_row),
            {"write_disposition": "replace"},
        ),
        (
            "resolutions",
            _listed("resolutions", lambda v: rows_of.named_row("resolutions", v)),
            {"write_disposition": "replace"},
        ),
        (
            "versions",
            _per_project(reference.read_project_versions, rows_of.version_row),
            {"primary_key": "id", "write_disposition": MERGE},
        ),
        (
            "components",
            _per_project(reference.read_project_components, rows_of.component_row),
            {"primary_key": "id", "write_disposition": MERGE},
        ),
        (
            "fields",
            _fields(settings.get("custom_fields")),
            {"primary_key": "field_id", "write_disposition": "replace"},
        ),
    ]
    resources = [
        dlt.resource(_as_arrow(clients, table, read), name=table, **hints)
        for table, read, hints in specs
        if table in wanted
    ]
    if AGILE_SPRINTS in wanted:
        resources.append(
            dlt.resource(
                _agile_sprints(clients),
                name="board_sprints",
                table_name="sprints",
                primary_key="id",
                write_disposition=MERGE,
            )
        )
    return resources  # type: ignore[return-value]


# Collections


def _issues_of(batch: Any) -> list[tuple[int, dict[str, Any] | None]]:
    """Return `(issue id, raw issue or None)` for each issue of a batch."""
    raw_by_id: dict[int, dict[str, Any]] = {}
    for raw in getattr(batch, "raw", None) or []:
        issue_id = parse_id(raw.get("id")) if isinstance(raw, dict) else None
        if issue_id is not None:
            raw_by_id[issue_id] = raw
    return [(issue_id, raw_by_id.get(issue_id)) for issue_id in batch.normalized.issue_ids]


# Each function builds one table from one `IssueBatch`. `TableBatches` runs them.


def _changelog(clients: ClientFactory, mode: str) -> Callable[[Any], pa.Table | None]:
    def issue_changelog(batch: Any) -> pa.Table | None:
        found: list[tuple[int, list[dict[str, Any]]]] = []
        missing: list[int] = []
        partial: list[int] = []
        embedded: set[int] = set()
        for issue_id, raw in _issues_of(batch):
            # Histories read beside the issue fetch (see `ChangelogPrefetch`) are complete, and
            # so are embedded ones that the run requested and whose `total` vouches for them.
            prefetched = None
            if raw is not None:
                unread = raw.get(UNREAD)
                if unread is not None:
                    # The fetch already read these histories and found them partial or gone.
                    if unread == "partial":
                        partial.append(issue_id)
                    continue
                prefetched = raw.get(PREFETCHED)
                if raw.get(EMBEDDED):
                    embedded.add(issue_id)
                if prefetched is None and getattr(batch, "embedded_changelogs", False):
                    prefetched = embedded_histories(raw)
                    if prefetched is not None:
                        embedded.add(issue_id)
            if prefetched is None:
                missing.append(issue_id)
            else:
                found.append((issue_id, prefetched))
        if missing:
            with clients.open() as client:
                found.extend(read_changelogs(client, missing, mode, partial))
        remember_partial_histories(partial, [issue_id for issue_id, _ in found])
        if partial:
            clients.skipped["issue_changelog"] = (
                "the server returned only part of some issues' histories and serves no "
                "changelog endpoint, so those issues lack histories until a later run reads "
                "them whole (the log names each)"
            )
        rows: list[dict[str, Any]] = []
        complete: list[int] = []
        for issue_id, histories in found:
            complete.append(issue_id)
            try:
                for history in histories:
                    rows.extend(rows_of.changelog_rows(issue_id, history))
            except PayloadError as error:
                raw = dict(_issues_of(batch)).get(issue_id)
                named = _with_issue(error, "issue_changelog", issue_id, raw)
                if issue_id in embedded:
                    named = PayloadError(
                        f"{named} These histories came embedded in the search results "
                        "(`expand=changelog`), and --changelog-mode per_issue reads them from "
                        "each issue's changelog pages instead.",
                        issue_key=named.issue_key,
                    )
                raise named from None
        issues = batch.tables.get("issues", ())
        return replacement_table("issue_changelog", rows, complete, issues)

    return issue_changelog


# Source state key of the queue of issues whose histories came back in part. The source state
# is stored with each load package, as the cursor is, so a stopped run cannot lose the queue.
PARTIAL_HISTORIES = "histories_to_read"


def remember_partial_histories(partial: list[int], whole: list[int]) -> None:
    """Queue the issues of `partial` in the source state's list and drop those of `whole`.

    An issue whose histories came back in part keeps its stored rows, and its `updated` falls
    behind the cursor, so no later window would read it again. Each run reads the first issues
    of the queue by id (see `IssueRead`) until their histories come back whole. An issue read
    in part again goes to the back, so that a long queue is read in turns. Outside a running
    source, the queue is not kept.
    """
    _update_queue(drop=set(whole), to_back=partial)


def requeue_partial_histories(unread: list[int]) -> None:
    """Move the issues of `unread`, which a run could not read again, to the back of the queue.

    The filter no longer matches them, their project is hidden from the account, or they
    were deleted. They stay queued, and the issues behind them get their turn.
    """
    if unread:
        _update_queue(drop=set(), to_back=unread)


def _update_queue(drop: set[int], to_back: list[int]) -> None:
    """Remove `drop` from the queue of partial histories and move or add `to_back` at its end."""
    try:
        state = dlt.current.source_state()
    except Exception:  # no source is being extracted
        return
    stored = [int(i) for i in state.get(PARTIAL_HISTORIES) or []]
    moved = set(to_back)
    queue = [i for i in stored if i not in drop and i not in moved] + list(dict.fromkeys(to_back))
    if queue != stored:
        state[PARTIAL_HISTORIES] = queue


def _worklog_row(issue_id: int, worklog: dict[str, Any]) -> dict[str, Any]:
    return rows_of.worklog_row(worklog, issue_id)


def _per_issue(
    clients: ClientFactory,
    table: str,
    read: Callable[..., list[dict[str, Any]] | None],
    to_row: Callable[[int, dict[str, Any]], dict[str, Any]],
) -> Callable[[Any], pa.Table | None]:
    def rows(batch: Any) -> pa.Table | None:
        found: list[dict[str, Any]] = []
        complete: list[int] = []
        with clients.open() as client:
            for issue_id, raw in _issues_of(batch):
                try:
                    items = read(client, issue_id, raw)
                    if items is None:
                        continue
                    found.extend(to_row(issue_id, item) for item in items)
                except PayloadError as error:
                    raise _with_issue(error, table, issue_id, raw) from None
                complete.append(issue_id)
        return replacement_table(table, found, complete, batch.tables.get("issues", ()))

    rows.__name__ = table
    return rows


def _with_issue(
    error: PayloadError, table: str, issue_id: int, raw: dict[str, Any] | None
) -> PayloadError:
    """Name the issue whose collection page failed, and how to load without that table."""
    if error.issue_key is not None:
        return error
    key = raw.get("key") if isinstance(raw, dict) else None
    label = key if isinstance(key, str) and key else str(issue_id)
    return PayloadError(
        f"Issue `{label}`, table `{table}`: {error} {rows_of.skip_table_advice(table)}",
        issue_key=label,
    )


def replacement_table(
    table: str,
    rows: list[dict[str, Any]],
    complete: Collection[int],
    issues: Sequence[dict[str, Any]] = (),
) -> pa.Table | None:
    """Build the arrow table that replaces the stored rows of every issue in `complete`.

    Issues in `complete` without rows get a marker row that clears their old rows. Primary
    keys cannot be null, so a marker's key is the negated issue id, which no worklog, comment
    or history has. Returns None when there is nothing to load. `issues` are the `issues` rows
    that name the issue key of a row with a value of the wrong type.

    Raises:
        PayloadError: a value does not fit its column's type.
    """
    with_rows = {row["issue_id"] for row in rows}
    markers = [{"issue_id": i} for i in sorted(set(complete) - with_rows)]
    for marker in markers:
        if table in ("worklogs", "issue_comments"):
            marker["id"] = -marker["issue_id"]
        elif table == "issue_changelog":
            marker["history_id"] = -marker["issue_id"]
            marker["item_position"] = 0
    if not rows and not markers:
        return None
    arrow = rows_of.rows_to_arrow(table, rows + markers, issues=issues)
    flags = [False] * len(rows) + [True] * len(markers)
    arrow = arrow.append_column(pa.field(CLEAR_MARKER, pa.bool_()), pa.array(flags, pa.bool_()))
    keys = {
        "worklogs": ["id"],
        "issue_comments": ["id"],
        "issue_changelog": ["history_id", "item_position"],
    }.get(table, [])
    return _not_null(arrow, "issue_id", *keys)


def _worklog_feed(clients: ClientFactory, lookback_ms: int) -> Callable[[], Iterator[pa.Table]]:
    def worklog_changes() -> Iterator[pa.Table]:
        state = dlt.current.source_state()
        since = state.get("worklogs_since")
        if since is None:
            # The first run reads every issue's worklogs through the window; the feed starts
            # now, so the next run reads the changes made from here on.
            # NOTE: this uses the local clock; a Jira clock far behind it could skip changes
            # made in the first minutes after the first run.
            state["worklogs_since"] = int(time.time() * 1000) - FIRST_FEED_OVERLAP_MS
            return
        with clients.open() as client:
            changes = read_worklog_changes(client, max(0, int(since) - lookback_ms))
            # A changed or deleted worklog's whole issue is re-read, because the table
            # replaces the worklogs of an issue as one set. Jira's deleted-worklog list has
            # no issue id, so the issue comes from the stored row.
            # NOTE: the feed is site-wide, so issues outside the run's JQL filter are loaded
            # when their worklogs change.
            touched = {
                rows_of.worklog_row(worklog)["issue_id"]
                for worklog in list_worklogs(client, changes.updated_ids)
            }
            touched |= stored_issues_of_worklogs(changes.deleted_ids)
            rows: list[dict[str, Any]] = []
            complete: list[int] = []
            for issue_id in sorted(touched):
                items = read_worklogs(client, issue_id)
                if items is not None:
                    complete.append(issue_id)
                    rows.extend(rows_of.worklog_row(item, issue_id) for item in items)
        table = replacement_table("worklogs", rows, complete)
        if table is not None:
            yield table
        # An empty feed ends at the `since` it was asked for, which is the stored value minus
        # the lookback. Stored as is, the start moved back by the lookback on every quiet run,
        # and each run read a longer stretch of the feed.
        state["worklogs_since"] = max(int(since), changes.until)

    return worklog_changes


def stored_issues_of_worklogs(worklog_ids: list[int]) -> set[int]:
    """Look up the issue ids of these worklogs in the destination's `worklogs` table.

    Issues marked deleted are left out: deleting an issue deletes its worklogs, and reading
    the worklogs of an issue that is gone only returns 404.
    """
    if not worklog_ids:
        return set()
    pipeline = dlt.current.pipeline()
    found: set[int] = set()
    with pipeline.sql_client() as client:
        existing = {name.lower() for name in table_names(client)}
        if "worklogs" not in existing:
            return found
        table = client.make_qualified_table_name("worklogs")
        skip_deleted = ""
        if "issues" in existing:
            issues = client.make_qualified_table_name("issues")
            skip_deleted = (
                f" and not exists (select 1 from {issues} as i "
                f"where i.id = {table}.issue_id and i.is_deleted)"
            )
        for listed in id_lists(worklog_ids):
            rows = client.execute_sql(
                f"select distinct issue_id from {table} where id in ({listed}){skip_deleted}"
            )
            found.update(int(row[0]) for row in rows or [])
    return found


# Reference tables


def _as_arrow(
    clients: ClientFactory, table: str, read: Callable[[JiraClient], Iterator[dict[str, Any]]]
) -> Callable[[], Iterator[pa.Table]]:
    def rows() -> Iterator[pa.Table]:
        with clients.open() as client:
            try:
                found = list(read(client))
            except TableSkipped as skipped:
                logger.warning("Skipped the %s table: %s.", table, skipped)
                clients.skipped[table] = str(skipped)
                return
            endpoint = reference.endpoint_path(client.connection, table)
        if found:
            key = {"users": "account_id", "fields": "field_id"}.get(table, "id")
            yield _not_null(rows_of.rows_to_arrow(table, found, endpoint=endpoint), key)

    rows.__name__ = table
    return rows


class TableSkipped(Exception):
    """A reference table left as it was; the message is the reason, as a clause."""


def _users(client: JiraClient) -> Iterator[dict[str, Any]]:
    try:
        users = list(reference.read_users(client))
    except AuthError as error:
        raise TableSkipped(
            f"the token lacks the scope `{reference.USER_SCOPE}` ({error.url})"
        ) from None
    except NotFoundError as error:
        # NOTE: some Data Center versions return 404 for the user search. The users table is
        # then left as it was rather than failing the whole run.
        raise TableSkipped(f"{error.url} returned 404") from None
    for user in users:
        row = rows_of.user_row(user)
        if row["account_id"]:
            yield row


def _mapped(
    read: Callable[[JiraClient], Iterator[dict[str, Any]]],
    to_row: Callable[[dict[str, Any]], dict[str, Any]],
) -> Callable[[JiraClient], Iterator[dict[str, Any]]]:
    def rows(client: JiraClient) -> Iterator[dict[str, Any]]:
        for value in read(client):
            yield to_row(value)

    return rows


def _listed(
    table: str, to_row: Callable[[dict[str, Any]], dict[str, Any]]
) -> Callable[[JiraClient], Iterator[dict[str, Any]]]:
    def read(client: JiraClient) -> Iterator[dict[str, Any]]:
        return iter(reference.read_list(client, reference.table_endpoint(client.connection, table)))

    return _mapped(read, to_row)


def _per_project(
    read: Callable[[JiraClient, int], list[dict[str, Any]]],
    to_row: Callable[[dict[str, Any], int], dict[str, Any]],
) -> Callable[[JiraClient], Iterator[dict[str, Any]]]:
    def rows(client: JiraClient) -> Iterator[dict[str, Any]]:
        for project in reference.read_projects(client):
            project_id = rows_of.project_row(project)["id"]
            try:
                values = read(client, project_id)
            except NotFoundError:
                continue
            for value in values:
                yield to_row(value, project_id)

    return rows


def stored_issue_types() -> dict[str, str | None]:
    """Return column -> dlt data type of the `issues` table that earlier runs loaded."""
    table = dlt.current.source_schema().tables.get("issues") or {}
    columns = table.get("columns") or {}
    return {name: column.get("data_type") for name, column in columns.items()}


def _fields(requested: list[str] | None) -> Callable[[JiraClient], Iterator[dict[str, Any]]]:
    """Read the `fields` rows; a custom field left out of `requested` has no column."""

    def rows(client: JiraClient) -> Iterator[dict[str, Any]]:
        path = reference.table_endpoint(client.connection, "fields")
        fields = reference.read_list(client, path)
        selected = select_custom_fields(fields, requested)
        previous = dlt.current.source_state().get("field_columns")
        catalog = FieldCatalog.from_fields(
            fields, previous=previous, selected=selected, stored_types=stored_issue_types()
        )
        yield from rows_of.field_rows(fields, catalog)

    return rows


def _agile_sprints(clients: ClientFactory) -> Callable[[], Iterator[pa.Table]]:
    def board_sprints() -> Iterator[pa.Table]:
        sprints: dict[int, dict[str, Any]] = {}
        with clients.open() as client:
            try:
                boards = list(agile.read_boards(client))
            except (AuthError, NotFoundError) as error:
                _warn_agile(clients, agile.BOARD_SCOPE, error)
                return
            for board in boards:
                board_id = board.get("id")
                if not isinstance(board_id, int):
                    continue
                try:
                    found = agile.read_board_sprints(client, board_id)
                except (AuthError, NotFoundError) as error:
                    _warn_agile(clients, agile.SPRINT_SCOPE, error)
                    return
                for value in found:
                    sprints.update(_board_sprint(board_id, value))
        if sprints:
            table = arrow_table("sprints", list(sprints.values()), FieldCatalog({}))
            yield _not_null(table, "id")

    return board_sprints


def _board_sprint(board_id: int, value: Any) -> dict[int, dict[str, Any]]:
    """Parse one sprint of a board's sprint list into `{id: sprints row}`.

    Raises:
        PayloadError: the sprint cannot be read; the message names it and the board.
    """
    try:
        sprint = parse_sprint(value)
    except ValueError as error:
        sprint_id = value.get("id") if isinstance(value, dict) else None
        path = f"{agile.AGILE_ROOT}/board/{board_id}/sprint"
        raise PayloadError(
            f"Table `sprints`, sprint `{quote_value(sprint_id)}` from `{path}`: {error} "
            "Jira's agile API returns a sprint object there, so check for a proxy or an app "
            "that changes the responses between Jira and jira-etl. To load the other tables "
            "meanwhile, run with `--skip-tables sprints`."
        ) from None
    return {sprint["id"]: sprint}


def _warn_agile(clients: ClientFactory, scope: str, error: AuthError | NotFoundError) -> None:
    """Log why the agile API did not complete the sprints, and mark them when a scope is missing.

    A 404, as when Jira Software is not installed, marks nothing: there are no boards then.
    """
    if isinstance(error, AuthError):
        clients.skipped["sprints"] = (
            f"the token lacks the scope `{scope}` ({error.url}), so only the sprints named in "
            "the issues' Sprint field are loaded"
        )
        logger.warning(
            "Sprints were not completed from the agile API: the token lacks the scope `%s` "
            "(401 from %s). Sprints named in the issues' Sprint field are still loaded; grant "
            "the scope to load every sprint of every board.",
            scope,
            error.url,
        )
    else:
        logger.warning(
            "Sprints were not completed from the agile API: %s returned 404 (Jira Software "
            "may not be installed). Sprints named in the issues' Sprint field are still loaded.",
            error.url,
        )


# Helpers


def _wanted(settings: dict[str, Any], tables: tuple[str, ...]) -> set[str]:
    chosen = settings.get("tables")
    return set(tables) if chosen is None else set(tables) & set(chosen)


def _not_null(table: pa.Table, *columns: str) -> pa.Table:
    """Mark key columns non-nullable, as dlt marks primary and merge keys."""
    schema = table.schema
    for column in columns:
        index = schema.get_field_index(column)
        schema = schema.set(index, schema.field(index).with_nullable(False))
    return table.cast(schema)
