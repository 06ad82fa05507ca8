"""Jira instants and dates to Python values.

Jira writes instants as `2024-01-02T03:04:05.678-0800`: milliseconds and the offset of the
caller's profile time zone, without a colon. Comparing those strings is wrong, so every
instant becomes an aware UTC datetime here.
"""

from __future__ import annotations

from datetime import UTC, date, datetime


def parse_instant(value: str) -> datetime:
    """Parse a Jira instant into an aware UTC datetime.

    Accepts offsets as `-0800`, `+05:30` or `Z`, with or without fractional seconds.

    Args:
        value: the instant as Jira writes it.

    Returns:
        The same instant in UTC.

    Raises:
        ValueError: `value` is not a string, not an ISO 8601 instant, or has no offset.
    """
    if not isinstance(value, str):
        raise ValueError(f"Expected an ISO 8601 instant string, got {type(value).__name__}.")
    try:
        # Python 3.11 reads `-0800`, `+05:30` and `Z` offsets natively.
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"Invalid instant `{value[:80]}`: expected ISO 8601.") from None
    if parsed.tzinfo is None:
        raise ValueError(f"Invalid instant `{value[:80]}`: it has no UTC offset.")
    return parsed.astimezone(UTC)


def parse_date(value: str) -> date:
    """Parse a Jira calendar date such as `2024-07-31`.

    Raises:
        ValueError: `value` is not a string or not an ISO 8601 date.
    """
    if not isinstance(value, str):
        raise ValueError(f"Expected an ISO 8601 date string, got {type(value).__name__}.")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"Invalid date `{value[:80]}`: expected YYYY-MM-DD.") from None


def format_utc(dt: datetime) -> str:
    """Format an aware datetime as ISO 8601 in UTC with a `Z` suffix.

    Fractional seconds appear only when they are not zero.

    Raises:
        ValueError: `dt` is naive, so its instant is unknown.
    """
    if dt.tzinfo is None:
        raise ValueError(f"Cannot format naive datetime `{dt.isoformat()}` as UTC.")
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")
