"""Field changes applied by `Emulator.edit_issue` and `create_issue`, with changelog items."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pipelines.emulator import reference as ref
from pipelines.emulator.encoding import compact_json
from pipelines.emulator.generate import IssueRecord

if TYPE_CHECKING:
    from pipelines.emulator.store import Store

CUSTOM_IDS = {field_id for field_id, *_ in ref.CUSTOM_FIELDS}
CUSTOM_NAMES = {field_id: name for field_id, name, *_ in ref.CUSTOM_FIELDS}


def _item(
    field: str,
    field_id: str,
    old: Any,
    old_text: Any,
    new: Any,
    new_text: Any,
    fieldtype: str = "jira",
) -> dict[str, Any]:
    return {
        "field": field,
        "fieldtype": fieldtype,
        "fieldId": field_id,
        "from": None if old is None else str(old),
        "fromString": None if old_text is None else str(old_text),
        "to": None if new is None else str(new),
        "toString": None if new_text is None else str(new_text),
    }


def _user_index(value: Any) -> int | None:
    if value is None:
        return None
    for index, user in enumerate(ref.USERS):
        if value in (user.account_id, user.name, user.display_name):
            return index
    raise ValueError(f"User `{value}` does not exist.")


def _named(options: tuple[tuple[int, str], ...], value: Any, what: str) -> int:
    for index, (option_id, name) in enumerate(options):
        if str(value).lower() in (str(option_id), name.lower()):
            return index
    raise ValueError(f"{what} `{value}` does not exist.")


def _status_index(value: Any) -> int:
    options = tuple((s.id, s.name) for s in ref.STATUSES)
    return _named(options, value, "Status")


def _project_items(record: IssueRecord, kind: str) -> tuple[tuple[int, str], ...]:
    if kind == "components":
        return ref.COMPONENTS[record.project]
    return tuple((v[0], v[1]) for v in ref.VERSIONS[record.project])


def _ids_of(record: IssueRecord, kind: str, values: list[Any]) -> tuple[int, ...]:
    options = _project_items(record, kind)
    return tuple(options[_named(options, v, kind.rstrip("s").capitalize())][0] for v in values)


def _names(record: IssueRecord, kind: str, ids: tuple[int, ...]) -> str:
    names = dict(_project_items(record, kind))
    return ", ".join(names.get(i, str(i)) for i in ids)


def apply_changes(
    store: Store, record: IssueRecord, changes: dict[str, Any], now: int
) -> list[dict[str, Any]]:
    """Apply `changes` (field id or alias -> value) to `record`; return the changelog items.

    Raises:
        ValueError: a field or value the emulator does not know.
    """
    from pipelines.emulator.store import FIELD_ALIASES

    items: list[dict[str, Any]] = []
    for name, value in changes.items():
        field_id = FIELD_ALIASES.get(name, name)
        if field_id == "summary":
            items.append(_item("summary", "summary", None, record.summary, None, value))
            record.summary = str(value)
        elif field_id == "labels":
            new = tuple(sorted(set(value)))
            items.append(
                _item("labels", "labels", None, " ".join(record.labels), None, " ".join(new))
            )
            record.labels = new
        elif field_id == "status":
            _set_status(record, _status_index(value), now, items)
        elif field_id == "priority":
            index = _named(ref.PRIORITIES, value, "Priority")
            old = ref.PRIORITIES[record.priority]
            items.append(_item("priority", "priority", old[0], old[1], *ref.PRIORITIES[index]))
            record.priority = index
        elif field_id in ("assignee", "reporter"):
            user = _user_index(value)
            old_user = getattr(record, field_id)
            items.append(
                _item(
                    field_id,
                    field_id,
                    _account(old_user),
                    _display(old_user),
                    _account(user),
                    _display(user),
                )
            )
            setattr(record, field_id, user)
        elif field_id in ("components", "fixVersions", "versions"):
            kind = "components" if field_id == "components" else "versions"
            attr = {"components": "components", "fixVersions": "fix_versions"}.get(
                field_id, "versions"
            )
            new_ids = _ids_of(record, kind, list(value))
            label = {"components": "Component", "fixVersions": "Fix Version"}.get(
                field_id, "Version"
            )
            items.append(
                _item(
                    label,
                    field_id,
                    None,
                    _names(record, kind, getattr(record, attr)),
                    None,
                    _names(record, kind, new_ids),
                )
            )
            setattr(record, attr, new_ids)
        elif field_id == "duedate":
            items.append(_item("duedate", "duedate", record.due, record.due, value, value))
            record.due = value
        elif field_id == "issuetype":
            index = _named(tuple((t[0], t[1]) for t in ref.ISSUE_TYPES), value, "Issue type")
            old_type, new_type = ref.ISSUE_TYPES[record.issue_type], ref.ISSUE_TYPES[index]
            items.append(
                _item("issuetype", "issuetype", old_type[0], old_type[1], new_type[0], new_type[1])
            )
            record.issue_type = index
        elif field_id in CUSTOM_IDS or field_id in ("description", "environment"):
            derived = store.derived(record)
            overrides = record.overrides or {}
            overrides[field_id] = value
            record.overrides = overrides
            fieldtype = "custom" if field_id in CUSTOM_IDS else "jira"
            label = CUSTOM_NAMES.get(field_id, field_id)
            previous = derived.get(field_id)
            items.append(
                _item(label, field_id, None, _plain(previous), None, _plain(value), fieldtype)
            )
        else:
            raise ValueError(f"Field `{name}` cannot be edited in the emulator.")
    return items


def _set_status(record: IssueRecord, index: int, now: int, items: list[dict[str, Any]]) -> None:
    old, new = ref.STATUSES[record.status], ref.STATUSES[index]
    items.append(_item("status", "status", old.id, old.name, new.id, new.name))
    record.status = index
    if old.category != new.category:
        record.status_changed = now
    if new.category == "done" and record.resolution is None:
        items.append(
            _item(
                "resolution", "resolution", None, None, ref.RESOLUTIONS[0][0], ref.RESOLUTIONS[0][1]
            )
        )
        record.resolution = 0
        record.resolved = now
    elif new.category != "done" and record.resolution is not None:
        old_resolution = ref.RESOLUTIONS[record.resolution]
        items.append(
            _item("resolution", "resolution", old_resolution[0], old_resolution[1], None, None)
        )
        record.resolution = None
        record.resolved = None


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str | int | float):
        return value
    # JSON text, unlike `str()`, works for values nested deeper than the recursion limit.
    return compact_json(value)


def _account(user: int | None) -> str | None:
    return ref.USERS[user].account_id if user is not None else None


def _display(user: int | None) -> str | None:
    return ref.USERS[user].display_name if user is not None else None
