"""A JQL parser and evaluator for the clauses clients send and users commonly write.

Supported: the fields in `FIELDS`, `= != > >= < <= ~ !~ in, not in, is [not] EMPTY`, AND/OR/NOT
(and `&& || !`), parentheses, `ORDER BY field [ASC|DESC], ...`, functions `now()`,
`currentUser()`, `startOfDay()`, `endOfDay()`. Date literals without a zone are read in the
searching account's profile zone; an unquoted integer is epoch milliseconds. Anything else raises
`JqlError` with Jira's wording, so the server answers 400 instead of a wrong result.

Without ORDER BY, results are ordered `created DESC` (emulator choice). Ties always fall back
to `id ASC`, so every ordering is total and paging is deterministic.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from pipelines.emulator import reference as ref
from pipelines.emulator.generate import IssueRecord

Predicate = Callable[[IssueRecord], bool]

OPERATORS = ("=", "!=", ">", ">=", "<", "<=", "~", "!~", "in", "not in", "is", "is not")
OPERATOR_HINT = (
    "The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', "
    "'IS' and 'IS NOT'."
)
DATE_HINT = (
    "Valid formats include: 'yyyy/MM/dd HH:mm', 'yyyy-MM-dd HH:mm', 'yyyy/MM/dd', "
    "'yyyy-MM-dd', or a period format e.g. '-5d', '4w 2d'."
)
RESERVED = {"and", "or", "not", "in", "is", "order", "by", "empty", "null", "asc", "desc"}


class JqlError(ValueError):
    """A query Jira would reject with 400; the message uses Jira's wording."""


@dataclass(frozen=True)
class Token:
    kind: str  # word | string | op | lparen | rparen | comma | end
    text: str
    position: int


_TOKEN = re.compile(
    r"\s*(?:(?P<string>\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')|(?P<op>!=|>=|<=|!~|=|>|<|~|&&|"
    r"\|\||!)|(?P<lparen>\()|(?P<rparen>\))|(?P<comma>,)|(?P<word>[^\s\"'()=!<>~,]+)|(?P<bad>\S))"
)


def tokenize(text: str) -> list[Token]:
    tokens: list[Token] = []
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position >= len(text):
            break
        match = _TOKEN.match(text, position)
        if match is None or match.lastgroup == "bad":
            quote = text[position]
            if quote in "\"'":
                raise JqlError(
                    f"Error in the JQL Query: The quoted string '{text[position + 1 :]}' has not "
                    f"been completed. (line 1, character {position + 1})"
                )
            raise JqlError(
                f"Error in the JQL Query: The character '{quote}' is a reserved JQL character. "
                f"You must enclose it in a string or use the escape '\\u{ord(quote):04x}' instead. "
                f"(line 1, character {position + 1})"
            )
        kind = match.lastgroup or "word"
        raw = match.group(kind)
        if kind == "string":
            raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
        tokens.append(Token(kind, raw, match.start(kind) + 1))
        position = match.end()
    tokens.append(Token("end", "", len(text) + 1))
    return tokens


@dataclass
class Context:
    """What a query is evaluated against: the caller, the profile zone and the clock."""

    zone: ZoneInfo
    now_ms: int
    account_index: int
    key_lookup: Callable[[str], IssueRecord | None]


@dataclass
class Query:
    predicate: Predicate | None
    order: list[tuple[str, bool]]  # (field, descending)
    text: str

    def run(self, records: list[IssueRecord]) -> list[IssueRecord]:
        """Filter and sort records."""
        matched = [r for r in records if self.predicate is None or self.predicate(r)]
        matched.sort(key=lambda r: r.id)
        for field, descending in reversed(self.order):
            matched.sort(key=SORT_KEYS[field], reverse=descending)
        return matched


def _user_key(user: int | None) -> tuple[int, str]:
    return (1, "") if user is None else (0, ref.USERS[user].display_name.lower())


def _project_key(r: IssueRecord) -> tuple[str, int]:
    key, number = r.key.rsplit("-", 1)
    return key, int(number)


SORT_KEYS: dict[str, Callable[[IssueRecord], Any]] = {
    "created": lambda r: r.created,
    "updated": lambda r: r.updated,
    "resolutiondate": lambda r: (r.resolved is None, r.resolved or 0),
    "id": lambda r: r.id,
    "key": _project_key,
    "priority": lambda r: -r.priority,  # Jira sorts priority by rank: Highest is "largest"
    "status": lambda r: ref.STATUSES[r.status].name.lower(),
    "project": lambda r: ref.PROJECTS[r.project].key,
    "summary": lambda r: r.summary.lower(),
    "issuetype": lambda r: ref.ISSUE_TYPES[r.issue_type][1].lower(),
    "assignee": lambda r: _user_key(r.assignee),
    "duedate": lambda r: (r.due is None, r.due or ""),
}
FIELD_NAMES = {
    "issuekey": "key",
    "type": "issuetype",
    "resolved": "resolutiondate",
    "createddate": "created",
    "updateddate": "updated",
    "due": "duedate",
    "statuscategory": "statusCategory",
}
FIELDS = {
    "project",
    "key",
    "id",
    "updated",
    "created",
    "resolutiondate",
    "status",
    "statusCategory",
    "issuetype",
    "priority",
    "assignee",
    "reporter",
    "creator",
    "labels",
    "resolution",
    "summary",
    "parent",
    "duedate",
}
DATE_FIELDS = {"updated", "created", "resolutiondate"}


