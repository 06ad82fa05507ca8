"""OAuth token providers against the emulated token endpoint and the Jira emulator."""

from __future__ import annotations

import stat
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pipelines.client.auth import build_auth
from pipelines.client.connection import resolve_connection
from pipelines.client.oauth import choose_site, resolve_oauth_connection
from pipelines.client.transport import JiraClient, RetryPolicy
from pipelines.emulator import Emulator
from pipelines.emulator_oauth import OAuthEmulator
from pipelines.errors import AuthError, ConfigError
from tests.helpers import oauth_client_auth

LIFETIME = 1.5


def gateway_client(emu: Emulator, auth) -> JiraClient:  # type: ignore[no-untyped-def]
    connection = resolve_connection(auth, cloud_id=emu.cloud_id, gateway_url=emu.gateway_url)
    return JiraClient(connection, timeout=10, retry=RetryPolicy(max_attempts=1))


def unauthorized(emu: Emulator) -> list[dict]:
    return [r for r in emu.requests if r["status"] == 401]


def test_client_credentials_renewed_mid_run() -> None:
    with Emulator(issues=5) as emu, OAuthEmulator(emu, expires_in=LIFETIME) as oauth:
        client_id, secret = oauth.add_client()
        auth = build_auth(
            "oauth", None, client_id=client_id, client_secret=secret, token_url=oauth.token_url
        )
        deadline = time.monotonic() + 2.5 * LIFETIME
        with gateway_client(emu, auth) as client:
            while time.monotonic() < deadline:
                me = client.get("/rest/api/3/myself")
                assert me["emailAddress"] == emu.email
                time.sleep(0.02)
        grants = oauth.grants(200)
        assert [g["grant_type"] for g in grants] == ["client_credentials"] * len(grants)
        assert len(grants) >= 3
        assert len(oauth.issued) == len(grants)
        assert unauthorized(emu) == []


def test_refresh_rotation_with_threads(tmp_path: Path) -> None:
    with Emulator(issues=5) as emu, OAuthEmulator(emu, expires_in=LIFETIME) as oauth:
        client_id, secret = oauth.add_client()
        first_refresh_token = oauth.authorize(client_id)
        token_file = tmp_path / "refresh-token"
        auth = build_auth(
            "oauth",
            None,
            client_id=client_id,
            client_secret=secret,
            refresh_token=first_refresh_token,
            refresh_token_file=str(token_file),
            token_url=oauth.token_url,
        )
        # Renewals fall at 0.8 lifetimes (a fifth of the lifetime early): 0, 1.2 s and 2.4 s.
        # Running 2.2 lifetimes (3.3 s) outlives the first two tokens and ends before 3.6 s.
        deadline = time.monotonic() + 2.2 * LIFETIME

        def hammer(_: int) -> int:
            sent = 0
            while time.monotonic() < deadline:
                client.get("/rest/api/3/field")
                sent += 1
            return sent

        with gateway_client(emu, auth) as client, ThreadPoolExecutor(8) as pool:
            sent = sum(pool.map(hammer, range(8)))

        grants = oauth.grants(200)
        assert sent > 50
        assert unauthorized(emu) == []
        # Two expiries crossed: the first token and exactly one renewal for each expiry.
        assert len(grants) == 3
        assert [g["grant_type"] for g in grants] == ["refresh_token"] * 3
        gaps = [
            later["at"] - earlier["at"] for earlier, later in zip(grants, grants[1:], strict=False)
        ]
        assert min(gaps) > 0.5 * LIFETIME
        live = oauth.live_refresh_tokens(client_id)
        assert len(live) == 1
        assert first_refresh_token not in live
        assert token_file.read_text().strip() == next(iter(live))
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600


def test_stored_refresh_token_wins_over_setting(tmp_path: Path) -> None:
    with Emulator(issues=1) as emu, OAuthEmulator(emu) as oauth:
        client_id, secret = oauth.add_client()
        used = oauth.authorize(client_id)
        oauth.revoke_refresh_tokens(client_id)
        newest = oauth.authorize(client_id)
        token_file = tmp_path / "refresh-token"
        token_file.write_text(newest + "\n")
        token_file.chmod(0o644)
        auth = build_auth(
            "oauth",
            None,
            client_id=client_id,
            client_secret=secret,
            refresh_token=used,
            refresh_token_file=str(token_file),
            token_url=oauth.token_url,
        )
        with gateway_client(emu, auth) as client:
            client.get("/rest/api/3/myself")
        assert oauth.grants(403) == []
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600


