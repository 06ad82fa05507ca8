"""The demo's last step: create the reporting views, print the report, write the dashboard."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb

from pipelines.reporting.html import write_dashboard
from pipelines.reporting.models import apply_models
from pipelines.reporting.report import fetch_report_data, print_report


def apply_and_render(
    duckdb_path: str, dataset: str, html_path: str, echo: Callable[[str], None]
) -> None:
    """Apply the SQL models to the demo's DuckDB file and write the HTML dashboard."""
    connection = duckdb.connect(duckdb_path)
    try:
        result = apply_models(connection, "duckdb", dataset)
        echo(f"\nCreated {len(result.models)} reporting views in dataset {dataset}.")
        data = fetch_report_data(connection, "duckdb", dataset)
    finally:
        connection.close()
    print_report(data)
    write_dashboard(data, dataset, Path(html_path))
    echo(f"\nDashboard written to {html_path}; open it in a browser (it works offline).")
