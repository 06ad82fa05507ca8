"""Pure functions that turn Jira JSON into typed rows, with no I/O and no network.

Modules, one concern each:

timestamps  Jira instants and dates to UTC datetimes and dates
adf         Atlassian Document Format to plain text
fields      the field catalog: column names and kinds of Jira fields
sprints     Cloud sprint objects and legacy `Sprint@...[...]` strings
issues      issue JSON to rows of `issues` and its child tables
arrow       fixed pyarrow schemas and dlt column hints per table
"""

from pipelines.normalize.adf import adf_to_text
from pipelines.normalize.arrow import arrow_table, table_columns
from pipelines.normalize.fields import FieldCatalog, FieldSpec
from pipelines.normalize.issues import NormalizedBatch, normalize_issues
from pipelines.normalize.sprints import parse_sprint
from pipelines.normalize.timestamps import format_utc, parse_date, parse_instant

__all__ = [
    "FieldCatalog",
    "FieldSpec",
    "NormalizedBatch",
    "adf_to_text",
    "arrow_table",
    "format_utc",
    "normalize_issues",
    "parse_date",
    "parse_instant",
    "parse_sprint",
    "table_columns",
]
