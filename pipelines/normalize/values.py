"""Converters from one Jira field value to the value of a column, one per field kind.

Each converter raises `ValueError` with what it expected when the value has the wrong type.
The issue normalizer adds the issue key, field id and column to that message.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from pipelines.json_text import json_text
from pipelines.normalize import fields as kinds
from pipelines.normalize.adf import adf_to_text
from pipelines.normalize.timestamps import parse_date, parse_instant

Converter = Callable[[Any], Any]


def user_id(value: Any) -> str | None:
    """Return a user's id: `accountId` on Cloud, else the Data Center `key`, else `name`.

    Raises:
        ValueError: the value is not a user object.
    """
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError("expected a user object")
    for name in ("accountId", "key", "name"):
        identifier = value.get(name)
        if isinstance(identifier, str) and identifier:
            return identifier
    return None


def to_json_text(value: Any) -> str:
    """Serialize a value as compact JSON text, keeping non-ASCII characters, at any depth."""
    return json_text(value)


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError("expected a number")
    try:
        number = float(value)
    except ValueError:
        raise ValueError("expected a number") from None
    except OverflowError:
        # An integer past the range of a double, such as 10**400.
        raise ValueError("expected a finite number") from None
    # `float` reads "NaN", "inf" and "1e999", which no Jira number field contains, and which
    # would turn every sum over the column into NaN or infinity.
    if not math.isfinite(number):
        raise ValueError("expected a finite number")
    return number


def _date(value: Any) -> date:
    if not isinstance(value, str):
        raise ValueError("expected a date string YYYY-MM-DD")
    return parse_date(value)


def _datetime(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("expected an ISO 8601 instant string")
    return parse_instant(value)


def _string(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise ValueError("expected a string")


def _rich_text(value: Any) -> str | None:
    if isinstance(value, dict | str):
        return adf_to_text(value)
    raise ValueError("expected an ADF document or a wiki markup string")


def _option(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        for name in ("value", "name"):
            if isinstance(value.get(name), str):
                return value[name]
    raise ValueError("expected an option object with a `value`")


def _user(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    return user_id(value)


def _cascading(value: Any) -> str:
    # A cascading select contains a parent option and an optional child: `Parent / Child`.
    parent = _option(value)
    child = value.get("child") if isinstance(value, dict) else None
    if child is None:
        return parent
    return f"{parent} / {_option(child)}"


SINGLE_CONVERTERS: dict[str, Converter] = {
    kinds.NUMBER: _number,
    kinds.DATE: _date,
    kinds.DATETIME: _datetime,
    kinds.STRING: _string,
    kinds.RICH_TEXT: _rich_text,
    kinds.OPTION: _option,
    kinds.USER: _user,
    kinds.CASCADING: _cascading,
    kinds.JSON: to_json_text,
}


def _id_text(value: Any) -> str | None:
    # An id that is an object or a list is kept as JSON text, which works at any depth.
    if value is None:
        return None
    return json_text(value) if isinstance(value, dict | list) else str(value)


def multi_item(item: Any) -> tuple[str | None, str]:
    """Split one item of a multi-valued field into `(value_id, value)`.

    Options give their id and value, users their account id and display name, versions and
    groups their id and name. Strings and numbers have no id. Any other object keeps its id,
    when it has one, and becomes JSON text.

    Raises:
        ValueError: the item is a list or None.
    """
    if isinstance(item, str):
        return None, item
    if isinstance(item, int | float) and not isinstance(item, bool):
        return None, str(item)
    if isinstance(item, dict):
        if "accountId" in item or "emailAddress" in item or "displayName" in item:
            identifier = user_id(item)
            return identifier, item.get("displayName") or identifier or to_json_text(item)
        item_id = item.get("id", item.get("groupId"))
        item_id = _id_text(item_id)
        for name in ("value", "name"):
            if isinstance(item.get(name), str):
                return item_id, item[name]
        return item_id, to_json_text(item)
    raise ValueError("expected a string, number or object in the list")