def parse(text: str, context: Context) -> Query:
    """Parse a JQL string into a query bound to `context`.

    Raises:
        JqlError: a syntax error, an unknown field or value, or an unsupported construct.
    """
    parser = _Parser(tokenize(text), context)
    predicate = None
    if not parser.at_keyword("order") and parser.peek().kind != "end":
        predicate = parser.parse_or()
    order = parser.parse_order()
    if parser.peek().kind != "end":
        token = parser.peek()
        raise JqlError(
            f"Error in the JQL Query: Expecting either 'OR' or 'AND' but got '{token.text}'. "
            f"(line 1, character {token.position})"
        )
    return Query(predicate, order or [("created", True)], text)


class _Parser:
    def __init__(self, tokens: list[Token], context: Context) -> None:
        self.tokens = tokens
        self.index = 0
        self.context = context

    def peek(self, offset: int = 0) -> Token:
        return self.tokens[min(self.index + offset, len(self.tokens) - 1)]

    def next(self) -> Token:
        token = self.peek()
        self.index += 1
        return token

    def at_keyword(self, word: str, offset: int = 0) -> bool:
        token = self.peek(offset)
        return token.kind == "word" and token.text.lower() == word

    def parse_or(self) -> Predicate:
        parts = [self.parse_and()]
        while self.at_keyword("or") or (self.peek().kind == "op" and self.peek().text == "||"):
            self.next()
            parts.append(self.parse_and())
        if len(parts) == 1:
            return parts[0]
        return lambda r: any(p(r) for p in parts)

    def parse_and(self) -> Predicate:
        parts = [self.parse_not()]
        while self.at_keyword("and") or (self.peek().kind == "op" and self.peek().text == "&&"):
            self.next()
            parts.append(self.parse_not())
        if len(parts) == 1:
            return parts[0]
        return lambda r: all(p(r) for p in parts)

    def parse_not(self) -> Predicate:
        token = self.peek()
        if self.at_keyword("not") or (token.kind == "op" and token.text == "!"):
            self.next()
            inner = self.parse_not()
            return lambda r: not inner(r)
        if token.kind == "lparen":
            self.next()
            inner = self.parse_or()
            closing = self.next()
            if closing.kind != "rparen":
                where = (
                    "before the end of the query."
                    if closing.kind == "end"
                    else f"but got '{closing.text}'. (line 1, character {closing.position})"
                )
                raise JqlError(f"Error in the JQL Query: Expecting ')' {where}")
            return inner
        return self.parse_clause()

    def parse_clause(self) -> Predicate:
        token = self.next()
        if token.kind not in ("word", "string") or token.text.lower() in RESERVED:
            got = "the end of the query" if token.kind == "end" else f"'{token.text}'"
            raise JqlError(
                f"Error in the JQL Query: Expecting a field name but got {got}."
                + ("" if token.kind == "end" else f" (line 1, character {token.position})")
            )
        name = token.text
        field = FIELD_NAMES.get(name.lower(), name.lower())
        if field == "statuscategory":
            field = "statusCategory"
        if field not in FIELDS:
            raise JqlError(
                f"Field '{name}' does not exist or you do not have permission to view it."
            )
        operator = self.parse_operator()
        from pipelines.emulator.jql_clauses import build_clause

        if operator in ("in", "not in"):
            values = self.parse_list()
        elif operator in ("is", "is not"):
            value = self.next()
            if not (value.kind == "word" and value.text.lower() in ("empty", "null")):
                raise JqlError(
                    f"Error in the JQL Query: Expecting 'EMPTY' or 'NULL' but got "
                    f"'{value.text}'. (line 1, character {value.position})"
                )
            values = []
        else:
            values = [self.parse_value()]
        return build_clause(field, name, operator, values, self.context)

    def parse_operator(self) -> str:
        token = self.next()
        text = token.text.lower()
        if token.kind == "op" and text in OPERATORS:
            return text
        if token.kind == "word" and text in ("in", "is"):
            if text == "is" and self.at_keyword("not"):
                self.next()
                return "is not"
            return text
        if token.kind == "word" and text == "not" and self.at_keyword("in"):
            self.next()
            return "not in"
        if token.kind == "word" and text in ("was", "changed"):
            raise JqlError(f"The operator '{token.text.upper()}' is not supported by the emulator.")
        got = "the end of the query" if token.kind == "end" else f"'{token.text}'"
        raise JqlError(
            f"Error in the JQL Query: Expecting operator but got {got}. {OPERATOR_HINT}"
            + ("" if token.kind == "end" else f" (line 1, character {token.position})")
        )

    def parse_value(self) -> tuple[str, str]:
        """Return (kind, text): kind is `string`, `word`, `empty` or `function`."""
        token = self.next()
        if token.kind == "string":
            return ("string", token.text)
        if token.kind == "word" and token.text.lower() not in RESERVED - {"empty", "null"}:
            if token.text.lower() in ("empty", "null"):
                return ("empty", token.text)
            if self.peek().kind == "lparen":
                self.next()
                args = []
                while self.peek().kind not in ("rparen", "end"):
                    arg = self.next()
                    if arg.kind != "comma":
                        args.append(arg.text)
                if self.next().kind != "rparen":
                    raise JqlError(
                        "Error in the JQL Query: Expecting ')' before the end of the query."
                    )
                return ("function", token.text.lower() + "(" + ",".join(args) + ")")
            return ("word", token.text)
        got = "the end of the query" if token.kind == "end" else f"'{token.text}'"
        raise JqlError(
            f"Error in the JQL Query: Expecting either a value, list or function but got {got}."
            + ("" if token.kind == "end" else f" (line 1, character {token.position})")
        )

    def parse_list(self) -> list[tuple[str, str]]:
        token = self.next()
        if token.kind != "lparen":
            raise JqlError(
                "Error in the JQL Query: Expecting '(' but got "
                + ("the end of the query." if token.kind == "end" else f"'{token.text}'.")
            )
        values = [self.parse_value()]
        while self.peek().kind == "comma":
            self.next()
            values.append(self.parse_value())
        closing = self.next()
        if closing.kind != "rparen":
            raise JqlError(
                "Error in the JQL Query: Expecting ')' before the end of the query."
                if closing.kind == "end"
                else f"Error in the JQL Query: Expecting ')' but got '{closing.text}'. "
                f"(line 1, character {closing.position})"
            )
        return values

    def parse_order(self) -> list[tuple[str, bool]]:
        if not self.at_keyword("order"):
            return []
        self.next()
        if not self.at_keyword("by"):
            raise JqlError("Error in the JQL Query: Expecting 'BY' after 'ORDER'.")
        self.next()
        order: list[tuple[str, bool]] = []
        while True:
            token = self.next()
            if token.kind not in ("word", "string"):
                raise JqlError(
                    "Error in the JQL Query: Expecting a field name in the ORDER BY clause."
                )
            field = FIELD_NAMES.get(token.text.lower(), token.text.lower())
            if field not in SORT_KEYS:
                if field in FIELDS or field == "statusCategory":
                    raise JqlError(f"Field '{token.text}' does not support sorting.")
                raise JqlError(
                    f"Field '{token.text}' does not exist or you do not have permission to view it."
                )
            descending = False
            if self.at_keyword("asc") or self.at_keyword("desc"):
                descending = self.next().text.lower() == "desc"
            order.append((field, descending))
            if self.peek().kind != "comma":
                break
            self.next()
        if len(order) > 7:
            raise JqlError("The ORDER BY clause may contain at most 7 fields.")
        return order


