"""Deterministic synthetic issues in the shapes of a Jira Software site.

Only the compact part of each issue (the values JQL filters and sorts on) is built up front.
Rich text, custom field values, comments, worklogs and changelog histories are derived on demand
from `(seed, issue id)`, so 200,000 issues fit in memory and identical seeds give identical data.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from pipelines.emulator import reference as ref
from pipelines.emulator.richtext import WORDS, make_adf

DAY_MS = 86_400_000
MINUTE_MS = 60_000
HISTORY_IDS_PER_ISSUE = 256
ITEM_IDS_PER_ISSUE = 64
# Issues at these positions carry collections larger than the embedded caps (40 histories,
# 20 comments, 20 worklogs): (histories, comments, worklogs).
LARGE_COLLECTIONS: dict[int, tuple[int, int, int]] = {
    0: (250, 45, 32),
    1: (41, 21, 21),
    2: (60, 25, 0),
}


@dataclass(slots=True)
class IssueRecord:
    """The compact, queryable state of one issue. Instants are epoch milliseconds (UTC)."""

    id: int
    seq: int  # creation position; seeds the derived parts
    key: str
    project: int  # index into reference.PROJECTS
    issue_type: int  # index into reference.ISSUE_TYPES
    status: int  # index into reference.STATUSES
    priority: int
    resolution: int | None
    assignee: int | None  # index into reference.USERS
    reporter: int
    creator: int
    created: int
    updated: int
    resolved: int | None
    status_changed: int
    summary: str
    labels: tuple[str, ...] = ()
    components: tuple[int, ...] = ()  # component ids
    fix_versions: tuple[int, ...] = ()
    versions: tuple[int, ...] = ()
    parent: int | None = None  # issue id
    due: str | None = None
    n_comments: int = 0
    n_worklogs: int = 0
    n_histories: int = 0
    overrides: dict[str, Any] | None = None  # field id -> value set by a mutation
    edits: list[dict[str, Any]] = field(default_factory=list)  # histories added by mutations
    # `updated` as generated; derived parts spread over [created, base_updated], so later edits
    # do not move the timestamps of existing comments, worklogs and histories.
    base_updated: int = 0
    # `summary` as generated. The generated summary change ends at it, so a later edit of the
    # summary does not rewrite the text of that history item, as in Jira.
    base_summary: str = ""


def issue_rng(seed: int, seq: int, part: str) -> random.Random:
    """Return the random generator for one derived part of one issue."""
    return random.Random(f"{seed}:{seq}:{part}")


def generate_issues(count: int, seed: int, anchor_ms: int) -> list[IssueRecord]:
    """Generate `count` issues created over the 180 days before `anchor_ms`, ids ascending."""
    rng = random.Random(seed)
    span = 180 * DAY_MS
    start = anchor_ms - span
    numbers = [0] * len(ref.PROJECTS)
    parents_by_project: list[list[IssueRecord]] = [[] for _ in ref.PROJECTS]
    epics_by_project: list[list[IssueRecord]] = [[] for _ in ref.PROJECTS]
    records: list[IssueRecord] = []
    statuses = len(ref.STATUSES)
    for seq in range(count):
        project = 0 if seq < 3 else rng.choices((0, 1, 2), (5, 3, 2))[0]
        numbers[project] += 1
        roll = rng.random()
        parent: IssueRecord | None = None
        if roll < 0.08 or seq == 0:
            issue_type = 0
        elif roll < 0.22 and parents_by_project[project]:
            issue_type = ref.SUBTASK_TYPE
            parent = rng.choice(parents_by_project[project][-50:])
        else:
            issue_type = rng.choice((1, 1, 2, 3))
            if epics_by_project[project] and rng.random() < 0.3:
                parent = rng.choice(epics_by_project[project][-20:])
        created = start + (seq * span) // max(count, 1) + rng.randrange(span // max(count, 1) + 1)
        latest = anchor_ms - MINUTE_MS
        created = min(created, latest - MINUTE_MS)
        updated = created + int((latest - created) * rng.random() ** 3)
        status = rng.randrange(statuses)
        done = ref.STATUSES[status].category == "done"
        resolved = created + int((updated - created) * rng.uniform(0.5, 1.0)) if done else None
        resolution = (0 if status == 3 else rng.choice((1, 2))) if done else None
        if done and resolved is not None:
            status_changed = resolved
        else:
            status_changed = created + int((updated - created) * rng.random())
        histories, comments, worklogs = LARGE_COLLECTIONS.get(
            seq, (rng.randrange(7), rng.choice((0, 0, 1, 2, 3)), rng.choice((0, 0, 0, 1, 2)))
        )
        if histories == 0 and updated > created:
            histories = 1
        users = len(ref.USERS) - 1  # the app account never owns issues
        label_count = rng.choice((0, 0, 1, 1, 2, 3))
        components = ref.COMPONENTS[project]
        versions = ref.VERSIONS[project]
        record = IssueRecord(
            id=10000 + seq,
            seq=seq,
            key=f"{ref.PROJECTS[project].key}-{numbers[project]}",
            project=project,
            issue_type=issue_type,
            status=status,
            priority=rng.choice((0, 1, 2, 2, 2, 3, 4)),
            resolution=resolution,
            assignee=rng.randrange(users) if rng.random() < 0.8 else None,
            reporter=rng.randrange(users),
            creator=rng.randrange(users),
            created=created,
            updated=updated,
            resolved=resolved,
            status_changed=status_changed,
            summary=" ".join(rng.choice(WORDS) for _ in range(rng.randint(3, 8))).capitalize(),
            labels=tuple(sorted(set(rng.sample(ref.LABELS, label_count)))),
            components=tuple(
                c[0] for c in rng.sample(components, min(len(components), rng.choice((0, 1, 1, 2))))
            )
            if components
            else (),
            fix_versions=(rng.choice(versions)[0],) if versions and rng.random() < 0.4 else (),
            versions=(rng.choice(versions)[0],) if versions and rng.random() < 0.15 else (),
            parent=parent.id if parent else None,
            due=_date(created + rng.randrange(60) * DAY_MS) if rng.random() < 0.3 else None,
            n_comments=comments,
            n_worklogs=worklogs,
            n_histories=histories,
            base_updated=updated,
        )
        record.base_summary = record.summary
        records.append(record)
        if issue_type == 0:
            epics_by_project[project].append(record)
        elif issue_type != ref.SUBTASK_TYPE:
            parents_by_project[project].append(record)
    return records


def generate_links(records: list[IssueRecord], seed: int) -> dict[int, list[tuple[int, int, int]]]:
    """Link about one issue in ten to an earlier one: issue id -> [(link id, type, other id)].

    The first issue of a pair holds the link outward; the other holds it inward as `-type - 1`.
    """
    rng = random.Random(f"{seed}:links")
    links: dict[int, list[tuple[int, int, int]]] = {}
    next_id = 10000
    for record in records[1:]:
        if rng.random() >= 0.1:
            continue
        other = records[rng.randrange(record.seq)]
        link_type = rng.randrange(len(ref.LINK_TYPES))
        links.setdefault(record.id, []).append((next_id, link_type, other.id))
        links.setdefault(other.id, []).append((next_id, -link_type - 1, record.id))
        next_id += 1
    return links


def _date(ms: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).date().isoformat()


def derive_custom(seed: int, record: IssueRecord) -> dict[str, Any]:
    """Derive the custom field values of an issue (raw ids, numbers and strings)."""
    rng = issue_rng(seed, record.seq, "custom")
    project = record.project
    sprints = [s.id for s in ref.SPRINTS if s.board_id == ref.PROJECTS[project].board_id]
    values: dict[str, Any] = {
        ref.CF_SPRINT: sorted(rng.sample(sprints, rng.choice((0, 1, 1, 2))))
        if sprints and record.issue_type != ref.SUBTASK_TYPE
        else [],
        ref.CF_STORY_POINT_ESTIMATE: rng.choice((None, 1.0, 2.0, 3.0, 5.0, 8.0, 0.5)),
        ref.CF_STORY_POINTS: rng.choice((None, None, 3.0, 13.0, 2.5)),
        ref.CF_RANK: f"0|i{record.seq:05x}:",
        ref.CF_START_DATE: _date(record.created) if rng.random() < 0.4 else None,
        ref.CF_SEVERITY: rng.choice(ref.SELECT_OPTIONS[ref.CF_SEVERITY])[0]
        if rng.random() < 0.5
        else None,
        ref.CF_PLATFORMS: sorted(
            o[0] for o in rng.sample(ref.SELECT_OPTIONS[ref.CF_PLATFORMS], rng.randrange(3))
        ),
        ref.CF_REGION: None,
        ref.CF_REVIEWER: rng.randrange(len(ref.USERS) - 1) if rng.random() < 0.5 else None,
        ref.CF_WATCHERS: sorted(rng.sample(range(len(ref.USERS) - 1), rng.randrange(3))),
        ref.CF_DEPLOYED_AT: record.base_updated - rng.randrange(DAY_MS)
        if rng.random() < 0.3
        else None,
        ref.CF_ACCEPTANCE: make_adf(rng, rich=False) if rng.random() < 0.4 else None,
        ref.CF_TAGS: sorted(set(rng.sample(("alpha", "beta", "gamma", "v2"), rng.randrange(3)))),
        ref.CF_SPEC_LINK: f"https://example.com/specs/{record.seq}" if rng.random() < 0.3 else None,
        ref.CF_TEAM_SELECT: rng.choice(ref.SELECT_OPTIONS[ref.CF_TEAM_SELECT])[0]
        if rng.random() < 0.6
        else None,
        ref.CF_TEAM_TEXT: rng.choice((None, "payments-eu", "mobile, web")),
    }
    if rng.random() < 0.5:
        parent, children = rng.choice(ref.CASCADE_OPTIONS)
        child = rng.choice(children)[0] if children and rng.random() < 0.7 else None
        values[ref.CF_REGION] = (parent[0], child)
    return values


def derive_rich(seed: int, record: IssueRecord) -> dict[str, Any]:
    """Derive description, environment and time tracking of an issue."""
    rng = issue_rng(seed, record.seq, "rich")
    estimate = rng.choice((None, 3600, 7200, 28800, 144000))
    spent = 1800 * record.n_worklogs if record.n_worklogs else None
    return {
        "description": make_adf(rng, rich=rng.random() < 0.5) if rng.random() < 0.85 else None,
        "environment": make_adf(rng, rich=False) if rng.random() < 0.1 else None,
        "timeoriginalestimate": estimate,
        "timeestimate": max(estimate - (spent or 0), 0) if estimate else None,
        "timespent": spent,
    }


def _spread(rng: random.Random, count: int, start: int, end: int) -> list[int]:
    """Return `count` ascending instants in [start, end], the last one equal to `end`."""
    if count == 0:
        return []
    points = sorted(start + int((end - start) * rng.random()) for _ in range(count - 1))
    return [*points, end]


def derive_histories(seed: int, record: IssueRecord) -> list[dict[str, Any]]:
    """Derive the generated changelog histories of an issue, oldest first.

    Values are raw: `author` is a user index and `created` epoch milliseconds.
    """
    rng = issue_rng(seed, record.seq, "histories")
    times = _spread(rng, record.n_histories, record.created + 1000, record.base_updated)
    histories = []
    for index, created in enumerate(times):
        kind = rng.randrange(4)
        if kind == 0:
            old, new = rng.sample(ref.STATUSES, 2)
            item = _item("status", "status", str(old.id), old.name, str(new.id), new.name)
        elif kind == 1:
            old_p, new_p = rng.sample(ref.PRIORITIES, 2)
            item = _item("priority", "priority", str(old_p[0]), old_p[1], str(new_p[0]), new_p[1])
        elif kind == 2:
            item = _item("labels", "labels", None, "", None, rng.choice(ref.LABELS))
        else:
            summary = record.base_summary or record.summary
            item = _item("summary", "summary", None, "Draft " + summary.lower(), None, summary)
        histories.append(
            {
                "id": 10000 + record.seq * HISTORY_IDS_PER_ISSUE + index,
                "author": rng.randrange(len(ref.USERS)),
                "created": created,
                "items": [item],
            }
        )
    return histories


def _item(
    field_id: str,
    name: str,
    old: str | None,
    old_text: str | None,
    new: str | None,
    new_text: str | None,
) -> dict[str, Any]:
    return {
        "field": name,
        "fieldtype": "jira",
        "fieldId": field_id,
        "from": old,
        "fromString": old_text,
        "to": new,
        "toString": new_text,
    }


def derive_comments(seed: int, record: IssueRecord) -> list[dict[str, Any]]:
    """Derive the comments of an issue, oldest first (raw values, ADF bodies)."""
    rng = issue_rng(seed, record.seq, "comments")
    times = _spread(rng, record.n_comments, record.created, record.base_updated)
    comments = []
    for index, created in enumerate(times):
        author = rng.randrange(len(ref.USERS))
        edited = rng.random() < 0.2
        comments.append(
            {
                "id": 10000 + record.seq * ITEM_IDS_PER_ISSUE + index,
                "author": author,
                "update_author": rng.randrange(len(ref.USERS)) if edited else author,
                "created": created,
                "updated": min(created + rng.randrange(DAY_MS), record.base_updated)
                if edited
                else created,
                "body": make_adf(rng, rich=rng.random() < 0.2),
                "visibility": {"type": "role", "value": "Developers"}
                if rng.random() < 0.1
                else None,
            }
        )
    return comments


def derive_worklogs(seed: int, record: IssueRecord) -> list[dict[str, Any]]:
    """Derive the worklogs of an issue, oldest first (raw values)."""
    rng = issue_rng(seed, record.seq, "worklogs")
    times = _spread(rng, record.n_worklogs, record.created, record.base_updated)
    return [
        {
            "id": 10000 + record.seq * ITEM_IDS_PER_ISSUE + index,
            "author": rng.randrange(len(ref.USERS) - 1),
            "started": created - 1800_000,
            "time_spent_seconds": 1800,
            "created": created,
            "updated": created,
            "comment": make_adf(rng, rich=False) if rng.random() < 0.5 else None,
        }
        for index, created in enumerate(times)
    ]
