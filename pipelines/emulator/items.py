"""Comments and worklogs changed after generation: additions, updates, deletions.

Generated items are derived from the seed and never stored. This module keeps only what the
mutations changed and overlays it on the derived lists, so the embedded pages, the collection
endpoints and `truth()` all see the same items with the same ids.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pipelines.emulator.generate import ITEM_IDS_PER_ISSUE, IssueRecord
from pipelines.emulator.richtext import make_adf

if TYPE_CHECKING:
    from pipelines.emulator.store import Store

# Ids of comments and worklogs created by mutations start here, above every generated id.
NEW_ITEM_ID_START = 6_000_000_000


@dataclass
class ItemChanges:
    """Changes that mutations made to the comments or to the worklogs of the site."""

    added: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # issue id -> items
    changed: dict[int, dict[str, Any]] = field(default_factory=dict)  # generated id -> values
    deleted: dict[int, int] = field(default_factory=dict)  # item id -> deletion instant (ms)
    owners: dict[int, int] = field(default_factory=dict)  # added item id -> issue id
    touched: set[int] = field(default_factory=set)  # issue ids whose list differs from derived

    def overlay(self, issue_id: int, generated: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Return the live items of an issue, oldest first: derived, then added."""
        if issue_id not in self.touched:
            return generated
        live = [
            {**item, **self.changed.get(item["id"], {})}
            for item in generated
            if item["id"] not in self.deleted
        ]
        live.extend(item for item in self.added.get(issue_id, []) if item["id"] not in self.deleted)
        return live


def owner_of(store: Store, changes: ItemChanges, item_id: int, kind: str) -> IssueRecord:
    """Return the issue that contains a comment or worklog id.

    Raises:
        KeyError: the item does not exist or was deleted.
    """
    issue_id = changes.owners.get(item_id)
    if issue_id is None and 10000 <= item_id < NEW_ITEM_ID_START:
        issue_id = 10000 + (item_id - 10000) // ITEM_IDS_PER_ISSUE
    record = store.records.get(issue_id) if issue_id is not None else None
    if record is None or item_id in changes.deleted:
        raise KeyError(f"{kind.capitalize()} `{item_id}` does not exist.")
    items = store.comments(record) if kind == "comment" else store.worklogs(record)
    if not any(item["id"] == item_id for item in items):
        raise KeyError(f"{kind.capitalize()} `{item_id}` does not exist.")
    return record


def add_comment(store: Store, id_or_key: str | int, body_text: str, author: int = 0) -> dict:
    """Add a comment (ADF body of one paragraph) and set the issue's `updated` to now."""
    with store.lock:
        record = store.get(id_or_key)
        now = store.now_ms()
        store.stage(record, now)
        comment = {
            "id": store.next_item_id(),
            "author": author,
            "update_author": author,
            "created": now,
            "updated": now,
            "body": _paragraph(body_text),
            "visibility": None,
        }
        _add(store.comment_changes, record, comment)
        record.updated = now
        return comment


def delete_comment(store: Store, comment_id: int) -> int:
    """Delete a comment; return its issue id. Jira sets the issue's `updated` to now."""
    with store.lock:
        record = owner_of(store, store.comment_changes, comment_id, "comment")
        now = store.now_ms()
        store.stage(record, now)
        store.comment_changes.deleted[comment_id] = now
        store.comment_changes.touched.add(record.id)
        record.updated = now
        return record.id


def add_worklog(
    store: Store, id_or_key: str | int, seconds: int, author: int = 0, comment: str | None = None
) -> dict[str, Any]:
    """Log work on an issue: a new worklog, `timespent` raised, a changelog history, `updated`."""
    if seconds <= 0:
        raise ValueError(f"Invalid time spent `{seconds}`: expected a positive number of seconds.")
    with store.lock:
        record = store.get(id_or_key)
        now = store.now_ms()
        store.stage(record, now)
        before = _time_spent(store, record)
        worklog = {
            "id": store.next_item_id(),
            "author": author,
            "started": now - seconds * 1000,
            "time_spent_seconds": seconds,
            "created": now,
            "updated": now,
            "comment": _paragraph(comment) if comment else None,
        }
        _add(store.worklog_changes, record, worklog)
        _after_worklog_change(store, record, before, now, worklog_from=None, worklog_to=worklog)
        return worklog


