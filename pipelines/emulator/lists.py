"""Reference lists: projects, users, statuses, priorities, issue types, resolutions, versions,
components, and the agile boards and sprints."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pipelines.emulator import reference as ref
from pipelines.emulator.render import (
    View,
    render_component,
    render_issuetype,
    render_priority,
    render_project,
    render_status,
    render_user,
    render_version,
)
from pipelines.emulator.search import ApiError, Call

if TYPE_CHECKING:
    from pipelines.emulator import Emulator

# Default and maximum page sizes: project search 50 and 100, user search 50 and 1000, agile
# boards and sprints 50 and 50, as the Jira Cloud REST and Jira Software REST references state.
PROJECT_PAGE = (50, 100)
USER_PAGE = (50, 1000)
AGILE_PAGE = (50, 50)


def route_lists(emu: Emulator, method: str, path: str, call: Call) -> Any:
    """Serve a reference list, or raise 404 for a path the emulator does not serve."""
    if method != "GET":
        raise ApiError(404, [f"No resource found for {method} {path}."])
    view = call.view
    revoked = emu.store.index.revoked
    browsable = [i for i in range(len(ref.PROJECTS)) if i not in revoked]

    if path.startswith("/rest/agile/1.0/"):
        return _agile(path.removeprefix("/rest/agile/1.0"), call, browsable)
    if path == "/project/search" and emu.flavor == "cloud":
        start_at, max_results = _bounds(call, PROJECT_PAGE)
        values = [_project(i, view) for i in browsable]
        return _offset_page(values, start_at, max_results, view.url("project/search"))
    if path == "/project":
        return [_project(i, view) for i in browsable]
    if path == "/users/search" and emu.flavor == "cloud":
        start_at, max_results = _bounds(call, USER_PAGE)
        users = [_user(i, view) for i in range(len(ref.USERS))]
        return users[start_at : start_at + max_results]

    if path == "/user/search" and emu.flavor == "dc":
        return _dc_users(call)
    if path == "/status":
        return [render_status(i, view) for i in range(len(ref.STATUSES))]
    if path == "/priority":
        return [render_priority(i, view) for i in range(len(ref.PRIORITIES))]
    if path == "/issuetype":
        return [render_issuetype(i, view) for i in range(len(ref.ISSUE_TYPES))]
    if path == "/resolution":
        return [
            {"self": view.url(f"resolution/{rid}"), "id": str(rid), "description": "", "name": name}
            for rid, name in ref.RESOLUTIONS
        ]

    match = re.fullmatch(r"/project/([^/]+)/(versions|components)", path)
    if match:
        index = _project_index(match[1], browsable)
        project_id = ref.PROJECTS[index].id
        if match[2] == "versions":
            return [
                {**render_version(v[0], view), "projectId": project_id} for v in ref.VERSIONS[index]
            ]
        return [
            {**render_component(c[0], view), "project": ref.PROJECTS[index].key}
            for c in ref.COMPONENTS[index]
        ]
    raise ApiError(404, [f"No resource found for {method} {path}."])


def _bounds(call: Call, page: tuple[int, int]) -> tuple[int, int]:
    start_at = call.int_param("startAt", 0)
    max_results = call.int_param("maxResults", page[0])
    if start_at < 0 or max_results < 0:
        raise ApiError(400, ["The startAt and maxResults parameters must be 0 or greater."])
    return start_at, min(max_results, page[1])


def _offset_page(
    values: list[dict[str, Any]], start_at: int, max_results: int, self_url: str
) -> dict[str, Any]:
    shown = values[start_at : start_at + max_results]
    return {
        "self": f"{self_url}?startAt={start_at}&maxResults={max_results}",
        "maxResults": max_results,
        "startAt": start_at,
        "total": len(values),
        "isLast": start_at + len(shown) >= len(values),
        "values": shown,
    }


def _project(index: int, view: View) -> dict[str, Any]:
    out = render_project(index, view)
    out["expand"] = "description,lead,issueTypes,url,projectKeys,permissions,insight"
    return out


def _user(index: int, view: View) -> dict[str, Any]:
    out = render_user(index, view) or {}
    out["accountType"] = ref.USERS[index].account_type
    return out


def _dc_users(call: Call) -> list[dict[str, Any]]:
    """Serve Data Center `GET /rest/api/2/user/search?username=`; `.` matches every user."""
    start_at, max_results = _bounds(call, USER_PAGE)
    text = str(call.param("username") or "").lower()
    if not text:
        raise ApiError(400, ["The username query parameter was not provided."])
    matched = [
        render_user(i, call.view) or {}
        for i, user in enumerate(ref.USERS)
        if text in (".", "%")
        or text in user.name.lower()
        or text in user.display_name.lower()
        or text in user.email.lower()
    ]
    return matched[start_at : start_at + max_results]


def _project_index(id_or_key: str, browsable: list[int]) -> int:
    for index in browsable:
        project = ref.PROJECTS[index]
        if id_or_key.upper() == project.key or id_or_key == str(project.id):
            return index
    raise ApiError(404, [f"No project could be found with key '{id_or_key}'."])


def _agile(path: str, call: Call, browsable: list[int]) -> dict[str, Any]:
    base = call.view.base_url + "/rest/agile/1.0"
    boards = [b for b in ref.BOARDS if any(ref.PROJECTS[i].id == b[3] for i in browsable)]
    if path == "/board":
        start_at, max_results = _bounds(call, AGILE_PAGE)
        values = [_board(board, base) for board in boards]
        page = _offset_page(values, start_at, max_results, base + "/board")
        del page["self"]
        return page
    match = re.fullmatch(r"/board/(\d+)/sprint", path)
    if match:
        board = next((b for b in boards if b[0] == int(match[1])), None)
        if board is None:
            raise ApiError(404, [f"Board {match[1]} does not exist or you do not have permission."])
        if board[2] != "scrum":
            raise ApiError(400, ["The board does not support sprints."])
        start_at, max_results = _bounds(call, AGILE_PAGE)
        sprints = [_sprint(s, base) for s in ref.SPRINTS if s.board_id == board[0]]
        state = call.list_param("state")
        if state:
            sprints = [s for s in sprints if s["state"] in state]
        shown = sprints[start_at : start_at + max_results]
        return {
            "maxResults": max_results,
            "startAt": start_at,
            "isLast": start_at + len(shown) >= len(sprints),
            "values": shown,
        }
    raise ApiError(404, [f"No resource found for GET /rest/agile/1.0{path}."])


def _board(board: tuple[int, str, str, int], base: str) -> dict[str, Any]:
    board_id, name, kind, project_id = board
    project = next(p for p in ref.PROJECTS if p.id == project_id)
    return {
        "id": board_id,
        "self": f"{base}/board/{board_id}",
        "name": name,
        "type": kind,
        "location": {
            "projectId": project.id,
            "displayName": f"{project.name} ({project.key})",
            "projectName": project.name,
            "projectKey": project.key,
            "projectTypeKey": "software",
            "avatarURI": f"https://avatar.example.invalid/project/{project.id}",
            "name": f"{project.name} ({project.key})",
        },
    }


def _sprint(sprint: ref.Sprint, base: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": sprint.id,
        "self": f"{base}/sprint/{sprint.id}",
        "state": sprint.state,
        "name": sprint.name,
    }
    for key, value in (
        ("startDate", sprint.start),
        ("endDate", sprint.end),
        ("completeDate", sprint.complete),
    ):
        if value:
            out[key] = value
    out["originBoardId"] = sprint.board_id
    out["goal"] = sprint.goal
    return out
