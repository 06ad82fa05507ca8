"""Shared fixtures: the location of the recorded Jira payloads."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent


def pytest_sessionstart(session: pytest.Session) -> None:
    """Stop before any test when the checkout has a `.env` or a `.dlt/secrets.toml`.

    Many tests start `jira-etl` from the checkout, which reads both files there. A user's real
    token, filter and destination settings would then configure those runs, and a run given
    only a site URL would send the token to Atlassian's gateway.
    """
    for settings_file in (REPO_ROOT / ".env", REPO_ROOT / ".dlt" / "secrets.toml"):
        if settings_file.exists():
            raise pytest.UsageError(
                f"Found `{settings_file}`: the tests start jira-etl in this folder, where it "
                "would read your settings and token from that file. Move it away while the "
                "tests run, or keep your settings in another folder (for `.env`, pass it with "
                "`jira-etl --env-file PATH`)."
            )


def find_samples_dir() -> Path:
    """Locate the recorded Jira payloads: `$JIRA_SAMPLES_DIR`, else `tests/jira-samples`."""
    configured = os.environ.get("JIRA_SAMPLES_DIR")
    candidates = [Path(configured)] if configured else []
    candidates.append(REPO_ROOT / "tests" / "jira-samples")
    for candidate in candidates:
        if (candidate / "pragati_search_jql_page_v3.json").is_file():
            return candidate
    pytest.fail(
        "Recorded Jira payloads not found in "
        + ", ".join(str(c) for c in candidates)
        + ". Set JIRA_SAMPLES_DIR to the jira-samples folder."
    )


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    return find_samples_dir()