def update_worklog(store: Store, worklog_id: int, seconds: int) -> dict[str, Any]:
    """Change the time spent of a worklog; its `updated` and the issue's become now."""
    if seconds <= 0:
        raise ValueError(f"Invalid time spent `{seconds}`: expected a positive number of seconds.")
    with store.lock:
        changes = store.worklog_changes
        record = owner_of(store, changes, worklog_id, "worklog")
        now = store.now_ms()
        store.stage(record, now)
        before = _time_spent(store, record)
        new_values = {"time_spent_seconds": seconds, "updated": now}
        added = [w for w in changes.added.get(record.id, []) if w["id"] == worklog_id]
        if added:
            added[0].update(new_values)
        else:
            changes.changed.setdefault(worklog_id, {}).update(new_values)
        changes.touched.add(record.id)
        _after_worklog_change(store, record, before, now, worklog_from=None, worklog_to=None)
        return next(w for w in store.worklogs(record) if w["id"] == worklog_id)


def delete_worklog(store: Store, worklog_id: int) -> int:
    """Delete a worklog and log the deletion for `/worklog/deleted`; return its issue id."""
    with store.lock:
        changes = store.worklog_changes
        record = owner_of(store, changes, worklog_id, "worklog")
        now = store.now_ms()
        store.stage(record, now)
        before = _time_spent(store, record)
        gone = next(w for w in store.worklogs(record) if w["id"] == worklog_id)
        changes.deleted[worklog_id] = now
        changes.touched.add(record.id)
        _after_worklog_change(store, record, before, now, worklog_from=gone, worklog_to=None)
        return record.id


def comment_truth(issue_id: int, comment: dict[str, Any]) -> dict[str, Any]:
    """Return a comment as plain values: ids, author account id, UTC datetimes, body text."""
    from pipelines.emulator.reference import USERS
    from pipelines.emulator.richtext import adf_to_text
    from pipelines.emulator.store import ms_to_datetime

    return {
        "id": comment["id"],
        "issue_id": issue_id,
        "author_account_id": USERS[comment["author"]].account_id,
        "created": ms_to_datetime(comment["created"]),
        "updated": ms_to_datetime(comment["updated"]),
        "body_text": adf_to_text(comment["body"]),
    }


def worklog_truth(issue_id: int, worklog: dict[str, Any]) -> dict[str, Any]:
    """Return a worklog as plain values: ids, seconds, UTC datetimes."""
    from pipelines.emulator.reference import USERS
    from pipelines.emulator.store import ms_to_datetime

    return {
        "id": worklog["id"],
        "issue_id": issue_id,
        "author_account_id": USERS[worklog["author"]].account_id,
        "time_spent_seconds": worklog["time_spent_seconds"],
        "started": ms_to_datetime(worklog["started"]),
        "created": ms_to_datetime(worklog["created"]),
        "updated": ms_to_datetime(worklog["updated"]),
    }


def _add(changes: ItemChanges, record: IssueRecord, item: dict[str, Any]) -> None:
    changes.added.setdefault(record.id, []).append(item)
    changes.owners[item["id"]] = record.id
    changes.touched.add(record.id)


def _time_spent(store: Store, record: IssueRecord) -> int:
    return sum(w["time_spent_seconds"] for w in store.worklogs(record))


def _after_worklog_change(
    store: Store,
    record: IssueRecord,
    before: int,
    now: int,
    worklog_from: dict[str, Any] | None,
    worklog_to: dict[str, Any] | None,
) -> None:
    """Update `timespent`, record the history Jira writes for a worklog change, bump `updated`."""
    after = _time_spent(store, record)
    record.overrides = {**(record.overrides or {}), "timespent": after or None}
    items: list[dict[str, Any]] = [
        {
            "field": "timespent",
            "fieldtype": "jira",
            "fieldId": "timespent",
            "from": str(before) if before else None,
            "fromString": str(before) if before else None,
            "to": str(after) if after else None,
            "toString": str(after) if after else None,
        }
    ]
    if worklog_from is not None or worklog_to is not None:
        old_id = str(worklog_from["id"]) if worklog_from else None
        new_id = str(worklog_to["id"]) if worklog_to else None
        items.append(
            {
                "field": "WorklogId",
                "fieldtype": "jira",
                "from": old_id,
                "fromString": old_id,
                "to": new_id,
                "toString": new_id,
            }
        )
    record.updated = now
    store.record_history(record, items, now)


def _paragraph(text: str) -> dict[str, Any]:
    if not text:
        return make_adf(random.Random(0), rich=False)
    return {
        "type": "doc",
        "version": 1,
        "content": [{"type": "paragraph", "content": [{"type": "text", "text": text}]}],
    }