def test_rejected_refresh_names_the_fix(tmp_path: Path) -> None:
    with Emulator(issues=1) as emu, OAuthEmulator(emu) as oauth:
        client_id, secret = oauth.add_client()
        stale = oauth.authorize(client_id)
        oauth.revoke_refresh_tokens(client_id)
        token_file = tmp_path / "refresh-token"
        token_file.write_text(stale)
        auth = build_auth(
            "oauth",
            None,
            client_id=client_id,
            client_secret=secret,
            refresh_token_file=str(token_file),
            token_url=oauth.token_url,
        )
        with gateway_client(emu, auth) as client, pytest.raises(AuthError) as caught:
            client.get("/rest/api/3/myself")
        message = str(caught.value)
        assert "invalid_grant" in message
        assert str(token_file) in message
        assert "Authorize the app again" in message
        assert stale not in message
        assert secret not in message
        assert token_file.read_text() == stale
        assert emu.requests == []


def test_revoked_client_secret_names_the_fix() -> None:
    with Emulator(issues=1) as emu, OAuthEmulator(emu) as oauth:
        client_id, secret = oauth.add_client()
        oauth.revoke_client(client_id)
        auth = build_auth(
            "oauth", None, client_id=client_id, client_secret=secret, token_url=oauth.token_url
        )
        with gateway_client(emu, auth) as client, pytest.raises(AuthError) as caught:
            client.get("/rest/api/3/myself")
        message = str(caught.value)
        assert message.startswith("401 from 127.0.0.1")
        assert f"client id `{client_id}`" in message
        assert "JIRA_CLIENT_SECRET" in message
        assert secret not in message
        assert secret not in repr(auth)


def test_refresh_token_needs_a_file() -> None:
    with pytest.raises(ConfigError, match="JIRA_REFRESH_TOKEN_FILE"):
        build_auth("oauth", None, client_id="id", client_secret="s", refresh_token="r")


def test_empty_refresh_file_without_seed(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="missing or empty"):
        build_auth(
            "oauth",
            None,
            client_id="id",
            client_secret="s",
            refresh_token_file=str(tmp_path / "absent"),
        )


def test_oauth_needs_client_secret() -> None:
    with pytest.raises(ConfigError, match="JIRA_CLIENT_SECRET"):
        build_auth("oauth", None, client_id="id")


def test_cloud_id_from_accessible_resources() -> None:
    with Emulator(issues=1) as emu, OAuthEmulator(emu) as oauth:
        auth = oauth_client_auth(oauth)
        connection = resolve_oauth_connection(auth, gateway_url=emu.gateway_url)
        assert connection.cloud_id == emu.cloud_id
        assert connection.cloud_id_source == "accessible-resources"
        assert connection.api_root == f"{emu.gateway_url}/ex/jira/{emu.cloud_id}"


def test_ambiguous_sites_are_listed() -> None:
    sites = [
        {"id": "11111111-1111-1111-1111-111111111111", "url": "https://alpha.atlassian.net"},
        {"id": "22222222-2222-2222-2222-222222222222", "url": "https://beta.atlassian.net"},
    ]
    with pytest.raises(ConfigError) as caught:
        choose_site(sites, None)
    message = str(caught.value)
    assert "https://alpha.atlassian.net (cloud id 11111111-1111-1111-1111-111111111111)" in message
    assert "https://beta.atlassian.net (cloud id 22222222-2222-2222-2222-222222222222)" in message
    assert "--site-url" in message
    assert choose_site(sites, "https://BETA.atlassian.net/")["id"].startswith("2222")
    with pytest.raises(ConfigError, match="no access to `https://gamma.atlassian.net`"):
        choose_site(sites, "https://gamma.atlassian.net")
