"""The incremental window: which issues a run reads, written as JQL that Jira cannot misread.

JQL date literals without a zone are read in the searching account's profile time zone and only
to the minute, so the bound is written as epoch milliseconds, which Jira reads as an instant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from pipelines.errors import ConfigError, JiraEtlError
from pipelines.normalize.timestamps import parse_instant

ORDER_CLAUSE = "ORDER BY updated ASC, id ASC"
_ORDER_BY = re.compile(r"\border\s+by\b", re.IGNORECASE)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Window:
    """The lower bound of one run's search, inclusive, as a UTC instant (None: everything)."""

    lower: datetime | None

    @property
    def lower_ms(self) -> int:
        return to_epoch_ms(self.lower) if self.lower else 0


def compute_window(
    cursor: datetime | None,
    *,
    lookback: timedelta,
    start_date: datetime | None = None,
    full_refresh: bool = False,
) -> Window:
    """Choose the lower bound: the stored cursor minus the overlap, else the start date.

    The overlap re-reads issues whose edits were not yet visible to the previous search; the
    merge on issue id means re-read issues replace their rows instead of doubling them.
    """
    if cursor is not None and not full_refresh:
        lower = cursor - lookback
        if start_date is not None and lower < start_date:
            lower = start_date
        return Window(lower)
    return Window(start_date)


def cursor_after_read(
    previous: datetime | None, reached: datetime | None, read_started: datetime
) -> datetime | None:
    """Return the cursor to store after a read: the largest `updated` read, capped.

    If an issue's `updated` lies in the future, a cursor at that date would make every later run
    skip the edits made before it. So the cursor stops at the start of the read, and each run
    reads the future-dated issue again. The cursor never moves back.
    """
    if reached is None:
        return previous
    capped = min(reached, read_started)
    if previous is not None and capped <= previous:
        return previous
    return capped


def check_cursor_not_future(stored: str | None, latest: datetime) -> None:
    """Stop a run whose stored cursor is later than `latest`, the time now plus the lookback.

    Earlier code stored the `updated` of an issue dated in the future as the cursor, and every
    run since read only the issues updated after that date.

    Raises:
        JiraEtlError: the cursor is later than `latest`.
    """
    if stored is None or parse_instant(stored) <= latest:
        return
    raise JiraEtlError(
        f"The stored cursor {stored} is later than the time now. An issue dated in the future "
        "set it, so the runs since then read only the issues updated after it and skipped the "
        "other edits. Run once with --full-refresh to read every issue again."
    )


