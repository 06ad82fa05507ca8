"""Runs of the CLI with OAuth access tokens: renewal mid-run, and failures that change nothing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from pipelines.emulator import Emulator
from pipelines.emulator_oauth import OAuthEmulator
from tests.helpers import CliResult, run_cli


def load(emu: Emulator, tmp_path: Path, oauth: dict[str, Any]) -> CliResult:
    """Run `jira-etl run --auth oauth` against the emulators, secrets in the environment."""
    env = {"JIRA_CLIENT_SECRET": oauth["client_secret"]}
    if oauth.get("refresh_token"):
        env["JIRA_REFRESH_TOKEN"] = oauth["refresh_token"]
    args = [
        "run",
        "--auth",
        "oauth",
        "--client-id",
        oauth["client_id"],
        "--token-url",
        oauth["token_url"],
        "--resources-url",
        oauth["resources_url"],
        "--site-url",
        emu.site_url,
        "--gateway-url",
        emu.gateway_url,
        "--page-size",
        "10",
        "--max-retries",
        "1",
        "--duckdb-path",
        str(tmp_path / "jira.duckdb"),
        "--pipelines-dir",
        str(tmp_path / "pipelines"),
        "--pipeline-name",
        "jira_oauth",
    ]
    if oauth.get("refresh_token_file"):
        args += ["--refresh-token-file", oauth["refresh_token_file"]]
    return run_cli(args, env=env)


def snapshot(tmp_path: Path) -> tuple[list[tuple], list[tuple]]:
    with duckdb.connect(str(tmp_path / "jira.duckdb"), read_only=True) as db:
        issues = db.sql('select id, updated_at from "jira"."jira".issues order by id').fetchall()
        state = db.sql(
            'select version_hash, state from "jira"."jira"._dlt_pipeline_state order by version'
        ).fetchall()
    return issues, state


def test_run_renews_client_credentials(tmp_path: Path) -> None:
    with (
        Emulator(issues=60, latency_ms=40) as emu,
        OAuthEmulator(emu, expires_in=1.0) as oauth,
    ):
        client_id, secret = oauth.add_client()
        settings = {
            "client_id": client_id,
            "client_secret": secret,
            "token_url": oauth.token_url,
            "resources_url": oauth.resources_url,
        }
        result = load(emu, tmp_path, settings)
        assert result.exit_code == 0, result.output
        assert "issues read: 60 " in result.stdout
        assert len(oauth.grants(200)) >= 2
        assert [r for r in emu.requests if r["status"] == 401] == []
        issues, _ = snapshot(tmp_path)
        assert len(issues) == 60


def test_rejected_refresh_leaves_data_unchanged(tmp_path: Path) -> None:
    with Emulator(issues=20) as emu, OAuthEmulator(emu, expires_in=3600) as oauth:
        client_id, secret = oauth.add_client()
        token_file = tmp_path / "refresh-token"
        settings = {
            "client_id": client_id,
            "client_secret": secret,
            "refresh_token": oauth.authorize(client_id),
            "refresh_token_file": str(token_file),
            "token_url": oauth.token_url,
            "resources_url": oauth.resources_url,
        }
        assert load(emu, tmp_path, settings).exit_code == 0
        before = snapshot(tmp_path)
        stored = token_file.read_text()

        emu.edit_issue(10001, summary="Edited after the first run")
        oauth.revoke_refresh_tokens(client_id)
        failed = load(emu, tmp_path, settings)
        assert failed.exit_code == 1, failed.output
        assert snapshot(tmp_path) == before
        assert token_file.read_text() == stored
        assert oauth.grants(403)[-1]["grant_type"] == "refresh_token"


def test_revoked_secret_ends_run(tmp_path: Path) -> None:
    with Emulator(issues=20) as emu, OAuthEmulator(emu) as oauth:
        client_id, secret = oauth.add_client()
        settings = {
            "client_id": client_id,
            "client_secret": secret,
            "token_url": oauth.token_url,
            "resources_url": oauth.resources_url,
        }
        assert load(emu, tmp_path, settings).exit_code == 0
        before = snapshot(tmp_path)

        emu.edit_issue(10001, summary="Edited after the first run")
        oauth.revoke_client(client_id)
        failed = load(emu, tmp_path, settings)
        assert failed.exit_code == 1, failed.output
        err = failed.stderr
        assert "rejected client id" in err
        assert "JIRA_CLIENT_SECRET" in err
        assert secret not in err
        assert snapshot(tmp_path) == before
