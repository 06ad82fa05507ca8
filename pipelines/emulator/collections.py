"""Collection endpoints: changelogs, comments and worklogs per issue, and site-wide worklogs.

Every page is built from the same lists as the embedded pages of an issue (`Store.comments`,
`Store.worklogs`, `Store.histories`), so ids agree between the two. Offset-paged endpoints
return at most their cap whatever `maxResults` requests, as Jira does.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

from pipelines.emulator import lists
from pipelines.emulator.generate import IssueRecord
from pipelines.emulator.render import View
from pipelines.emulator.render_parts import render_comment, render_history, render_worklog
from pipelines.emulator.search import ApiError, Call

if TYPE_CHECKING:
    from pipelines.emulator import Emulator
    from pipelines.emulator.store import Store

# (default, cap) of maxResults per endpoint. Comments: 100 and 100 as Atlassian documents for
# GET /issue/{id}/comment. Changelog: default 100 as documented. Worklogs: default 5000.
# NOTE: the changelog and worklog caps are estimates, set equal to the documented defaults.
CHANGELOG_PAGE = (100, 100)
COMMENT_PAGE = (100, 100)
WORKLOG_PAGE = (5000, 5000)
BULK_CHANGELOG_IDS = 1000
BULK_CHANGELOG_FIELDS = 10
BULK_CHANGELOG_PAGE = (1000, 10_000)
WORKLOG_LIST_IDS = 1000
WORKLOG_UPDATED_PAGE = 1000
# `/worklog/updated` and `/worklog/deleted` leave out changes of the last minute.
WORKLOG_QUIET_MS = 60_000
NOT_FOUND = "Issue does not exist or you do not have permission to see it."


def route_collections(
    emu: Emulator, method: str, path: str, params: dict[str, Any], view: View, account: int
) -> Any:
    """Serve a collection or reference-list endpoint; raise 404 for any other path.

    `path` is the part after `/rest/api/{2,3}`, or the whole path for `/rest/agile/1.0/...`.
    """
    call = Call(method=method, api=view.api, params=params, view=view, account_index=account)
    store = emu.store
    match = re.fullmatch(r"/issue/([^/]+)/(changelog|comment|worklog)", path)
    if match and method == "GET":
        with store.lock:
            record = store.find_visible(match[1])
            if record is None:
                raise ApiError(404, [NOT_FOUND])
            if match[2] == "changelog":
                return changelog_page(store, record, call)
            if match[2] == "comment":
                return comment_page(store, record, call)
            return worklog_page(store, record, call)
    if path == "/changelog/bulkfetch" and method == "POST" and emu.flavor == "cloud":
        return bulk_changelogs(store, call)
    if path in ("/worklog/updated", "/worklog/deleted") and method == "GET":
        return changed_worklogs(store, call, deleted=path.endswith("deleted"))
    if path == "/worklog/list" and method == "POST":
        return worklog_list(store, call)
    return lists.route_lists(emu, method, path, call)


def _page_bounds(call: Call, page: tuple[int, int]) -> tuple[int, int]:
    start_at = call.int_param("startAt", 0)
    if start_at < 0:
        raise ApiError(400, ["The startAt parameter must be 0 or greater."])
    max_results = call.int_param("maxResults", page[0])
    if max_results < 0:
        raise ApiError(400, ["The maxResults parameter must be 0 or greater."])
    return start_at, min(max_results, page[1])


def changelog_page(store: Store, record: IssueRecord, call: Call) -> dict[str, Any]:
    """Serve `GET /issue/{id}/changelog`: histories oldest first, offset-paged."""
    start_at, max_results = _page_bounds(call, CHANGELOG_PAGE)
    histories = store.histories(record)
    shown = histories[start_at : start_at + max_results]
    view = call.view
    return {
        "self": view.url(
            f"issue/{record.key}/changelog?maxResults={max_results}&startAt={start_at}"
        ),
        "maxResults": max_results,
        "startAt": start_at,
        "total": len(histories),
        "isLast": start_at + len(shown) >= len(histories),
        "values": [render_history(h, view) for h in shown],
    }


def comment_page(store: Store, record: IssueRecord, call: Call) -> dict[str, Any]:
    """Serve `GET /issue/{id}/comment`: oldest first, or newest first with `orderBy=-created`."""
    start_at, max_results = _page_bounds(call, COMMENT_PAGE)
    order = str(call.param("orderBy") or "created")
    if order not in ("created", "+created", "-created"):
        raise ApiError(400, [f"The orderBy value '{order}' is invalid: expected created."])
    comments = store.comments(record)
    if order == "-created":
        comments = comments[::-1]
    shown = comments[start_at : start_at + max_results]
    return {
        "self": call.view.url(f"issue/{record.id}/comment"),
        "maxResults": max_results,
        "total": len(comments),
        "startAt": start_at,
        "comments": [render_comment(record, c, call.view) for c in shown],
    }


def worklog_page(store: Store, record: IssueRecord, call: Call) -> dict[str, Any]:
    """Serve `GET /issue/{id}/worklog`: oldest first, offset-paged."""
    start_at, max_results = _page_bounds(call, WORKLOG_PAGE)
    worklogs = store.worklogs(record)
    shown = worklogs[start_at : start_at + max_results]
    return {
        "startAt": start_at,
        "maxResults": max_results,
        "total": len(worklogs),
        "worklogs": [render_worklog(record, w, call.view) for w in shown],
    }


def _bulk_token(request_hash: str, issue_index: int, history_index: int) -> str:
    raw = json.dumps({"r": request_hash, "i": issue_index, "h": history_index}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_bulk_token(token: str, request_hash: str) -> tuple[int, int]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        if data["r"] != request_hash:
            raise ValueError(token)
        return int(data["i"]), int(data["h"])
    except (ValueError, KeyError, TypeError):
        raise ApiError(400, ["The provided next page token is invalid or expired."]) from None


def bulk_changelogs(store: Store, call: Call) -> dict[str, Any]:
    """Serve `POST /rest/api/3/changelog/bulkfetch`: histories of many issues, token-paged.

    A page contains at most `maxResults` histories in total. Issues come in request order, each
    with its histories oldest first; `fieldIds` keeps only the items of those fields.
    """
    ids = call.params.get("issueIdsOrKeys")
    if not isinstance(ids, list) or not ids:
        raise ApiError(400, ["issueIdsOrKeys must contain at least one issue id or key."])
    if len(ids) > BULK_CHANGELOG_IDS:
        raise ApiError(
            400, [f"issueIdsOrKeys must contain at most {BULK_CHANGELOG_IDS} issue ids or keys."]
        )
    field_ids = call.params.get("fieldIds") or []
    if not isinstance(field_ids, list) or len(field_ids) > BULK_CHANGELOG_FIELDS:
        raise ApiError(400, [f"fieldIds must contain at most {BULK_CHANGELOG_FIELDS} field ids."])
    max_results = call.int_param("maxResults", BULK_CHANGELOG_PAGE[0])
    if not 1 <= max_results <= BULK_CHANGELOG_PAGE[1]:
        raise ApiError(
            400, [f"The maxResults parameter must be between 1 and {BULK_CHANGELOG_PAGE[1]}."]
        )
    request = json.dumps([[str(i) for i in ids], sorted(map(str, field_ids))])
    request_hash = hashlib.sha256(request.encode()).hexdigest()[:16]
    issue_index, history_index = 0, 0
    token = call.param("nextPageToken")
    if token:
        issue_index, history_index = _read_bulk_token(str(token), request_hash)
    out: list[dict[str, Any]] = []
    budget = max_results
    with store.lock:
        # NOTE: ids that do not exist or cannot be browsed are skipped without an error entry;
        # Jira's response for them is not documented.
        records = _unique_visible(store, ids)
        while issue_index < len(records) and budget > 0:
            record = records[issue_index]
            histories = _filter_items(store.histories(record), field_ids)
            taken = histories[history_index : history_index + budget]
            if taken:
                out.append(
                    {
                        "issueId": str(record.id),
                        "changeHistories": [render_history(h, call.view) for h in taken],
                    }
                )
            budget -= len(taken)
            history_index += len(taken)
            if history_index >= len(histories):
                issue_index, history_index = issue_index + 1, 0
        body: dict[str, Any] = {"issueChangeLogs": out}
        if issue_index < len(records):
            body["nextPageToken"] = _bulk_token(request_hash, issue_index, history_index)
    return body


def _unique_visible(store: Store, ids: list[Any]) -> list[IssueRecord]:
    records: list[IssueRecord] = []
    seen: set[int] = set()
    for id_or_key in ids:
        record = store.find_visible(id_or_key)
        if record is not None and record.id not in seen:
            seen.add(record.id)
            records.append(record)
    return records


def _filter_items(histories: list[dict[str, Any]], field_ids: list[Any]) -> list[dict[str, Any]]:
    if not field_ids:
        return histories
    wanted = {str(f) for f in field_ids}
    out = []
    for history in histories:
        items = [i for i in history["items"] if i.get("fieldId", i.get("field")) in wanted]
        if items:
            out.append({**history, "items": items})
    return out


def changed_worklogs(store: Store, call: Call, deleted: bool) -> dict[str, Any]:
    """Serve `GET /worklog/updated` or `/worklog/deleted`: ids changed at or after `since`.

    Pages hold 1000 ids, oldest first; `until` is the newest time on the page and `nextPage`
    asks again from it, so an id at that exact instant comes back on the next page.
    """
    since = call.int_param("since", 0)
    now = store.now_ms()
    cutoff = now - WORKLOG_QUIET_MS
    if deleted:
        with store.lock:
            changes = sorted(
                (ms, wid) for wid, ms in store.worklog_changes.deleted.items() if since <= ms
            )
    else:
        changes = [(ms, wid) for ms, wid, _ in store.worklog_times() if since <= ms]
    changes = [(ms, wid) for ms, wid in changes if ms < cutoff]
    page = changes[:WORKLOG_UPDATED_PAGE]
    until = page[-1][0] if page else since
    kind = "deleted" if deleted else "updated"
    return {
        "values": [{"worklogId": wid, "updatedTime": ms, "properties": []} for ms, wid in page],
        "since": since,
        "until": until,
        "self": call.view.url(f"worklog/{kind}?since={since}"),
        "nextPage": call.view.url(f"worklog/{kind}?since={until}"),
        "lastPage": len(changes) <= WORKLOG_UPDATED_PAGE,
    }


def worklog_list(store: Store, call: Call) -> list[dict[str, Any]]:
    """Serve `POST /worklog/list`: full worklogs for at most 1000 ids; unknown ids are left out."""
    ids = call.params.get("ids")
    if not isinstance(ids, list) or not ids:
        raise ApiError(400, ["ids must contain at least one worklog id."])
    if len(ids) > WORKLOG_LIST_IDS:
        raise ApiError(400, [f"ids must contain at most {WORKLOG_LIST_IDS} worklog ids."])
    from pipelines.emulator.items import owner_of

    out = []
    with store.lock:
        for raw in ids:
            try:
                worklog_id = int(raw)
                record = owner_of(store, store.worklog_changes, worklog_id, "worklog")
            except (KeyError, TypeError, ValueError):
                continue
            if not store.index.can_browse(record):
                continue
            worklog = next(w for w in store.worklogs(record) if w["id"] == worklog_id)
            out.append(render_worklog(record, worklog, call.view))
    return out
