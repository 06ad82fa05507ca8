"""Render the `{{ ... }}` placeholders of the SQL models for one dialect.

The models are plain SQL with a few placeholders, kept deliberately small so every dialect
difference is visible here:

    {{ ref('model') }}              another model: "dataset"."model" on PostgreSQL, "model" on
                                    DuckDB (see qualify_relation)
    {{ source('table') }}           a loaded table as a typed subquery (see sources.py)
    {{ seconds_between(a, b) }}     b - a in seconds, double precision
    {{ split_list(text) }}          a comma-separated text as an array, for unnest()
    {{ series(first, last, step) }} one row per timestamp from first to last (select list only)
    {{ number_text(x) }}            a number as Jira writes it in the changelog ('5', '2.5')
    {{ name }}                      a value computed from the settings, e.g. {{ as_of }}

Arguments of `ref` and `source` are quoted names; the others are SQL expressions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

Dialect = str
DIALECTS: tuple[Dialect, ...] = ("duckdb", "postgres")

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_CALL = re.compile(r"^(\w+)\s*\((.*)\)$", re.DOTALL)
_NAME = re.compile(r"^\w+$")
_QUOTED_NAME = re.compile(r"^'(\w+)'$")


class TemplateError(ValueError):
    """A placeholder is unknown or malformed."""


def _split_list(dialect: Dialect, text: str) -> str:
    if dialect == "duckdb":
        return f"string_split({text}, ',')"
    return f"string_to_array({text}, ',')"


def _series(dialect: Dialect, first: str, last: str, step: str) -> str:
    # PostgreSQL expands a set-returning function in the select list; DuckDB returns a list
    # from the scalar generate_series, which unnest() expands the same way.
    if dialect == "duckdb":
        return f"unnest(generate_series({first}, {last}, {step}))"
    return f"generate_series({first}, {last}, {step})"


def _number_text(dialect: Dialect, number: str) -> str:
    # PostgreSQL prints 5.0 as '5'; DuckDB prints '5.0', so its '.0' is removed.
    if dialect == "duckdb":
        return f"regexp_replace(cast({number} as varchar), '\\.0$', '')"
    return f"cast({number} as text)"


def _seconds_between(dialect: Dialect, start: str, end: str) -> str:
    # Both engines return an interval for timestamptz subtraction; extract(epoch) counts
    # its exact length in seconds (numeric on PostgreSQL, hence the cast).
    return f"cast(extract(epoch from (({end}) - ({start}))) as double precision)"


MACROS: dict[str, Callable[..., str]] = {
    "seconds_between": _seconds_between,
    "split_list": _split_list,
    "series": _series,
    "number_text": _number_text,
}


def split_arguments(text: str) -> list[str]:
    """Split a macro's argument text at top-level commas, respecting brackets and quotes."""
    arguments: list[str] = []
    depth = 0
    quote: str | None = None
    current: list[str] = []
    for character in text:
        if quote:
            if character == quote:
                quote = None
        elif character in "'\"":
            quote = character
        elif character == "(":
            depth += 1
        elif character == ")":
            depth -= 1
        elif character == "," and depth == 0:
            arguments.append("".join(current).strip())
            current = []
            continue
        current.append(character)
    last = "".join(current).strip()
    if last or arguments:
        arguments.append(last)
    return arguments


def quote_identifier(name: str) -> str:
    """Quote an identifier for both dialects; names are validated elsewhere."""
    return '"' + name.replace('"', '""') + '"'


def qualify_relation(dialect: Dialect, dataset: str, name: str) -> str:
    """Name a table or view from inside a view body.

    DuckDB resolves unqualified names in a view body in the view's own schema, and a
    schema-qualified name is ambiguous there when the database file has the dataset's name
    (`jira.duckdb` holding schema `jira`), so DuckDB gets the bare name.
    """
    if dialect == "duckdb":
        return quote_identifier(name)
    return f"{quote_identifier(dataset)}.{quote_identifier(name)}"


@dataclass
class RenderContext:
    """Names and values a template may use, and the models and tables it used.

    Attributes:
        dialect: "duckdb" or "postgres".
        dataset: the schema holding the loaded tables and the views.
        variables: rendered SQL fragments by name, e.g. `as_of`.
        render_source: renders `{{ source('table') }}` to a SQL relation.
        refs: models referenced by the template rendered last.
        sources: loaded tables referenced by the template rendered last.
    """

    dialect: Dialect
    dataset: str
    variables: Mapping[str, str]
    render_source: Callable[[str], str]
    refs: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


def render_template(template: str, context: RenderContext, model_name: str) -> str:
    """Replace every placeholder in `template` and record its refs and sources in `context`.

    Raises:
        TemplateError: on an unknown variable or macro, or malformed arguments, naming the
            model so the file can be found.
    """
    context.refs = []
    context.sources = []

    def replace(match: re.Match[str]) -> str:
        expression = match.group(1).strip()
        return _render_placeholder(expression, context, model_name)

    return _PLACEHOLDER.sub(replace, template)


def _render_placeholder(expression: str, context: RenderContext, model_name: str) -> str:
    if _NAME.match(expression):
        if expression not in context.variables:
            raise TemplateError(f"Unknown variable `{expression}` in model `{model_name}`.")
        # A variable may itself use macros, e.g. number_text.
        return _PLACEHOLDER.sub(
            lambda inner: _render_placeholder(inner.group(1).strip(), context, model_name),
            context.variables[expression],
        )
    call = _CALL.match(expression)
    if not call:
        raise TemplateError(f"Malformed placeholder `{{{{ {expression} }}}}` in `{model_name}`.")
    name, argument_text = call.group(1), call.group(2)
    arguments = split_arguments(argument_text)
    if name in ("ref", "source"):
        quoted = _QUOTED_NAME.match(arguments[0]) if len(arguments) == 1 else None
        if not quoted:
            raise TemplateError(f"`{name}` takes one quoted name in `{model_name}`: {expression}")
        target = quoted.group(1)
        if name == "ref":
            context.refs.append(target)
            return qualify_relation(context.dialect, context.dataset, target)
        context.sources.append(target)
        return context.render_source(target)
    macro = MACROS.get(name)
    if macro is None:
        raise TemplateError(f"Unknown macro `{name}` in model `{model_name}`.")
    try:
        return macro(context.dialect, *arguments)
    except TypeError as error:
        raise TemplateError(f"Wrong arguments to `{name}` in `{model_name}`: {error}") from None
