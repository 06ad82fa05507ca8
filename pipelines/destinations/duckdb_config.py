"""Read the DuckDB settings configured the dlt way, and check DuckDB's temporary folder."""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import Mapping
from typing import Any

import dlt
from dlt.common.configuration.exceptions import ConfigValueCannotBeCoercedException

from pipelines.errors import ConfigError

CREDENTIALS_KEY = "destination.duckdb.credentials"
CREDENTIALS_VARIABLE = "DESTINATION__DUCKDB__CREDENTIALS"
# DuckDB 1.5 ends the message of a failed statement with a copy of it, "LINE 1: <statement>",
# and a line with a caret under the error.
_STATEMENT_COPY = re.compile(r"\n+LINE \d+:.*", re.DOTALL)
# A string literal: `'...'` with `''` for a quote, `E'...'` with backslash escapes, or
# `$tag$...$tag$`. DuckDB quotes the value it could not convert, not the literal as written.
_STRING_LITERAL = re.compile(r"([eE]?)'((?:[^']|'')*)'|\$(\w*)\$(.*?)\$\3\$", re.DOTALL)
_EXPECTED: dict[type, str] = {
    dict: 'a JSON object, such as {"memory_limit": "1GB"}',
    list: 'a JSON list of SQL statements, such as ["SET threads = 2"]',
}


def configured_setting(name: str, kind: type, *, secret: bool = False) -> Any:
    """Return `destination.duckdb.credentials.<name>` as `kind`, or None when it is not set.

    Raises:
        ConfigError: the configured value is not a `kind`, for example invalid JSON or an
            empty variable. The value of a secret is left out of the message.
    """
    key = f"{CREDENTIALS_KEY}.{name}"
    accessor = dlt.secrets if secret else dlt.config
    try:
        return accessor.get(key, kind)
    except ConfigValueCannotBeCoercedException as exc:
        configured = exc.field_value
        # dlt hands over a value that parsed as JSON of another type as that value.
        text = configured if isinstance(configured, str) else json.dumps(configured, default=str)
        text = text[:200]
        value = f" `{text}`" if text else " (empty)"
        if secret:
            value = ""
        raise ConfigError(
            f"Invalid DuckDB setting {CREDENTIALS_VARIABLE}__{name.upper()} ({key}){value}: "
            f"expected {_EXPECTED[kind]}. Fix it, or unset it to use jira-etl's settings."
        ) from None


def hide_statements(text: str) -> str:
    """Remove DuckDB's copy of a failed statement and the configured statements' strings.

    The statements are secrets, because they can create DuckDB secrets with keys. DuckDB
    repeats a failed statement after its message, and some values (a string it could not
    convert) in the message itself. String literals shorter than 4 characters stay.
    """
    text = _STATEMENT_COPY.sub("", text)
    for statement in configured_setting("statements", list, secret=True) or []:
        # Longer values first, so that a value contained in another does not split it.
        for value in sorted(_string_values(str(statement)), key=len, reverse=True):
            if len(value) >= 4:
                text = text.replace(value, "***")
    return text


def _string_values(statement: str) -> set[str]:
    """Return each string literal of `statement` as written and as DuckDB reads it."""
    values: set[str] = set()
    for match in _STRING_LITERAL.finditer(statement):
        prefix, quoted, _tag, dollar_quoted = match.groups()
        if dollar_quoted is not None:
            values.add(dollar_quoted)
            continue
        values.update({quoted, quoted.replace("''", "'")})
        if prefix:
            # An invalid escape leaves only the literal as written in `values`.
            with contextlib.suppress(UnicodeDecodeError):
                values.add(quoted.replace("''", "'").encode().decode("unicode_escape"))
    return values


def setting_key(settings: Mapping[str, Any], name: str) -> str | None:
    """Return the key of `settings` that sets the DuckDB setting `name`, or None.

    DuckDB reads setting names without regard to case, so `TEMP_DIRECTORY` sets
    `temp_directory`.
    """
    return next((key for key in settings if key.lower() == name.lower()), None)


def configured_temp_directory() -> str | None:
    """Return the temp_directory configured in `global_config`, or None when none is."""
    settings = configured_setting("global_config", dict) or {}
    key = setting_key(settings, "temp_directory")
    return None if key is None else str(settings[key])


def check_temp_directory(folder: str) -> None:
    """Fail before the run when DuckDB could not create its temporary folder `folder`.

    DuckDB creates the folder at the first spill, which can be late in a load, and fails
    there when the path is a file or a broken symbolic link.

    Raises:
        ConfigError: `folder` exists and is not a folder.
    """
    if not folder or not os.path.lexists(folder) or os.path.isdir(folder):
        return
    kind = "a broken symbolic link" if os.path.islink(folder) else "not a folder"
    raise ConfigError(
        f"DuckDB's temp_directory `{folder}`, where it writes temporary files when a load needs "
        f"more than its memory_limit, is {kind}. Remove or rename it, or set temp_directory in "
        f"{CREDENTIALS_VARIABLE}__GLOBAL_CONFIG to a folder."
    )


def check_global_values(settings: Mapping[str, Any]) -> None:
    """Apply `settings` to a throwaway in-memory DuckDB, so that a bad value stops the run early.

    dlt applies `global_config` only when it opens the file, which for a new file comes after
    the window was read. Only DuckDB's own settings are tried here: one that an extension
    adds, or one that DuckDB takes only at startup, is left to dlt.

    Raises:
        ConfigError: DuckDB rejects the value of one of its settings. The message names the
            variable, the setting, the value and DuckDB's reason.
    """
    import duckdb

    connection = duckdb.connect(":memory:")
    try:
        known = {
            row[0] for row in connection.execute("select name from duckdb_settings()").fetchall()
        }
        for name, value in settings.items():
            if str(name).lower() not in known:
                continue
            quoted = '"' + str(name).replace('"', '""') + '"'
            try:
                connection.execute(f"SET GLOBAL {quoted} = ?", (value,))
            except duckdb.Error as error:
                reason = str(error).strip().splitlines()[0]
                if "while database is running" in reason:
                    continue
                raise ConfigError(
                    f"Invalid DuckDB setting in {CREDENTIALS_VARIABLE}__GLOBAL_CONFIG: `{name}` "
                    f"= `{value}`: {reason}. Fix it, or unset the variable to use jira-etl's "
                    "settings."
                ) from None
    finally:
        connection.close()
