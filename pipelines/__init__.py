"""jira-etl: load Jira issues, their history and collections into DuckDB or any dlt destination."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    # The dlt source is imported lazily so that `import pipelines.emulator` stays light.
    if name == "jira_source":
        from pipelines.source import jira_source

        return jira_source
    raise AttributeError(name)


__all__ = ["jira_source"]