def date_value(kind: str, text: str, field: str, context: Context) -> int:
    """Read a JQL date value as epoch milliseconds in the caller's profile zone.

    Raises:
        JqlError: the value is not a date Jira accepts.
    """
    if kind == "function":
        return _date_function(text, context)
    value = text.strip()
    if re.fullmatch(r"-?\d+", value) and not re.fullmatch(r"\d{4}", value):
        return int(value)
    for pattern in ("%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y/%m/%d", "%Y-%m-%d"):
        try:
            parsed = dt.datetime.strptime(value, pattern)
        except ValueError:
            continue
        return int(parsed.replace(tzinfo=context.zone).timestamp() * 1000)
    offset = _period_ms(value)
    if offset is not None:
        return context.now_ms + offset
    raise JqlError(f"Date value '{text}' for field '{field}' is invalid. {DATE_HINT}")


_UNIT_MS = {"w": 7 * 86_400_000, "d": 86_400_000, "h": 3_600_000, "m": 60_000}


def _period_ms(text: str) -> int | None:
    match = re.fullmatch(r"([+-]?)((?:\d+[wdhm]\s*)+)", text.strip())
    if match is None:
        return None
    total = sum(int(n) * _UNIT_MS[unit] for n, unit in re.findall(r"(\d+)([wdhm])", match[2]))
    return -total if match[1] == "-" else total


def _date_function(text: str, context: Context) -> int:
    name, _, args = text.partition("(")
    args = args.rstrip(")")
    offset = _period_ms(args) if args else 0
    if args and offset is None:
        raise JqlError(f"Invalid argument '{args}' for the function '{name}'.")
    now = dt.datetime.fromtimestamp(context.now_ms / 1000, context.zone)
    if name == "now":
        base = context.now_ms
    elif name == "startofday":
        base = int(now.replace(hour=0, minute=0, second=0, microsecond=0).timestamp() * 1000)
    elif name == "endofday":
        end = now.replace(hour=23, minute=59, second=59, microsecond=999000)
        base = int(end.timestamp() * 1000)
    else:
        raise JqlError(f"Unable to find JQL function '{text}'.")
    return base + (offset or 0)
