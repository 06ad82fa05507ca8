"""--gateway-url: checked like the other URL settings before any request is sent."""

from __future__ import annotations

import ipaddress
import subprocess
from pathlib import Path

import pytest

from pipelines.client.auth import build_auth
from pipelines.client.connection import _on_this_machine, resolve_connection
from pipelines.client.oauth import resolve_oauth_connection
from pipelines.emulator import Emulator
from pipelines.emulator_oauth import OAuthEmulator
from pipelines.errors import ConfigError
from tests.helpers import oauth_client_auth, run_cli

CLOUD_ID = "ac9afd3b-424d-5b92-bf60-6b8cf2c99d62"
INVALID_URLS = ["not a url", "ftp://127.0.0.1:9", "127.0.0.1:9", "https://", "http://fd00::2:9"]


@pytest.mark.parametrize("url", INVALID_URLS)
def test_invalid_gateway_url_is_rejected(url: str) -> None:
    with pytest.raises(ConfigError) as raised:
        resolve_connection(
            build_auth("bearer", "not-a-real-token"), cloud_id=CLOUD_ID, gateway_url=url
        )
    assert f"Invalid URL `{url}` in --gateway-url / JIRA_GATEWAY_URL" in str(raised.value)


def test_gateway_url_sets_api_root() -> None:
    connection = resolve_connection(
        build_auth("bearer", "not-a-real-token"),
        cloud_id=CLOUD_ID,
        gateway_url=" http://127.0.0.1:9/ ",
    )
    assert connection.api_root == f"http://127.0.0.1:9/ex/jira/{CLOUD_ID}"


def test_run_with_invalid_gateway_url_exits_2(tmp_path: Path) -> None:
    db = tmp_path / "jira.duckdb"
    args = ["run", "--cloud-id", CLOUD_ID, "--gateway-url", "not a url"]
    args += ["--duckdb-path", str(db), "--pipelines-dir", str(tmp_path / "p")]
    result = run_cli(args, env={"JIRA_TOKEN": "not-a-real-token"})
    assert result.exit_code == 2, result.stderr
    assert "Error: Invalid URL `not a url` in --gateway-url / JIRA_GATEWAY_URL" in result.stderr
    assert "retry" not in result.stderr
    assert not db.exists()


LOCAL_SITE_URLS = [
    "http://127.0.0.1:9",
    "http://localhost:9/",
    "http://[::1]:9",
    "http://127.8.0.1",
    "http://localhost.:9",
    "http://LOCALHOST.:9",
    "http://[::ffff:127.0.0.1]:9",
    "http://0.0.0.0:9",
    "http://[::]:9",
    "http://127.1:9",
    "http://2130706433:9",
    "http://0x7f000001:9",
]


@pytest.mark.parametrize("site_url", LOCAL_SITE_URLS)
def test_local_site_without_gateway_is_rejected(site_url: str) -> None:
    # Nothing listens on port 9, so a request would fail with another message.
    with pytest.raises(ConfigError) as raised:
        resolve_connection(build_auth("bearer", "not-a-real-token"), site_url=site_url)
    message = str(raised.value)
    assert "is on this machine" in message
    assert "--gateway-url / JIRA_GATEWAY_URL" in message


def interface_addresses() -> list[str]:
    """Return this machine's network interface addresses other than loopback, as URL hosts."""
    listed = subprocess.run(["hostname", "-I"], capture_output=True, text=True, check=True)
    addresses = [ipaddress.ip_address(text.split("%")[0]) for text in listed.stdout.split()]
    return [f"[{a}]" if a.version == 6 else str(a) for a in addresses if not a.is_loopback]


def test_interface_address_site_is_rejected() -> None:
    hosts = interface_addresses()
    # The machine needs a network address for this test to say anything.
    assert hosts
    for host in hosts:
        with pytest.raises(ConfigError) as raised:
            resolve_connection(
                build_auth("bearer", "not-a-real-token"), site_url=f"http://{host}:9"
            )
        assert f"`http://{host}:9` is on this machine" in str(raised.value)


