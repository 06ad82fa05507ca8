"""Issue JSON in the shapes Jira returns: Cloud v3 (ADF), Cloud v2 and Data Center v2 (wiki).

Timestamps are rendered in the caller's profile zone as `2024-01-02T03:04:05.678-0800`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from pipelines.emulator import reference as ref
from pipelines.emulator.generate import IssueRecord
from pipelines.emulator.richtext import adf_to_wiki
from pipelines.emulator.store import Store

EMBEDDED_LIMIT = 20  # comments and worklogs embedded in an issue
EMBEDDED_HISTORIES = 40  # newest histories returned by expand=changelog
CUSTOM = {
    field_id: (name, kind, items, custom)
    for field_id, name, kind, items, custom in ref.CUSTOM_FIELDS
}
SYSTEM_IDS = [f[0] for f in ref.SYSTEM_FIELDS]
NAVIGABLE = {f[0] for f in ref.SYSTEM_FIELDS if f[5]} | set(CUSTOM)
ALL_FIELDS = set(SYSTEM_IDS) | set(CUSTOM)


def format_ts(ms: int | None, zone: ZoneInfo) -> str | None:
    """Format epoch milliseconds as Jira does, in `zone`, e.g. `2024-01-02T03:04:05.678-0800`."""
    if ms is None:
        return None
    local = dt.datetime.fromtimestamp(ms // 1000, zone)
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}" + local.strftime("%z")


def select_fields(requested: list[str] | None, default: str) -> set[str]:
    """Resolve a `fields` parameter (`*all`, `*navigable`, ids, `-id`) to a set of field ids."""
    tokens = requested if requested else [default]
    selected: set[str] = set()
    removed: set[str] = set()
    for raw in tokens:
        token = raw.strip()
        if token == "*all":
            selected |= ALL_FIELDS
        elif token == "*navigable":
            selected |= NAVIGABLE
        elif token.startswith("-"):
            removed.add(token[1:])
        elif token:
            selected.add(token)
    return selected - removed


@dataclass
class View:
    """How to render: API version, deployment flavour, caller zone and URL base."""

    api: int
    flavor: str
    zone: ZoneInfo
    base_url: str

    @property
    def dc(self) -> bool:
        return self.flavor == "dc"

    def url(self, path: str) -> str:
        return f"{self.base_url}/rest/api/{self.api}/{path}"

    def ts(self, ms: int | None) -> str | None:
        return format_ts(ms, self.zone)

    def rich(self, doc: Any) -> Any:
        if doc is None:
            return None
        if isinstance(doc, str):
            return doc if self.api == 2 else _paragraph_doc(doc)
        return doc if self.api == 3 else adf_to_wiki(doc)


def _paragraph_doc(text: str) -> dict[str, Any]:
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
    }


def render_user(user: int | None, view: View) -> dict[str, Any] | None:
    if user is None:
        return None
    u = ref.USERS[user]
    avatars = {
        size: f"https://avatar.example.invalid/{u.name}/{size}"
        for size in ("48x48", "24x24", "16x16", "32x32")
    }
    if view.dc:
        return {
            "self": view.url(f"user?username={u.name}"),
            "name": u.name,
            "key": u.name,
            "emailAddress": u.email,
            "avatarUrls": avatars,
            "displayName": u.display_name,
            "active": u.active,
            "timeZone": u.time_zone,
        }
    out: dict[str, Any] = {
        "self": view.url(f"user?accountId={u.account_id}"),
        "accountId": u.account_id,
    }
    if u.email:
        out["emailAddress"] = u.email
    out.update(
        {
            "avatarUrls": avatars,
            "displayName": u.display_name,
            "active": u.active,
            "timeZone": u.time_zone,
            "accountType": u.account_type,
        }
    )
    return out


def render_status(index: int, view: View) -> dict[str, Any]:
    status = ref.STATUSES[index]
    cat_id, cat_name, color = ref.STATUS_CATEGORIES[status.category]
    return {
        "self": view.url(f"status/{status.id}"),
        "description": "",
        "iconUrl": view.base_url + "/",
        "name": status.name,
        "id": str(status.id),
        "statusCategory": {
            "self": view.url(f"statuscategory/{cat_id}"),
            "id": cat_id,
            "key": status.category,
            "colorName": color,
            "name": cat_name,
        },
    }


def render_issuetype(index: int, view: View) -> dict[str, Any]:
    type_id, name, subtask, level, description = ref.ISSUE_TYPES[index]
    out: dict[str, Any] = {
        "self": view.url(f"issuetype/{type_id}"),
        "id": str(type_id),
        "description": description,
        "iconUrl": f"{view.base_url}/images/icons/issuetypes/{type_id}.svg",
        "name": name,
        "subtask": subtask,
    }
    if not view.dc:
        out["hierarchyLevel"] = level
    return out


def render_priority(index: int, view: View) -> dict[str, Any]:
    pid, name = ref.PRIORITIES[index]
    return {
        "self": view.url(f"priority/{pid}"),
        "iconUrl": f"{view.base_url}/images/icons/priorities/{name.lower()}.svg",
        "name": name,
        "id": str(pid),
    }


def render_project(index: int, view: View) -> dict[str, Any]:
    project = ref.PROJECTS[index]
    out: dict[str, Any] = {
        "self": view.url(f"project/{project.id}"),
        "id": str(project.id),
        "key": project.key,
        "name": project.name,
        "projectTypeKey": "software",
    }
    if not view.dc:
        out["simplified"] = project.simplified
    out["avatarUrls"] = {"48x48": f"https://avatar.example.invalid/project/{project.id}"}
    return out


def render_version(version_id: int, view: View) -> dict[str, Any]:
    for items in ref.VERSIONS.values():
        for vid, name, released, archived, date in items:
            if vid == version_id:
                out: dict[str, Any] = {
                    "self": view.url(f"version/{vid}"),
                    "id": str(vid),
                    "description": "",
                    "name": name,
                    "archived": archived,
                    "released": released,
                }
                if date:
                    out["releaseDate"] = date
                return out
    return {"id": str(version_id)}


def render_component(component_id: int, view: View) -> dict[str, Any]:
    for items in ref.COMPONENTS.values():
        for cid, name in items:
            if cid == component_id:
                return {"self": view.url(f"component/{cid}"), "id": str(cid), "name": name}
    return {"id": str(component_id)}


def render_sprint(sprint_id: int, view: View) -> Any:
    sprint = next(s for s in ref.SPRINTS if s.id == sprint_id)
    if view.dc:

        def legacy(value: str | None) -> str:
            return "<null>" if value is None else value

        return (
            f"com.atlassian.greenhopper.service.sprint.Sprint@{sprint.id * 7919:x}[id={sprint.id},"
            f"rapidViewId={sprint.board_id},state={sprint.state.upper()},name={sprint.name},"
            f"goal={sprint.goal},startDate={legacy(sprint.start)},endDate={legacy(sprint.end)},"
            f"completeDate={legacy(sprint.complete)},sequence={sprint.sequence}]"
        )
    out: dict[str, Any] = {
        "id": sprint.id,
        "name": sprint.name,
        "state": sprint.state,
        "boardId": sprint.board_id,
        "goal": sprint.goal,
    }
    for key, value in (
        ("startDate", sprint.start),
        ("endDate", sprint.end),
        ("completeDate", sprint.complete),
    ):
        if value:
            out[key] = value
    return out


def _option(field_id: str, option_id: int | None, view: View) -> dict[str, Any] | None:
    if option_id is None:
        return None
    for oid, value in ref.SELECT_OPTIONS.get(field_id, ()):
        if oid == option_id:
            return {"self": view.url(f"customFieldOption/{oid}"), "value": value, "id": str(oid)}
    return {"id": str(option_id)}


def render_custom(field_id: str, raw: Any, view: View) -> Any:
    """Render one custom field value from its raw stored form."""
    if raw is None:
        return None
    custom = CUSTOM[field_id][3].rsplit(":", 1)[1]
    if custom == "gh-sprint":
        return [render_sprint(s, view) for s in raw] or None
    if custom in ("select",):
        return _option(field_id, raw, view) if isinstance(raw, int) else {"value": str(raw)}
    if custom == "multiselect":
        return [_option(field_id, o, view) for o in raw] or None
    if custom == "cascadingselect":
        parent_id, child_id = raw
        for (pid, pname), children in ref.CASCADE_OPTIONS:
            if pid == parent_id:
                out: dict[str, Any] = {
                    "self": view.url(f"customFieldOption/{pid}"),
                    "value": pname,
                    "id": str(pid),
                }
                for cid, cname in children:
                    if cid == child_id:
                        out["child"] = {
                            "self": view.url(f"customFieldOption/{cid}"),
                            "value": cname,
                            "id": str(cid),
                        }
                return out
        return None
    if custom == "userpicker":
        return render_user(raw, view) if isinstance(raw, int) else raw
    if custom == "multiuserpicker":
        return [render_user(u, view) for u in raw] or None
    if custom == "datetime":
        return view.ts(raw) if isinstance(raw, int) else raw
    if custom == "textarea":
        return view.rich(raw)
    if custom == "labels":
        return list(raw) or None
    return raw


def render_fields(
    store: Store, record: IssueRecord, wanted: set[str], view: View
) -> dict[str, Any]:
    """Render the selected fields of an issue, in a stable order."""
    derived = store.derived(record) if wanted - _CHEAP else {}
    out: dict[str, Any] = {}
    for field_id in SYSTEM_IDS:
        if field_id in wanted:
            value = _system_value(store, record, field_id, view, derived)
            if value is not _SKIP:
                out[field_id] = value
    for field_id in CUSTOM:
        if field_id in wanted:
            out[field_id] = render_custom(field_id, derived.get(field_id), view)
    return out


_SKIP = object()
_CHEAP = {
    "summary",
    "issuetype",
    "parent",
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
    "labels",
    "components",
    "fixVersions",
    "versions",
    "statuscategorychangedate",
}


def _system_value(
    store: Store, r: IssueRecord, field_id: str, view: View, derived: dict[str, Any]
) -> Any:
    from pipelines.emulator.render_parts import embedded_page, issue_links, parent_ref, subtasks

    if field_id == "summary":
        return r.summary
    if field_id == "issuetype":
        return render_issuetype(r.issue_type, view)
    if field_id == "parent":
        return parent_ref(store, r, view) if r.parent else _SKIP
    if field_id == "project":
        return render_project(r.project, view)
    if field_id == "status":
        return render_status(r.status, view)
    if field_id == "statuscategorychangedate":
        return view.ts(r.status_changed)
    if field_id == "priority":
        return render_priority(r.priority, view)
    if field_id == "resolution":
        if r.resolution is None:
            return None
        rid, name = ref.RESOLUTIONS[r.resolution]
        return {
            "self": view.url(f"resolution/{rid}"),
            "id": str(rid),
            "description": "",
            "name": name,
        }
    if field_id in ("assignee", "reporter", "creator"):
        return render_user(getattr(r, field_id), view)
    if field_id in ("created", "updated", "resolutiondate"):
        return view.ts(
            {"created": r.created, "updated": r.updated, "resolutiondate": r.resolved}[field_id]
        )
    if field_id == "duedate":
        return r.due
    if field_id == "labels":
        return list(r.labels)
    if field_id == "components":
        return [render_component(c, view) for c in r.components]
    if field_id in ("fixVersions", "versions"):
        ids = r.fix_versions if field_id == "fixVersions" else r.versions
        return [render_version(v, view) for v in ids]
    if field_id == "issuelinks":
        return issue_links(store, r, view)
    if field_id == "subtasks":
        return subtasks(store, r, view)
    if field_id in ("description", "environment"):
        return view.rich(derived.get(field_id))
    if field_id in ("timeoriginalestimate", "timeestimate", "timespent"):
        return derived.get(field_id)
    if field_id in ("comment", "worklog"):
        return embedded_page(store, r, field_id, view)
    if field_id == "votes":
        return {"self": view.url(f"issue/{r.key}/votes"), "votes": 0, "hasVoted": False}
    if field_id == "watches":
        return {"self": view.url(f"issue/{r.key}/watchers"), "watchCount": 1, "isWatching": False}
    if field_id == "security":
        return None
    return _SKIP
