"""The unauthenticated control API under `/_emulator/` for out-of-process tests and demos.

GET `truth`, `stats`. POST `edit`, `create`, `delete`, `move`, `advance`, `time-zone`, `fault`,
`fault-plan`, `clear-faults`, `comment`, `delete-comment`, `worklog`, `update-worklog`,
`delete-worklog`, `comments`, `worklogs`, `visibility-lag`, `revoke-project`,
`restore-project`, `edit-between-pages`. Each POST takes a JSON object whose keys are the
arguments of the `Emulator` method of the same name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from pipelines.emulator.store import ms_to_datetime

if TYPE_CHECKING:
    from pipelines.emulator import Emulator


def _jsonable(value: Any) -> Any:
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value.isoformat() if hasattr(value, "isoformat") else value


def _fault(emu: Emulator, data: dict[str, Any]) -> Any:
    times = data.get("times", 1)
    emu.add_fault(
        data["path_regex"],
        int(data["status"]) if data.get("status") is not None else None,
        int(times) if times is not None else None,
        data.get("retry_after"),
        bool(data.get("html", False)),
        probability=data.get("probability"),
        every=data.get("every"),
        drop=bool(data.get("drop", False)),
        delay_seconds=float(data.get("delay_seconds", 0.0)),
    )
    return {"added": True}


def _lag(emu: Emulator, data: dict[str, Any]) -> Any:
    emu.visibility_lag_seconds = float(data["seconds"])
    return {"visibility_lag_seconds": emu.visibility_lag_seconds}


def _delete(emu: Emulator, data: dict[str, Any]) -> Any:
    emu.delete_issue(data["issue"])
    return {"deleted": str(data["issue"])}


def _advance(emu: Emulator, data: dict[str, Any]) -> Any:
    emu.advance(float(data["seconds"]))
    return {"now": ms_to_datetime(emu.store.now_ms()).isoformat()}


def _time_zone(emu: Emulator, data: dict[str, Any]) -> Any:
    emu.set_time_zone(str(data["time_zone"]))
    return {"time_zone": emu.time_zone}


ACTIONS: dict[str, Callable[[Emulator, dict[str, Any]], Any]] = {
    "edit": lambda emu, d: emu.edit_issue(d["issue"], **d.get("changes", {})),
    "create": lambda emu, d: emu.create_issue(d.get("project_key", "ABC"), **d.get("fields", {})),
    "delete": _delete,
    "move": lambda emu, d: emu.move_issue(d["issue"], d["project_key"]),
    "advance": _advance,
    "time-zone": _time_zone,
    "fault": _fault,
    "fault-plan": lambda emu, d: emu.fault_plan(int(d["seed"]), float(d["rate"])) or {},
    "clear-faults": lambda emu, d: emu.clear_faults() or {},
    "comment": lambda emu, d: emu.add_comment(d["issue"], str(d.get("body_text", ""))),
    "delete-comment": lambda emu, d: emu.delete_comment(d["id"]) or {"deleted": str(d["id"])},
    "worklog": lambda emu, d: emu.add_worklog(d["issue"], int(d["seconds"])),
    "update-worklog": lambda emu, d: emu.update_worklog(d["id"], int(d["seconds"])),
    "delete-worklog": lambda emu, d: emu.delete_worklog(d["id"]) or {"deleted": str(d["id"])},
    "comments": lambda emu, d: emu.comments_of(d["issue"]),
    "worklogs": lambda emu, d: emu.worklogs_of(d["issue"]),
    "visibility-lag": _lag,
    "revoke-project": lambda emu, d: emu.revoke_project(d["project_key"]) or {},
    "restore-project": lambda emu, d: emu.restore_project(d["project_key"]) or {},
    "edit-between-pages": lambda emu, d: (
        emu.script.edit_between_pages(int(d["n"]), d.get("pages")) or {}
    ),
}


def handle_control(emu: Emulator, method: str, path: str, body: Any) -> tuple[int, Any]:
    """Apply one control request; return the status and the JSON payload."""
    data = body if isinstance(body, dict) else {}
    action = path.removeprefix("/_emulator/").strip("/")
    try:
        if method == "GET" and action == "truth":
            return 200, _jsonable(emu.truth())
        if method == "GET" and action == "stats":
            return 200, emu.stats()
        if method == "POST" and action in ACTIONS:
            return 200, _jsonable(ACTIONS[action](emu, data))
    except KeyError as error:
        return 400, {"errorMessages": [f"Missing or unknown value: {error}."], "errors": {}}
    except (TypeError, ValueError) as error:
        return 400, {"errorMessages": [str(error)], "errors": {}}
    return 404, {"errorMessages": [f"No control action `{action}`."], "errors": {}}
