"""The field catalog: which column each Jira field goes to, and how its value is read.

Kinds and types come from the field's schema (`GET /rest/api/3/field`), never from values, so a
number field stays DOUBLE whether an issue contains 5 or 3.5. System fields get the kind `skip`
because the fixed `issues` columns and child tables cover the ones this project loads.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipelines.errors import ConfigError
from pipelines.json_text import quote_value
from pipelines.normalize.columns import ISSUE_COLUMNS

# Kinds of field values. The issue normalizer picks a converter per kind.
NUMBER = "number"
DATE = "date"
DATETIME = "datetime"
STRING = "string"
RICH_TEXT = "rich_text"
OPTION = "option"
USER = "user"
CASCADING = "cascading"
SPRINT = "sprint"
MULTI = "multi"
JSON = "json"
SKIP = "skip"

# Kinds stored as one column of `issues`, with the dlt data type of that column.
SINGLE_VALUE_TYPES: dict[str, str] = {
    NUMBER: "double",
    DATE: "date",
    DATETIME: "timestamp",
    STRING: "text",
    RICH_TEXT: "text",
    OPTION: "text",
    USER: "text",
    CASCADING: "text",
    JSON: "json",
}

_CUSTOM_TYPE_PREFIXES = (
    "com.atlassian.jira.plugin.system.customfieldtypes:",
    "com.pyxis.greenhopper.jira:",
    "com.atlassian.jpo:",
)

# Kind by the last part of `schema.custom` (after the plugin prefix).
_KIND_BY_CUSTOM_TYPE: dict[str, str] = {
    "gh-sprint": SPRINT,
    "textarea": RICH_TEXT,
    "textfield": STRING,
    "url": STRING,
    "readonlyfield": STRING,
    "gh-lexo-rank": STRING,
    "gh-epic-link": STRING,
    "gh-epic-label": STRING,
    "gh-epic-color": STRING,
    "float": NUMBER,
    "jsw-story-points": NUMBER,
    "importid": NUMBER,
    "datepicker": DATE,
    "datetime": DATETIME,
    "select": OPTION,
    "radiobuttons": OPTION,
    "cascadingselect": CASCADING,
    "userpicker": USER,
    "multiselect": MULTI,
    "multicheckboxes": MULTI,
    "multiuserpicker": MULTI,
    "labels": MULTI,
    "multiversion": MULTI,
    "multigrouppicker": MULTI,
}

# Kind by `schema.type` when `schema.custom` is not one of the known types above.
_KIND_BY_SCHEMA_TYPE: dict[str, str] = {
    "number": NUMBER,
    "date": DATE,
    "datetime": DATETIME,
    "string": STRING,
    "option": OPTION,
    "user": USER,
    "option-with-child": CASCADING,
    "array": MULTI,
}

# Letters that Unicode decomposition does not reduce to ASCII.
_TRANSLITERATIONS = str.maketrans(
    {"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"}
)
_NON_ALPHANUMERIC = re.compile(r"[^a-z0-9]+")
# Room left for a `_<custom id>` suffix within PostgreSQL's 63-character identifiers.
_MAX_BASE_LENGTH = 48


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One Jira field and the column its values go to.

    Attributes:
        field_id: Jira's id, e.g. `customfield_10016` or `labels`.
        name: the display name.
        column: the column name, unique within the catalog; None for skipped fields.
        kind: how the value is read (one of the kind constants of this module).
        data_type: the dlt data type of the `issues` column; None when the field has no
            `issues` column (multi-valued, sprint and skipped fields).
        is_custom: Jira's `custom` flag.
        schema_type: `schema.type`, e.g. `number` or `array`.
        schema_items: `schema.items` of array fields, e.g. `option`.
        schema_custom: `schema.custom`, e.g. `com.pyxis.greenhopper.jira:gh-sprint`.
    """

    field_id: str
    name: str
    column: str | None
    kind: str
    data_type: str | None
    is_custom: bool
    schema_type: str | None
    schema_items: str | None
    schema_custom: str | None


