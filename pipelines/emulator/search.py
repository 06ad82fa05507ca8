"""Issue search and issue reads: Cloud `/search/jql`, Data Center `/search`, bulk fetch."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from pipelines.emulator import reference as ref
from pipelines.emulator.jql import Context, JqlError, parse
from pipelines.emulator.render import View, select_fields
from pipelines.emulator.render_parts import field_names, render_issue
from pipelines.emulator.store import Store

UNBOUNDED = (
    "Unbounded JQL queries are not allowed here. Please add a search restriction to your query."
)
REMOVED = (
    "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. "
    "A full migration guideline is available at "
    "https://developer.atlassian.com/changelog/#CHANGE-2046"
)
SMALL_FIELDS = {"id", "key", "updated", "created"}
CLOUD_PAGE_CAP = 100  # with real fields
CLOUD_ID_PAGE_CAP = 5000  # ids only or a few tiny fields
DC_PAGE_CAP = 100  # with fields; Data Center lowers maxResults to this
DC_ID_PAGE_CAP = 1000
DC_WINDOW = 10_000


class ApiError(Exception):
    """An error response in Jira's shape."""

    def __init__(self, status: int, messages: list[str], errors: dict[str, str] | None = None):
        super().__init__(messages[0] if messages else str(status))
        self.status = status
        self.body = {"errorMessages": messages, "errors": errors or {}}


@dataclass
class Call:
    """One authenticated API call as the endpoints see it."""

    method: str
    api: int
    params: dict[str, Any]  # query string (lists kept for repeated keys) merged with the body
    view: View
    account_index: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def param(self, name: str, default: Any = None) -> Any:
        value = self.params.get(name, default)
        if isinstance(value, list) and self.method == "GET" and name not in ("fields",):
            return value[-1] if value else default
        return value

    def int_param(self, name: str, default: int) -> int:
        value = self.param(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ApiError(
                400, [f"The value '{value}' is invalid for the parameter '{name}'."]
            ) from None

    def list_param(self, name: str) -> list[str] | None:
        value = self.params.get(name)
        if value is None:
            return None
        items = value if isinstance(value, list) else [value]
        out: list[str] = []
        for item in items:
            out.extend(part.strip() for part in str(item).split(",") if part.strip())
        return out


def context_for(store: Store, call: Call) -> Context:
    return Context(
        zone=call.view.zone,
        now_ms=store.now_ms(),
        account_index=call.account_index,
        key_lookup=store.find,
    )


def run_jql(store: Store, call: Call, jql: str) -> list[Any]:
    try:
        query = parse(jql, context_for(store, call))
    except JqlError as error:
        raise ApiError(400, [str(error)]) from None
    return query.run(store.searchable())


def _token(query_hash: str, offset: int) -> str:
    raw = json.dumps({"q": query_hash, "o": offset}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _read_token(token: str) -> tuple[str, int]:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded))
        return str(data["q"]), int(data["o"])
    except (ValueError, KeyError, TypeError):
        raise ApiError(400, ["The provided next page token is invalid or expired."]) from None


def _expand(call: Call) -> set[str]:
    return set(call.list_param("expand") or [])


def search_jql(store: Store, call: Call) -> dict[str, Any]:
    """Serve Cloud `/rest/api/3/search/jql`: token paging, no total, re-evaluated per page."""
    jql = str(call.param("jql") or "")
    try:
        query = parse(jql, context_for(store, call))
    except JqlError as error:
        raise ApiError(400, [str(error)]) from None
    if query.predicate is None:
        raise ApiError(400, [UNBOUNDED])
    max_results = call.int_param("maxResults", 50)
    if not 1 <= max_results <= 5000:
        raise ApiError(400, ["The maxResults parameter must be between 1 and 5000."])
    requested = call.list_param("fields")
    wanted = None if not requested or requested == ["id"] else select_fields(requested, "id")
    small = wanted is None or (wanted <= SMALL_FIELDS and len(wanted) <= 2)
    page_size = min(max_results, CLOUD_ID_PAGE_CAP if small else CLOUD_PAGE_CAP)
    expand = _expand(call)
    if "changelog" in expand:
        page_size = min(page_size, CLOUD_PAGE_CAP)
    query_hash = hashlib.sha256(jql.strip().encode()).hexdigest()[:16]
    offset = 0
    token = call.param("nextPageToken")
    if token:
        token_hash, offset = _read_token(str(token))
        if token_hash != query_hash:
            raise ApiError(400, ["The provided next page token is invalid or expired."])
    with store.lock:
        if token and store.page_hook is not None:
            store.page_hook(lambda: query.run(store.searchable()))
        matched = query.run(store.searchable())
        page = matched[offset : offset + page_size]
        issues = [render_issue(store, r, wanted, call.view, expand) for r in page]
    body: dict[str, Any] = {"issues": issues}
    if offset + page_size < len(matched):
        body["nextPageToken"] = _token(query_hash, offset + page_size)
        body["isLast"] = False
    else:
        body["isLast"] = True
    if "names" in expand and wanted:
        body["names"] = field_names(wanted)
    if "schema" in expand and wanted:
        body["schema"] = field_schemas(wanted)
    return body


