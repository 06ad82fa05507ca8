"""Find deleted issues: list the ids the user's JQL matches now and mark loaded ones that left.

Jira Cloud has no feed of deleted issues. After a run has read its window, the sweep lists every
issue id the user's filter matches with cheap id-only searches, and the projects the account may
browse. After the load succeeded, `mark_deleted` compares the list with the loaded issues:

- a loaded issue missing from the list is marked `is_deleted = true` with `deleted_at`;
- a marked issue present in the list again is unmarked;
- an issue of a project missing from the project list is left alone: a whole project that
  disappears is a permission change, not a mass deletion, and the run warns about it.

Paging is keyset paging, `id > last ORDER BY id ASC`, one first page per request: each request
starts after the largest id already listed, so an issue deleted between two requests cannot
shift a later issue onto a page already read (token or offset pages would skip it and mark a
live issue deleted). A sweep that fails part way is incomplete and marks nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from pipelines.client.search import MAX_KEYS_PAGE, IssueSearch
from pipelines.client.transport import JiraClient
from pipelines.collections.reference import read_projects
from pipelines.errors import JiraEtlError, PaginationError, PayloadError
from pipelines.ids import parse_id
from pipelines.window import to_epoch_ms, user_filter

logger = logging.getLogger("jira_etl.sweep")

# Ids changed per UPDATE statement; keeps statements short on every destination.
UPDATE_CHUNK = 500
# Loaded issues compared with the sweep per fetch, so that the Python rows do not grow with
# the table. psycopg2 still receives the whole result before the first fetch, as libpq data.
COMPARE_CHUNK = 10_000


@dataclass
class SweepResult:
    """The issue ids the user's JQL matched and the projects the account could browse.

    Attributes:
        ids: every issue id the filter matched during the sweep, sorted and unique (8 bytes
            an id, where a set of ints takes about 70).
        project_ids: ids of the projects the account may browse.
        complete: false when a request failed or the listing was doubted. An incomplete
            sweep marks nothing.
        error: why the sweep did not complete, as a clause for the run summary.
        start: the start date that bounded the listing. Issues last updated before it were
            not listed, so their absence does not mean they were deleted.
    """

    ids: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    project_ids: set[int] = field(default_factory=set)
    complete: bool = False
    error: str | None = None
    start: datetime | None = None


@dataclass
class MarkResult:
    """What `mark_deleted` changed."""

    marked: list[int] = field(default_factory=list)
    unmarked: list[int] = field(default_factory=list)
    # Why nothing was marked although the sweep completed, as a clause for the run summary.
    doubt: str | None = None
    # project id -> loaded issues kept because the project left the project list
    hidden_projects: dict[int, int] = field(default_factory=dict)
    # Issues the sweep listed that the table lacks, sorted.
    unloaded: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=np.int64))
    # The projects an earlier sweep found hidden, and their loaded issues listed again now,
    # which may have changed while the account could not see them.
    hidden_before: frozenset[int] = frozenset()
    returned: list[int] = field(default_factory=list)


def sweep_jql(user_jql: str | None, after_id: int, start: datetime | None = None) -> str:
    """Return the keyset query listing the filter's issues with an id above `after_id`.

    With a `start`, issues last updated before it are not listed, as no run loads them.

    >>> sweep_jql("project = ABC ORDER BY created", 0)
    '(project = ABC) AND id > 0 ORDER BY id ASC'
    """
    text = user_filter(user_jql)
    bound = f"id > {after_id}"
    if start is not None:
        bound = f"updated >= {to_epoch_ms(start)} AND {bound}"
    return f"({text}) AND {bound} ORDER BY id ASC" if text else f"{bound} ORDER BY id ASC"


def list_issue_ids(
    search: IssueSearch, user_jql: str | None, start: datetime | None = None
) -> np.ndarray:
    """Return every issue id `user_jql` matches, sorted and unique, with keyset id-only pages.

    Raises:
        JiraEtlError: a request failed after its retries, or a page could not be parsed.
    """
    found: list[np.ndarray] = []
    after = 0
    while True:
        pages = search.ids(sweep_jql(user_jql, after, start), page_size=MAX_KEYS_PAGE)
        try:
            page = next(iter(pages), [])
        finally:
            pages.close()  # type: ignore[attr-defined]
        ids = [i for i in (parse_id(issue.get("id")) for issue in page) if i is not None]
        if len(ids) != len(page):
            raise PayloadError("An id-only search returned an issue without a numeric `id`.")
        if not ids:
            return np.unique(np.concatenate(found)) if found else np.empty(0, dtype=np.int64)
        if min(ids) <= after:
            # A search that ignores the bound returns the same ids again, so the loop never ends.
            raise PaginationError(
                f"An id-only search for ids above {after} returned id {min(ids)}, so the "
                "listing would not end. Check that a proxy between jira-etl and Jira passes "
                "the JQL through unchanged."
            )
        found.append(np.array(ids, dtype=np.int64))
        after = max(ids)


def run_sweep(
    client: JiraClient, user_jql: str | None, start: datetime | None = None
) -> SweepResult:
    """List the filter's issue ids and the visible projects; never raises a jira-etl error.

    A failure leaves the result incomplete, with the reason, so nothing is marked deleted.
    """
    result = SweepResult(start=start)
    try:
        result.project_ids = {int(p["id"]) for p in read_projects(client) if "id" in p}
        result.ids = list_issue_ids(IssueSearch(client), user_jql, start)
    except JiraEtlError as exc:
        result.error = f"the sweep failed: {str(exc).rstrip('.')}"
        logger.warning(
            "The delete sweep could not complete, so no issue is marked deleted this run: %s", exc
        )
        return result
    result.complete = True
    logger.info(
        "Delete sweep: the filter matches %d issues in %d visible projects",
        len(result.ids),
        len(result.project_ids),
    )
    return result


def doubt_sweep(sweep: SweepResult, read_ids: np.ndarray) -> None:
    """Mark `sweep` incomplete when it lacks most of the issues this run has just read.

    The run's own search listed those issues moments before the sweep, so a listing without
    them points at a wrong response (an empty page from a proxy, a changed API), not at
    deletions. `read_ids` are sorted and unique.
    """
    if not sweep.complete or len(read_ids) == 0:
        return
    missing = np.setdiff1d(read_ids, sweep.ids, assume_unique=True)
    if len(missing) * 2 <= len(read_ids):
        return
    sweep.complete = False
    sweep.error = (
        f"the sweep lacks {len(missing)} of the {len(read_ids)} issues this run read from the "
        "same filter"
    )
    logger.warning(
        "The delete sweep lacks %d of the %d issues this run has just read from the same filter, "
        "so no issue is marked deleted this run. If it repeats, check that a proxy between "
        "jira-etl and Jira returns every issue id for searches without `fields`.",
        len(missing),
        len(read_ids),
    )


def mark_deleted(
    sql_client: Any, sweep: SweepResult, now: datetime, hidden_before: Iterable[int] = ()
) -> MarkResult:
    """Mark loaded issues the sweep no longer lists as deleted, and unmark ones listed again.

    Works on any dlt SQL client (DuckDB, PostgreSQL); `sql_client` is open. `hidden_before`
    are the projects an earlier sweep found hidden from the account. Their loaded issues that
    this sweep lists go to `MarkResult.returned`.
    """
    outcome = MarkResult(hidden_before=frozenset(hidden_before))
    if not sweep.complete:
        return outcome
    issues = sql_client.make_qualified_table_name("issues")
    query = f"select id, project_id, is_deleted, updated_at from {issues}"
    loaded: list[np.ndarray] = []
    with sql_client.execute_query(query) as cursor:
        for rows in cursor.iter_fetch(COMPARE_CHUNK):
            loaded.append(_classify(rows, sweep, outcome))
    stored = np.concatenate(loaded) if loaded else np.empty(0, dtype=np.int64)
    outcome.unloaded = np.setdiff1d(sweep.ids, stored)
    if len(sweep.ids) == 0 and outcome.marked:
        # An empty listing would mark every loaded issue deleted at once, and a wrong response
        # (an empty page from a proxy) gives the same listing as a site with no issue left.
        logger.warning(
            "The delete sweep listed no issue for the filter, so none of the %d loaded issues "
            "is marked deleted. If the filter really matches no issue any more, load into a "
            "new --dataset or drop the dataset.",
            len(outcome.marked),
        )
        outcome.marked = []
        outcome.doubt = "the sweep listed no issue for the filter"
    for project, count in sorted(outcome.hidden_projects.items()):
        logger.warning(
            "Project %s is no longer visible to this account; its %d loaded issue(s) are kept "
            "and not marked deleted. Check the account's permissions if this is unexpected.",
            project,
            count,
        )
    _update(sql_client, issues, outcome.marked, "true, deleted_at = %s", now)
    _update(sql_client, issues, outcome.unmarked, "false, deleted_at = null", None)
    if outcome.marked or outcome.unmarked:
        logger.info(
            "Delete sweep: %d issue(s) marked deleted, %d present again",
            len(outcome.marked),
            len(outcome.unmarked),
        )
    return outcome


def _classify(rows: list[tuple[Any, ...]], sweep: SweepResult, outcome: MarkResult) -> np.ndarray:
    """Add one chunk of loaded `(id, project_id, is_deleted, updated_at)` rows to `outcome`.

    Returns the ids of the chunk.
    """
    if not rows:
        return np.empty(0, dtype=np.int64)
    loaded = np.array([int(row[0]) for row in rows], dtype=np.int64)
    listed = np.isin(loaded, sweep.ids, assume_unique=True)
    for row, is_listed in zip(rows, listed.tolist(), strict=True):
        issue_id, project_id, is_deleted, updated_at = row
        if is_listed and project_id is not None and int(project_id) in outcome.hidden_before:
            outcome.returned.append(int(issue_id))
        if is_listed and is_deleted:
            outcome.unmarked.append(int(issue_id))
        elif not is_listed and not is_deleted:
            if sweep.start is not None and updated_at is not None and updated_at < sweep.start:
                # A --start-date later than the one the issue was loaded under kept it out of
                # the listing. NOTE: if Jira deleted such an issue, it stays unmarked.
                continue
            if project_id is not None and int(project_id) not in sweep.project_ids:
                project = int(project_id)
                outcome.hidden_projects[project] = outcome.hidden_projects.get(project, 0) + 1
            else:
                outcome.marked.append(int(issue_id))
    return loaded


def _update(
    sql_client: Any, table: str, ids: list[int], assignment: str, now: datetime | None
) -> None:
    for start in range(0, len(ids), UPDATE_CHUNK):
        chunk = ids[start : start + UPDATE_CHUNK]
        id_list = ", ".join(str(int(i)) for i in chunk)
        statement = f"update {table} set is_deleted = {assignment} where id in ({id_list})"
        if now is None:
            sql_client.execute_sql(statement)
        else:
            sql_client.execute_sql(statement, now)
