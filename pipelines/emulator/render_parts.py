"""Issue envelopes, references to other issues and collection items (comments, worklogs,
changelog histories) in Jira's shapes."""

from __future__ import annotations

from typing import Any

from pipelines.emulator import reference as ref
from pipelines.emulator.generate import IssueRecord
from pipelines.emulator.render import (
    CUSTOM,
    EMBEDDED_HISTORIES,
    EMBEDDED_LIMIT,
    View,
    render_fields,
    render_issuetype,
    render_priority,
    render_status,
    render_user,
)
from pipelines.emulator.store import Store

ISSUE_EXPAND = "operations,versionedRepresentations,editmeta,changelog,renderedFields"


def issue_ref(store: Store, other: IssueRecord, view: View) -> dict[str, Any]:
    """Render the short form of another issue (parent, link target, sub-task)."""
    return {
        "id": str(other.id),
        "key": other.key,
        "self": view.url(f"issue/{other.id}"),
        "fields": {
            "summary": other.summary,
            "status": render_status(other.status, view),
            "priority": render_priority(other.priority, view),
            "issuetype": render_issuetype(other.issue_type, view),
        },
    }


def parent_ref(store: Store, record: IssueRecord, view: View) -> dict[str, Any] | None:
    parent = store.records.get(record.parent) if record.parent else None
    return issue_ref(store, parent, view) if parent else None


def subtasks(store: Store, record: IssueRecord, view: View) -> list[dict[str, Any]]:
    out = []
    for child_id in store.children.get(record.id, []):
        child = store.records.get(child_id)
        if child is not None and child.issue_type == ref.SUBTASK_TYPE:
            out.append(issue_ref(store, child, view))
    return out


def issue_links(store: Store, record: IssueRecord, view: View) -> list[dict[str, Any]]:
    out = []
    for link_id, type_code, other_id in store.links.get(record.id, []):
        other = store.records.get(other_id)
        if other is None:
            continue
        outward = type_code >= 0
        type_id, name, inward_text, outward_text = ref.LINK_TYPES[
            type_code if outward else -type_code - 1
        ]
        link: dict[str, Any] = {
            "id": str(link_id),
            "self": view.url(f"issueLink/{link_id}"),
            "type": {
                "id": str(type_id),
                "name": name,
                "inward": inward_text,
                "outward": outward_text,
                "self": view.url(f"issueLinkType/{type_id}"),
            },
        }
        link["outwardIssue" if outward else "inwardIssue"] = issue_ref(store, other, view)
        out.append(link)
    return out


def render_comment(record: IssueRecord, comment: dict[str, Any], view: View) -> dict[str, Any]:
    out: dict[str, Any] = {
        "self": view.url(f"issue/{record.id}/comment/{comment['id']}"),
        "id": str(comment["id"]),
        "author": render_user(comment["author"], view),
        "body": view.rich(comment["body"]),
        "updateAuthor": render_user(comment["update_author"], view),
        "created": view.ts(comment["created"]),
        "updated": view.ts(comment["updated"]),
    }
    if comment["visibility"]:
        out["visibility"] = {**comment["visibility"], "identifier": comment["visibility"]["value"]}
    if not view.dc:
        out["jsdPublic"] = True
    return out


def render_worklog(record: IssueRecord, worklog: dict[str, Any], view: View) -> dict[str, Any]:
    seconds = worklog["time_spent_seconds"]
    out: dict[str, Any] = {
        "self": view.url(f"issue/{record.id}/worklog/{worklog['id']}"),
        "author": render_user(worklog["author"], view),
        "updateAuthor": render_user(worklog["author"], view),
    }
    if worklog["comment"] is not None:
        out["comment"] = view.rich(worklog["comment"])
    out.update(
        {
            "created": view.ts(worklog["created"]),
            "updated": view.ts(worklog["updated"]),
            "started": view.ts(worklog["started"]),
            "timeSpent": f"{seconds // 60}m",
            "timeSpentSeconds": seconds,
            "id": str(worklog["id"]),
            "issueId": str(record.id),
        }
    )
    return out


def render_history(history: dict[str, Any], view: View) -> dict[str, Any]:
    return {
        "id": str(history["id"]),
        "author": render_user(history["author"], view),
        "created": view.ts(history["created"]),
        "items": history["items"],
    }


def embedded_page(store: Store, record: IssueRecord, kind: str, view: View) -> dict[str, Any]:
    """Render the embedded comment or worklog page: the first 20 items and the real total."""
    if kind == "comment":
        items = store.comments(record)
        shown = [render_comment(record, c, view) for c in items[:EMBEDDED_LIMIT]]
        return {
            "comments": shown,
            "self": view.url(f"issue/{record.id}/comment"),
            "maxResults": len(shown),
            "total": len(items),
            "startAt": 0,
        }
    items = store.worklogs(record)
    shown = [render_worklog(record, w, view) for w in items[:EMBEDDED_LIMIT]]
    return {"startAt": 0, "maxResults": EMBEDDED_LIMIT, "total": len(items), "worklogs": shown}


def render_issue(
    store: Store, record: IssueRecord, wanted: set[str] | None, view: View, expand: set[str]
) -> dict[str, Any]:
    """Render one issue; `wanted` None means the id-only form of Cloud search."""
    if wanted is None:
        return {"id": str(record.id)}
    out: dict[str, Any] = {
        "expand": ISSUE_EXPAND,
        "id": str(record.id),
        "self": view.url(f"issue/{record.id}"),
        "key": record.key,
        "fields": render_fields(store, record, wanted, view),
    }
    if "renderedFields" in expand:
        out["renderedFields"] = _rendered(out["fields"])
    if "names" in expand:
        out["names"] = field_names(wanted)
    if "changelog" in expand:
        histories = store.histories(record)
        # Cloud embeds only the newest histories. Data Center embeds all of them, oldest first,
        # unless the store caps them as a server with a lower limit would.
        # NOTE: the API notes do not say whether Data Center caps this list. The model embeds
        # all of them, and `dc_embedded_histories` covers a server that caps it.
        if view.dc and store.dc_embedded_histories is None:
            embedded = histories
        else:
            cap = store.dc_embedded_histories if view.dc else EMBEDDED_HISTORIES
            embedded = histories[::-1][:cap]
        out["changelog"] = {
            "startAt": 0,
            "maxResults": len(embedded),
            "total": len(histories),
            "histories": [render_history(h, view) for h in embedded],
        }
    return out


def _rendered(fields: dict[str, Any]) -> dict[str, Any]:
    # NOTE: rich text is rendered as escaped plain text, not Jira's HTML.
    from html import escape

    from pipelines.emulator.richtext import adf_to_text

    out: dict[str, Any] = {}
    for key, value in fields.items():
        if key in ("description", "environment") and value is not None:
            text = adf_to_text(value) if isinstance(value, dict) else str(value)
            out[key] = "<p>" + escape(text) + "</p>"
        else:
            out[key] = None
    return out


def field_names(wanted: set[str]) -> dict[str, str]:
    names = {f[0]: f[1] for f in ref.SYSTEM_FIELDS}
    names.update({field_id: c[0] for field_id, c in CUSTOM.items()})
    return {field_id: names[field_id] for field_id in sorted(wanted) if field_id in names}
