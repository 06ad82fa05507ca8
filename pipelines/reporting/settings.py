"""Settings rendered into the SQL models: tracked fields, cycle-time boundaries, the clock."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class TrackedField:
    """A field followed day by day in `daily_issue_field_history`.

    Attributes:
        column: the output column name (snake_case).
        field_names: changelog `field` values that record changes of this field, compared
            case-insensitively (Jira names story points differently on classic and
            team-managed projects).
        use_value_id: take the changelog's raw value (`to_value`, e.g. an account id) instead
            of its display string (`to_string`).
        issue_column: the `issue_enhanced` column holding the current value, used for issues
            whose changelog never mentions the field. None means NULL for those issues.
    """

    column: str
    field_names: tuple[str, ...]
    use_value_id: bool = False
    issue_column: str | None = None

    def __post_init__(self) -> None:
        if not _IDENTIFIER.match(self.column):
            raise ValueError(
                f"Invalid tracked field column `{self.column}`: use lowercase letters, digits "
                "and underscores, starting with a letter."
            )
        if not self.field_names:
            raise ValueError(f"Tracked field `{self.column}` needs at least one changelog field.")

    @classmethod
    def from_field_name(cls, field_name: str) -> TrackedField:
        """Build a tracked field from a changelog field name, reusing the defaults' mapping.

        Args:
            field_name: a changelog `field` value such as `status`, `Sprint` or `Team`.

        Returns:
            The default definition when the name is one of the defaults, else a field
            tracked by display string with a snake_case column and no current-value column.
        """
        for default in DEFAULT_TRACKED_FIELDS:
            if field_name.lower() in default.field_names:
                return default
        column = re.sub(r"[^a-z0-9]+", "_", field_name.lower()).strip("_")
        if not column or column[0].isdigit():
            column = f"field_{column}"
        return cls(column=column, field_names=(field_name.lower(),))


DEFAULT_TRACKED_FIELDS: tuple[TrackedField, ...] = (
    TrackedField("status", ("status",), issue_column="status"),
    TrackedField("assignee_account_id", ("assignee",), True, "assignee_account_id"),
    TrackedField("sprint", ("sprint",), issue_column="sprint_names"),
    TrackedField(
        "story_points", ("story points", "story point estimate"), issue_column="story_points"
    ),
    TrackedField("priority", ("priority",), issue_column="priority"),
)


@dataclass(frozen=True)
class StatusSelector:
    """Statuses that mark the start or the end of the cycle: by name or by category key.

    Both lists are compared case-insensitively; a status matches when either list has it.
    """

    statuses: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    @classmethod
    def parse(cls, values: tuple[str, ...] | list[str]) -> StatusSelector:
        """Parse `category:KEY` and plain status names, e.g. `("category:done", "Released")`."""
        statuses: list[str] = []
        categories: list[str] = []
        for value in values:
            if value.lower().startswith("category:"):
                categories.append(value.split(":", 1)[1].strip().lower())
            else:
                statuses.append(value.strip().lower())
        return cls(tuple(statuses), tuple(categories))

    def is_empty(self) -> bool:
        return not self.statuses and not self.categories


@dataclass(frozen=True)
class ReportingSettings:
    """Everything configurable in the models; the defaults suit a standard Jira workflow.

    Attributes:
        tracked_fields: the columns of `daily_issue_field_history`.
        cycle_start: statuses whose first entry starts the cycle (default: category
            `indeterminate`, Jira's "In Progress" colour).
        cycle_end: statuses that finish the work (default: category `done`).
        story_points_columns: `issues` columns holding story points, first non-NULL wins
            (classic projects use `story_points`, team-managed ones `story_point_estimate`).
        as_of: the instant the models treat as "now"; None means the database clock at query
            time. Fixing it makes ages and open durations reproducible.
    """

    tracked_fields: tuple[TrackedField, ...] = DEFAULT_TRACKED_FIELDS
    cycle_start: StatusSelector = field(
        default_factory=lambda: StatusSelector(categories=("indeterminate",))
    )
    cycle_end: StatusSelector = field(default_factory=lambda: StatusSelector(categories=("done",)))
    story_points_columns: tuple[str, ...] = ("story_points", "story_point_estimate")
    as_of: datetime | None = None

    def __post_init__(self) -> None:
        if not self.tracked_fields:
            raise ValueError("At least one tracked field is required.")
        columns = [tracked.column for tracked in self.tracked_fields]
        duplicates = sorted({column for column in columns if columns.count(column) > 1})
        if duplicates:
            raise ValueError(f"Tracked field columns must be unique; repeated: {duplicates}.")
        if self.cycle_start.is_empty() or self.cycle_end.is_empty():
            raise ValueError("The cycle needs at least one start and one end status or category.")
        for column in self.story_points_columns:
            if not _IDENTIFIER.match(column):
                raise ValueError(f"Invalid story points column `{column}`.")
        if self.as_of is not None and self.as_of.tzinfo is None:
            raise ValueError("`as_of` needs a time zone, e.g. 2024-03-01T00:00:00+00:00.")
