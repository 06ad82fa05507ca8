"""Authentication and routing rules of the emulator, per host and flavour."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pipelines.emulator import Emulator

SITE_401 = "Client must be authenticated to access this resource."
SCOPE_401 = {"code": 401, "message": "Unauthorized; scope does not match"}


@pytest.fixture(scope="module")
def cloud() -> Iterator[Emulator]:
    with Emulator(issues=30, seed=3) as emu:
        yield emu


@pytest.fixture(scope="module")
def dc() -> Iterator[Emulator]:
    with Emulator(issues=30, seed=3, flavor="dc") as emu:
        yield emu


def gateway(emu: Emulator, cloud_id: str | None = None) -> str:
    return f"{emu.gateway_url}/ex/jira/{cloud_id or emu.cloud_id}"


def test_tenant_info_without_auth(cloud: Emulator) -> None:
    response = httpx.get(cloud.site_url + "/_edge/tenant_info")
    assert response.status_code == 200
    assert response.json() == {"cloudId": cloud.cloud_id}


def test_site_accepts_basic_classic_token(cloud: Emulator) -> None:
    response = httpx.get(
        cloud.site_url + "/rest/api/3/myself", auth=(cloud.email, cloud.classic_token)
    )
    assert response.status_code == 200
    body = response.json()
    assert body["timeZone"] == "America/Los_Angeles"
    assert body["emailAddress"] == cloud.email
    assert body["active"] is True
    assert body["accountId"]


def test_site_rejects_bearer_with_plain_text(cloud: Emulator) -> None:
    response = httpx.get(
        cloud.site_url + "/rest/api/3/field",
        headers={"Authorization": f"Bearer {cloud.scoped_token}"},
    )
    assert response.status_code == 401
    assert response.text == SITE_401


def test_site_rejects_scoped_token_as_basic(cloud: Emulator) -> None:
    response = httpx.get(
        cloud.site_url + "/rest/api/3/field", auth=(cloud.email, cloud.scoped_token)
    )
    assert response.status_code == 401


def test_gateway_accepts_scoped_token(cloud: Emulator) -> None:
    bearer = httpx.get(
        gateway(cloud) + "/rest/api/3/myself",
        headers={"Authorization": f"Bearer {cloud.scoped_token}"},
    )
    basic = httpx.get(gateway(cloud) + "/rest/api/3/myself", auth=(cloud.email, cloud.scoped_token))
    assert bearer.status_code == 200
    assert basic.status_code == 200
    assert bearer.json()["accountId"] == basic.json()["accountId"]


def test_gateway_rejects_classic_token(cloud: Emulator) -> None:
    bearer = httpx.get(
        gateway(cloud) + "/rest/api/3/field",
        headers={"Authorization": f"Bearer {cloud.classic_token}"},
    )
    basic = httpx.get(gateway(cloud) + "/rest/api/3/field", auth=(cloud.email, cloud.classic_token))
    assert bearer.status_code == 401
    assert bearer.json() == SCOPE_401
    assert basic.status_code == 401
    assert basic.json() == SCOPE_401


def test_gateway_rejects_unknown_token(cloud: Emulator) -> None:
    response = httpx.get(
        gateway(cloud) + "/rest/api/3/field", headers={"Authorization": "Bearer not-a-token"}
    )
    assert response.status_code == 401
    assert response.json() == {"code": 401, "message": "Unauthorized"}


def test_gateway_unknown_cloud_id_is_404(cloud: Emulator) -> None:
    headers = {"Authorization": f"Bearer {cloud.scoped_token}"}
    for cloud_id in (cloud.org_id, "00000000-0000-0000-0000-000000000000"):
        response = httpx.get(gateway(cloud, cloud_id) + "/rest/api/3/field", headers=headers)
        assert response.status_code == 404


def test_missing_scope_gives_scope_401(cloud: Emulator) -> None:
    cloud.add_token("work-only", scopes={"read:jira-work"})
    headers = {"Authorization": "Bearer work-only"}
    myself = httpx.get(gateway(cloud) + "/rest/api/3/myself", headers=headers)
    fields = httpx.get(gateway(cloud) + "/rest/api/3/field", headers=headers)
    assert myself.status_code == 401
    assert myself.json() == SCOPE_401
    assert fields.status_code == 200


def test_field_catalog_has_custom_types(cloud: Emulator) -> None:
    response = httpx.get(
        cloud.site_url + "/rest/api/3/field", auth=(cloud.email, cloud.classic_token)
    )
    fields = response.json()
    custom = {f["schema"]["custom"].rsplit(":", 1)[1] for f in fields if f["custom"]}
    expected = {
        "gh-sprint",
        "jsw-story-points",
        "float",
        "select",
        "multiselect",
        "cascadingselect",
        "userpicker",
        "multiuserpicker",
        "datepicker",
        "datetime",
        "textarea",
        "labels",
        "gh-lexo-rank",
        "url",
    }
    assert expected <= custom
    names = [f["name"] for f in fields if f["custom"]]
    assert any(names.count(name) == 2 for name in names)


def test_dc_accepts_pat_and_rejects_basic(dc: Emulator) -> None:
    ok = httpx.get(
        dc.site_url + "/rest/api/2/serverInfo", headers={"Authorization": f"Bearer {dc.pat}"}
    )
    basic = httpx.get(dc.site_url + "/rest/api/2/serverInfo", auth=("alice", dc.pat))
    assert ok.status_code == 200
    assert ok.json()["deploymentType"] == "DataCenter"
    assert basic.status_code == 401


def test_dc_serves_only_v2(dc: Emulator) -> None:
    headers = {"Authorization": f"Bearer {dc.pat}"}
    assert httpx.get(dc.site_url + "/rest/api/3/myself", headers=headers).status_code == 404
    myself = httpx.get(dc.site_url + "/rest/api/2/myself", headers=headers).json()
    assert "accountId" not in myself
    assert myself["name"] == "alice"


def test_fault_returns_status_and_retry_after(cloud: Emulator) -> None:
    cloud.add_fault(r"/field$", 429, times=1, retry_after=2)
    auth = (cloud.email, cloud.classic_token)
    first = httpx.get(cloud.site_url + "/rest/api/3/field", auth=auth)
    second = httpx.get(cloud.site_url + "/rest/api/3/field", auth=auth)
    assert first.status_code == 429
    assert first.headers["Retry-After"] == "2"
    assert second.status_code == 200


def test_requests_are_recorded_without_tokens(cloud: Emulator) -> None:
    httpx.get(cloud.site_url + "/rest/api/3/field", auth=(cloud.email, cloud.classic_token))
    last = cloud.requests[-1]
    assert last["path"] == "/rest/api/3/field"
    assert last["auth"] == "basic"
    assert cloud.classic_token not in json.dumps(cloud.requests)


def test_cli_prints_credentials_and_serves() -> None:
    repo = Path(__file__).resolve().parent.parent
    process = subprocess.Popen(
        [sys.executable, "-m", "pipelines.emulator", "--issues", "5", "--seed", "1"],
        cwd=repo,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        info = json.loads(process.stdout.readline())
        tenant = httpx.get(info["site_url"] + "/_edge/tenant_info", timeout=10).json()
        truth = httpx.get(info["site_url"] + "/_emulator/truth", timeout=10).json()
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert tenant == {"cloudId": info["cloud_id"]}
    assert len(truth) == 5
    assert set(info) >= {"gateway_url", "email", "classic_token", "scoped_token", "pat"}
