"""Settings configured the dlt way, and the options and variables that win over them."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from pipelines.emulator import Emulator
from tests.helpers import RewritingProxy, emulator_run_args, query, run_cli

START = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)


def write_dlt_files(project: Path, config: str, secrets: str) -> None:
    (project / ".dlt").mkdir(parents=True)
    (project / ".dlt" / "config.toml").write_text(config)
    (project / ".dlt" / "secrets.toml").write_text(secrets)


def basic_auth_config(emu: Emulator) -> str:
    return (
        "[sources.jira]\n"
        'auth = "basic"\n'
        f'email = "{emu.email}"\n'
        'strategy = "sequential"\n'
        "page_size = 7\n"
    )


def test_config_toml_settings_used(tmp_path: Path) -> None:
    project = tmp_path / "project"
    db = tmp_path / "jira.duckdb"
    with Emulator(issues=20, seed=5, start=START) as emu:
        secrets = f'[sources.jira]\ntoken = "{emu.classic_token}"\n'
        write_dlt_files(project, basic_auth_config(emu), secrets)
        result = run_cli(emulator_run_args(emu, db, tmp_path / "p"), cwd=project)
        schemes = {r["auth"] for r in emu.requests if r["path"].startswith("/rest/")}
        # The emulator records the first 500 characters of each body.
        page_sizes = {
            int(found.group(1))
            for r in emu.requests
            if r["path"].endswith("/search/jql")
            and (found := re.search(r'"maxResults":\s*(\d+)', r["body"]))
        }
        issue_count = len(emu.truth())

    assert result.exit_code == 0, result.output
    assert schemes == {"basic"}
    assert 7 in page_sizes
    assert 100 not in page_sizes
    assert query(db, "select count(*) from issues") == [(issue_count,)]


def test_variable_wins_over_config_toml(tmp_path: Path) -> None:
    project = tmp_path / "project"
    db = tmp_path / "jira.duckdb"
    with Emulator(issues=20, seed=5, start=START) as emu:
        secrets = f'[sources.jira]\ntoken = "{emu.classic_token}"\n'
        write_dlt_files(project, basic_auth_config(emu), secrets)
        env = {"JIRA_AUTH": "bearer", "JIRA_TOKEN": emu.scoped_token}
        result = run_cli(emulator_run_args(emu, db, tmp_path / "p"), env=env, cwd=project)
        schemes = {r["auth"] for r in emu.requests if "/rest/" in r["path"]}
        issue_count = len(emu.truth())

    assert result.exit_code == 0, result.output
    assert schemes == {"bearer"}
    assert query(db, "select count(*) from issues") == [(issue_count,)]


def test_dlt_duckdb_file_needs_option(tmp_path: Path) -> None:
    configured = tmp_path / "configured.duckdb"
    with Emulator(issues=5, seed=5, start=START) as emu:
        args = [
            "run",
            "--site-url",
            emu.site_url,
            "--gateway-url",
            emu.gateway_url,
            "--pipelines-dir",
            str(tmp_path / "p"),
        ]
        env = {"JIRA_TOKEN": emu.scoped_token, "DESTINATION__DUCKDB__CREDENTIALS": str(configured)}
        result = run_cli(args, env=env, cwd=tmp_path)
        requests = list(emu.requests)

    assert result.exit_code == 2, result.output
    assert f"sets the DuckDB file `{configured}`" in result.stderr
    assert "Set JIRA_DUCKDB_PATH to the file to load into" in result.stderr
    assert requests == []
    assert not configured.exists()
    assert not (tmp_path / "jira.duckdb").exists()


def test_check_reads_dlt_files(tmp_path: Path) -> None:
    project = tmp_path / "project"
    with Emulator(issues=5, seed=5, start=START) as emu:
        config = f'{basic_auth_config(emu)}site_url = "{emu.site_url}"\n'
        write_dlt_files(project, config, f'[sources.jira]\ntoken = "{emu.classic_token}"\n')
        result = run_cli(["check"], cwd=project)
        schemes = {r["auth"] for r in emu.requests if r["path"].startswith("/rest/")}

    assert result.exit_code == 0, result.output
    assert f"Auth: Basic auth as {emu.email}" in result.stdout
    assert schemes == {"basic"}
    assert emu.classic_token not in result.output


def test_check_reads_sources_variables(tmp_path: Path) -> None:
    with Emulator(issues=5, seed=5, start=START) as emu:
        env = {
            "SOURCES__JIRA__TOKEN": emu.scoped_token,
            "SOURCES__JIRA__SITE_URL": emu.site_url,
            "SOURCES__JIRA__GATEWAY_URL": emu.gateway_url,
        }
        result = run_cli(["check"], env=env, cwd=tmp_path)
        schemes = {r["auth"] for r in emu.requests if "/rest/" in r["path"]}

    assert result.exit_code == 0, result.output
    assert "Auth: a Bearer token" in result.stdout
    assert schemes == {"bearer"}
    assert emu.scoped_token not in result.output


class CountingProxy(RewritingProxy):
    """Forward every request to the emulator and count them."""

    count = 0

    def request_path(self, path: str) -> str:
        self.count += 1
        return path


def test_site_option_wins_over_config_base_url(tmp_path: Path) -> None:
    project = tmp_path / "project"
    db = tmp_path / "jira.duckdb"
    with Emulator(issues=20, seed=5, start=START) as emu:
        stale = CountingProxy(emu.site_url)
        try:
            config = f'[sources.jira]\nbase_url = "{stale.url}"\ncloud_id = "stale-cloud-id"\n'
            write_dlt_files(project, config, "")
            env = {"JIRA_TOKEN": emu.scoped_token}
            result = run_cli(emulator_run_args(emu, db, tmp_path / "p"), env=env, cwd=project)
            checked = run_cli(
                ["check", "--site-url", emu.site_url, "--gateway-url", emu.gateway_url],
                env=env,
                cwd=project,
            )
        finally:
            stale.close()
        issue_ids = {issue["id"] for issue in emu.truth()}

    assert result.exit_code == 0, result.output
    assert checked.exit_code == 0, checked.output
    assert stale.count == 0
    assert {row[0] for row in query(db, "select id from issues")} == issue_ids
