"""Predicates for single JQL clauses (`field operator value`), with Jira's value checks.

As in Jira, `!=` and `not in` never match an issue whose field is empty.
"""

from __future__ import annotations

import datetime as dt
import operator as op
from collections.abc import Callable
from typing import Any

from pipelines.emulator import reference as ref
from pipelines.emulator.generate import IssueRecord
from pipelines.emulator.jql import DATE_FIELDS, Context, JqlError, Predicate, date_value

Value = tuple[str, str]  # (kind, text) as parsed

COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": op.eq,
    "!=": op.ne,
    ">": op.gt,
    ">=": op.ge,
    "<": op.lt,
    "<=": op.le,
}


def _unsupported(operator: str, name: str) -> JqlError:
    return JqlError(f"The operator '{operator.upper()}' is not supported by the '{name}' field.")


def _missing(text: str, name: str) -> JqlError:
    return JqlError(f"The value '{text}' does not exist for the field '{name}'.")


def _lookup(options: list[tuple[Any, tuple[str, ...]]], text: str, name: str) -> Any:
    wanted = text.lower()
    for value, names in options:
        if wanted in names:
            return value
    raise _missing(text, name)


def _choices(field: str) -> list[tuple[Any, tuple[str, ...]]]:
    if field == "project":
        return [(i, (p.key.lower(), str(p.id), p.name.lower())) for i, p in enumerate(ref.PROJECTS)]
    if field == "status":
        return [(i, (s.name.lower(), str(s.id))) for i, s in enumerate(ref.STATUSES)]
    if field == "statusCategory":
        return [
            (key, (key, name.lower(), str(cid)))
            for key, (cid, name, _) in ref.STATUS_CATEGORIES.items()
        ]
    if field == "issuetype":
        return [(i, (t[1].lower(), str(t[0]))) for i, t in enumerate(ref.ISSUE_TYPES)]
    if field == "priority":
        return [(i, (p[1].lower(), str(p[0]))) for i, p in enumerate(ref.PRIORITIES)]
    if field == "resolution":
        return [(i, (r[1].lower(), str(r[0]))) for i, r in enumerate(ref.RESOLUTIONS)]
    return []


def _getter(field: str) -> Callable[[IssueRecord], Any]:
    getters: dict[str, Callable[[IssueRecord], Any]] = {
        "project": lambda r: r.project,
        "status": lambda r: r.status,
        "statusCategory": lambda r: ref.STATUSES[r.status].category,
        "issuetype": lambda r: r.issue_type,
        "priority": lambda r: r.priority,
        "resolution": lambda r: r.resolution,
        "assignee": lambda r: r.assignee,
        "reporter": lambda r: r.reporter,
        "creator": lambda r: r.creator,
        "id": lambda r: r.id,
        "parent": lambda r: r.parent,
        "created": lambda r: r.created,
        "updated": lambda r: r.updated,
        "resolutiondate": lambda r: r.resolved,
        "duedate": lambda r: r.due,
    }
    return getters[field]


def _resolve(field: str, name: str, value: Value, context: Context) -> Any:
    """Turn one literal into the stored representation of `field`; None means EMPTY."""
    kind, text = value
    if kind == "empty":
        return None
    if field in ("assignee", "reporter", "creator"):
        if kind == "function" and text == "currentuser()":
            return context.account_index
        options: list[tuple[Any, tuple[str, ...]]] = [
            (i, (u.account_id.lower(), u.name, u.display_name.lower()))
            for i, u in enumerate(ref.USERS)
        ]
        return _lookup(options, text, name)
    if kind == "function":
        raise JqlError(f"Unable to find JQL function '{text}' for the field '{name}'.")
    if field == "resolution" and text.lower() == "unresolved":
        return None
    if field in ("id", "parent"):
        if text.isdigit():
            return int(text)
        record = context.key_lookup(text)
        if record is None:
            raise JqlError(f"An issue with key '{text}' does not exist for field '{name}'.")
        return record.id
    return _lookup(_choices(field), text, name)