class FieldCatalog:
    """The mapping from field id to `FieldSpec`, built once per run.

    Attributes:
        specs: every field by id, skipped fields included.
        single: fields with one `issues` column each, ordered by column name.
        multi: multi-valued fields, whose items go to `issue_field_values`.
        sprint: Sprint fields, whose values go to `issue_sprints` and `sprints`.
    """

    def __init__(self, specs: dict[str, FieldSpec]) -> None:
        self.specs = specs
        active = [spec for spec in specs.values() if spec.kind != SKIP]
        self.single: tuple[FieldSpec, ...] = tuple(
            sorted((s for s in active if s.data_type is not None), key=lambda s: s.column or "")
        )
        self.multi: tuple[FieldSpec, ...] = tuple(s for s in active if s.kind == MULTI)
        self.sprint: tuple[FieldSpec, ...] = tuple(s for s in active if s.kind == SPRINT)

    def __getitem__(self, field_id: str) -> FieldSpec:
        return self.specs[field_id]

    def __contains__(self, field_id: object) -> bool:
        return field_id in self.specs

    def __len__(self) -> int:
        return len(self.specs)

    @classmethod
    def from_fields(
        cls,
        fields: list[dict[str, Any]],
        previous: dict[str, str] | None = None,
        selected: Collection[str] | None = None,
        stored_types: Mapping[str, str | None] | None = None,
    ) -> FieldCatalog:
        """Build the catalog from the response of `GET /rest/api/3/field`.

        Args:
            fields: the field objects (`id`, `name`, `custom`, `schema`).
            previous: field id -> column from the last run's state. A field found there keeps
                its column even when it was renamed in Jira.
            selected: the ids of the custom fields to load (see `select_custom_fields`);
                the others get the kind `skip`. None loads every custom field.
            stored_types: column -> dlt data type of the `issues` table loaded before. A new
                field does not take a stored column of another type, such as the column of a
                deleted number field whose name a new text field reuses.

        Returns:
            The catalog, with a unique column per field that is not skipped.

        Raises:
            ValueError: a field object has no string `id`.
        """
        previous = previous or {}
        kinds: dict[str, tuple[dict[str, Any], str]] = {}
        for field in fields:
            field_id = field.get("id") if isinstance(field, dict) else None
            if not isinstance(field_id, str) or not field_id:
                raise ValueError(f"Invalid field object `{quote_value(field)}`: it has no `id`.")
            kind = _field_kind(field)
            if selected is not None and field_id not in selected:
                kind = SKIP
            kinds[field_id] = (field, kind)
        columns = _assign_columns(
            {fid: (f, kind) for fid, (f, kind) in kinds.items() if kind != SKIP},
            previous,
            stored_types or {},
        )
        specs: dict[str, FieldSpec] = {}
        for field_id, (field, kind) in kinds.items():
            schema = field.get("schema")
            schema = schema if isinstance(schema, dict) else {}
            specs[field_id] = FieldSpec(
                field_id=field_id,
                name=str(field.get("name") or field_id),
                column=columns.get(field_id),
                kind=kind,
                data_type=SINGLE_VALUE_TYPES.get(kind),
                is_custom=bool(field.get("custom")),
                schema_type=schema.get("type"),
                schema_items=schema.get("items"),
                schema_custom=schema.get("custom"),
            )
        return cls(specs)

    @classmethod
    def from_issue_names(
        cls,
        names: dict[str, str],
        schema: dict[str, dict[str, Any]],
        previous: dict[str, str] | None = None,
    ) -> FieldCatalog:
        """Build the catalog from the `names` and `schema` maps of a search with
        `expand=names,schema`.

        A field is custom when its id starts with `customfield_`, as Jira names them.
        """
        fields = [
            {
                "id": field_id,
                "name": name,
                "custom": field_id.startswith("customfield_"),
                "schema": schema.get(field_id) or {},
            }
            for field_id, name in names.items()
        ]
        return cls.from_fields(fields, previous)

    def column_names(self) -> dict[str, str]:
        """Return field id -> column for every field that has a column, for the run's state."""
        return {fid: spec.column for fid, spec in self.specs.items() if spec.column is not None}

    def custom_columns(self) -> list[FieldSpec]:
        """Return the fields that have their own `issues` column, ordered by column name."""
        return list(self.single)


def select_custom_fields(
    fields: list[dict[str, Any]], requested: Sequence[str] | None
) -> list[str] | None:
    """Return the ids of the custom fields that `requested` names, by id or by name.

    An entry matches a custom field's id (`customfield_10016`) or, ignoring case, its name
    (`Story Points`). Names are not unique in Jira, so a name shared by several custom fields
    must be given as one of their ids.

    Args:
        fields: the field objects of `GET /rest/api/3/field`.
        requested: the entries of `--custom-fields`, or None for every custom field.

    Returns:
        The matched field ids, sorted, each once; None when `requested` is None.

    Raises:
        ConfigError: an entry matches no custom field, or its name matches several. The
            message names the entry and what to give instead.
    """
    if requested is None:
        return None
    by_id: dict[str, str] = {}
    by_name: dict[str, list[str]] = {}
    for field in fields:
        field_id = field.get("id") if isinstance(field, dict) else None
        if not isinstance(field_id, str) or not field_id.startswith("customfield_"):
            continue
        by_id[field_id.lower()] = field_id
        name = field.get("name")
        if isinstance(name, str) and name.strip():
            by_name.setdefault(name.strip().casefold(), []).append(field_id)
    chosen: set[str] = set()
    for entry in requested:
        found = by_id.get(entry.strip().lower())
        if found is not None:
            chosen.add(found)
            continue
        matches = sorted(by_name.get(entry.strip().casefold(), []))
        if not matches:
            raise ConfigError(
                f"Unknown custom field `{entry}` in --custom-fields: no custom field has this "
                "id or name. Give the id (customfield_NNNNN) as the `fields` table lists it; "
                "a field renamed in Jira is found by its id only. A field deleted in Jira or "
                "hidden from the account is not listed, so remove it from --custom-fields."
            )
        if len(matches) > 1:
            raise ConfigError(
                f"Ambiguous custom field `{entry}` in --custom-fields: {len(matches)} custom "
                f"fields have this name ({', '.join(matches)}). Give the id of the one to load."
            )
        chosen.add(matches[0])
    return sorted(chosen)


