"""The emulator's issues, its clock and the mutations tests apply between requests."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from pipelines.emulator import generate as gen
from pipelines.emulator import reference as ref
from pipelines.emulator.generate import IssueRecord
from pipelines.emulator.items import NEW_ITEM_ID_START, ItemChanges
from pipelines.emulator.richtext import adf_to_text
from pipelines.emulator.visibility import SearchIndex

EDIT_HISTORY_ID_START = 5_000_000_000

FIELD_ALIASES = {
    "story_points": ref.CF_STORY_POINTS,
    "story_point_estimate": ref.CF_STORY_POINT_ESTIMATE,
    "fix_versions": "fixVersions",
    "due_date": "duedate",
    "issue_type": "issuetype",
}


def ms_to_datetime(ms: int) -> dt.datetime:
    """Convert epoch milliseconds to an aware UTC datetime."""
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC)


class Store:
    """Issues by id and key, derived parts on demand, a clock that tests can advance.

    Every public method takes the store lock, so the HTTP threads and the test thread may
    call them concurrently.
    """

    def __init__(self, issues: int, seed: int, start: dt.datetime | None = None) -> None:
        self.seed = seed
        self.lock = threading.RLock()
        anchor = start or dt.datetime.now(dt.UTC)
        self.anchor_ms = int(anchor.timestamp() * 1000)
        self._monotonic_start = time.monotonic()
        self._offset_ms = 0
        self.records: dict[int, IssueRecord] = {}
        self.key_index: dict[str, int] = {}
        for record in gen.generate_issues(issues, seed, self.anchor_ms):
            self.records[record.id] = record
            self.key_index[record.key] = record.id
        self.children: dict[int, list[int]] = {}
        for record in self.records.values():
            if record.parent is not None:
                self.children.setdefault(record.parent, []).append(record.id)
        self.links = gen.generate_links(list(self.records.values()), seed)
        self.numbers = [0] * len(ref.PROJECTS)
        for record in self.records.values():
            number = int(record.key.rsplit("-", 1)[1])
            self.numbers[record.project] = max(self.numbers[record.project], number)
        self._next_seq = issues
        self.deleted: dict[int, int] = {}  # issue id -> deletion instant (ms)
        self._next_history_id = EDIT_HISTORY_ID_START
        self._next_item_id = NEW_ITEM_ID_START
        self.comment_changes = ItemChanges()
        self.worklog_changes = ItemChanges()
        self.index = SearchIndex()
        self._worklog_times: list[tuple[int, int, int]] | None = None
        # The maximum number of histories a Data Center search embeds for `expand=changelog`,
        # newest first as Cloud does. None embeds all of them, oldest first, with `total`.
        self.dc_embedded_histories: int | None = None
        # Called by search before a page after the first, with a function returning the
        # issues the search matches; scripted behaviour uses it to edit between pages.
        self.page_hook: Callable[[Callable[[], list[IssueRecord]]], None] | None = None
        self._derive = lru_cache(maxsize=4096)(self._derive_uncached)

    # clock

    def now_ms(self) -> int:
        """Return the emulator clock in epoch milliseconds: start + elapsed + advanced."""
        elapsed = int((time.monotonic() - self._monotonic_start) * 1000)
        return self.anchor_ms + elapsed + self._offset_ms

    def advance(self, seconds: float) -> None:
        with self.lock:
            self._offset_ms += int(seconds * 1000)

    # look-ups

    def find(self, id_or_key: str | int) -> IssueRecord | None:
        """Return the live issue with this id or key (old keys of moved issues included)."""
        text = str(id_or_key).strip()
        with self.lock:
            issue_id = int(text) if text.isdigit() else self.key_index.get(text.upper())
            return self.records.get(issue_id) if issue_id is not None else None

    def get(self, id_or_key: str | int) -> IssueRecord:
        record = self.find(id_or_key)
        if record is None:
            raise KeyError(f"Issue `{id_or_key}` does not exist.")
        return record

    def snapshot(self) -> list[IssueRecord]:
        with self.lock:
            return list(self.records.values())

    def searchable(self) -> list[IssueRecord]:
        """Return the issues search sees: index lag and revoked projects applied."""
        with self.lock:
            return self.index.visible(self.records.values(), self.now_ms())

    def find_visible(self, id_or_key: str | int) -> IssueRecord | None:
        """Return the live issue if the account may browse its project, like `find`."""
        record = self.find(id_or_key)
        return record if record is not None and self.index.can_browse(record) else None

    def stage(self, record: IssueRecord, now: int) -> None:
        """Keep the indexed version of an issue before a mutation changes it."""
        self.index.before_change(record.id, record, now)

    def next_item_id(self) -> int:
        with self.lock:
            self._next_item_id += 1
            return self._next_item_id - 1

    def derived(self, record: IssueRecord) -> dict[str, Any]:
        """Return the derived fields (custom fields, rich text, estimates) with edits applied."""
        # The key contains every record attribute the derivation reads that an edit or a move can
        # change, so a moved issue gets its new project's sprints at once.
        inputs = (
            record.project,
            record.issue_type,
            record.created,
            record.base_updated,
            record.n_histories,
            record.n_worklogs,
        )
        values = dict(self._derive(record.id, record.seq, inputs))
        if record.overrides:
            values.update(record.overrides)
        return values

    def _derive_uncached(self, issue_id: int, seq: int, inputs: tuple[Any, ...]) -> dict[str, Any]:
        record = self.records.get(issue_id)
        if record is None:
            return {}
        return {**gen.derive_custom(self.seed, record), **gen.derive_rich(self.seed, record)}

    def histories(self, record: IssueRecord) -> list[dict[str, Any]]:
        """Return all changelog histories of an issue, oldest first."""
        return gen.derive_histories(self.seed, record) + list(record.edits)

    def comments(self, record: IssueRecord) -> list[dict[str, Any]]:
        """Return the live comments of an issue, oldest first, mutations applied."""
        generated = gen.derive_comments(self.seed, record) if record.n_comments else []
        return self.comment_changes.overlay(record.id, generated)

    def worklogs(self, record: IssueRecord) -> list[dict[str, Any]]:
        """Return the live worklogs of an issue, oldest first, mutations applied."""
        generated = gen.derive_worklogs(self.seed, record) if record.n_worklogs else []
        return self.worklog_changes.overlay(record.id, generated)

    def worklog_times(self) -> list[tuple[int, int, int]]:
        """Return `(updated ms, worklog id, issue id)` of every live worklog, oldest first."""
        with self.lock:
            if self._worklog_times is None:
                # Generated worklogs never move, so their times are computed once.
                self._worklog_times = [
                    (w["updated"], w["id"], r.id)
                    for r in self.records.values()
                    if r.n_worklogs
                    for w in gen.derive_worklogs(self.seed, r)
                ]
            changes = self.worklog_changes
            out = [
                (changes.changed.get(wid, {}).get("updated", updated), wid, issue_id)
                for updated, wid, issue_id in self._worklog_times
                if wid not in changes.deleted and issue_id in self.records
            ]
            for issue_id, added in changes.added.items():
                if issue_id in self.records:
                    out.extend(
                        (w["updated"], w["id"], issue_id)
                        for w in added
                        if w["id"] not in changes.deleted
                    )
            out.sort()
            return out

    # mutations

    def record_history(self, record: IssueRecord, items: list[dict[str, Any]], now: int) -> None:
        """Append a changelog history written by a mutation (author: the emulator's user)."""
        if not items:
            return
        record.edits.append(
            {"id": self._next_history_id, "author": 0, "created": now, "items": items}
        )
        self._next_history_id += 1

    def edit(self, id_or_key: str | int, changes: dict[str, Any]) -> IssueRecord:
        """Apply field changes, set `updated` to now and record one changelog history."""
        from pipelines.emulator.mutations import apply_changes

        with self.lock:
            record = self.get(id_or_key)
            now = self.now_ms()
            self.stage(record, now)
            items = apply_changes(self, record, changes, now)
            record.updated = now
            self.record_history(record, items, now)
            return record

    def create(self, project_key: str, fields: dict[str, Any]) -> IssueRecord:
        """Create an issue in a project (default type Task, status To Do), created = now."""
        from pipelines.emulator.mutations import apply_changes

        with self.lock:
            project = project_index(project_key)
            now = self.now_ms()
            self.numbers[project] += 1
            seq = self._next_seq
            self._next_seq += 1
            record = IssueRecord(
                id=10000 + seq,
                seq=seq,
                key=f"{ref.PROJECTS[project].key}-{self.numbers[project]}",
                project=project,
                issue_type=2,
                status=0,
                priority=2,
                resolution=None,
                assignee=None,
                reporter=0,
                creator=0,
                created=now,
                updated=now,
                resolved=None,
                status_changed=now,
                summary=str(fields.pop("summary", "New issue")),
                base_updated=now,
            )
            self.index.before_change(record.id, None, now)
            self.records[record.id] = record
            self.key_index[record.key] = record.id
            apply_changes(self, record, fields, now)
            return record

    def subtasks(self, record: IssueRecord) -> list[IssueRecord]:
        """Return the live sub-tasks of `record`."""
        found = (self.records.get(child) for child in self.children.get(record.id, ()))
        return [
            child
            for child in found
            if child is not None
            and child.parent == record.id
            and child.issue_type == ref.SUBTASK_TYPE
        ]

    def delete(self, id_or_key: str | int) -> None:
        """Delete an issue with its sub-tasks, as Jira does."""
        with self.lock:
            record = self.get(id_or_key)
            for subtask in self.subtasks(record):
                self.delete(subtask.id)
            now = self.now_ms()
            self.stage(record, now)
            for worklog in self.worklogs(record):
                # Deleting an issue deletes its worklogs, and `/worklog/deleted` lists them.
                self.worklog_changes.deleted[worklog["id"]] = now
            self.worklog_changes.touched.add(record.id)
            del self.records[record.id]
            self.deleted[record.id] = now

    def move(self, id_or_key: str | int, project_key: str) -> IssueRecord:
        """Move an issue and its sub-tasks to another project: new keys, same ids, history items."""
        with self.lock:
            record = self.get(id_or_key)
            target = project_index(project_key)
            if target == record.project:
                return record
            now = self.now_ms()
            self.stage(record, now)
            self.numbers[target] += 1
            old_key, old_project = record.key, ref.PROJECTS[record.project]
            new_project = ref.PROJECTS[target]
            record.key = f"{new_project.key}-{self.numbers[target]}"
            record.project = target
            record.components = ()
            record.fix_versions = ()
            record.versions = ()
            record.updated = now
            self.key_index[record.key] = record.id
            items: list[dict[str, Any]] = [
                {
                    "field": "Key",
                    "fieldtype": "jira",
                    "fieldId": "issuekey",
                    "from": None,
                    "fromString": old_key,
                    "to": None,
                    "toString": record.key,
                },
                {
                    "field": "project",
                    "fieldtype": "jira",
                    "fieldId": "project",
                    "from": str(old_project.id),
                    "fromString": old_project.name,
                    "to": str(new_project.id),
                    "toString": new_project.name,
                },
            ]
            self.record_history(record, items, now)
            # Sub-tasks live in their parent's project, so Jira moves them along, each with a
            # new key. An epic's children stay where they are and keep their `updated`.
            for subtask in self.subtasks(record):
                self.move(subtask.id, project_key)
            return record

    # truth

    def truth(self) -> list[dict[str, Any]]:
        """Return the current issues as plain values, ascending by id."""
        with self.lock:
            return [
                self.truth_of(record)
                for record in sorted(self.records.values(), key=lambda r: r.id)
            ]

    def truth_of(self, record: IssueRecord) -> dict[str, Any]:
        derived = self.derived(record)
        status = ref.STATUSES[record.status]
        parent = self.records.get(record.parent) if record.parent else None
        description = derived.get("description")
        return {
            "id": record.id,
            "key": record.key,
            "project_key": ref.PROJECTS[record.project].key,
            "project_id": ref.PROJECTS[record.project].id,
            "summary": record.summary,
            "issue_type": ref.ISSUE_TYPES[record.issue_type][1],
            "status": status.name,
            "status_id": status.id,
            "status_category": status.category,
            "priority": ref.PRIORITIES[record.priority][1],
            "resolution": ref.RESOLUTIONS[record.resolution][1]
            if record.resolution is not None
            else None,
            "assignee_account_id": _account(record.assignee),
            "reporter_account_id": _account(record.reporter),
            "creator_account_id": _account(record.creator),
            "created": ms_to_datetime(record.created),
            "updated": ms_to_datetime(record.updated),
            "resolved": ms_to_datetime(record.resolved) if record.resolved else None,
            "due_date": record.due,
            # The API drops the parent field once the parent is deleted.
            "parent_id": record.parent if parent else None,
            "parent_key": parent.key if parent else None,
            "labels": list(record.labels),
            "components": [_component_name(c) for c in record.components],
            "fix_versions": [_version_name(v) for v in record.fix_versions],
            "versions": [_version_name(v) for v in record.versions],
            "description_text": adf_to_text(description) if description else None,
            "sprint_ids": list(derived[ref.CF_SPRINT]),
            "story_point_estimate": derived[ref.CF_STORY_POINT_ESTIMATE],
            "story_points": derived[ref.CF_STORY_POINTS],
            "comment_count": len(self.comments(record))
            if record.id in self.comment_changes.touched
            else record.n_comments,
            "worklog_count": len(self.worklogs(record))
            if record.id in self.worklog_changes.touched
            else record.n_worklogs,
            "history_count": record.n_histories + len(record.edits),
        }


def _account(user: int | None) -> str | None:
    return ref.USERS[user].account_id if user is not None else None


def _component_name(component_id: int) -> str:
    for items in ref.COMPONENTS.values():
        for cid, name in items:
            if cid == component_id:
                return name
    return str(component_id)


def _version_name(version_id: int) -> str:
    for items in ref.VERSIONS.values():
        for vid, name, *_ in items:
            if vid == version_id:
                return name
    return str(version_id)


def project_index(project_key: str) -> int:
    for index, project in enumerate(ref.PROJECTS):
        if project.key == project_key.upper() or str(project.id) == str(project_key):
            return index
    raise KeyError(f"Project `{project_key}` does not exist.")
