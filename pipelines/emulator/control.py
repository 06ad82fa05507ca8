"""The unauthenticated control API under `/_emulator/` for out-of-process tests and demos."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipelines.emulator.store import ms_to_datetime

if TYPE_CHECKING:
    from pipelines.emulator import Emulator


def _jsonable(issue: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in issue.items()}


def handle_control(emu: Emulator, method: str, path: str, body: Any) -> tuple[int, Any]:
    """Apply one control request; return the status and the JSON payload."""
    data = body if isinstance(body, dict) else {}
    action = path.removeprefix("/_emulator/").strip("/")
    try:
        if method == "GET" and action == "truth":
            return 200, [_jsonable(issue) for issue in emu.truth()]
        if method == "GET" and action == "stats":
            return 200, emu.stats()
        if method != "POST":
            return 404, {"errorMessages": [f"No control action `{action}`."], "errors": {}}
        if action == "edit":
            return 200, _jsonable(emu.edit_issue(data["issue"], **data.get("changes", {})))
        if action == "create":
            fields = dict(data.get("fields", {}))
            return 200, _jsonable(emu.create_issue(data.get("project_key", "ABC"), **fields))
        if action == "delete":
            emu.delete_issue(data["issue"])
            return 200, {"deleted": str(data["issue"])}
        if action == "move":
            return 200, _jsonable(emu.move_issue(data["issue"], data["project_key"]))
        if action == "advance":
            emu.advance(float(data["seconds"]))
            return 200, {"now": ms_to_datetime(emu.store.now_ms()).isoformat()}
        if action == "time-zone":
            emu.set_time_zone(str(data["time_zone"]))
            return 200, {"time_zone": emu.time_zone}
        if action == "fault":
            emu.add_fault(
                data["path_regex"],
                int(data["status"]),
                int(data.get("times", 1)),
                data.get("retry_after"),
                bool(data.get("html", False)),
            )
            return 200, {"added": True}
    except KeyError as error:
        return 400, {"errorMessages": [f"Missing or unknown value: {error}."], "errors": {}}
    except ValueError as error:
        return 400, {"errorMessages": [str(error)], "errors": {}}
    return 404, {"errorMessages": [f"No control action `{action}`."], "errors": {}}
