"""Destination adjustments jira-etl needs beyond dlt's defaults."""
