"""The TLS context of Jira clients: one per process and CA setting, and a CA file that fails."""

from __future__ import annotations

from pathlib import Path

import certifi
import duckdb
import pytest

from pipelines.client.auth import build_auth
from pipelines.client.connection import Connection, discover_cloud_id
from pipelines.client.transport import JiraClient, shared_tls_context
from pipelines.errors import ConfigError
from tests.helpers import run_cli

BEGIN = "-----BEGIN CERTIFICATE-----"
END = "-----END CERTIFICATE-----"
# Nothing listens on the discard port of the loopback address, and no request gets that far.
UNUSED_URL = "https://127.0.0.1:9"
CLOUD_ID = "ac9afd3b-424d-5b92-bf60-6b8cf2c99d62"


def _connection() -> Connection:
    return Connection(
        api_root="https://jira.example.test/",
        flavor="cloud",
        host_kind="site",
        auth=build_auth("bearer", "not-a-real-token"),
    )


def _client_context(client: JiraClient) -> object:
    # httpx keeps the context of a client's connections on its connection pool.
    return client._http._transport._pool._ssl_context  # type: ignore[attr-defined]


def test_clients_share_one_tls_context(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with JiraClient(_connection()) as first, JiraClient(_connection()) as second:
        assert _client_context(first) is _client_context(second)


def test_default_context_trusts_the_certifi_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    bundle = Path(certifi.where()).read_text(encoding="ascii")
    # The precondition: the bundle contains many authorities, so a count of one differs.
    assert bundle.count(BEGIN) > 10
    assert shared_tls_context().cert_store_stats()["x509_ca"] == bundle.count(BEGIN)


def test_ca_file_setting_gets_its_own_context(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = Path(certifi.where()).read_text(encoding="ascii")
    start = bundle.index(BEGIN)
    one_authority = bundle[start : bundle.index(END, start) + len(END)] + "\n"
    ca_file = tmp_path / "company-ca.pem"
    ca_file.write_text(one_authority, encoding="ascii")
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    with JiraClient(_connection()) as client:
        context = _client_context(client)
    assert context.cert_store_stats()["x509_ca"] == 1  # type: ignore[attr-defined]
    monkeypatch.delenv("SSL_CERT_FILE")
    assert shared_tls_context() is not context


def _unusable_ca_file(tmp_path: Path, case: str) -> Path:
    ca_file = tmp_path / "company-ca.pem"
    if case == "empty":
        ca_file.write_text("", encoding="ascii")
    elif case == "garbage":
        ca_file.write_text("this is not a certificate\n", encoding="ascii")
    elif case == "folder":
        ca_file.mkdir()
    return ca_file


@pytest.mark.parametrize("case", ["missing", "empty", "garbage", "folder"])
def test_unusable_ca_file_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    ca_file = _unusable_ca_file(tmp_path, case)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    with pytest.raises(ConfigError) as raised:
        JiraClient(_connection())
    assert f"Invalid SSL_CERT_FILE `{ca_file}`" in str(raised.value)


def test_cloud_id_discovery_checks_ca_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ca_file = _unusable_ca_file(tmp_path, "missing")
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(ca_file))
    with pytest.raises(ConfigError) as raised:
        discover_cloud_id(UNUSED_URL)
    assert f"Invalid SSL_CERT_FILE `{ca_file}`" in str(raised.value)


@pytest.mark.parametrize("route", ["cloud_id", "site_url"])
@pytest.mark.parametrize("case", ["missing", "garbage"])
def test_run_with_unusable_ca_file_exits_2(tmp_path: Path, route: str, case: str) -> None:
    ca_file = _unusable_ca_file(tmp_path, case)
    db = tmp_path / "jira.duckdb"
    where = ["--cloud-id", CLOUD_ID] if route == "cloud_id" else ["--site-url", UNUSED_URL]
    args = ["run", "--gateway-url", UNUSED_URL, *where, "--duckdb-path", str(db)]
    args += ["--pipelines-dir", str(tmp_path / "p"), "--max-retries", "1"]
    env = {"JIRA_TOKEN": "not-a-real-token", "SSL_CERT_FILE": str(ca_file)}
    result = run_cli(args, env=env)
    assert result.exit_code == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"Error: Invalid SSL_CERT_FILE `{ca_file}`" in result.stderr
    assert "pending load" not in result.stderr
    assert _table_names(db) == []


def _table_names(db: Path) -> list[str]:
    # A run that stops early may leave the DuckDB file it opened, but with no table in it.
    if not db.exists():
        return []
    connection = duckdb.connect(str(db), read_only=True)
    try:
        return [
            row[0]
            for row in connection.execute("select table_name from duckdb_tables()").fetchall()
        ]
    finally:
        connection.close()
