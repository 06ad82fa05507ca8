"""Scripted behaviour of the emulator: faults, rate limits, index lag, permissions, edits."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator

import httpx
import pytest

from pipelines.emulator import Emulator

START = dt.datetime(2024, 6, 1, 12, 0, tzinfo=dt.UTC)


@pytest.fixture()
def emu() -> Iterator[Emulator]:
    with Emulator(issues=80, seed=17, start=START) as emulator:
        yield emulator


def site(emu: Emulator) -> httpx.Client:
    return httpx.Client(base_url=emu.site_url, auth=(emu.email, emu.classic_token), timeout=30)


def statuses(emu: Emulator, count: int) -> list[int]:
    """Send `count` GET /field requests; return each status, 0 for a dropped connection."""
    out = []
    with site(emu) as client:
        for _ in range(count):
            try:
                out.append(client.get("/rest/api/3/field").status_code)
            except httpx.RemoteProtocolError:
                out.append(0)
    return out


def test_fault_every_third_request(emu: Emulator) -> None:
    emu.add_fault(r"/field$", 503, times=None, every=3)
    assert statuses(emu, 7) == [200, 200, 503, 200, 200, 503, 200]


def test_fault_probability_is_reproducible() -> None:
    runs = []
    for _ in range(2):
        with Emulator(issues=5, seed=3, start=START) as emu:
            emu.add_fault(r"/field$", 500, times=None, probability=0.3)
            runs.append(statuses(emu, 40))
    assert runs[0] == runs[1]
    assert 3 <= runs[0].count(500) <= 25


def test_fault_drop_closes_connection(emu: Emulator) -> None:
    emu.add_fault(r"/field$", drop=True)
    assert statuses(emu, 2) == [0, 200]
    assert emu.requests[0]["status"] == 0


def test_fault_delay_slows_answer(emu: Emulator) -> None:
    emu.add_fault(r"/field$", delay_seconds=0.5)
    began = time.monotonic()
    assert statuses(emu, 1) == [200]
    assert time.monotonic() - began >= 0.5


def test_fault_plan_is_reproducible() -> None:
    runs = []
    for _ in range(2):
        with Emulator(issues=5, seed=3, start=START) as emu:
            emu.fault_plan(seed=42, rate=0.5)
            runs.append(statuses(emu, 60))
    failures = [s for s in runs[0] if s != 200]
    assert runs[0] == runs[1]
    assert 15 <= len(failures) <= 45
    assert set(failures) <= {429, 500, 503, 0}
    assert len(set(failures)) >= 3


def test_fault_plan_spares_control_api(emu: Emulator) -> None:
    emu.fault_plan(seed=1, rate=1.0)
    assert httpx.get(emu.site_url + "/_emulator/stats").status_code == 200


def test_rate_limit_answers_429_when_exceeded() -> None:
    with Emulator(issues=5, seed=3, start=START, rate_limit=5) as emu:
        time.sleep(1.02 - time.time() % 1)  # start at the beginning of a one-second window
        with site(emu) as client:
            responses = [client.get("/rest/api/3/field") for _ in range(6)]
    assert [r.status_code for r in responses] == [200] * 5 + [429]
    assert [r.headers["X-RateLimit-Remaining"] for r in responses[:5]] == ["4", "3", "2", "1", "0"]
    assert all(r.headers["X-RateLimit-Limit"] == "5" for r in responses)
    assert "X-RateLimit-NearLimit" not in responses[0].headers
    assert responses[4].headers["X-RateLimit-NearLimit"] == "true"
    limited = responses[5]
    assert limited.headers["Retry-After"] == "1"
    assert limited.headers["RateLimit-Reason"] == "jira-burst-based"
    assert limited.headers["X-RateLimit-Reset"].endswith("Z")


def test_no_rate_limit_headers_without_budget(emu: Emulator) -> None:
    with site(emu) as client:
        response = client.get("/rest/api/3/field")
    assert "X-RateLimit-Limit" not in response.headers


def test_visibility_lag_hides_edit_from_search(emu: Emulator) -> None:
    emu.visibility_lag_seconds = 30
    old_summary = next(i for i in emu.truth() if i["key"] == "ABC-5")["summary"]
    emu.edit_issue("ABC-5", summary="Renamed while indexing")
    body = {"jql": "key = ABC-5", "fields": ["summary"]}
    with site(emu) as client:
        stale = client.post("/rest/api/3/search/jql", json=body).json()
        direct = client.get("/rest/api/3/issue/ABC-5", params={"fields": "summary"}).json()
        emu.advance(31)
        fresh = client.post("/rest/api/3/search/jql", json=body).json()
    assert stale["issues"][0]["fields"]["summary"] == old_summary
    assert direct["fields"]["summary"] == "Renamed while indexing"
    assert fresh["issues"][0]["fields"]["summary"] == "Renamed while indexing"


def test_visibility_lag_hides_new_issue(emu: Emulator) -> None:
    emu.visibility_lag_seconds = 10
    created = emu.create_issue("OPS", summary="Fresh")
    body = {"jql": f"key = {created['key']}"}
    with site(emu) as client:
        before = client.post("/rest/api/3/search/jql", json=body).json()
        direct = client.get(f"/rest/api/3/issue/{created['key']}")
        emu.advance(11)
        after = client.post("/rest/api/3/search/jql", json=body).json()
    assert before["issues"] == []
    assert direct.status_code == 200
    assert after["issues"] == [{"id": str(created["id"])}]


def test_revoked_project_disappears(emu: Emulator) -> None:
    xyz = [i for i in emu.truth() if i["project_key"] == "XYZ"]
    emu.revoke_project("XYZ")
    with site(emu) as client:
        projects = client.get("/rest/api/3/project/search").json()
        found = client.post("/rest/api/3/search/jql", json={"jql": "project = XYZ"}).json()
        everything = client.post(
            "/rest/api/3/search/jql", json={"jql": "created >= 0", "maxResults": 5000}
        ).json()
        direct = client.get(f"/rest/api/3/issue/{xyz[0]['key']}")
        emu.restore_project("XYZ")
        restored = client.post(
            "/rest/api/3/search/jql", json={"jql": "project = XYZ", "maxResults": 5000}
        ).json()
    assert xyz
    assert [p["key"] for p in projects["values"]] == ["ABC", "OPS"]
    assert found["issues"] == []
    assert len(everything["issues"]) == len(emu.truth()) - len(xyz)
    assert direct.status_code == 404
    assert len(restored["issues"]) == len(xyz)


def test_edits_between_pages_shift_results(emu: Emulator) -> None:
    emu.script.edit_between_pages(2)
    body: dict = {"jql": "created >= 0 ORDER BY updated ASC, id ASC", "maxResults": 10}
    seen: list[str] = []
    pages = 0
    with site(emu) as client:
        while True:
            page = client.post("/rest/api/3/search/jql", json=body).json()
            pages += 1
            seen.extend(issue["id"] for issue in page["issues"])
            if page["isLast"]:
                break
            body["nextPageToken"] = page["nextPageToken"]
    emu.script.stop()
    assert pages == 8  # 80 issues, 10 a page
    assert len(emu.script.edited) == 2 * (pages - 1)
    assert len(set(seen)) < 80  # issues pushed back past a page boundary were missed
    edited_again = [i for i in emu.truth() if i["id"] in set(emu.script.edited)]
    assert all(i["history_count"] >= 1 for i in edited_again)


def test_edits_between_pages_are_reproducible() -> None:
    runs = []
    for _ in range(2):
        with Emulator(issues=40, seed=9, start=START) as emu:
            emu.script.edit_between_pages(3, pages=2)
            body: dict = {"jql": "project = ABC ORDER BY updated ASC", "maxResults": 5}
            with site(emu) as client:
                for _ in range(4):
                    page = client.post("/rest/api/3/search/jql", json=body).json()
                    body["nextPageToken"] = page["nextPageToken"]
            runs.append(list(emu.script.edited))
    assert len(runs[0]) == 6
    assert runs[0] == runs[1]