def to_epoch_ms(moment: datetime) -> int:
    """Convert an aware datetime to epoch milliseconds."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: an instant needs a time zone")
    return int((moment - EPOCH) // timedelta(milliseconds=1))


def from_epoch_ms(value: int) -> datetime:
    return EPOCH + timedelta(milliseconds=value)


def user_filter(jql: str | None) -> str:
    """Return the user's JQL without an ORDER BY clause, which the loader sets itself.

    Raises:
        ConfigError: the parentheses or quotes of the JQL do not balance. The loader wraps the
            filter in parentheses, so `a) OR (b` would bound only `b` by the window, and the
            delete sweep would get the issues of `a` back on every page and never finish.
    """
    text = (jql or "").strip()
    end = _scan_jql(text)
    return text[:end].strip()


def _jql_pieces(text: str) -> tuple[list[tuple[int, str, bool]], str]:
    """Split `text` into single characters and escape pairs, and mark those in strings.

    A backslash escapes the next character, in quoted strings and outside them, so an escaped
    quote opens no string.

    Returns:
        The pieces as `(position, piece, quoted)`, where `quoted` is True for the characters
        of a quoted string and its quotes, and the quote of a string left open at the end
        ("" when none is).
    """
    pieces: list[tuple[int, str, bool]] = []
    quote = ""
    position = 0
    while position < len(text):
        char = text[position]
        if char == "\\":
            pieces.append((position, text[position : position + 2], bool(quote)))
            position += 2
            continue
        if quote:
            pieces.append((position, char, True))
            if char == quote:
                quote = ""
        else:
            if char in "\"'":
                quote = char
            pieces.append((position, char, bool(quote)))
        position += 1
    return pieces, quote


def _scan_jql(text: str) -> int:
    """Return where the top-level ORDER BY of `text` starts, or its length when there is none.

    Quoted strings are skipped, so `summary ~ "order by"` keeps its text.

    Raises:
        ConfigError: a `)` closes nothing, a `(` or a quote stays open.
    """
    pieces, open_quote = _jql_pieces(text)
    depth = 0
    for position, piece, quoted in pieces:
        if quoted or len(piece) > 1:
            continue
        if piece == "(":
            depth += 1
        elif piece == ")":
            depth -= 1
            if depth < 0:
                raise _unbalanced(text, f"the `)` at character {position + 1} closes nothing")
        elif depth == 0 and _ORDER_BY.match(text, position):
            # `\b` in the pattern also looks at the character before `position`.
            return position
    if open_quote:
        raise _unbalanced(text, f"a string opened with {open_quote} is not closed")
    if depth:
        raise _unbalanced(
            text, "a `(` is not closed" if depth == 1 else f"{depth} `(` are not closed"
        )
    return len(text)


# Characters next to which JQL needs no space: operators, parentheses, commas and quotes.
_SEPARATORS = frozenset("()=,!<>~\"'")


def filter_spelling(jql: str) -> str:
    """Return `jql` with its spacing outside quoted strings reduced to single spaces.

    Spaces outside strings only separate words, so `project=ABC  AND status = Done` and
    `project = ABC AND status=Done` give the same result, and a dataset loaded with one may
    go on with the other. Quoted strings and escaped characters are kept as they are.

    >>> filter_spelling("project=ABC  AND (status = 'In  Progress')")
    "project=ABC AND(status='In  Progress')"
    """
    spelled: list[str] = []
    space = False
    for _, piece, quoted in _jql_pieces(jql)[0]:
        if not quoted and piece.isspace():
            space = True
            continue
        if space and spelled and spelled[-1] not in _SEPARATORS and piece not in _SEPARATORS:
            spelled.append(" ")
        space = False
        spelled.append(piece)
    return "".join(spelled)


def _unbalanced(text: str, problem: str) -> ConfigError:
    return ConfigError(
        f"Invalid --jql `{text}`: {problem}. jira-etl puts the filter in parentheses before "
        "it adds the window, so fix the filter (JIRA_JQL) and try it in Jira's issue search."
    )


def search_jql(user_jql: str | None, lower_ms: int, upper_ms: int | None = None) -> str:
    """Combine the user's filter with the window bound, in parentheses, ordered for the cursor.

    >>> search_jql("project in (ABC, DEF)", 1700000000000)
    '(project in (ABC, DEF)) AND updated >= 1700000000000 ORDER BY updated ASC, id ASC'
    """
    bound = f"updated >= {lower_ms}"
    if upper_ms is not None:
        bound += f" AND updated <= {upper_ms}"
    return f"{where_clause(user_jql, bound)} {ORDER_CLAUSE}"


def where_clause(user_jql: str | None, bound: str) -> str:
    """Return `(user filter) AND bound`, or the bound alone when there is no filter."""
    filter_text = user_filter(user_jql)
    return f"({filter_text}) AND {bound}" if filter_text else bound


def parse_start_date(value: str | date | datetime | None) -> datetime | None:
    """Read `--start-date` (`YYYY-MM-DD` or an ISO instant; a date means midnight UTC).

    Raises:
        ConfigError: the value is not a date.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    text = str(value).strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(
            f"Invalid --start-date `{text}`: expected YYYY-MM-DD or an ISO 8601 instant."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