def test_foreign_address_is_not_local() -> None:
    # Documentation addresses are on no interface of this machine, and nothing is sent.
    assert not _on_this_machine("http://203.0.113.9:9")
    assert not _on_this_machine("http://[2001:db8::9]:9")


def test_run_at_emulator_without_gateway_exits_2(tmp_path: Path) -> None:
    db = tmp_path / "jira.duckdb"
    args = ["run", "--site-url", "http://127.0.0.1:9", "--duckdb-path", str(db)]
    args += ["--pipelines-dir", str(tmp_path / "p")]
    result = run_cli(args, env={"JIRA_TOKEN": "not-a-real-token"})
    assert result.exit_code == 2, result.stderr
    assert "is on this machine" in result.stderr
    assert result.stderr.count("Error:") == 1, result.stderr
    assert not db.exists()


def test_oauth_at_local_endpoints_without_gateway_is_rejected() -> None:
    with Emulator(issues=1) as emu, OAuthEmulator(emu) as oauth:
        auth = oauth_client_auth(oauth)
        with pytest.raises(ConfigError) as raised:
            resolve_oauth_connection(auth, site_url=emu.site_url)
        token_requests = len(oauth.token_requests)
    message = str(raised.value)
    assert "is on this machine" in message
    assert "--gateway-url / JIRA_GATEWAY_URL" in message
    assert token_requests == 0


def test_oauth_local_token_url_rejected() -> None:
    with Emulator(issues=1) as emu, OAuthEmulator(emu) as oauth:
        client_id, secret = oauth.add_client()
        auth = build_auth(
            "oauth", None, client_id=client_id, client_secret=secret, token_url=oauth.token_url
        )
        with pytest.raises(ConfigError) as raised:
            resolve_oauth_connection(auth, cloud_id=emu.cloud_id)
    assert f"The token URL `{oauth.token_url}` is on this machine" in str(raised.value)


def test_oauth_at_local_endpoints_with_gateway_resolves() -> None:
    with Emulator(issues=1) as emu, OAuthEmulator(emu) as oauth:
        auth = oauth_client_auth(oauth)
        connection = resolve_oauth_connection(
            auth, site_url=emu.site_url, gateway_url=emu.gateway_url
        )
    assert connection.api_root == f"{emu.gateway_url}/ex/jira/{emu.cloud_id}"


def test_pat_with_bearer_at_data_center_suggests_pat(tmp_path: Path) -> None:
    with Emulator(issues=1, flavor="dc") as emu:
        args = ["run", "--site-url", emu.site_url, "--gateway-url", emu.gateway_url]
        args += ["--duckdb-path", str(tmp_path / "jira.duckdb")]
        args += ["--pipelines-dir", str(tmp_path / "p")]
        result = run_cli(args, env={"JIRA_TOKEN": emu.pat})
    assert result.exit_code == 2, result.output
    assert "without a cloud id" in result.stderr
    assert "Personal Access Token, use --auth pat." in result.stderr


def test_run_with_unbracketed_ipv6_site_exits_2(tmp_path: Path) -> None:
    args = ["run", "--site-url", "http://fd00::2:9", "--duckdb-path", str(tmp_path / "j.duckdb")]
    result = run_cli(args, env={"JIRA_TOKEN": "not-a-real-token"})
    assert result.exit_code == 2, result.output
    assert "Write an IPv6 address in brackets" in result.stderr
    assert "Traceback" not in result.output


def test_pat_with_bearer_at_base_url_suggests_pat(tmp_path: Path) -> None:
    with Emulator(issues=1, flavor="dc") as emu:
        args = ["run", "--base-url", emu.site_url, "--duckdb-path", str(tmp_path / "jira.duckdb")]
        args += ["--pipelines-dir", str(tmp_path / "p")]
        result = run_cli(args, env={"JIRA_TOKEN": emu.pat})
    assert result.exit_code == 1, result.output
    assert "/rest/api/3/field: the URL does not lead to a Jira REST API" in result.stderr
    assert "Personal Access Token, use --auth pat." in result.stderr