def search_dc(store: Store, call: Call) -> dict[str, Any]:
    """Serve Data Center `/rest/api/2/search`: startAt paging, total, lowered maxResults."""
    start_at = call.int_param("startAt", 0)
    max_results = call.int_param("maxResults", 50)
    if start_at < 0:
        raise ApiError(400, ["The startAt parameter must be 0 or greater."])
    requested = call.list_param("fields")
    wanted = select_fields(requested, "*navigable")
    small = wanted <= SMALL_FIELDS
    cap = DC_ID_PAGE_CAP if small else DC_PAGE_CAP
    max_results = max(0, min(max_results, cap))
    if start_at + max_results > DC_WINDOW:
        raise ApiError(
            400,
            [
                f"The requested page (startAt {start_at}, maxResults {max_results}) goes past the "
                f"first {DC_WINDOW} results of the search. Narrow the JQL instead."
            ],
        )
    expand = _expand(call)
    with store.lock:
        matched = run_jql(store, call, str(call.param("jql") or ""))
        page = matched[start_at : start_at + max_results]
        issues = [render_issue(store, r, wanted, call.view, expand) for r in page]
    body: dict[str, Any] = {
        "expand": "schema,names",
        "startAt": start_at,
        "maxResults": max_results,
        "total": len(matched),
        "issues": issues,
    }
    if "names" in expand:
        body["names"] = field_names(wanted)
    if "schema" in expand:
        body["schema"] = field_schemas(wanted)
    return body


def approximate_count(store: Store, call: Call) -> dict[str, Any]:
    jql = str(call.param("jql") or "")
    try:
        query = parse(jql, context_for(store, call))
    except JqlError as error:
        raise ApiError(400, [str(error)]) from None
    if query.predicate is None:
        raise ApiError(400, [UNBOUNDED])
    return {"count": len(query.run(store.searchable()))}


def bulkfetch(store: Store, call: Call) -> dict[str, Any]:
    """Serve `POST /rest/api/3/issue/bulkfetch`: at most 100 ids or keys, ascending by id.

    Like Jira Cloud, it leaves out issues that do not exist or are hidden from the caller. Jira
    lists in `issueErrors` only issues that failed for a retriable reason, which never happens here.
    """
    wanted_ids = call.params.get("issueIdsOrKeys")
    if not isinstance(wanted_ids, list) or not wanted_ids:
        raise ApiError(400, ["issueIdsOrKeys must contain between 1 and 100 issue ids or keys."])
    if len(wanted_ids) > 100:
        raise ApiError(400, ["issueIdsOrKeys must contain between 1 and 100 issue ids or keys."])
    fields = call.list_param("fields") or ["*navigable"]
    wanted = select_fields(fields, "*navigable")
    expand = _expand(call)
    found = {}
    with store.lock:
        for id_or_key in wanted_ids:
            record = store.find_visible(id_or_key)
            if record is not None:
                found[record.id] = record
        issues = [render_issue(store, found[i], wanted, call.view, expand) for i in sorted(found)]
    return {"expand": "schema,names", "issues": issues, "issueErrors": []}


def get_issue(store: Store, call: Call, id_or_key: str) -> dict[str, Any]:
    with store.lock:
        record = store.find_visible(id_or_key)
        if record is None:
            raise ApiError(404, ["Issue does not exist or you do not have permission to see it."])
        wanted = select_fields(call.list_param("fields"), "*all")
        return render_issue(store, record, wanted, call.view, _expand(call))


def field_schemas(wanted: set[str]) -> dict[str, Any]:
    schemas = {entry["id"]: entry["schema"] for entry in field_catalog() if "schema" in entry}
    return {field_id: schemas[field_id] for field_id in sorted(wanted) if field_id in schemas}


def field_catalog() -> list[dict[str, Any]]:
    """Return `GET /field`: system fields, then custom fields with `schema.custom`."""
    out: list[dict[str, Any]] = []
    for field_id, name, kind, items, clauses, navigable in ref.SYSTEM_FIELDS:
        entry: dict[str, Any] = {
            "id": field_id,
            "key": field_id,
            "name": name,
            "custom": False,
            "orderable": True,
            "navigable": navigable,
            "searchable": True,
            "clauseNames": list(clauses),
        }
        if kind:
            schema: dict[str, Any] = {"type": kind}
            if items:
                schema["items"] = items
            schema["system"] = field_id
            entry["schema"] = schema
        out.append(entry)
    for field_id, name, kind, items, custom in ref.CUSTOM_FIELDS:
        number = int(field_id.rsplit("_", 1)[1])
        schema = {"type": kind}
        if items:
            schema["items"] = items
        schema.update({"custom": custom, "customId": number})
        out.append(
            {
                "id": field_id,
                "key": field_id,
                "name": name,
                "untranslatedName": name,
                "custom": True,
                "orderable": True,
                "navigable": True,
                "searchable": True,
                "clauseNames": [f"cf[{number}]", name],
                "schema": schema,
            }
        )
    return out


def zone_of(name: str) -> ZoneInfo:
    return ZoneInfo(name)