def build_clause(
    field: str, name: str, operator: str, values: list[Value], context: Context
) -> Predicate:
    """Build the predicate of one clause.

    Raises:
        JqlError: an operator the field does not support or a value that does not exist.
    """
    if field == "summary":
        return _text_clause(name, operator, values)
    if field == "labels":
        return _labels_clause(name, operator, values)
    if field == "key":
        return _key_clause(name, operator, values, context)
    if field in DATE_FIELDS or field == "duedate":
        return _date_clause(field, name, operator, values, context)
    get = _getter(field)
    if operator in ("is", "is not"):
        empty = operator == "is"
        return lambda r: (get(r) is None) == empty
    if operator in ("~", "!~"):
        raise _unsupported(operator, name)
    resolved = [_resolve(field, name, v, context) for v in values]
    if operator in ("=", "in"):
        wanted = set(resolved)
        return lambda r: get(r) in wanted
    if operator in ("!=", "not in"):
        unwanted = set(resolved)
        return lambda r: get(r) is not None and get(r) not in unwanted
    if field != "id":
        raise _unsupported(operator, name)
    compare, bound = COMPARE[operator], resolved[0]
    return lambda r: compare(r.id, bound)


def _text_clause(name: str, operator: str, values: list[Value]) -> Predicate:
    if operator not in ("~", "!~"):
        raise _unsupported(operator, name)
    words = [w for w in values[0][1].lower().replace("*", " ").split() if w]
    if not words:
        raise JqlError(f"The field '{name}' requires a non-empty text value.")

    def contains(record: IssueRecord) -> bool:
        text = record.summary.lower()
        return all(word in text for word in words)

    return contains if operator == "~" else (lambda r: not contains(r))


def _labels_clause(name: str, operator: str, values: list[Value]) -> Predicate:
    if operator in ("is", "is not"):
        empty = operator == "is"
        return lambda r: (not r.labels) == empty
    if operator not in ("=", "!=", "in", "not in"):
        raise _unsupported(operator, name)
    wanted = {text for kind, text in values if kind != "empty"}
    with_empty = any(kind == "empty" for kind, _ in values)
    if operator in ("=", "in"):
        return lambda r: bool(wanted.intersection(r.labels)) or (with_empty and not r.labels)
    return lambda r: bool(r.labels) and not wanted.intersection(r.labels)


def _key_parts(text: str, name: str) -> tuple[str, int]:
    project, _, number = text.upper().rpartition("-")
    if not project or not number.isdigit():
        raise JqlError(f"The issue key '{text}' for field '{name}' is invalid.")
    return project, int(number)


def _key_clause(name: str, operator: str, values: list[Value], context: Context) -> Predicate:
    if operator in ("is", "is not"):
        return lambda r: operator == "is not"
    if operator in ("~", "!~"):
        raise _unsupported(operator, name)
    if operator in ("=", "!=", "in", "not in"):
        ids = set()
        for _kind, text in values:
            record = context.key_lookup(text)
            if record is None:
                if operator in ("=", "in") and len(values) == 1:
                    raise JqlError(f"An issue with key '{text}' does not exist for field '{name}'.")
                continue
            ids.add(record.id)
        if operator in ("=", "in"):
            return lambda r: r.id in ids
        return lambda r: r.id not in ids
    project, number = _key_parts(values[0][1], name)
    compare = COMPARE[operator]

    def matches(record: IssueRecord) -> bool:
        own_project, own_number = record.key.rsplit("-", 1)
        return own_project == project and compare(int(own_number), number)

    return matches


def _date_clause(
    field: str, name: str, operator: str, values: list[Value], context: Context
) -> Predicate:
    get = _getter(field)
    if operator in ("is", "is not"):
        empty = operator == "is"
        return lambda r: (get(r) is None) == empty
    if operator in ("~", "!~"):
        raise _unsupported(operator, name)
    if field == "duedate":
        bounds: list[Any] = [_as_date(date_value(k, t, name, context), context) for k, t in values]
    else:
        bounds = [date_value(k, t, name, context) for k, t in values]
    if operator in ("in", "not in"):
        wanted = set(bounds)
        if operator == "in":
            return lambda r: get(r) in wanted
        return lambda r: get(r) is not None and get(r) not in wanted
    compare, bound = COMPARE[operator], bounds[0]
    return lambda r: get(r) is not None and compare(get(r), bound)


def _as_date(ms: int, context: Context) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, context.zone).date().isoformat()
