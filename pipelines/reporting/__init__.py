"""SQL reporting models over the loaded Jira tables, a terminal report and an HTML dashboard."""

from pipelines.reporting.models import ApplyResult, apply_models, discover_models, render_models
from pipelines.reporting.settings import ReportingSettings, TrackedField

__all__ = [
    "ApplyResult",
    "ReportingSettings",
    "TrackedField",
    "apply_models",
    "discover_models",
    "render_models",
]
