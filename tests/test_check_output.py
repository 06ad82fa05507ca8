"""`jira-etl check` output for a healthy setup and for the common mistakes."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from pipelines.checks import run_checks
from pipelines.cli import cli
from pipelines.commands import register_commands
from pipelines.emulator import Emulator
from pipelines.emulator_oauth import OAuthEmulator

register_commands(cli)


@pytest.fixture(scope="module")
def emu() -> Emulator:
    with Emulator(issues=5) as running:
        yield running


def check(*args: str, token: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli,
        ["check", *args],
        env={"JIRA_TOKEN": token, "RUNTIME__DLTHUB_TELEMETRY": "false"},
        catch_exceptions=False,
    )
    return result.exit_code, result.output


def test_check_healthy_scoped_token(emu: Emulator) -> None:
    code, out = check(
        "--site-url", emu.site_url, "--gateway-url", emu.gateway_url, token=emu.scoped_token
    )
    assert code == 0
    assert f"Cloud id: {emu.cloud_id} (read from the site's /_edge/tenant_info)" in out
    assert "over http (the Atlassian API gateway" in out
    assert "profile time zone America/Los_Angeles" in out
    for probe in ("fields", "search", "changelog", "comments", "worklogs", "users"):
        assert f"[ok]   {probe}:" in out
    assert "[ok]   agile boards:" in out
    assert "[ok]   agile sprints:" in out
    assert "[fail]" not in out
    assert "All checks passed." in out
    assert emu.scoped_token not in out


def test_check_scoped_token_at_site(emu: Emulator) -> None:
    code, out = check("--base-url", emu.site_url, token=emu.scoped_token)
    assert code == 1
    assert "(the Cloud site, for e-mail and classic API token)" in out
    assert "[fail] account: 401" in out
    assert "work only through the gateway" in out
    assert "Skipped the other checks: fix the credentials first." in out
    assert "Missing scopes" not in out


def test_check_organization_id(emu: Emulator) -> None:
    code, out = check(
        "--cloud-id", emu.org_id, "--gateway-url", emu.gateway_url, token=emu.scoped_token
    )
    assert code == 1
    assert f"Cloud id: {emu.org_id} (given with --cloud-id" in out
    assert "[fail] account: 404" in out
    assert "organization id" in out
    assert "Skipped the other checks: fix the address first." in out


def test_check_missing_agile_scope(emu: Emulator) -> None:
    token = "scoped-without-agile"
    emu.add_token(token, {"read:jira-work", "read:jira-user"})
    code, out = check("--site-url", emu.site_url, "--gateway-url", emu.gateway_url, token=token)
    assert code == 1
    assert "[ok]   search:" in out
    assert "[ok]   worklogs:" in out
    assert (
        "[fail] agile boards: 401, the token lacks the scope `read:board-scope:jira-software`"
        in out
    )
    assert "Missing scopes: `read:board-scope:jira-software`." in out
    assert "create a new scoped token" in out


def test_check_classic_token_as_bearer(emu: Emulator) -> None:
    code, out = check(
        "--site-url", emu.site_url, "--gateway-url", emu.gateway_url, token=emu.classic_token
    )
    assert code == 1
    assert "[fail] account: 401, the token lacks the scope `read:jira-user`" in out
    assert "A classic API token sent as Bearer" in out
    assert "--auth basic" in out
    assert "[ok]" not in out
    assert emu.classic_token not in out


def test_check_healthy_oauth_client(emu: Emulator) -> None:
    lines: list[str] = []
    with OAuthEmulator(emu) as oauth:
        client_id, secret = oauth.add_client()
        ok = run_checks(
            {
                "auth": "oauth",
                "client_id": client_id,
                "client_secret": secret,
                "token_url": oauth.token_url,
                "resources_url": oauth.resources_url,
                "gateway_url": emu.gateway_url,
            },
            lines.append,
        )
    out = "\n".join(lines)
    assert ok is True
    assert "Auth: an OAuth 2.0 access token from client credentials" in out
    assert f"Cloud id: {emu.cloud_id} (read from the OAuth token's accessible resources)" in out
    assert "All checks passed." in out
    assert secret not in out


def test_check_revoked_oauth_client(emu: Emulator) -> None:
    lines: list[str] = []
    with OAuthEmulator(emu) as oauth:
        client_id, secret = oauth.add_client()
        oauth.revoke_client(client_id)
        ok = run_checks(
            {
                "auth": "oauth",
                "client_id": client_id,
                "client_secret": secret,
                "token_url": oauth.token_url,
                "resources_url": oauth.resources_url,
                "gateway_url": emu.gateway_url,
            },
            lines.append,
        )
    out = "\n".join(lines)
    assert ok is False
    assert "[fail] token: 401" in out
    assert "create a new OAuth 2.0 credential" in out
