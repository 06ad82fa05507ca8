"""The TLS context of Jira clients: built once per process and CA setting, from the CA setting."""

from __future__ import annotations

from pathlib import Path

import certifi
import pytest

from pipelines.client.auth import build_auth
from pipelines.client.connection import Connection
from pipelines.client.transport import JiraClient, shared_tls_context

BEGIN = "-----BEGIN CERTIFICATE-----"
END = "-----END CERTIFICATE-----"


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