def _field_kind(field: dict[str, Any]) -> str:
    field_id = field["id"]
    schema = field.get("schema")
    schema = schema if isinstance(schema, dict) else {}
    # Some catalogs mark system fields as custom, so the id decides, not the `custom` flag.
    if not field_id.startswith("customfield_") or "system" in schema:
        return SKIP
    custom_type = schema.get("custom")
    if isinstance(custom_type, str):
        kind = _KIND_BY_CUSTOM_TYPE.get(custom_type.rpartition(":")[2])
        if kind is not None and custom_type.startswith(_CUSTOM_TYPE_PREFIXES):
            return kind
    return _KIND_BY_SCHEMA_TYPE.get(schema.get("type", ""), JSON)


def _assign_columns(
    fields: dict[str, tuple[dict[str, Any], str]],
    previous: dict[str, str],
    stored_types: Mapping[str, str | None],
) -> dict[str, str]:
    """Give every field a unique column: its previous one, else its name in snake_case.

    A name shared by several fields, or equal to a fixed `issues` column, gets the field's
    custom id appended (`team_10021`) on every field that shares it, so the result does not
    depend on the order Jira lists the fields in. A new field whose name matches a stored
    `issues` column of another data type gets the suffix too, because the destination cannot
    load its values into that column.
    """
    taken = set(ISSUE_COLUMNS)
    columns: dict[str, str] = {}
    for field_id in sorted(fields):
        kept = previous.get(field_id)
        if kept and kept not in taken:
            columns[field_id] = kept
            taken.add(kept)

    bases = {
        field_id: _base_column(field, kind)
        for field_id, (field, kind) in fields.items()
        if field_id not in columns
    }
    counts = Counter(bases.values())
    for field_id in sorted(bases):
        column = bases[field_id]
        data_type = SINGLE_VALUE_TYPES.get(fields[field_id][1])
        if counts[column] > 1 or column in taken or _clashes(column, data_type, stored_types):
            column = f"{column}_{_custom_id(field_id)}"
        suffix = 2
        unique = column
        while unique in taken or _clashes(unique, data_type, stored_types):
            unique = f"{column}_{suffix}"
            suffix += 1
        columns[field_id] = unique
        taken.add(unique)
    return columns


def _clashes(column: str, data_type: str | None, stored_types: Mapping[str, str | None]) -> bool:
    """Tell whether `issues` has `column` stored with a data type other than `data_type`."""
    stored = stored_types.get(column)
    return data_type is not None and stored is not None and stored != data_type


def _base_column(field: dict[str, Any], kind: str) -> str:
    name = field.get("name")
    column = snake_case(name) if isinstance(name, str) else ""
    if not column:
        column = snake_case(field["id"])
    if kind == RICH_TEXT:
        column += "_text"
    return column


def _custom_id(field_id: str) -> str:
    return field_id.removeprefix("customfield_")


def snake_case(name: str) -> str:
    """Turn a display name into a lower-case ASCII column name.

    Accented letters lose their accents (`Café` -> `cafe`). Letters with no ASCII form, such
    as Chinese, are dropped, and the caller falls back to the field id when nothing is left.
    A name that starts with a digit gets the prefix `field_`, and the result is cut to 48
    characters so that a suffix still fits in PostgreSQL's 63-character identifiers.
    """
    folded = unicodedata.normalize("NFKD", name.lower().translate(_TRANSLITERATIONS))
    ascii_only = folded.encode("ascii", "ignore").decode("ascii")
    column = _NON_ALPHANUMERIC.sub("_", ascii_only).strip("_")
    if column[:1].isdigit():
        column = "field_" + column
    return column[:_MAX_BASE_LENGTH].rstrip("_")
