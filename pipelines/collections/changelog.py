"""Complete changelog histories per issue.

Cloud reads many issues per request with `POST /rest/api/3/changelog/bulkfetch`, token-paged,
oldest first. Data Center, and Cloud when bulk fetch is not served, reads each issue's
`/issue/{id}/changelog` pages. A Data Center server without that endpoint is read with
`GET /issue/{id}?expand=changelog`, accepted only when its `total` shows the list is whole.
On Data Center in mode `bulk`, the searches that fetch the issues ask for `expand=changelog`.
Embedded lists are capped (at about 40 on Cloud), so the histories embedded in an issue count
as its whole history only when they start at the first one and their `total` equals their
number. Any other issue is read from its own endpoint.

The mode `per_issue` reads every issue's `/issue/{id}/changelog` on Cloud too, one issue after
another, as tools without bulk fetch do; the sequential strategy uses it as its baseline.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from pipelines.client.transport import JiraClient
from pipelines.collections.paging import whole_listing
from pipelines.errors import NotFoundError, PaginationError, PayloadError
from pipelines.ids import parse_id
from pipelines.json_text import quote_value
from pipelines.limiter import AdaptiveLimiter

logger = logging.getLogger("jira_etl.collections")

BULK_ISSUES = 1000
CHANGELOG_MODES = ("bulk", "per_issue")
BULK_PAGE_SIZE = 10_000
ISSUE_PAGE_SIZE = 100

# The key under which `ChangelogPrefetch` stores an issue's complete histories on the raw issue.
PREFETCHED = "_jira_etl_histories"
# Key that marks histories taken from the issue's embedded changelog.
EMBEDDED = "_jira_etl_histories_embedded"
# Key that marks an issue whose histories the fetch could not read: `partial` when the server
# returned only part of them, `gone` when the issue was not found. Reading it again in the
# same run would change nothing.
UNREAD = "_jira_etl_histories_unread"

History = dict[str, Any]


class ChangelogPrefetch:
    """Read the complete histories of each chunk of fetched issues, beside the issue fetches.

    Used as the `on_chunk` hook of `BulkReader`: it runs in the fetch worker thread and takes a
    slot of the reader's limiter while it reads. The reader stores each issue's histories on
    the raw issue under `PREFETCHED`. An issue left without that key is read again by the
    changelog table.

    Args:
        client: the client of the run; `httpx` clients may be shared between threads.
        limiter: the limiter that bounds the reader's requests in flight.
        mode: how the histories are read (see `read_changelogs`).
        embedded: True when the fetches requested `expand=changelog`, so that whole embedded
            histories are taken. Otherwise embedded histories are ignored and every issue is read.
    """

    def __init__(
        self,
        client: JiraClient,
        limiter: AdaptiveLimiter,
        mode: str = "bulk",
        *,
        embedded: bool = False,
    ) -> None:
        self.client = client
        self.limiter = limiter
        self.mode = mode
        self.embedded = embedded

    def __call__(self, issues: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
        """Read the histories of `issues` and return `{issue id: {PREFETCHED: histories}}`.

        With `embedded`, issues whose embedded histories are whole (see `embedded_histories`)
        send no request. An issue whose histories could not be read gets `{UNREAD: reason}`.
        """
        found: dict[int, list[History]] = {}
        ids: list[int] = []
        embedded_ids: list[int] = []
        for issue in issues:
            issue_id = parse_id(issue.get("id"))
            if issue_id is None:
                continue
            embedded = embedded_histories(issue) if self.embedded else None
            if embedded is None:
                ids.append(issue_id)
            else:
                found[issue_id] = embedded
                embedded_ids.append(issue_id)
        partial: list[int] = []
        if ids:
            with self.limiter.slot():
                found.update(read_changelogs(self.client, ids, self.mode, partial))
        extras: dict[int, dict[str, Any]] = {
            issue_id: {PREFETCHED: histories} for issue_id, histories in found.items()
        }
        for issue_id in embedded_ids:
            extras[issue_id][EMBEDDED] = True
        partial_ids = set(partial)
        for issue_id in ids:
            if issue_id not in found:
                extras[issue_id] = {UNREAD: "partial" if issue_id in partial_ids else "gone"}
        return extras


def embedded_histories(issue: dict[str, Any]) -> list[History] | None:
    """Return the histories embedded in `issue` by `expand=changelog` when they are all of them.

    They are whole when they start at the first history (`startAt` 0 or absent) and `total`
    is their number. Returns None for no embedded changelog, a capped one, or one of an
    unexpected shape, so that the caller reads the issue's own changelog endpoint.

    NOTE: a server or proxy that cuts the list short and sends the shortened length as `total`
    cannot be detected here, so `--changelog-mode per_issue` is the mode for such servers.
    """
    changelog = issue.get("changelog")
    if not isinstance(changelog, dict):
        return None
    histories = changelog.get("histories")
    total = changelog.get("total")
    if not isinstance(histories, list) or isinstance(total, bool) or not isinstance(total, int):
        return None
    if changelog.get("startAt", 0) != 0 or total != len(histories):
        return None
    if not all(isinstance(history, dict) for history in histories):
        return None
    return histories


def read_changelogs(
    client: JiraClient,
    issue_ids: list[int],
    mode: str = "bulk",
    partial: list[int] | None = None,
) -> Iterator[tuple[int, list[History]]]:
    """Yield `(issue id, every history)` for each readable issue.

    An issue that no longer exists, or whose complete history cannot be read, is left out so
    that its stored rows stay as they are.

    Args:
        client: the client of the run.
        issue_ids: the issues to read.
        mode: `bulk` (bulk fetch on Cloud, up to `BULK_ISSUES` issues a request) or
            `per_issue` (each issue's own changelog endpoint, one request after another).
        partial: when given, receives the ids of issues left out because the server returned
            only part of their histories.

    Raises:
        ValueError: an unknown mode.
    """
    if mode not in CHANGELOG_MODES:
        raise ValueError(f"Invalid changelog mode `{mode}`: expected `bulk` or `per_issue`.")
    if not issue_ids:
        return
    if mode == "bulk" and client.connection.flavor == "cloud":
        try:
            yield from _bulk(client, issue_ids)
            return
        except NotFoundError:
            logger.warning(
                "%s is not served; reading changelogs one issue at a time.",
                client.connection.api_path("changelog/bulkfetch"),
            )
    for issue_id in issue_ids:
        histories = read_issue_changelog(client, issue_id, partial)
        if histories is not None:
            yield issue_id, histories


def _bulk(client: JiraClient, issue_ids: list[int]) -> Iterator[tuple[int, list[History]]]:
    path = client.connection.api_path("changelog/bulkfetch")
    for start in range(0, len(issue_ids), BULK_ISSUES):
        chunk = issue_ids[start : start + BULK_ISSUES]
        # Histories of one issue may continue on the next page, so a chunk is yielded whole.
        found: dict[int, list[History]] = {}
        seen_tokens: set[str] = set()
        token: str | None = None
        while True:
            body: dict[str, Any] = {
                "issueIdsOrKeys": [str(i) for i in chunk],
                "maxResults": BULK_PAGE_SIZE,
            }
            if token:
                body["nextPageToken"] = token
            page = client.post(path, body)
            logs = page.get("issueChangeLogs") if isinstance(page, dict) else None
            if not isinstance(logs, list):
                raise PayloadError(f"{path} returned a page without an `issueChangeLogs` list.")
            for log in logs:
                issue_id = _issue_id(log, path)
                histories = log.get("changeHistories")
                if not isinstance(histories, list):
                    raise PayloadError(f"{path}: issue `{issue_id}` has no `changeHistories` list.")
                found.setdefault(issue_id, []).extend(histories)
            token = page.get("nextPageToken")
            if not token:
                break
            if token in seen_tokens:
                raise PaginationError(f"{path} returned page token `{token[:24]}...` twice.")
            seen_tokens.add(token)
        # The response leaves out an issue with no history, and also one deleted or hidden
        # since it was fetched. Jira never removes a history from a live issue, so an issue
        # left out keeps its stored rows either way, as after a 404 from its own endpoint.
        for issue_id in chunk:
            if issue_id in found:
                yield issue_id, found[issue_id]


def read_issue_changelog(
    client: JiraClient, issue_id: int, partial: list[int] | None = None
) -> list[History] | None:
    """Read every history of one issue; None when the issue is gone or the list is partial.

    A partial list also adds the issue id to `partial`, when given.
    """
    path = client.connection.api_path(f"issue/{issue_id}/changelog")
    try:
        return whole_listing(client, path, "values")
    except NotFoundError:
        pass
    # Issue endpoints answer 404 both for a missing endpoint and a missing issue.
    issue_path = client.connection.api_path(f"issue/{issue_id}")
    try:
        issue = client.get(issue_path, {"expand": "changelog", "fields": "updated"})
    except NotFoundError:
        logger.info("Issue %s was not found; its changelog rows are kept.", issue_id)
        return None
    changelog = issue.get("changelog") if isinstance(issue, dict) else None
    found = changelog.get("histories") if isinstance(changelog, dict) else None
    if not isinstance(found, list):
        return None
    total = changelog.get("total")  # type: ignore[union-attr]
    if isinstance(total, int) and total > len(found):
        logger.warning(
            "Issue %s: %s returned %d of %d histories; its changelog rows are kept.",
            issue_id,
            issue_path,
            len(found),
            total,
        )
        if partial is not None:
            partial.append(issue_id)
        return None
    return found


def _issue_id(log: Any, path: str) -> int:
    value = log.get("issueId") if isinstance(log, dict) else None
    issue_id = parse_id(value)
    if issue_id is not None:
        return issue_id
    raise PayloadError(
        f"{path} returned a changelog without a numeric `issueId`: `{quote_value(value)}`."
    )
